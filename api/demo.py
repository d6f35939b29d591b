"""The service part of ``receivables demo``: the same trade, told through the HTTP API.

A throwaway service runs on the embedded defaults (SQLite and an anvil node in a
temporary folder, the anchoring worker in-process) behind a real uvicorn server on a
free loopback port; every step below is an HTTP request, as a client would make it.
"""

from __future__ import annotations

import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from api.app import create_app
from api.db import Database, create_db_engine, upgrade_database
from api.runtime import ChainRuntime, anchoring_worker, connect_chain
from api.settings import Settings
from registry import samples
from registry.devchain import free_port
from registry.verify import verify_bundle

# A fresh operator token for the throwaway service, never written anywhere else.
OPERATOR_TOKEN = "rr_" + secrets.token_urlsafe(32)


@dataclass
class _Timeline:
    started: float = field(default_factory=time.perf_counter)
    ok: bool = True

    def step(self, what: str, detail: str = "", *, expected: bool = True) -> None:
        self.ok &= expected
        elapsed = (time.perf_counter() - self.started) * 1000
        mark = "" if expected else "  ** UNEXPECTED **"
        print(f"{elapsed:9.1f} ms  {what}" + (f"  ({detail})" if detail else "") + mark)


@dataclass
class RunningService:
    """A service started by :func:`running_service`."""

    url: str
    chain: ChainRuntime
    client: httpx.Client


@contextmanager
def running_service(data_dir: Path) -> Iterator[RunningService]:
    """Start the service on the embedded defaults in ``data_dir``; stop it after."""
    settings = Settings(
        data_dir=data_dir,
        operator_token=OPERATOR_TOKEN,
        batch_max_age_seconds=0.2,
        chain_confirmations=1,
    )
    database = Database(create_db_engine(settings))
    upgrade_database(database.engine)
    chain = connect_chain(settings, database)
    worker = anchoring_worker(settings, database, chain)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, chain, database),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, name="demo-service", daemon=True)
    try:
        worker.start(poll_seconds=0.1)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield RunningService(f"http://127.0.0.1:{port}", chain, client)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        worker.stop()
        chain.close()
        database.dispose()


def _onboard(
    client: httpx.Client, role: str, name: str, tax_id: str | None
) -> dict[str, str]:
    from eth_account import Account

    body: dict[str, Any] = {
        "role": role,
        "name": name,
        "eth_address": Account.create().address,
    }
    if tax_id:
        body["tax_id"] = tax_id
    response = client.post(
        "/v1/parties", json=body, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    )
    response.raise_for_status()
    created = response.json()
    return {"id": created["party"]["id"], "Authorization": f"Bearer {created['token']}"}


def _auth(party: dict[str, str]) -> dict[str, str]:
    return {"Authorization": party["Authorization"]}


def _wait_for_bundle(
    client: httpx.Client, party: dict[str, str], document_id: str, **params: Any
) -> dict[str, Any]:
    for _ in range(600):
        response = client.get(
            f"/v1/documents/{document_id}/evidence", params=params, headers=_auth(party)
        )
        if response.status_code == 200:
            bundle: dict[str, Any] = response.json()
            return bundle
        time.sleep(0.05)
    raise TimeoutError(f"document {document_id} was not anchored within 30 s")


def run_service_demo() -> int:
    """Run the story through the HTTP API; returns 0 when it went as expected."""
    print("\nThe same trade through the HTTP service (SQLite + embedded anvil)")
    timeline = _Timeline()
    with (
        tempfile.TemporaryDirectory(prefix="receivables-demo-") as folder,
        running_service(Path(folder)) as service,
    ):
        timeline.step(
            "service started", f"{service.url}, registry {service.chain.contract}"
        )
        _story(service, timeline)
    print(f"\nService story done in {(time.perf_counter() - timeline.started):.2f} s.")
    return 0 if timeline.ok else 1


def _story(service: RunningService, timeline: _Timeline) -> None:
    http = service.client
    seller = _onboard(http, "seller", samples.SELLER["name"], samples.SELLER["tax_id"])
    buyer = _onboard(http, "buyer", samples.BUYER["name"], samples.BUYER["tax_id"])
    funder = _onboard(http, "funder", "Hanse Receivables Fund", None)
    rival = _onboard(http, "funder", "Another Lender", None)
    timeline.step(
        "operator onboarded seller, buyer and two funders", "POST /v1/parties"
    )

    ids = {}
    for name, record in (
        ("order", samples.purchase_order()),
        ("delivery", samples.delivery_note()),
        ("invoice", samples.invoice()),
    ):
        response = http.post("/v1/documents", json=record, headers=_auth(seller))
        ids[name] = response.json().get("id", "")
        timeline.step(
            f"seller registered the {name}",
            f"{response.status_code}, status {response.json().get('status')}",
            expected=response.status_code == 201,
        )

    resent = samples.invoice()
    resent["total_minor"] = int(
        resent.pop("total").replace(".", "")
    )  # 6644.36 → 664436
    again = http.post(
        "/v1/documents", json=dict(reversed(resent.items())), headers=_auth(seller)
    )
    timeline.step(
        "seller sent the invoice again (keys reordered, amount re-spelled)",
        f"{again.status_code}: {again.json().get('title')}",
        expected=again.status_code == 409,
    )

    bundle = _wait_for_bundle(http, seller, ids["invoice"])
    anchor = bundle["anchor"]
    timeline.step(
        "worker anchored the batch",
        f"block {anchor['block_number']}, batch {anchor['batch_id']}",
    )
    for party in (funder, rival):
        http.post(
            f"/v1/documents/{ids['invoice']}/grants",
            json={"party_id": party["id"]},
            headers=_auth(seller),
        ).raise_for_status()
    disclosed = _wait_for_bundle(
        http, funder, ids["invoice"], field=["/total_minor", "/due_on", "/buyer/tax_id"]
    )
    verdict = http.post("/v1/verify", json={"bundle": disclosed}).json()
    timeline.step(
        "funder got total, due date and buyer only, and verified them publicly",
        f"valid={verdict['valid']}, anchored in block {verdict['anchor_block']}",
        expected=verdict["valid"] is True,
    )
    offline_and_chain = verify_bundle(bundle, service.chain.client)
    timeline.step(
        "an auditor checked the whole bundle against the chain itself",
        offline_and_chain.reason,
        expected=offline_and_chain.valid,
    )

    financed = http.post(
        f"/v1/documents/{ids['invoice']}/financings", headers=_auth(funder)
    )
    timeline.step(
        "funder recorded its financing",
        f"{financed.status_code}, "
        f"nullifier {financed.json().get('nullifier', '')[:18]}…",
        expected=financed.status_code == 201,
    )
    twice = http.post(
        f"/v1/documents/{ids['invoice']}/financings", headers=_auth(rival)
    )
    timeline.step(
        "a second lender tried to finance the same invoice",
        f"{twice.status_code}: {twice.json().get('title')}",
        expected=twice.status_code == 409,
    )

    events = http.get("/v1/events", headers=_auth(seller)).json()
    changes = [
        f"{e.get('from_status') or '-'}→{e.get('to_status')}"
        for e in events.get("events", events.get("items", []))
    ]
    timeline.step(
        "seller polled its event feed", ", ".join(changes[-4:]) or "no events"
    )
    _ = buyer
