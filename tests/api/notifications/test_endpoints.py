"""Webhook routes: registration, Idempotency-Key, URL rules, listing, deletion."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from api.notifications.errors import InvalidWebhookUrlError
from api.notifications.models import DeliveryStatus, WebhookSubscription
from api.notifications.targets import check_url
from tests.api.conftest import Api
from tests.api.notifications.conftest import (
    cancel_and_record,
    deliveries_of,
    register,
    runtime,
    subscribe,
)

HOOK = "https://hooks.example.com/receivables"


def _post(api: Api, headers: dict[str, str], body: Any, key: str | None = None) -> Any:
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return api.client.post("/v1/webhooks", json=body, headers=headers)


def test_registration_shows_the_secret_once_and_stores_it_encrypted(
    notify_api: Api,
) -> None:
    seller = notify_api.party("seller", "DE111")

    created = subscribe(notify_api, seller, HOOK, ["document.status_changed"])
    listing = notify_api.client.get("/v1/webhooks", headers=seller.headers).json()

    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["document.status_changed"]
    assert listing == {"items": [{k: v for k, v in created.items() if k != "secret"}]}
    with notify_api.app.state.database.sessions() as session:
        row = session.scalars(select(WebhookSubscription)).one()
        assert created["secret"].encode() not in row.secret_ciphertext
        assert (
            runtime(notify_api).cipher.open(row.id, row.secret_ciphertext)
            == (created["secret"])
        )


def test_idempotency_key_on_webhook_registration(notify_api: Api) -> None:
    seller = notify_api.party("seller", "DE111")

    first = _post(notify_api, seller.headers, {"url": HOOK}, key="hook-1")
    replay = _post(notify_api, seller.headers, {"url": HOOK}, key="hook-1")
    reused = _post(notify_api, seller.headers, {"url": HOOK + "/x"}, key="hook-1")

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("idempotency-key-reused")
    listing = notify_api.client.get("/v1/webhooks", headers=seller.headers).json()
    assert [item["id"] for item in listing["items"]] == [first.json()["id"]]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://user:pass@hooks.example.com/x",
        "https:///no-host",
        "https://hooks.example.com/x#fragment",
        "https://hooks.example.com:99999/x",
        "https://hooks.example.com/" + "a" * 2100,
    ],
)
def test_only_plain_http_and_https_urls_are_accepted(
    sqlite_notify_api: Api, url: str
) -> None:
    seller = sqlite_notify_api.party("seller", "DE111")

    response = _post(sqlite_notify_api, seller.headers, {"url": url})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in ("/url", "/url/")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
    ],
)
def test_loopback_and_private_targets_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(InvalidWebhookUrlError):
        check_url(url, allow_private_networks=False)
    assert check_url(url, allow_private_networks=True) == url


def test_unknown_event_types_and_extra_fields_are_refused(
    sqlite_notify_api: Api,
) -> None:
    seller = sqlite_notify_api.party("seller", "DE111")

    unknown = _post(
        sqlite_notify_api, seller.headers, {"url": HOOK, "event_types": ["x.y"]}
    )
    extra = _post(sqlite_notify_api, seller.headers, {"url": HOOK, "secret": "mine"})

    assert unknown.status_code == extra.status_code == 422


def test_webhook_routes_need_a_bearer_token(sqlite_notify_api: Api) -> None:
    client = sqlite_notify_api.client

    assert client.post("/v1/webhooks", json={"url": HOOK}).status_code == 401
    assert client.get("/v1/webhooks").status_code == 401
    assert client.get("/v1/events").status_code == 401


def test_deleting_a_webhook_stops_its_deliveries(notify_api: Api) -> None:
    seller = notify_api.party("seller", "DE111")
    other = notify_api.party("seller", "DE333")
    hook = subscribe(notify_api, seller, HOOK)
    cancel_and_record(notify_api, seller, register(notify_api, seller))

    foreign = notify_api.client.delete(
        f"/v1/webhooks/{hook['id']}", headers=other.headers
    )
    deleted = notify_api.client.delete(
        f"/v1/webhooks/{hook['id']}", headers=seller.headers
    )
    again = notify_api.client.delete(
        f"/v1/webhooks/{hook['id']}", headers=seller.headers
    )

    assert (foreign.status_code, deleted.status_code, again.status_code) == (
        404,
        204,
        404,
    )
    assert notify_api.client.get("/v1/webhooks", headers=seller.headers).json() == {
        "items": []
    }
    statuses = {d.status for d in deliveries_of(notify_api, hook["id"])}
    assert statuses == {DeliveryStatus.FAILED}


def test_a_party_has_a_bounded_number_of_webhooks(sqlite_notify_api: Api) -> None:
    seller = sqlite_notify_api.party("seller", "DE111")
    limit = runtime(sqlite_notify_api).settings.max_subscriptions_per_party
    for index in range(limit):
        subscribe(sqlite_notify_api, seller, f"{HOOK}/{index}")

    response = _post(sqlite_notify_api, seller.headers, {"url": HOOK})

    assert response.status_code == 409
    assert response.json()["type"].endswith("too-many-webhooks")
