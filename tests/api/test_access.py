"""Who may see and do what: RELIABILITY.md 7, 8 and 10."""

from __future__ import annotations

import uuid

from tests.api.conftest import Api, invoice, purchase_order


def test_other_sellers_document_answers_exactly_like_a_missing_one(api: Api) -> None:
    owner = api.party("seller", "DE111")
    other = api.party("seller", "DE333")
    created = api.client.post("/v1/documents", json=invoice(), headers=owner.headers)
    document_id = created.json()["id"]

    foreign = api.client.get(f"/v1/documents/{document_id}", headers=other.headers)
    missing_id = uuid.uuid4()
    missing = api.client.get(f"/v1/documents/{missing_id}", headers=other.headers)
    timeline = api.client.get(
        f"/v1/documents/{document_id}/timeline", headers=other.headers
    )

    assert foreign.status_code == missing.status_code == timeline.status_code == 404
    assert foreign.json()["detail"].replace(document_id, "X") == missing.json()[
        "detail"
    ].replace(str(missing_id), "X")
    assert api.client.get("/v1/documents", headers=other.headers).json()["items"] == []


def test_other_seller_cannot_cancel_or_erase_and_nothing_changes(api: Api) -> None:
    owner = api.party("seller", "DE111")
    other = api.party("seller", "DE333")
    document_id = api.client.post(
        "/v1/documents", json=invoice(), headers=owner.headers
    ).json()["id"]

    cancel = api.client.post(
        f"/v1/documents/{document_id}/cancel", headers=other.headers
    )
    erase = api.client.delete(
        f"/v1/documents/{document_id}/contents", headers=other.headers
    )

    assert cancel.status_code == erase.status_code == 404
    kept = api.client.get(f"/v1/documents/{document_id}", headers=owner.headers)
    assert kept.json()["status"] == "registered"
    assert kept.json()["record"] is not None


def test_buyer_sees_invoices_addressed_to_it_but_not_the_sellers_orders(
    api: Api,
) -> None:
    seller = api.party("seller", "DE111")
    buyer = api.party("buyer", "DE222")
    other_buyer = api.party("buyer", "DE444")
    bill = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)
    order = api.client.post(
        "/v1/documents", json=purchase_order(number="PO-9"), headers=seller.headers
    )

    seen = api.client.get("/v1/documents", headers=buyer.headers).json()["items"]
    order_read = api.client.get(
        f"/v1/documents/{order.json()['id']}", headers=buyer.headers
    )

    assert [item["id"] for item in seen] == [bill.json()["id"]]
    assert order_read.status_code == 404
    assert (
        api.client.get("/v1/documents", headers=other_buyer.headers).json()["items"]
        == []
    )


def test_seller_cannot_register_a_document_of_another_seller(api: Api) -> None:
    seller = api.party("seller", "DE111")

    response = api.client.post(
        "/v1/documents", json=invoice(seller_tax_id="DE999"), headers=seller.headers
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "/seller/tax_id"
    assert api.client.get("/v1/documents", headers=seller.headers).json()["items"] == []


def test_buyer_cannot_register_an_invoice(api: Api) -> None:
    buyer = api.party("buyer", "DE222")

    response = api.client.post("/v1/documents", json=invoice(), headers=buyer.headers)

    assert response.status_code == 403
    assert api.client.get("/v1/documents", headers=buyer.headers).json()["items"] == []


def test_funder_calling_an_operator_action_is_forbidden_and_nothing_created(
    api: Api,
) -> None:
    funder = api.party("funder")
    body = {
        "role": "seller",
        "name": "X",
        "tax_id": "DE555",
        "eth_address": "0x" + "12" * 20,
    }

    response = api.client.post("/v1/parties", json=body, headers=funder.headers)

    assert response.status_code == 403
    again = api.client.post("/v1/parties", json=body, headers=api.operator)
    assert again.status_code == 201  # the tax id and address were not taken


def test_missing_or_unknown_token_is_unauthenticated(sqlite_api: Api) -> None:
    no_token = sqlite_api.client.get("/v1/documents")
    bad_token = sqlite_api.client.get(
        "/v1/documents", headers={"Authorization": "Bearer nope"}
    )

    assert no_token.status_code == bad_token.status_code == 401
    assert no_token.headers["WWW-Authenticate"] == "Bearer"


def test_auditor_reads_contents_only_when_granted(api: Api) -> None:
    seller = api.party("seller", "DE111")
    auditor = api.party("auditor")
    document_id = api.client.post(
        "/v1/documents", json=invoice(), headers=seller.headers
    ).json()["id"]

    before = api.client.get(f"/v1/documents/{document_id}", headers=auditor.headers)
    granted = api.client.post(
        f"/v1/documents/{document_id}/grants",
        json={"party_id": str(auditor.id)},
        headers=seller.headers,
    )
    after = api.client.get(f"/v1/documents/{document_id}", headers=auditor.headers)

    assert before.status_code == 404
    assert granted.status_code == 201
    assert after.status_code == 200
    assert after.json()["record"]["number"] == "INV-1"


def test_operator_sees_no_documents(api: Api) -> None:
    seller = api.party("seller", "DE111")
    document_id = api.client.post(
        "/v1/documents", json=invoice(), headers=seller.headers
    ).json()["id"]

    response = api.client.get(f"/v1/documents/{document_id}", headers=api.operator)

    assert response.status_code == 404


def test_party_address_is_stored_checksummed_and_bad_checksum_refused(
    sqlite_api: Api,
) -> None:
    lower = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
    body = {"role": "funder", "name": "F", "eth_address": lower}
    created = sqlite_api.client.post(
        "/v1/parties", json=body, headers=sqlite_api.operator
    )
    wrong = dict(body, eth_address="0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
    refused = sqlite_api.client.post(
        "/v1/parties", json=wrong, headers=sqlite_api.operator
    )

    assert created.json()["party"]["eth_address"] == (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "/eth_address"
