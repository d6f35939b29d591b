"""Who may see and buy what: foreign claims, invoices financed elsewhere, the demo."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from api.claims import service as claims_service
from api.claims_demo import run_claims_demo
from registry.chain import ChainClient
from registry.credit.model import Band, Reason
from registry.devchain import ANVIL_KEYS, start_anvil
from tests.api.claims.conftest import FACE_VALUE, ClaimsApi


def test_someone_elses_claim_answers_like_a_missing_one(
    sqlite_claims_api: ClaimsApi,
) -> None:
    api = sqlite_claims_api
    seller = api.keyed("seller", "DE111")
    buyer = api.keyed("buyer", "DE222")
    stranger = api.keyed("seller", "DE999")
    claim_id = api.confirmed_claim(seller, buyer)
    missing_id = "0x" + "ab" * 32

    foreign = api.client.get(f"/v1/claims/{claim_id}", headers=stranger.headers)
    missing = api.client.get(f"/v1/claims/{missing_id}", headers=stranger.headers)
    own = api.client.get(f"/v1/claims/{claim_id}", headers=seller.headers)

    assert own.status_code == 200
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["type"] == missing.json()["type"]


def test_a_purchase_of_an_invoice_financed_elsewhere_is_refused_before_relaying(
    claims_api: ClaimsApi,
) -> None:
    api = claims_api
    seller = api.keyed("seller", "DE111")
    buyer = api.keyed("buyer", "DE222")
    funder = api.keyed("funder", money=2 * FACE_VALUE)
    other_lender = api.keyed("funder")
    claim_id = api.confirmed_claim(seller, buyer)
    document_id = api.client.get(
        f"/v1/claims/{claim_id}", headers=seller.headers
    ).json()["document_id"]
    offer = api.offer(seller, claim_id, FACE_VALUE // 2)
    api.approve(funder)
    granted = api.client.post(
        f"/v1/documents/{document_id}/grants",
        json={"party_id": str(other_lender.id)},
        headers=seller.headers,
    )
    assert granted.status_code == 201, granted.text
    financed = api.client.post(
        f"/v1/documents/{document_id}/financings", headers=other_lender.headers
    )
    assert financed.status_code == 201, financed.text
    balance_before = api.claims.token_balance(funder.address)

    bought = api.post_raw(
        funder, claim_id, "purchases", api.purchase_tx(funder, offer, FACE_VALUE // 2)
    )

    assert bought.status_code == 409, bought.text
    assert api.claims.balance_of(funder.address, int(claim_id, 16)) == 0
    assert api.claims.token_balance(funder.address) == balance_before


def test_the_whole_demo_story_runs_on_a_real_anvil_node(tmp_path: Path) -> None:
    with start_anvil() as node:
        assert run_claims_demo(tmp_path, rpc=node.rpc_url) == 0


def test_claims_endpoints_answer_503_while_the_node_is_down_and_documents_still_work(
    tmp_path: Path, sqlite_url: str
) -> None:
    from api.chain_health import ChainHealth
    from tests.api.claims.conftest import _claims_api

    with start_anvil() as node:
        client = ChainClient.connect(node.rpc_url, ANVIL_KEYS[0])
        api_iter = _claims_api(sqlite_url, tmp_path, client, ANVIL_KEYS[1])
        api = next(api_iter)
        try:
            seller = api.keyed("seller", "DE111")
            buyer = api.keyed("buyer", "DE222")
            document_id = api.register_invoice(seller)
            api.app.state.chain_health = ChainHealth(client, ttl=0)
            node.stop()

            confirmation = api.client.get(
                f"/v1/claims/invoices/{document_id}/confirmation",
                headers=buyer.headers,
            )
            document = api.client.get(
                f"/v1/documents/{document_id}", headers=seller.headers
            )
        finally:
            api_iter.close()

    assert confirmation.status_code == 503
    assert confirmation.json()["type"].endswith("chain-unavailable")
    assert "Retry-After" in confirmation.headers
    assert document.status_code == 200


def test_funders_see_the_invoices_credit_grade_and_reasons_on_offers(
    sqlite_claims_api: ClaimsApi,
) -> None:
    api = sqlite_claims_api
    seller = api.keyed("seller", "DE111")
    buyer = api.keyed("buyer", "DE222")
    funder = api.keyed("funder")
    claim_id = api.confirmed_claim(seller, buyer)
    api.offer(seller, claim_id, FACE_VALUE // 2)

    listed = api.client.get("/v1/claims/offers", headers=funder.headers).json()

    credit = listed["items"][0]["credit"]
    assert credit["band"] in {"approve", "review"}
    assert credit["grade"]
    assert credit["discount_rate_bps"] > 0
    assert credit["reasons"]


def test_an_invoice_declined_by_credit_cannot_be_offered(
    sqlite_claims_api: ClaimsApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = sqlite_claims_api
    seller = api.keyed("seller", "DE111")
    buyer = api.keyed("buyer", "DE222")
    claim_id = api.confirmed_claim(seller, buyer)
    real = claims_service.decide_claim

    def declined(*args: Any, **kwargs: Any) -> Any:
        decision = real(*args, **kwargs)
        reason = Reason("circular_trade", "sells in a ring of related companies")
        return dataclasses.replace(decision, band=Band.DECLINE, reasons=(reason,))

    monkeypatch.setattr(claims_service, "decide_claim", declined)
    draft = api.client.post(
        f"/v1/claims/{claim_id}/offer-drafts",
        json={"units": FACE_VALUE // 2, "daily_rate": "0.0003"},
        headers=seller.headers,
    ).json()["typed_data"]

    created = api.client.post(
        f"/v1/claims/{claim_id}/offers",
        json={
            "typed_data": draft,
            "signature": api.sign(seller, draft),
            "daily_rate": "0.0003",
        },
        headers=seller.headers,
    )

    assert created.status_code == 409, created.text
    assert created.json()["type"].endswith("credit-declined")
    assert created.json()["reasons"] == ["sells in a ring of related companies"]
