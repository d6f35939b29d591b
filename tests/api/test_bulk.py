"""The bulk endpoint: all or nothing, every problem reported, thousands at once."""

from __future__ import annotations

from tests.api.conftest import Api, invoice


def _invoices(count: int, prefix: str = "INV") -> list[dict[str, object]]:
    return [
        invoice(number=f"{prefix}-{i}", tax_minor=i, total=None)
        | {"total_minor": 123450 + i}
        for i in range(count)
    ]


def _clean(records: list[dict[str, object]]) -> list[dict[str, object]]:
    for record in records:
        if record.get("total") is None:
            record.pop("total", None)
        record.pop("tax", None)
    return records


def test_bulk_registers_every_record_in_order(api: Api) -> None:
    seller = api.party("seller", "DE111")
    records = _clean(_invoices(50))

    response = api.client.post(
        "/v1/documents/bulk", json={"documents": records}, headers=seller.headers
    )

    assert response.status_code == 201, response.text
    assert response.json()["count"] == 50
    assert [item["index"] for item in response.json()["items"]] == list(range(50))


def test_bulk_with_problems_registers_nothing_and_reports_each(api: Api) -> None:
    seller = api.party("seller", "DE111")
    records = _clean(_invoices(5))
    records[1]["currency"] = "eur"
    records[3]["issued_on"] = "2025-02-30"
    records[4]["seller"] = {"tax_id": "DE999", "name": "Someone else"}

    response = api.client.post(
        "/v1/documents/bulk", json={"documents": records}, headers=seller.headers
    )

    assert response.status_code == 422
    problems = {(e["index"], e["field"]) for e in response.json()["errors"]}
    assert {(1, "/currency"), (3, "/issued_on"), (4, "/seller/tax_id")} <= problems
    listing = api.client.get("/v1/documents", headers=seller.headers)
    assert listing.json()["items"] == []


def test_bulk_with_duplicates_is_refused_with_their_indexes(api: Api) -> None:
    seller = api.party("seller", "DE111")
    existing = api.client.post(
        "/v1/documents", json=_clean(_invoices(1))[0], headers=seller.headers
    )
    records = _clean(_invoices(3))
    records.append(dict(records[1]))

    response = api.client.post(
        "/v1/documents/bulk", json={"documents": records}, headers=seller.headers
    )

    assert response.status_code == 409
    errors = response.json()["errors"]
    assert {e["index"] for e in errors} == {0, 3}
    assert existing.json()["id"] in errors[0]["message"]


def test_bulk_registers_thousands_of_documents_in_one_request(api: Api) -> None:
    seller = api.party("seller", "DE111")
    records = _clean(_invoices(3000, "BULK"))

    response = api.client.post(
        "/v1/documents/bulk", json={"documents": records}, headers=seller.headers
    )

    assert response.status_code == 201, response.text[:500]
    body = response.json()
    assert body["count"] == 3000
    assert [item["index"] for item in body["items"]] == list(range(3000))
