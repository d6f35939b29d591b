"""The ``receivables`` command line, end to end against a real anvil node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry import samples
from registry.cli import EXIT_INVALID, EXIT_USAGE, main
from registry.devchain import ANVIL_KEYS, AnvilNode, start_anvil


@pytest.fixture
def anchored(
    anvil_node: AnvilNode, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, Path]:
    rpc = ["--rpc", anvil_node.rpc_url]
    assert main(["deploy", *rpc, "--key", ANVIL_KEYS[0]]) == 0
    contract = capsys.readouterr().out.strip()
    files = {
        "order": samples.purchase_order(),
        "invoice": samples.invoice(),
    }
    for name, record in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(record))
    code = main(
        [
            "anchor",
            str(tmp_path / "order.json"),
            str(tmp_path / "invoice.json"),
            *rpc,
            "--key",
            ANVIL_KEYS[0],
            "--contract",
            contract,
            "--out",
            str(tmp_path / "bundles"),
        ]
    )
    assert code == 0
    capsys.readouterr()
    return {
        "invoice": tmp_path / "bundles" / "invoice-INV-2026-1187.json",
        "order": tmp_path / "bundles" / "purchase-order-PO-2026-0412.json",
    }


def test_bundle_from_anchor_verifies_against_the_chain_it_was_anchored_on(
    anchored: dict[str, Path], anvil_node: AnvilNode
) -> None:
    for bundle in anchored.values():
        assert main(["verify", str(bundle), "--rpc", anvil_node.rpc_url]) == 0


def test_one_disclosed_field_verifies_and_prints_its_value(
    anchored: dict[str, Path], anvil_node: AnvilNode, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["verify", str(anchored["invoice"]), "--field", "/total_minor"]

    assert main([*args, "--rpc", anvil_node.rpc_url]) == 0
    assert "/total_minor = 664436" in capsys.readouterr().out


def test_a_one_byte_change_to_a_value_makes_verify_exit_1(
    anchored: dict[str, Path], anvil_node: AnvilNode
) -> None:
    path = anchored["invoice"]
    path.write_text(path.read_text().replace("INV-2026-1187", "INV-2026-1188"))

    assert main(["verify", str(path), "--rpc", anvil_node.rpc_url]) == EXIT_INVALID


def test_a_claimed_anchor_block_that_differs_makes_verify_exit_1(
    anchored: dict[str, Path], anvil_node: AnvilNode
) -> None:
    path = anchored["order"]
    data = json.loads(path.read_text())
    data["anchor"]["block_number"] -= 1
    path.write_text(json.dumps(data))

    assert main(["verify", str(path), "--rpc", anvil_node.rpc_url]) == EXIT_INVALID


def test_a_bundle_checked_against_another_chain_is_invalid(
    anchored: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with start_anvil(chain_id=4242) as other:
        code = main(["verify", str(anchored["invoice"]), "--rpc", other.rpc_url])

    assert code == EXIT_INVALID
    assert "chain" in capsys.readouterr().out


def test_anchor_refuses_a_float_amount_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = samples.invoice()
    record["tax_minor"] = 1234.5
    (tmp_path / "bad.json").write_text(json.dumps(record))

    code = main(["anchor", str(tmp_path / "bad.json"), "--rpc", "http://127.0.0.1:1"])

    assert code == EXIT_USAGE
    assert "/tax_minor" in capsys.readouterr().err


def test_verify_without_a_chain_or_offline_flag_is_a_usage_error(
    anchored: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECEIVABLES_RPC_URL", raising=False)

    assert main(["verify", str(anchored["invoice"])]) == EXIT_USAGE


def test_offline_verification_says_the_chain_was_not_consulted(
    anchored: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(anchored["invoice"]), "--offline"]) == 0
    assert "chain was not consulted" in capsys.readouterr().out


def test_demo_tells_the_story_and_rejects_both_forgeries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    assert out.count("(VALID)") == 4
    assert out.count("(rejected)") == 2
    assert (tmp_path / "invoice-INV-2026-1187.funder.json").exists()
