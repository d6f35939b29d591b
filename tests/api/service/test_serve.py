"""``receivables serve`` as a user runs it: a real process, real HTTP, a real chain.

The service starts on the embedded defaults (SQLite and an anvil node whose state
file sits beside it), a seller's invoice is anchored by the in-process worker, its
bundle verifies on the public endpoint and with ``receivables verify``, and after a
restart the same bundle still verifies. A data directory whose chain state was lost
makes the service refuse to start.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from registry import samples
from registry.cli import main as receivables

pytestmark = pytest.mark.integration


@dataclass
class Service:
    process: subprocess.Popen[str]
    url: str
    rpc_url: str
    tokens: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_service(
    data_dir: Path, timeout: float = 90, extra: list[str] | None = None
) -> Service:
    env = {
        **os.environ,
        "RECEIVABLES_BATCH_MAX_AGE_SECONDS": "0.2",
        "RECEIVABLES_CHAIN_CONFIRMATIONS": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--data-dir",
            str(data_dir),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.strip().startswith("auditor:"):
            break
    text = "".join(lines)
    found = re.search(r"service on (http://\S+)", text)
    if found is None:
        process.kill()
        raise AssertionError(f"the service did not start:\n{text}")
    rpc = re.search(r"embedded anvil at (http://\S+),", text)
    tokens = dict(re.findall(r"^\s+(\w+):\s+Bearer (\S+)$", text, re.M))
    service = Service(process, found.group(1), rpc.group(1) if rpc else "", tokens)
    _wait_until_up(service)
    return service


def _wait_until_up(service: Service) -> None:
    for _ in range(100):
        try:
            httpx.get(f"{service.url}/openapi.json", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the service did not answer HTTP")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    running = start_service(tmp_path / "data")
    yield running
    running.stop()


def _anchored_bundle(service: Service, document_id: str) -> dict[str, object]:
    url = f"{service.url}/v1/documents/{document_id}/evidence"
    for _ in range(300):
        response = httpx.get(url, headers=service.headers("seller"), timeout=5)
        if response.status_code == 200:
            bundle: dict[str, object] = response.json()
            return bundle
        assert response.status_code == 409, response.text
        time.sleep(0.1)
    raise AssertionError("the invoice was not anchored in 30 s")


def test_invoice_submitted_over_http_is_anchored_and_its_bundle_verifies(
    service: Service, tmp_path: Path
) -> None:
    created = httpx.post(
        f"{service.url}/v1/documents",
        json=samples.invoice(),
        headers=service.headers("seller"),
        timeout=10,
    )
    assert created.status_code == 201, created.text

    bundle = _anchored_bundle(service, created.json()["id"])
    verdict = httpx.post(
        f"{service.url}/v1/verify", json={"bundle": bundle}, timeout=10
    )
    path = tmp_path / "invoice.json"
    path.write_text(json.dumps(bundle))

    assert verdict.status_code == 200
    assert verdict.json()["valid"] is True
    assert verdict.json()["anchor_block"] == bundle["anchor"]["block_number"]  # type: ignore[index]
    assert receivables(["verify", str(path), "--rpc", service.rpc_url]) == 0


def test_a_tampered_bundle_is_invalid_on_the_public_endpoint(service: Service) -> None:
    created = httpx.post(
        f"{service.url}/v1/documents",
        json=samples.invoice(),
        headers=service.headers("seller"),
        timeout=10,
    )
    bundle = _anchored_bundle(service, created.json()["id"])
    fields = bundle["document"]["fields"]  # type: ignore[index]
    total = next(f for f in fields if f["path"] == "/total_minor")
    total["value"] += 1

    verdict = httpx.post(
        f"{service.url}/v1/verify", json={"bundle": bundle}, timeout=10
    )

    assert verdict.status_code == 200
    assert verdict.json()["valid"] is False
    assert verdict.json()["failed_check"] == "document_root"


def test_a_bundle_still_verifies_after_the_service_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_service(data)
    try:
        created = httpx.post(
            f"{first.url}/v1/documents",
            json=samples.invoice(),
            headers=first.headers("seller"),
            timeout=10,
        )
        bundle = _anchored_bundle(first, created.json()["id"])
    finally:
        first.stop()

    second = start_service(data)
    try:
        verdict = httpx.post(
            f"{second.url}/v1/verify", json={"bundle": bundle}, timeout=10
        )
    finally:
        second.stop()

    assert second.tokens == first.tokens
    assert verdict.json()["valid"] is True, verdict.json()


def test_the_service_refuses_to_start_when_its_chain_state_is_gone(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    start_service(data).stop()
    (data / "chain-state.json").unlink()

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--data-dir",
            str(data),
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )

    assert result.returncode == 2
    assert "no contract code at" in result.stderr, result.stderr


def test_a_document_queued_before_the_service_was_killed_is_anchored_once(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    first = start_service(data, extra=["--no-worker"])
    created = httpx.post(
        f"{first.url}/v1/documents",
        json=samples.invoice(),
        headers=first.headers("seller"),
        timeout=10,
    )
    assert created.status_code == 201
    first.process.kill()  # SIGKILL right after the commit; nothing was sent
    first.process.wait()

    second = start_service(data)
    try:
        bundle = _anchored_bundle(second, created.json()["id"])
        anchors = _batch_anchored_events(second.rpc_url, bundle)
    finally:
        second.stop()

    assert anchors == 1


def _batch_anchored_events(rpc_url: str, bundle: dict[str, object]) -> int:
    from registry.chain import ChainClient

    client = ChainClient.connect(rpc_url)
    anchor = bundle["anchor"]
    registry = client.contract("ReceivableRegistry", anchor["contract"])  # type: ignore[index]
    root = bytes.fromhex(bundle["batch"]["root"][2:])  # type: ignore[index]
    logs = registry.events.BatchAnchored().get_logs(
        from_block=0, argument_filters={"batchRoot": root}
    )
    return len(logs)
