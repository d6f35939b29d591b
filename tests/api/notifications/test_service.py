"""Capturing events and the feed: once per status change, in order, never skipped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.documents import service as documents
from api.documents.repository import add_event
from api.notifications.delivery import backfill_all
from api.notifications.models import (
    EventType,
    NotificationEvent,
    WebhookDelivery,
)
from api.notifications.service import record_event
from tests.api.conftest import Api, PostgresCluster
from tests.api.notifications.conftest import (
    _notify_api,
    caller_of,
    cancel_and_record,
    count,
    deliveries_of,
    events_of,
    register,
    subscribe,
)

HOOK = "http://127.0.0.1:9/hook"


def _feed(
    api: Api, headers: dict[str, str], after: str | None = None, limit: int = 100
) -> Any:
    params: dict[str, Any] = {"limit": limit}
    if after is not None:
        params["after"] = after
    response = api.client.get("/v1/events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_status_change_produces_one_event_and_one_delivery_per_matching_subscription(
    notify_api: Api,
) -> None:
    seller = notify_api.party("seller", "DE111")
    buyer = notify_api.party("buyer", "DE222")
    stranger = notify_api.party("seller", "DE999")
    document_id = register(notify_api, seller)
    backfill_all(notify_api.app.state.database.sessions)
    seller_hook = subscribe(notify_api, seller, HOOK)
    buyer_hook = subscribe(notify_api, buyer, HOOK, ["document.status_changed"])
    stranger_hook = subscribe(notify_api, stranger, HOOK)
    registrations_only = subscribe(
        notify_api, buyer, HOOK + "2", ["document.registered"]
    )

    recorded = cancel_and_record(notify_api, seller, document_id)

    assert len(recorded) == 1
    changed = NotificationEvent.type == EventType.DOCUMENT_STATUS_CHANGED
    assert count(notify_api, NotificationEvent, changed) == 1
    assert len(deliveries_of(notify_api, seller_hook["id"])) == 1
    assert len(deliveries_of(notify_api, buyer_hook["id"])) == 1
    assert deliveries_of(notify_api, stranger_hook["id"]) == []
    assert deliveries_of(notify_api, registrations_only["id"]) == []


def test_recording_again_or_backfilling_adds_nothing(notify_api: Api) -> None:
    seller = notify_api.party("seller", "DE111")
    document_id = register(notify_api, seller)
    hook = subscribe(notify_api, seller, HOOK)
    cancel_and_record(notify_api, seller, document_id)
    before = (events_of(notify_api, document_id), count(notify_api, WebhookDelivery))

    with notify_api.app.state.database.sessions() as session:
        assert record_event(session, document_id) == []
        session.commit()
    backfill_all(notify_api.app.state.database.sessions)

    assert before == (2, 2)  # registered + cancelled, each delivered to the hook
    assert (
        events_of(notify_api, document_id),
        count(notify_api, WebhookDelivery),
    ) == before
    assert len(deliveries_of(notify_api, hook["id"])) == 2


def test_backfill_records_a_status_change_nobody_recorded_exactly_once(
    notify_api: Api,
) -> None:
    seller = notify_api.party("seller", "DE111")
    document_id = register(notify_api, seller)
    hook = subscribe(notify_api, seller, HOOK, ["document.status_changed"])
    with notify_api.app.state.database.sessions() as session:
        # A timeline row written by code that forgot to call record_event.
        add_event(session, document_id, None, "registered", "cancelled", "forgot")
        session.commit()
    assert events_of(notify_api, document_id) == 0

    found = backfill_all(notify_api.app.state.database.sessions)
    again = backfill_all(notify_api.app.state.database.sessions)

    assert (found, again) == (2, 0)
    assert events_of(notify_api, document_id) == 2
    assert len(deliveries_of(notify_api, hook["id"])) == 1


def test_erasure_keeps_the_status_and_is_not_an_event(notify_api: Api) -> None:
    seller = notify_api.party("seller", "DE111")
    document_id = register(notify_api, seller)
    with notify_api.app.state.database.sessions() as session:
        documents.erase_contents(session, caller_of(session, seller), document_id)
        recorded = record_event(session, document_id)
        session.commit()

    assert len(recorded) == 1  # the registration only
    assert events_of(notify_api, document_id) == 1


def test_feed_lists_events_in_order_with_a_cursor_and_no_repeats(
    notify_api: Api,
) -> None:
    seller = notify_api.party("seller", "DE111")
    ids = [register(notify_api, seller, f"INV-{i}") for i in range(5)]
    for document_id in ids:
        cancel_and_record(notify_api, seller, document_id, f"reason {document_id}")

    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10):
        page = _feed(notify_api, seller.headers, cursor, limit=3)
        if not page["events"]:
            break
        seen += page["events"]
        cursor = page["cursor"]

    assert len(seen) == 10
    assert len({event["id"] for event in seen}) == 10
    for document_id in ids:
        mine = [e for e in seen if e["document_id"] == str(document_id)]
        assert [e["type"] for e in mine] == [
            "document.registered",
            "document.status_changed",
        ]
        assert mine[1]["from_status"] == "registered"
        assert mine[1]["to_status"] == "cancelled"
        assert mine[1]["reason"] == f"reason {document_id}"
    assert set(seen[0]) == {
        "id",
        "type",
        "occurred_at",
        "document_id",
        "from_status",
        "to_status",
        "reason",
    }


def test_feed_with_nothing_new_returns_no_events_and_the_same_cursor(
    notify_api: Api,
) -> None:
    seller = notify_api.party("seller", "DE111")
    cancel_and_record(notify_api, seller, register(notify_api, seller))
    first = _feed(notify_api, seller.headers)

    again = _feed(notify_api, seller.headers, first["cursor"])
    empty = _feed(notify_api, notify_api.party("seller", "DE333").headers)

    assert len(first["events"]) == 2
    assert again == {"events": [], "cursor": first["cursor"]}
    assert empty["events"] == []
    assert _feed(notify_api, seller.headers, empty["cursor"]) == first


def test_another_partys_events_are_invisible(notify_api: Api) -> None:
    seller = notify_api.party("seller", "DE111")
    other_seller = notify_api.party("seller", "DE333")
    buyer = notify_api.party("buyer", "DE222")
    other_buyer = notify_api.party("buyer", "DE444")
    mine = register(notify_api, seller)
    theirs = register(notify_api, other_seller, buyer_tax_id="DE444")
    cancel_and_record(notify_api, seller, mine)
    cancel_and_record(notify_api, other_seller, theirs)

    def documents_seen(headers: dict[str, str]) -> set[str]:
        return {e["document_id"] for e in _feed(notify_api, headers)["events"]}

    assert documents_seen(seller.headers) == {str(mine)}
    assert documents_seen(other_seller.headers) == {str(theirs)}
    assert documents_seen(buyer.headers) == {str(mine)}
    assert documents_seen(other_buyer.headers) == {str(theirs)}
    assert documents_seen(notify_api.operator) == {str(mine), str(theirs)}


def test_invalid_cursor_is_refused(notify_api: Api) -> None:
    seller = notify_api.party("seller", "DE111")
    for cursor in ("not-a-cursor", "bjE6LTE", "eDox"):
        response = notify_api.client.get(
            "/v1/events", params={"after": cursor}, headers=seller.headers
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "/query/after"


def test_feed_never_repeats_or_skips_across_pages_and_concurrent_inserts(
    notify_api: Api,
) -> None:
    seller = notify_api.party("seller", "DE111")
    ids = [register(notify_api, seller, f"INV-{i}") for i in range(24)]
    done = threading.Event()
    collected: list[dict[str, Any]] = []

    def poll() -> None:
        cursor = None
        while True:
            finished = done.is_set()
            page = _feed(notify_api, seller.headers, cursor, limit=4)
            collected.extend(page["events"])
            cursor = page["cursor"]
            if finished and not page["events"]:
                return

    poller = threading.Thread(target=poll)
    poller.start()
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda d: cancel_and_record(notify_api, seller, d), ids))
    done.set()
    poller.join(60)

    everything = _feed(notify_api, seller.headers, limit=500)["events"]
    assert len(everything) == 48
    assert [e["id"] for e in collected] == [e["id"] for e in everything]


@pytest.fixture
def pg_notify_api(
    postgres_cluster: PostgresCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    """The service with notifications on PostgreSQL only (concurrent writers)."""
    url = postgres_cluster.create_database()
    yield from _notify_api(url, tmp_path, monkeypatch)


def test_event_committed_after_a_later_one_is_still_listed(
    pg_notify_api: Api,
) -> None:
    api = pg_notify_api
    seller = api.party("seller", "DE111")
    slow_id, fast_id = register(api, seller, "INV-1"), register(api, seller, "INV-2")
    cursor = _feed(api, seller.headers)["cursor"]
    database = api.app.state.database

    with database.sessions() as slow:
        documents.cancel_document(slow, caller_of(slow, seller), slow_id, "slow")
        record_event(slow, slow_id)
        slow.flush()
        cancel_and_record(api, seller, fast_id, "fast")
        first = _feed(api, seller.headers, cursor)
        slow.commit()
    second = _feed(api, seller.headers, first["cursor"])

    pages = [
        [(e["type"], e["reason"]) for e in page["events"]] for page in (first, second)
    ]
    assert [page[-1] for page in pages] == [
        ("document.status_changed", "fast"),
        ("document.status_changed", "slow"),
    ]
    assert all(len(page) == 2 for page in pages)  # each preceded by its registration
    with database.sessions() as session:
        rows = session.scalars(
            select(NotificationEvent).where(NotificationEvent.to_status == "cancelled")
        ).all()
        by_reason = {row.reason: row for row in rows}
    # The hazard is real: the slow event has the lower id but commits last.
    assert by_reason["slow"].id < by_reason["fast"].id
    assert by_reason["slow"].seq is not None
    assert by_reason["fast"].seq is not None
    assert by_reason["slow"].seq > by_reason["fast"].seq
