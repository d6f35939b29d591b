"""Idempotency-Key on POST: one execution, replays, reuse refused (RELIABILITY 13)."""

from __future__ import annotations

import threading
from typing import Any

from tests.api.conftest import Api, invoice


def _post(api: Api, headers: dict[str, str], key: str, body: Any) -> Any:
    return api.client.post(
        "/v1/documents", json=body, headers={**headers, "Idempotency-Key": key}
    )


def test_replay_returns_the_stored_response_and_registers_once(api: Api) -> None:
    seller = api.party("seller", "DE111")

    first = _post(api, seller.headers, "key-1", invoice())
    second = _post(api, seller.headers, "key-1", invoice())

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    listing = api.client.get("/v1/documents", headers=seller.headers).json()
    assert len(listing["items"]) == 1


def test_same_key_with_a_different_body_is_refused(api: Api) -> None:
    seller = api.party("seller", "DE111")
    _post(api, seller.headers, "key-1", invoice())

    other = _post(api, seller.headers, "key-1", invoice(number="INV-2"))

    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")
    listing = api.client.get("/v1/documents", headers=seller.headers).json()
    assert len(listing["items"]) == 1


def test_keys_are_scoped_to_the_caller(api: Api) -> None:
    first = api.party("seller", "DE111")
    second = api.party("seller", "DE333")

    a = _post(api, first.headers, "shared", invoice())
    b = _post(api, second.headers, "shared", invoice(seller_tax_id="DE333"))

    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_failed_request_releases_its_key(api: Api) -> None:
    seller = api.party("seller", "DE111")
    api.client.post("/v1/documents", json=invoice(), headers=seller.headers)

    duplicate = _post(api, seller.headers, "retry-me", invoice())
    again = _post(api, seller.headers, "retry-me", invoice())

    assert duplicate.status_code == again.status_code == 409
    assert "Idempotent-Replayed" not in again.headers


def test_concurrent_identical_requests_execute_once(api: Api) -> None:
    seller = api.party("seller", "DE111")
    barrier = threading.Barrier(6)
    responses: list[Any] = [None] * 6

    def send(index: int) -> None:
        barrier.wait()
        responses[index] = _post(api, seller.headers, "at-once", invoice())

    threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    replayed = [r for r in responses if r.headers.get("Idempotent-Replayed")]
    assert len(replayed) == 5
    listing = api.client.get("/v1/documents", headers=seller.headers).json()
    assert len(listing["items"]) == 1


def test_party_creation_replay_returns_the_same_token(sqlite_api: Api) -> None:
    body = {"role": "funder", "name": "F", "eth_address": "0x" + "34" * 20}
    headers = {**sqlite_api.operator, "Idempotency-Key": "onboard-f"}

    first = sqlite_api.client.post("/v1/parties", json=body, headers=headers)
    second = sqlite_api.client.post("/v1/parties", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json()["token"] == first.json()["token"]
