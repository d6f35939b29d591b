"""The whole life of a claim through the service: confirm, offer, buy, pass on, repay,
redeem, with the invoice's status and the claim's holders following the chain."""

from __future__ import annotations

from eth_account import Account

from api.anchoring.models import NullifierPublication
from registry.claims import DAY_SECONDS, advance_time
from tests.api.claims.conftest import FACE_VALUE, ClaimsApi


def test_a_served_confirmation_signed_by_eth_account_mints_the_claim(
    claims_api: ClaimsApi,
) -> None:
    seller = claims_api.keyed("seller", "DE111")
    buyer = claims_api.keyed("buyer", "DE222")
    document_id = claims_api.register_invoice(seller)
    claims_api.anchor_all()

    served = claims_api.confirmation(buyer, document_id)
    signed = Account.sign_typed_data(buyer.key, full_message=served["typed_data"])
    response = claims_api.confirm(
        buyer, document_id, served["typed_data"], "0x" + bytes(signed.signature).hex()
    )

    assert response.status_code == 201, response.text
    claim = response.json()
    assert claim["holdings"] == [{"holder": seller.address, "units": FACE_VALUE}]
    assert claim["state"] == "confirmed"
    assert claims_api.document(seller, document_id)["status"] == "confirmed"
    assert claims_api.claims.balance_of(seller.address, int(claim["claim_id"], 16)) == (
        FACE_VALUE
    )
    assert served["digest"] == "0x" + signed.message_hash.hex()


def test_funder_buys_60_percent_seller_passes_20_on_buyer_repays_all_redeem(
    claims_api: ClaimsApi,
) -> None:
    api = claims_api
    seller = api.keyed("seller", "DE111")
    buyer = api.keyed("buyer", "DE222", money=10 * FACE_VALUE)
    funder = api.keyed("funder", money=10 * FACE_VALUE)
    supplier = api.keyed("seller", "DE333")
    claim_id = api.confirmed_claim(seller, buyer)
    document_id = api.client.get(
        f"/v1/claims/{claim_id}", headers=seller.headers
    ).json()["document_id"]

    sixty, twenty = FACE_VALUE * 60 // 100, FACE_VALUE * 20 // 100
    offer = api.offer(seller, claim_id, sixty)
    listed = api.client.get("/v1/claims/offers", headers=funder.headers).json()["items"]
    api.approve(funder)
    bought = api.post_raw(
        funder, claim_id, "purchases", api.purchase_tx(funder, offer, sixty)
    )
    passed = api.post_raw(
        seller,
        claim_id,
        "transfers",
        api.signed_tx(
            seller,
            "safeTransferFrom",
            seller.address,
            supplier.address,
            int(claim_id, 16),
            twenty,
            b"",
        ),
    )

    assert [o["id"] for o in listed] == [offer["id"]]
    assert listed[0]["price"] < sixty
    assert listed[0]["days_to_maturity"] >= 59
    assert bought.status_code == 200, bought.text
    assert bought.json()["gas_used"] <= 120_000
    assert passed.status_code == 200, passed.text
    holdings = {h["holder"]: h["units"] for h in passed.json()["claim"]["holdings"]}
    assert holdings == {
        funder.address: sixty,
        supplier.address: twenty,
        seller.address: FACE_VALUE - sixty - twenty,
    }
    assert api.document(seller, document_id)["status"] == "financed"
    with api.app.state.database.sessions() as session:
        assert session.query(NullifierPublication).count() == 1

    advance_time(api.chain, 60 * DAY_SECONDS)
    api.approve(buyer)
    repaid = api.post_raw(
        buyer,
        claim_id,
        "repayments",
        api.signed_tx(buyer, "repay", int(claim_id, 16), FACE_VALUE),
    )
    assert repaid.status_code == 200, repaid.text
    assert api.document(seller, document_id)["status"] == "paid"

    before = {
        p.address: api.claims.token_balance(p.address)
        for p in (seller, funder, supplier)
    }
    for holder in (seller, funder, supplier):
        raw = api.signed_tx(holder, "redeem", int(claim_id, 16), holder.address)
        redeemed = api.post_raw(holder, claim_id, "redemptions", raw)
        assert redeemed.status_code == 200, redeemed.text

    assert {
        p.address: api.claims.token_balance(p.address) - before[p.address]
        for p in (seller, funder, supplier)
    } == holdings
    claim = api.client.get(f"/v1/claims/{claim_id}", headers=seller.headers).json()
    assert claim["state"] == "closed"
    assert claim["paid_out"] == FACE_VALUE
    assert api.document(seller, document_id)["status"] == "closed"
    timeline = api.client.get(
        f"/v1/documents/{document_id}/timeline", headers=seller.headers
    ).json()["events"]
    assert [e["to_status"] for e in timeline][-5:] == [
        "anchored",
        "confirmed",
        "financed",
        "paid",
        "closed",
    ]
    history = api.client.get(
        f"/v1/claims/{claim_id}/history", headers=buyer.headers
    ).json()
    names = [e["name"] for e in history["events"]]
    assert names[0] == "ClaimConfirmed"
    assert names[-1] == "ClaimClosed"
    assert names.count("Redeemed") == 3


def test_the_buyer_rejects_an_invoice_with_a_reason(claims_api: ClaimsApi) -> None:
    seller = claims_api.keyed("seller", "DE111")
    buyer = claims_api.keyed("buyer", "DE222")
    document_id = claims_api.register_invoice(seller)
    claims_api.anchor_all()

    by_seller = claims_api.client.post(
        f"/v1/claims/invoices/{document_id}/rejection",
        json={"reason": "goods not delivered"},
        headers=seller.headers,
    )
    rejected = claims_api.client.post(
        f"/v1/claims/invoices/{document_id}/rejection",
        json={"reason": "goods not delivered"},
        headers=buyer.headers,
    )
    served = claims_api.client.get(
        f"/v1/claims/invoices/{document_id}/confirmation", headers=buyer.headers
    )

    assert by_seller.status_code == 403
    assert rejected.status_code == 200, rejected.text
    assert claims_api.document(seller, document_id)["status"] == "rejected"
    assert served.status_code == 409
    timeline = claims_api.client.get(
        f"/v1/documents/{document_id}/timeline", headers=seller.headers
    ).json()["events"]
    assert timeline[-1]["reason"] == "goods not delivered"
