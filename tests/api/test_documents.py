"""Registering and reading documents: RELIABILITY.md 1-6 and 9, links, duplicates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import Api, delivery_note, invoice, purchase_order


def _post_text(api: Api, text: str, headers: dict[str, str]) -> Any:
    return api.client.post(
        "/v1/documents",
        content=text.encode(),
        headers={**headers, "Content-Type": "application/json"},
    )


def _fields(response: Any) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


def test_registered_invoice_is_sealed_encrypted_and_queued(api: Api) -> None:
    seller = api.party("seller", "DE111")

    response = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "registered"
    assert body["fingerprint_status"] == "unique"
    assert body["anchor_status"] == "pending"
    assert body["registered_by_party_id"] == str(seller.id)
    assert body["record"]["total_minor"] == 123450
    assert body["document_root"].startswith("0x")
    assert len(body["document_root"]) == 66
    stored = api.client.get(f"/v1/documents/{body['id']}", headers=seller.headers)
    assert stored.json()["record"] == body["record"]


def test_same_invoice_resent_in_another_spelling_is_reported_as_already_registered(
    api: Api,
) -> None:
    seller = api.party("seller", "DE111")
    first = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)
    respelled = invoice(total="1234.5")
    respelled["lines"][0]["amount"] = "1234.5"
    text = json.dumps(dict(reversed(list(respelled.items()))), indent=3)

    again = _post_text(api, text, seller.headers)

    assert again.status_code == 409
    assert again.json()["existing_document_id"] == first.json()["id"]


def test_one_cent_change_gives_a_different_content_hash(sqlite_api: Api) -> None:
    seller = sqlite_api.party("seller", "DE111")
    changed = invoice(number="INV-2", total="1234.51", tax="0.01")

    first = sqlite_api.client.post(
        "/v1/documents", json=invoice(), headers=seller.headers
    )
    second = sqlite_api.client.post(
        "/v1/documents", json=changed, headers=seller.headers
    )

    assert second.status_code == 201
    assert first.json()["content_hash"] != second.json()["content_hash"]


def test_same_number_with_different_content_is_refused_and_original_kept(
    api: Api,
) -> None:
    seller = api.party("seller", "DE111")
    first = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)
    altered = invoice(number=" inv-1 ", due_on="2025-04-30")

    again = api.client.post("/v1/documents", json=altered, headers=seller.headers)

    assert again.status_code == 409
    assert again.json()["existing_document_id"] == first.json()["id"]
    kept = api.client.get(f"/v1/documents/{first.json()['id']}", headers=seller.headers)
    assert kept.json()["record"]["due_on"] == "2025-03-15"
    assert kept.json()["content_hash"] == first.json()["content_hash"]


@pytest.mark.parametrize(
    ("total_json", "field"),
    [
        ('"total": "0"', "/total"),
        ('"total_minor": 0', "/total_minor"),
        ('"total_minor": -5', "/total_minor"),
        ('"total_minor": NaN', "/total_minor"),
        ('"total_minor": Infinity', "/total_minor"),
        ('"total_minor": 1234.5', "/total_minor"),
        ('"total_minor": 1e5', "/total_minor"),
        ('"total": "1234.505"', "/total"),
        ('"total": "1.2345e3"', "/total"),
        (f'"total_minor": {2**255}', "/total_minor"),
    ],
)
def test_bad_amount_is_refused_naming_the_field(
    sqlite_api: Api, total_json: str, field: str
) -> None:
    seller = sqlite_api.party("seller", "DE111")
    record = invoice()
    del record["total"]
    text = json.dumps(record)[:-1] + ", " + total_json + "}"

    response = _post_text(sqlite_api, text, seller.headers)

    assert response.status_code == 422, response.text
    assert field in _fields(response)
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"due_on": "2025-01-01"}, "/due_on"),
        ({"issued_on": "2025-02-30"}, "/issued_on"),
        ({"issued_on": "15.01.2025"}, "/issued_on"),
        ({"currency": "eur"}, "/currency"),
        ({"currency": "XYZ"}, "/currency"),
        ({"number": "INV\x00-1"}, "/number"),
        ({"status": "financed"}, "/status"),
        ({"id": "6f1c0e8e-9b8e-4a8e-8f6b-1b2c3d4e5f60"}, "/id"),
        ({"content_hash": "0x" + "00" * 32}, "/content_hash"),
        ({"owner": "someone"}, "/owner"),
    ],
)
def test_invalid_or_server_owned_field_is_refused_and_nothing_stored(
    sqlite_api: Api, overrides: dict[str, Any], field: str
) -> None:
    seller = sqlite_api.party("seller", "DE111")

    response = sqlite_api.client.post(
        "/v1/documents", json=invoice(**overrides), headers=seller.headers
    )

    assert response.status_code == 422, response.text
    assert field in _fields(response)
    listing = sqlite_api.client.get("/v1/documents", headers=seller.headers)
    assert listing.json()["items"] == []


@pytest.mark.parametrize(
    "root", ["0x1234", "ab" * 32, "0x" + "zz" * 32, "0x" + "ab" * 33, 42]
)
def test_malformed_hex_is_refused(sqlite_api: Api, root: object) -> None:
    seller = sqlite_api.party("seller", "DE111")
    note = delivery_note()
    note["order_root"] = root

    response = sqlite_api.client.post(
        "/v1/documents", json=note, headers=seller.headers
    )

    assert response.status_code == 422
    assert "/order_root" in _fields(response)


def test_unicode_text_is_kept_exactly_as_sent(api: Api) -> None:
    seller = api.party("seller", "DE111")
    name = "Müller & Söhne 株式会社 — ✓"
    record = invoice()
    record["buyer"]["name"] = name

    response = api.client.post("/v1/documents", json=record, headers=seller.headers)

    assert response.json()["record"]["buyer"]["name"] == name


def test_delivery_note_and_invoice_link_to_their_order(api: Api) -> None:
    seller = api.party("seller", "DE111")
    order = api.client.post(
        "/v1/documents", json=purchase_order(), headers=seller.headers
    ).json()
    note = api.client.post(
        "/v1/documents", json=delivery_note(), headers=seller.headers
    ).json()

    bill = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)

    assert note["links"] == [{"relation": "order", "document_id": order["id"]}]
    assert {
        (link["relation"], link["document_id"]) for link in bill.json()["links"]
    } == {
        ("order", order["id"]),
        ("delivery", note["id"]),
    }


def test_buyer_registers_its_order_and_sellers_copy_is_marked_duplicate(
    api: Api,
) -> None:
    seller = api.party("seller", "DE111")
    buyer = api.party("buyer", "DE222")

    by_buyer = api.client.post(
        "/v1/documents", json=purchase_order(), headers=buyer.headers
    )
    by_seller = api.client.post(
        "/v1/documents", json=purchase_order(), headers=seller.headers
    )

    assert by_buyer.status_code == 201
    assert by_buyer.json()["registered_by_party_id"] == str(buyer.id)
    assert by_seller.status_code == 201
    assert by_seller.json()["fingerprint_status"] == "duplicate"
    assert by_seller.json()["duplicate_of_id"] == by_buyer.json()["id"]


def test_suspiciously_similar_invoice_is_flagged_not_blocked(api: Api) -> None:
    seller = api.party("seller", "DE111")
    first = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)

    similar = api.client.post(
        "/v1/documents", json=invoice(number="INV-1-B"), headers=seller.headers
    )

    assert similar.status_code == 201
    assert similar.json()["fingerprint_status"] == "unique"
    assert similar.json()["similar_to_id"] == first.json()["id"]


def test_list_filters_and_pages_with_an_opaque_cursor(api: Api) -> None:
    seller = api.party("seller", "DE111")
    records = [
        invoice(number=f"INV-{i}", tax=f"0.0{i}", total=f"1234.5{i}")
        for i in range(1, 6)
    ]
    records.append(purchase_order())
    api.client.post(
        "/v1/documents/bulk", json={"documents": records}, headers=seller.headers
    )

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"kind": "invoice", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.client.get("/v1/documents", params=params, headers=seller.headers)
        assert page.status_code == 200, page.text
        seen += [item["number"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break

    assert sorted(seen) == [f"INV-{i}" for i in range(1, 6)]
    by_number = api.client.get(
        "/v1/documents", params={"number": "PO-1"}, headers=seller.headers
    )
    assert [item["kind"] for item in by_number.json()["items"]] == ["purchase_order"]
    bad = api.client.get(
        "/v1/documents", params={"cursor": "not-a-cursor"}, headers=seller.headers
    )
    assert bad.status_code == 422


def test_cancel_is_recorded_in_the_timeline(api: Api) -> None:
    seller = api.party("seller", "DE111")
    created = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)
    document_id = created.json()["id"]

    cancelled = api.client.post(
        f"/v1/documents/{document_id}/cancel",
        json={"reason": "issued in error"},
        headers=seller.headers,
    )
    twice = api.client.post(
        f"/v1/documents/{document_id}/cancel", headers=seller.headers
    )

    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["fingerprint_status"] == "cancelled"
    assert twice.status_code == 409
    events = api.client.get(
        f"/v1/documents/{document_id}/timeline", headers=seller.headers
    ).json()["events"]
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        (None, "registered"),
        ("registered", "cancelled"),
    ]
    assert events[1]["actor_party_id"] == str(seller.id)
    assert events[1]["reason"] == "issued in error"


def test_cancelled_invoice_number_may_be_registered_again(api: Api) -> None:
    seller = api.party("seller", "DE111")
    first = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)
    api.client.post(
        f"/v1/documents/{first.json()['id']}/cancel", headers=seller.headers
    )

    again = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)

    assert again.status_code == 201
    assert again.json()["fingerprint_status"] == "unique"


def test_erased_contents_are_gone_but_hashes_remain(api: Api) -> None:
    seller = api.party("seller", "DE111")
    created = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)
    document_id = created.json()["id"]

    erased = api.client.delete(
        f"/v1/documents/{document_id}/contents", headers=seller.headers
    )

    assert erased.status_code == 204
    after = api.client.get(f"/v1/documents/{document_id}", headers=seller.headers)
    assert after.json()["record"] is None
    assert after.json()["erased"] is True
    assert after.json()["document_root"] == created.json()["document_root"]
    assert after.json()["content_hash"] == created.json()["content_hash"]
