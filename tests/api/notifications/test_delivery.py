"""The sender: signed POSTs, retries with growing delays, the cap, success, leases."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest

from api.models import utc_now
from api.notifications.delivery import DeliveryReport, deliver_due, retry_delay
from api.notifications.models import DeliveryStatus, WebhookDelivery
from api.notifications.settings import NotificationSettings
from api.notifications.signing import verify_signature
from tests.api.conftest import Api
from tests.api.notifications.conftest import (
    cancel_and_record,
    deliveries_of,
    register,
    runtime,
    subscribe,
)

HOOK = "http://127.0.0.1:9/hook"
Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, calls: list[httpx.Request]) -> httpx.Client:
    def record(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return handler(request)

    return httpx.Client(transport=httpx.MockTransport(record))


def _deliver(api: Api, client: httpx.Client, now: datetime) -> DeliveryReport:
    notifications = runtime(api)
    return deliver_due(
        api.app.state.database.sessions,
        client,
        now,
        cipher=notifications.cipher,
        settings=notifications.settings,
    )


def _one_pending(api: Api) -> tuple[dict[str, object], uuid.UUID]:
    """A subscribed seller and one cancelled invoice: one delivery queued."""
    seller = api.party("seller", "DE111")
    hook = subscribe(api, seller, HOOK, ["document.status_changed"])
    document_id = register(api, seller)
    cancel_and_record(api, seller, document_id)
    return hook, document_id


def _delivery(api: Api, hook: dict[str, object]) -> WebhookDelivery:
    (delivery,) = deliveries_of(api, str(hook["id"]))
    return delivery


def test_delivery_is_a_signed_post_of_the_event(notify_api: Api) -> None:
    hook, document_id = _one_pending(notify_api)
    calls: list[httpx.Request] = []
    now = utc_now()

    report = _deliver(notify_api, _client(lambda r: httpx.Response(204), calls), now)

    assert report == DeliveryReport(delivered=1)
    (request,) = calls
    body = request.content
    assert request.method == "POST"
    assert str(request.url) == HOOK
    assert request.headers["Content-Type"] == "application/json"
    assert verify_signature(
        str(hook["secret"]),
        request.headers["Receivables-Signature"],
        body,
        now=int(now.timestamp()),
    )
    event = httpx.Response(200, content=body).json()
    assert event["document_id"] == str(document_id)
    assert event["type"] == "document.status_changed"
    assert request.headers["Receivables-Event-Id"] == event["id"]
    delivery = _delivery(notify_api, hook)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.last_status_code) == (1, 204)


def test_receiver_returning_500_is_retried_with_growing_delays_then_failed(
    notify_api: Api,
) -> None:
    hook, _ = _one_pending(notify_api)
    calls: list[httpx.Request] = []
    client = _client(lambda r: httpx.Response(500), calls)
    settings = runtime(notify_api).settings
    now = utc_now()
    delays: list[timedelta] = []

    for attempt in range(1, settings.max_attempts):
        assert _deliver(notify_api, client, now) == DeliveryReport(retrying=1)
        delivery = _delivery(notify_api, hook)
        assert (delivery.attempts, delivery.last_status_code) == (attempt, 500)
        delays.append(delivery.next_attempt_at - now)
        early = delivery.next_attempt_at - timedelta(seconds=1)
        assert _deliver(notify_api, client, early).attempted == 0
        now = delivery.next_attempt_at
    final = _deliver(notify_api, client, now)
    later = _deliver(notify_api, client, now + timedelta(days=1))

    assert final == DeliveryReport(failed=1)
    assert later.attempted == 0
    assert len(calls) == settings.max_attempts
    assert all(a < b for a, b in itertools.pairwise(delays))
    for attempt, delay in enumerate(delays, start=1):
        nominal = 30 * 2 ** (attempt - 1)
        assert 0.8 * nominal <= delay.total_seconds() <= 1.2 * nominal
    assert 45 * 60 < sum(d.total_seconds() for d in delays) < 80 * 60
    delivery = _delivery(notify_api, hook)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == settings.max_attempts


def test_successful_retry_stops_retries(notify_api: Api) -> None:
    hook, _ = _one_pending(notify_api)
    answers = iter([503, 500, 200])
    calls: list[httpx.Request] = []
    client = _client(lambda r: httpx.Response(next(answers)), calls)
    now = utc_now()

    reports = []
    for _ in range(3):
        reports.append(_deliver(notify_api, client, now))
        now = _delivery(notify_api, hook).next_attempt_at
    after = _deliver(notify_api, client, now + timedelta(days=1))

    assert [r.delivered for r in reports] == [0, 0, 1]
    assert after.attempted == 0
    assert len(calls) == 3
    delivery = _delivery(notify_api, hook)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 3)


def test_redirects_are_not_followed_and_count_as_failures(notify_api: Api) -> None:
    hook, _ = _one_pending(notify_api)
    calls: list[httpx.Request] = []
    to_elsewhere = httpx.Response(307, headers={"Location": "http://127.0.0.1:9/x"})

    report = _deliver(notify_api, _client(lambda r: to_elsewhere, calls), utc_now())

    assert report == DeliveryReport(retrying=1)
    assert [str(c.url) for c in calls] == [HOOK]
    assert _delivery(notify_api, hook).last_status_code == 307


def test_unreachable_receiver_is_retried_and_records_only_the_error_kind(
    notify_api: Api,
) -> None:
    hook, _ = _one_pending(notify_api)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    report = _deliver(notify_api, _client(refuse, []), utc_now())

    assert report == DeliveryReport(retrying=1)
    delivery = _delivery(notify_api, hook)
    assert (delivery.last_status_code, delivery.last_error) == (None, "ConnectError")


def test_a_crashed_senders_claim_is_retried_after_the_lease(notify_api: Api) -> None:
    hook, _ = _one_pending(notify_api)
    now = utc_now()

    def crash(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt  # the process dies mid-send: nothing recorded

    with pytest.raises(KeyboardInterrupt):
        _deliver(notify_api, _client(crash, []), now)
    lease = timedelta(seconds=runtime(notify_api).settings.lease_seconds)
    calls: list[httpx.Request] = []
    ok = _client(lambda r: httpx.Response(200), calls)

    assert _deliver(notify_api, ok, now + lease / 2).attempted == 0
    assert _deliver(notify_api, ok, now + lease) == DeliveryReport(delivered=1)
    assert _delivery(notify_api, hook).attempts == 2


def test_private_targets_are_refused_at_send_time_unless_allowed(
    sqlite_notify_api: Api,
) -> None:
    hook, _ = _one_pending(sqlite_notify_api)
    strict = NotificationSettings(allow_private_networks=False)
    calls: list[httpx.Request] = []

    report = deliver_due(
        sqlite_notify_api.app.state.database.sessions,
        _client(lambda r: httpx.Response(200), calls),
        utc_now(),
        cipher=runtime(sqlite_notify_api).cipher,
        settings=strict,
    )

    assert report == DeliveryReport(retrying=1)
    assert calls == []
    assert _delivery(sqlite_notify_api, hook).last_error == "target address not allowed"


def test_retry_delays_grow_and_stay_under_the_cap() -> None:
    settings = NotificationSettings(max_retry_seconds=600, jitter=0.0)

    delays = [retry_delay(n, settings).total_seconds() for n in range(1, 10)]

    assert delays[:5] == [30, 60, 120, 240, 480]
    assert delays[5:] == [600] * 4
