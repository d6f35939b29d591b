"""The service with a claim token: in-process chain by default, anvil on request.

Parties get their own keys (the service never holds them): each signs its typed data
and its transactions itself, exactly as a wallet would.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from api.anchoring.service import AnchoringConfig
from api.anchoring.worker import Worker
from api.app import create_app
from api.claims.runtime import ClaimsRuntime
from api.runtime import ChainRuntime
from registry.anchoring import Anchorer
from registry.chain import ChainClient
from registry.claims import (
    UINT256_MAX,
    ClaimsClient,
    chain_time,
    party_client,
    sign_typed_data,
)
from registry.devchain import ANVIL_KEYS, start_anvil
from tests.api.conftest import Api, invoice, make_settings

FACE_VALUE = 123_450  # invoice() totals 1234.50 EUR


@dataclass(frozen=True)
class KeyedParty:
    id: uuid.UUID
    tax_id: str | None
    headers: dict[str, str]
    key: str
    address: str


class ClaimsApi(Api):
    """The service, its worker, and the operator's view of the claim token."""

    def __init__(
        self, app: Any, worker: Worker, client: ChainClient, runtime: ClaimsRuntime
    ) -> None:
        super().__init__(app)
        self.worker = worker
        self.chain = client
        self.runtime = runtime
        self.claims = runtime.claims

    def anchor_all(self) -> None:
        for _ in range(3):
            self.worker.run_cycle()

    def keyed(self, role: str, tax_id: str | None = None, money: int = 0) -> KeyedParty:
        account = Account.create()
        body: dict[str, Any] = {
            "role": role,
            "name": f"{role} {secrets.token_hex(2)}",
            "eth_address": account.address,
        }
        if tax_id is not None:
            body["tax_id"] = tax_id
        response = self.client.post("/v1/parties", json=body, headers=self.operator)
        assert response.status_code == 201, response.text
        data = response.json()
        party = KeyedParty(
            uuid.UUID(data["party"]["id"]),
            tax_id,
            {"Authorization": f"Bearer {data['token']}"},
            "0x" + bytes(account.key).hex(),
            account.address,
        )
        with self.runtime.lock:
            self.chain.wait([self.chain.transfer_ether(account.address, 10**18)])
            if money:
                self.claims.mint(account.address, money)
        return party

    def sign(self, party: KeyedParty, typed_data: dict[str, Any]) -> str:
        return "0x" + sign_typed_data(party.key, typed_data).hex()

    def signed_tx(
        self, party: KeyedParty, function: str, *args: Any, nonce: int | None = None
    ) -> str:
        tx = self.claims.unsigned_transaction(party.address, function, *args)
        if nonce is not None:
            tx["nonce"] = nonce
        signed = Account.sign_transaction(tx, party.key)
        return "0x" + bytes(signed.raw_transaction).hex()

    def approve(self, party: KeyedParty) -> None:
        raw = self.signed_tx(party, "approve", self.claims.claim_token, UINT256_MAX)
        response = self.client.post(
            "/v1/claims/currency-approvals", json={"raw": raw}, headers=party.headers
        )
        assert response.status_code == 200, response.text

    def register_invoice(self, seller: KeyedParty, **overrides: Any) -> str:
        due_on = (datetime.now(UTC).date() + timedelta(days=60)).isoformat()
        record = invoice(
            seller_tax_id=seller.tax_id or "DE111",
            due_on=overrides.pop("due_on", due_on),
            issued_on=overrides.pop("issued_on", date.today().isoformat()),
            **overrides,
        )
        response = self.client.post(
            "/v1/documents", json=record, headers=seller.headers
        )
        assert response.status_code == 201, response.text
        document_id: str = response.json()["id"]
        return document_id

    def confirmation(self, buyer: KeyedParty, document_id: str) -> dict[str, Any]:
        response = self.client.get(
            f"/v1/claims/invoices/{document_id}/confirmation", headers=buyer.headers
        )
        assert response.status_code == 200, response.text
        served: dict[str, Any] = response.json()
        return served

    def confirm(
        self, buyer: KeyedParty, document_id: str, typed_data: dict[str, Any], sig: str
    ) -> Any:
        return self.client.post(
            f"/v1/claims/invoices/{document_id}/confirmation",
            json={"typed_data": typed_data, "signature": sig},
            headers=buyer.headers,
        )

    def confirmed_claim(self, seller: KeyedParty, buyer: KeyedParty) -> str:
        """Register, anchor and confirm an invoice; returns the claim id."""
        document_id = self.register_invoice(seller)
        self.anchor_all()
        served = self.confirmation(buyer, document_id)
        response = self.confirm(
            buyer,
            document_id,
            served["typed_data"],
            self.sign(buyer, served["typed_data"]),
        )
        assert response.status_code == 201, response.text
        claim_id: str = response.json()["claim_id"]
        return claim_id

    def offer(
        self, holder: KeyedParty, claim_id: str, units: int, rate: str = "0.0003"
    ) -> dict[str, Any]:
        draft = self.client.post(
            f"/v1/claims/{claim_id}/offer-drafts",
            json={"units": units, "daily_rate": rate},
            headers=holder.headers,
        )
        assert draft.status_code == 200, draft.text
        data = draft.json()["typed_data"]
        created = self.client.post(
            f"/v1/claims/{claim_id}/offers",
            json={
                "typed_data": data,
                "signature": self.sign(holder, data),
                "daily_rate": rate,
            },
            headers=holder.headers,
        )
        assert created.status_code == 201, created.text
        offer: dict[str, Any] = created.json()
        return offer

    def purchase_tx(
        self, funder: KeyedParty, offer: dict[str, Any], units: int, **kw: Any
    ) -> str:
        message = offer["typed_data"]["message"]
        args = (
            int(message["claimId"]),
            int(message["units"]),
            int(message["price"]),
            message["seller"],
            message["buyer"],
            int(message["nonce"]),
            int(message["deadline"]),
        )
        price = -(-int(message["price"]) * units // int(message["units"]))
        signature = bytes.fromhex(offer["signature"][2:])
        return self.signed_tx(funder, "buy", args, signature, units, price, **kw)

    def post_raw(self, party: KeyedParty, claim_id: str, path: str, raw: str) -> Any:
        return self.client.post(
            f"/v1/claims/{claim_id}/{path}", json={"raw": raw}, headers=party.headers
        )

    def document(self, party: KeyedParty, document_id: str) -> dict[str, Any]:
        response = self.client.get(
            f"/v1/documents/{document_id}", headers=party.headers
        )
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def now(self) -> int:
        return chain_time(self.chain)


def _claims_api(
    database_url: str, tmp_path: Path, client: ChainClient, operator_key: str
) -> Iterator[ClaimsApi]:
    registry = Anchorer.deploy(client).registry_address
    claims = ClaimsClient.deploy(party_client(client, operator_key), registry)
    runtime = ClaimsRuntime.of(claims, confirmations=1)
    chain = ChainRuntime(client, registry, client.chain_id(), confirmations=1)
    chain.claims = runtime
    app = create_app(make_settings(database_url, tmp_path / "data"), chain)
    config = AnchoringConfig(contract=registry, batch_age_seconds=0, confirmations=1)
    api = ClaimsApi(app, Worker(app.state.database, client, config), client, runtime)
    with api.client:
        yield api
    app.state.database.dispose()


def _tester_key(client: ChainClient, index: int) -> str:
    tester: Any = client.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    return "0x" + tester.backend.account_keys[index].to_bytes().hex()


@pytest.fixture
def claims_api(database_url: str, tmp_path: Path) -> Iterator[ClaimsApi]:
    """The service on an in-process chain, on SQLite and on PostgreSQL."""
    client = ChainClient.in_process()
    yield from _claims_api(database_url, tmp_path, client, _tester_key(client, 1))


@pytest.fixture
def sqlite_claims_api(sqlite_url: str, tmp_path: Path) -> Iterator[ClaimsApi]:
    """The service on an in-process chain and SQLite (storage does not matter)."""
    client = ChainClient.in_process()
    yield from _claims_api(sqlite_url, tmp_path, client, _tester_key(client, 1))


@pytest.fixture
def anvil_claims_api(database_url: str, tmp_path: Path) -> Iterator[ClaimsApi]:
    """The service on a real anvil node (thread-safe JSON-RPC; reorg tools)."""
    with start_anvil() as node:
        client = ChainClient.connect(node.rpc_url, ANVIL_KEYS[0])
        yield from _claims_api(database_url, tmp_path, client, ANVIL_KEYS[1])
