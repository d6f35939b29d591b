"""The credit routes: access rules, explanations that cite documents, the plumbing
of identity attributes, and ``decide_claim`` for the offers code."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from api.credit.service import decide_claim, today
from api.documents import repository as documents
from api.models import DocumentStatus
from registry.credit.model import Band, ClaimDecision
from tests.api.conftest import Api, Party, delivery_note, invoice, purchase_order


def _register(api: Api, seller: Party, record: dict[str, Any]) -> str:
    response = api.client.post("/v1/documents", json=record, headers=seller.headers)
    assert response.status_code == 201, response.text
    document_id: str = response.json()["id"]
    return document_id


def _days_ago(record: dict[str, Any], days: int) -> dict[str, Any]:
    """The record issued ``days`` ago (due 60 days after), so it is in the window."""
    issued = today() - timedelta(days=days)
    record["issued_on"] = issued.isoformat()
    if record["type"] == "invoice":
        record["due_on"] = (issued + timedelta(days=60)).isoformat()
    return record


def _trade(api: Api, seller: Party) -> dict[str, str]:
    return {
        "order": _register(api, seller, _days_ago(purchase_order(), 20)),
        "delivery": _register(api, seller, _days_ago(delivery_note(), 12)),
        "invoice": _register(api, seller, _days_ago(invoice(), 10)),
    }


def _figure(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in body["profile"] if f["name"] == name)
    return found


def test_seller_sees_its_profile_with_the_documents_behind_each_figure(
    api: Api,
) -> None:
    seller = api.party("seller", "DE111")
    trade = _trade(api, seller)

    response = api.client.get(f"/v1/credit/sellers/{seller.id}", headers=seller.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tax_id"] == "DE111"
    assert _figure(body, "invoiced_minor")["record_ids"] == [trade["invoice"]]
    assert _figure(body, "on_time_delivery_rate")["record_ids"] == [trade["delivery"]]
    assert _figure(body, "on_time_delivery_rate")["value"] == 1.0
    in_full = _figure(body, "delivered_in_full_share")
    assert in_full["value"] == 1.0
    assert set(in_full["record_ids"]) == {trade["order"], trade["delivery"]}
    assert body["signals"] == []
    assert body["decision"]["band"] == "review"  # one invoice is a short history
    assert body["decision"]["reasons"][0]["code"] == "band_review"


def test_someone_elses_seller_id_is_not_found_like_a_missing_one(api: Api) -> None:
    seller = api.party("seller", "DE111")
    other = api.party("seller", "DE333")
    buyer = api.party("buyer", "DE222")

    answers = [
        api.client.get(f"/v1/credit/sellers/{seller.id}", headers=other.headers),
        api.client.get(f"/v1/credit/sellers/{seller.id}", headers=buyer.headers),
        api.client.get(f"/v1/credit/sellers/{uuid.uuid4()}", headers=other.headers),
        api.client.get(f"/v1/credit/sellers/{buyer.id}", headers=api.operator),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert len({a.json()["type"] for a in answers}) == 1


def test_operators_and_funders_see_any_seller(api: Api) -> None:
    seller = api.party("seller", "DE111")
    funder = api.party("funder", "DE900")

    for headers in (api.operator, funder.headers):
        response = api.client.get(f"/v1/credit/sellers/{seller.id}", headers=headers)
        assert response.status_code == 200, response.text


def test_funder_sees_a_claims_grade_rate_and_reasons(api: Api) -> None:
    seller = api.party("seller", "DE111")
    funder = api.party("funder", "DE900")
    buyer = api.party("buyer", "DE222")
    trade = _trade(api, seller)

    response = api.client.get(
        f"/v1/credit/claims/{trade['invoice']}", headers=funder.headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["document_id"] == trade["invoice"]
    assert body["grade"] in "ABCDE"
    assert body["discount_rate_bps"] >= 500
    assert "discount_rate" in {r["code"] for r in body["reasons"]}
    for headers, document_id in (
        (buyer.headers, trade["invoice"]),
        (api.party("seller", "DE333").headers, trade["invoice"]),
        (funder.headers, trade["order"]),
        (funder.headers, str(uuid.uuid4())),
    ):
        refused = api.client.get(f"/v1/credit/claims/{document_id}", headers=headers)
        assert refused.status_code == 404


def test_seller_sharing_a_bank_account_with_its_buyer_is_declined(api: Api) -> None:
    seller = api.party("seller", "DE111")
    buyer = api.party("buyer", "DE222")
    _trade(api, seller)
    for party in (seller, buyer):
        body = {"bank_accounts": ["DE89 3704 0044 0532 0130 00"]}
        stored = api.client.put(
            f"/v1/credit/parties/{party.id}/attributes", json=body, headers=api.operator
        )
        assert stored.status_code == 200, stored.text
        assert stored.json()["identifiers"]["bank_account"] == 1

    response = api.client.get(f"/v1/credit/sellers/{seller.id}", headers=seller.headers)

    body = response.json()
    codes = {s["code"] for s in body["signals"]}
    assert codes == {"shared_identifier"}
    assert body["signals"][0]["party_ids"] == ["DE111", "DE222"]
    assert body["decision"]["band"] == "decline"
    assert body["decision"]["limit_minor"] == 0


def test_only_operators_set_party_attributes(api: Api) -> None:
    seller = api.party("seller", "DE111")

    response = api.client.put(
        f"/v1/credit/parties/{seller.id}/attributes",
        json={"industry": "harvest"},
        headers=seller.headers,
    )

    assert response.status_code == 403


def test_profile_is_recomputed_when_records_arrive(api: Api) -> None:
    seller = api.party("seller", "DE111")
    _trade(api, seller)
    url = f"/v1/credit/sellers/{seller.id}"
    before = _figure(
        api.client.get(url, headers=seller.headers).json(), "invoiced_minor"
    )

    second = _register(api, seller, _days_ago(invoice(number="INV-2"), 5))

    after = _figure(
        api.client.get(url, headers=seller.headers).json(), "invoiced_minor"
    )
    assert second in after["record_ids"]
    assert after["value"] == 2 * before["value"]


def test_decide_claim_scores_an_invoice_inside_the_callers_transaction(
    api: Api,
) -> None:
    seller = api.party("seller", "DE111")
    trade = _trade(api, seller)
    database = api.app.state.database
    with database.sessions() as session:
        documents.add_event(
            session,
            uuid.UUID(trade["invoice"]),
            None,
            DocumentStatus.REGISTERED,
            DocumentStatus.DISPUTED,
        )
        decision = decide_claim(
            session, uuid.UUID(trade["invoice"]), api.app.state.credit
        )
        session.rollback()

    assert isinstance(decision, ClaimDecision)
    assert decision.invoice_id == trade["invoice"]
    assert decision.band is Band.DECLINE
    assert "claim_disputed" in {r.code for r in decision.reasons}
