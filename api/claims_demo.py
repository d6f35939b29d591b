"""The financing story, through the service: ``run_claims_demo(out, rpc=None)``.

A seller registers an order, a delivery and an invoice; the worker anchors them;
the buyer confirms the invoice with its own EIP-712 signature and a claim is
minted; a funder buys 60% at a discount; the seller passes 20% to its own
supplier; on the due date the buyer repays; every holder redeems; an auditor
verifies every document against the chain and reads the claim's history.

Every party holds its own key and signs its own messages and transactions; the
service (run in-process with a throwaway SQLite database) only checks and relays.
The chain is an in-process EVM by default, or any JSON-RPC node with ``rpc`` (a
local anvil or Hardhat node: the demo moves its clock to the due date, and uses
the node's first two development keys for the anchoring worker and the claims
operator).

The timeline shows the elapsed time and the gas of each step.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eth_account import Account
from fastapi.testclient import TestClient

from api.anchoring.models import ChainTransaction, ChainTransactionKind
from api.anchoring.service import AnchoringConfig
from api.anchoring.worker import Worker
from api.app import create_app
from api.claims.runtime import ClaimsRuntime
from api.runtime import ChainRuntime
from api.settings import Settings
from registry import samples
from registry.anchoring import Anchorer
from registry.chain import ChainClient
from registry.claims import (
    UINT256_MAX,
    ClaimsClient,
    advance_time,
    chain_time,
    party_client,
    sign_typed_data,
)
from registry.devchain import ANVIL_KEYS
from registry.verify import verify_bundle

OPERATOR_TOKEN = "claims-demo-operator"  # noqa: S105 - a throwaway local service


@dataclass
class _Timeline:
    started: float = field(default_factory=time.perf_counter)
    gas_total: int = 0

    def step(self, what: str, detail: str = "", gas: int | None = None) -> None:
        elapsed = (time.perf_counter() - self.started) * 1000
        gas_text = f"{gas:>9,} gas" if gas is not None else " " * 13
        self.gas_total += gas or 0
        print(
            f"{elapsed:9.1f} ms {gas_text}  {what}"
            + (f"  ({detail})" if detail else "")
        )


@dataclass(frozen=True)
class _Party:
    name: str
    headers: dict[str, str]
    key: str
    address: str
    party_id: str


class _Story:
    def __init__(
        self,
        http: TestClient,
        chain: ChainClient,
        claims: ClaimsClient,
        worker: Worker,
        timeline: _Timeline,
    ) -> None:
        self.http, self.chain, self.claims = http, chain, claims
        self.worker, self.timeline = worker, timeline
        self.operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}

    def call(self, method: str, path: str, party: _Party | None, **kw: Any) -> Any:
        headers = party.headers if party else self.operator
        response = self.http.request(method, path, headers=headers, **kw)
        if response.status_code >= 300:
            raise RuntimeError(
                f"{method} {path}: {response.status_code} {response.text}"
            )
        return response.json() if response.content else None

    def onboard(
        self, role: str, name: str, tax_id: str | None, money: int = 0
    ) -> _Party:
        account = Account.create()
        body = {"role": role, "name": name, "eth_address": account.address}
        if tax_id:
            body["tax_id"] = tax_id
        created = self.call("POST", "/v1/parties", None, json=body)
        with_key = _Party(
            name,
            {"Authorization": f"Bearer {created['token']}"},
            "0x" + bytes(account.key).hex(),
            account.address,
            created["party"]["id"],
        )
        self.chain.wait([self.chain.transfer_ether(account.address, 10**17)])
        if money:
            self.claims.mint(account.address, money)
        return with_key

    def signed(self, party: _Party, function: str, *args: Any) -> dict[str, str]:
        tx = self.claims.unsigned_transaction(party.address, function, *args)
        raw = Account.sign_transaction(tx, party.key).raw_transaction
        return {"raw": "0x" + bytes(raw).hex()}

    def relay(self, party: _Party, path: str, function: str, *args: Any) -> Any:
        return self.call("POST", path, party, json=self.signed(party, function, *args))

    def anchor(self) -> None:
        for _ in range(3):
            self.worker.run_cycle()

    def gas_of(self, tx_hash: str) -> int:
        (receipt,) = self.chain.receipts([bytes.fromhex(tx_hash[2:])])
        return receipt.gas_used if receipt else 0


def run_claims_demo(out: Path, *, rpc: str | None = None) -> int:
    """Run the story; returns 0 when every check came out as expected.

    Args:
        out: folder for the evidence bundles the auditor checks.
        rpc: a local anvil or Hardhat node; None for the in-process chain.
    """
    timeline = _Timeline()
    print("Timeline (elapsed since start, gas of the step)")
    if rpc is None:
        client = ChainClient.in_process()
        tester: Any = client.w3.provider.ethereum_tester  # type: ignore[attr-defined]
        operator_key = "0x" + tester.backend.account_keys[1].to_bytes().hex()
        kind = "in-process EVM (py-evm)"
    else:
        client = ChainClient.connect(rpc, ANVIL_KEYS[0])
        operator_key, kind = ANVIL_KEYS[1], "JSON-RPC node"
    timeline.step("connected to chain", f"{kind}, chain id {client.chain_id()}")
    registry = Anchorer.deploy(client).registry_address
    claims = ClaimsClient.deploy(party_client(client, operator_key), registry)
    timeline.step(
        "deployed ReceivableRegistry, ClaimToken, SettlementToken (EURS, 2 decimals)",
        f"claim token {claims.claim_token}",
    )
    with tempfile.TemporaryDirectory(prefix="receivables-demo-") as data_dir:
        return _run(out, Path(data_dir), client, registry, claims, timeline)


def _run(
    out: Path,
    data_dir: Path,
    client: ChainClient,
    registry: str,
    claims: ClaimsClient,
    timeline: _Timeline,
) -> int:
    chain = ChainRuntime(client, registry, client.chain_id(), confirmations=1)
    chain.claims = ClaimsRuntime.of(claims, confirmations=1)
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'registry.sqlite'}",
        operator_token=OPERATOR_TOKEN,
    )
    app = create_app(settings, chain)
    config = AnchoringConfig(contract=registry, batch_age_seconds=0, confirmations=1)
    worker = Worker(app.state.database, client, config)
    with TestClient(app) as http:
        story = _Story(http, client, claims, worker, timeline)
        ok = _tell(story, out)
    app.state.database.dispose()
    total = timeline.started
    print(
        f"\nDone in {time.perf_counter() - total:.2f} s, {timeline.gas_total:,} gas in "
        f"all. Bundles are in {out}/."
    )
    return 0 if ok else 1


def _tell(story: _Story, out: Path) -> bool:
    t = story.timeline
    face = _invoice_total()
    seller = story.onboard("seller", samples.SELLER["name"], samples.SELLER["tax_id"])
    buyer = story.onboard(
        "buyer", samples.BUYER["name"], samples.BUYER["tax_id"], money=2 * face
    )
    funder = story.onboard("funder", "Hanse Receivables Fund", None, money=2 * face)
    supplier = story.onboard("seller", "Rheinstahl Rohlinge KG", "DE300000001")
    auditor = story.onboard("auditor", "Treuhand Audit", None)
    t.step(
        "operator onboarded seller, buyer, funder, the seller's supplier, auditor",
        "each with its own key; local gas and EURS minted",
    )

    documents = _register(story, seller)
    story.anchor()
    anchor_gas = _last_gas(story, ChainTransactionKind.ANCHOR_BATCH)
    t.step("worker anchored the three documents in one batch", gas=anchor_gas)
    invoice_id = documents[2]

    served = story.call("GET", f"/v1/claims/invoices/{invoice_id}/confirmation", buyer)
    t.step(
        "buyer fetched the EIP-712 confirmation",
        f"digest {served['digest'][:18]}…, face value {served['face_value']} cents",
    )
    signature = "0x" + sign_typed_data(buyer.key, served["typed_data"]).hex()
    claim = story.call(
        "POST",
        f"/v1/claims/invoices/{invoice_id}/confirmation",
        buyer,
        json={"typed_data": served["typed_data"], "signature": signature},
    )
    claim_id = claim["claim_id"]
    t.step(
        "buyer signed with its own key; platform relayed confirm(): claim minted",
        f"claim {claim_id[:18]}…, {claim['face_value']} units to the seller",
        gas=story.gas_of(claim["confirmed_transaction"]),
    )

    sixty, twenty = face * 60 // 100, face * 20 // 100
    draft = story.call(
        "POST",
        f"/v1/claims/{claim_id}/offer-drafts",
        seller,
        json={"units": sixty, "daily_rate": "0.0003"},
    )
    quote = draft["quote"]
    story.call(
        "POST",
        f"/v1/claims/{claim_id}/offers",
        seller,
        json={
            "typed_data": draft["typed_data"],
            "signature": "0x" + sign_typed_data(seller.key, draft["typed_data"]).hex(),
            "daily_rate": "0.0003",
        },
    )
    t.step(
        "seller signed an offer of 60% of the claim",
        f"{sixty} units for {quote['price']} at 0.03%/day over "
        f"{quote['days_to_maturity']} days: discount {quote['discount']}",
    )
    offer = story.call("GET", "/v1/claims/offers", funder)["items"][0]
    approval = story.relay(
        funder,
        "/v1/claims/currency-approvals",
        "approve",
        story.claims.claim_token,
        UINT256_MAX,
    )
    t.step(
        "funder saw the offer and approved EURS to the claim token",
        f"price {offer['price']}, {offer['days_to_maturity']} days to maturity",
        gas=approval["gas_used"],
    )
    message = offer["typed_data"]["message"]
    bought = story.relay(
        funder,
        f"/v1/claims/{claim_id}/purchases",
        "buy",
        tuple(
            int(message[k]) if k not in ("seller", "buyer") else message[k]
            for k in (
                "claimId",
                "units",
                "price",
                "seller",
                "buyer",
                "nonce",
                "deadline",
            )
        ),
        bytes.fromhex(offer["signature"][2:]),
        sixty,
        offer["price"],
    )
    t.step(
        "funder bought 60% in one atomic swap (units against EURS)",
        f"invoice {bought['claim']['document_status']}; duplicate check passed, "
        "nullifier queued",
        gas=bought["gas_used"],
    )
    story.anchor()
    t.step(
        "worker published the invoice's nullifier on chain",
        gas=_last_gas(story, ChainTransactionKind.PUBLISH_NULLIFIER),
    )

    passed = story.relay(
        seller,
        f"/v1/claims/{claim_id}/transfers",
        "safeTransferFrom",
        seller.address,
        supplier.address,
        int(claim_id, 16),
        twenty,
        b"",
    )
    t.step(
        "seller passed 20% of the claim to its own supplier",
        f"{twenty} units",
        gas=passed["gas_used"],
    )

    due = served["due_date"]
    advance_time(story.chain, max(0, due - chain_time(story.chain)) + 1)
    t.step(
        "the chain's clock reached the due date",
        datetime.fromtimestamp(due, UTC).date().isoformat(),
    )
    approval = story.relay(
        buyer,
        "/v1/claims/currency-approvals",
        "approve",
        story.claims.claim_token,
        UINT256_MAX,
    )
    repaid = story.relay(
        buyer, f"/v1/claims/{claim_id}/repayments", "repay", int(claim_id, 16), face
    )
    t.step(
        "buyer approved EURS and repaid the whole face value into the claim token",
        f"invoice {repaid['claim']['document_status']}",
        gas=repaid["gas_used"] + approval["gas_used"],
    )

    paid: dict[str, int] = {}
    for holder in (funder, supplier, seller):
        before = story.claims.token_balance(holder.address)
        redeemed = story.relay(
            holder,
            f"/v1/claims/{claim_id}/redemptions",
            "redeem",
            int(claim_id, 16),
            holder.address,
        )
        paid[holder.name] = story.claims.token_balance(holder.address) - before
        t.step(
            f"{holder.name} redeemed",
            f"paid {paid[holder.name]} cents",
            gas=redeemed["gas_used"],
        )
    final = story.call("GET", f"/v1/claims/{claim_id}", seller)
    t.step(
        "claim closed",
        f"invoice {final['document_status']}, "
        f"{final['paid_out']} of {final['repaid']} repaid paid out",
    )

    ok = sum(paid.values()) == face and final["document_status"] == "closed"
    ok &= _audit(story, seller, auditor, documents, claim_id, face, out)
    return ok


def _invoice_total() -> int:
    record = samples.invoice()
    major, minor = record["total"].split(".")
    return int(major) * 100 + int(minor)


def _register(story: _Story, seller: _Party) -> list[str]:
    today = datetime.now(UTC).date()
    order = samples.purchase_order(issued_on=today - timedelta(days=20))
    delivery = samples.delivery_note()
    delivery["issued_on"] = (today - timedelta(days=5)).isoformat()
    invoice = samples.invoice(issued_on=today, terms_days=60)
    ids = []
    for record in (order, delivery, invoice):
        document = story.call("POST", "/v1/documents", seller, json=record)
        ids.append(document["id"])
        story.timeline.step(
            f"seller registered {record['type'].replace('_', ' ')} {record['number']}",
            f"root {document['document_root'][:18]}…",
        )
    return ids


def _last_gas(story: _Story, kind: ChainTransactionKind) -> int:
    database = story.http.app.state.database  # type: ignore[attr-defined]
    with database.read_sessions() as session:
        row = (
            session.query(ChainTransaction)
            .filter(ChainTransaction.kind == kind)
            .order_by(ChainTransaction.id.desc())
            .first()
        )
        return int(row.gas_used or 0) if row else 0


def _audit(
    story: _Story,
    seller: _Party,
    auditor: _Party,
    documents: list[str],
    claim_id: str,
    face: int,
    out: Path,
) -> bool:
    t = story.timeline
    out.mkdir(parents=True, exist_ok=True)
    ok = True
    for document_id in documents:
        story.call(
            "POST",
            f"/v1/documents/{document_id}/grants",
            seller,
            json={"party_id": auditor.party_id},
        )
        bundle = story.call("GET", f"/v1/documents/{document_id}/evidence", auditor)
        path = out / f"{document_id}.bundle.json"
        path.write_text(json.dumps(bundle, indent=2))
        verdict = verify_bundle(bundle, story.chain)
        ok &= verdict.valid
        t.step(
            f"auditor verified {path.name} against the chain",
            "VALID" if verdict.valid else f"INVALID: {verdict.reason}",
        )

    history = story.call("GET", f"/v1/claims/{claim_id}/history", auditor)["events"]
    on_chain = story.claims.settlement_of(int(claim_id, 16))
    redeemed = sum(int(e["args"]["amount"]) for e in history if e["name"] == "Redeemed")
    consistent = (
        history[0]["name"] == "ClaimConfirmed"
        and history[-1]["name"] == "ClaimClosed"
        and on_chain.repaid == on_chain.paid_out == face
        and redeemed
        + sum(int(e["args"]["dust"]) for e in history if e["name"] == "ClaimClosed")
        == face
    )
    ok &= consistent
    t.step(
        "auditor traced the claim's history",
        f"{len(history)} events from ClaimConfirmed to ClaimClosed; "
        + ("matches the chain" if consistent else "DOES NOT MATCH the chain"),
    )
    return ok


def main() -> int:  # pragma: no cover - ``python -m api.claims_demo [rpc]``
    import sys

    rpc = sys.argv[1] if len(sys.argv) > 1 else None
    return run_claims_demo(Path("demo-output"), rpc=rpc)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = ["run_claims_demo"]
