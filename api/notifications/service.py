"""Capturing document events, sequencing the feed, and managing subscriptions.

How the feed never misses nor repeats an event
----------------------------------------------
Events are written by :func:`record_event` in the transaction that changes a
document's status (and, as a safety net, by :func:`backfill_events` for any
``document_events`` row some code path did not record). They are written *without*
a feed position, so writers take no shared lock and never wait on each other.

Positions are assigned afterwards by :func:`sequence_events`, which holds the lock on
the single ``notification_state`` row: it reads committed, unpositioned events and
numbers them ``last_seq + 1, + 2, ...``. Because each sequencing transaction waits
for the previous one to commit before reading ``last_seq``, positions become visible
in ascending order, as whole batches, with no gaps. A reader that has seen position
``n`` has therefore seen every position below ``n``, and a later read can only add
positions above it: ``seq > cursor`` neither skips nor repeats, whatever the commit
order of the writers (on PostgreSQL, ids from a sequence are *not* visible in order,
which is why neither ``document_events.id`` nor ``notification_events.id`` is used as
the cursor).

``notification_events.document_event_id`` is UNIQUE and inserts use ``ON CONFLICT DO
NOTHING``, so :func:`record_event` and the backfill racing on one document event
record it once, and only the insert that wins creates its webhook deliveries.

Services never commit: the request (or the deliverer's loop) owns the transaction.
"""

from __future__ import annotations

import base64
import binascii
import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from api.auth.service import Caller
from api.models import DocumentEvent, PartyRole, utc_now
from api.notifications import repository
from api.notifications.errors import (
    InvalidCursorError,
    TooManyWebhooksError,
    WebhookNotFoundError,
)
from api.notifications.models import (
    DeliveryStatus,
    EventType,
    NotificationEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from api.notifications.schemas import (
    EventOut,
    EventPage,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookOut,
)
from api.notifications.settings import NotificationSettings
from api.notifications.signing import SecretCipher, new_secret
from api.notifications.targets import check_url

logger = logging.getLogger(__name__)

BATCH = 500
_CURSOR_PREFIX = "n1:"


# --- capturing events ---------------------------------------------------------


def record_event(session: Session, document_id: uuid.UUID) -> list[uuid.UUID]:
    """Record the notifiable status changes of one document made so far.

    Call it in the transaction that changes the status, after the change's
    ``document_events`` row was added (it flushes the session). It records every
    notifiable event of the document not recorded yet, oldest first, and queues one
    webhook delivery per matching subscription. Returns the new events' ids.
    """
    return record_events(session, [document_id])


def record_events(
    session: Session, document_ids: Iterable[uuid.UUID]
) -> list[uuid.UUID]:
    """:func:`record_event` for many documents (bulk registration, anchoring)."""
    session.flush()
    ids = list(dict.fromkeys(document_ids))
    recorded: list[uuid.UUID] = []
    for start in range(0, len(ids), repository.CHUNK):
        chunk = ids[start : start + repository.CHUNK]
        while True:
            events = repository.unrecorded_document_events(session, chunk, BATCH)
            new = _record(session, events)
            recorded += new
            if len(events) < BATCH or not new:
                break
    return recorded


def backfill_events(session: Session, limit: int = BATCH) -> int:
    """Record up to ``limit`` committed document events nobody recorded.

    Holds the state lock, so backfills run one at a time. Returns how many document
    events it found unrecorded; call again while it returns ``limit``.
    """
    state = repository.lock_state(session)
    events = repository.unrecorded_document_events(session, None, limit)
    recorded = _record(session, events)
    state.backfilled_at = utc_now()
    if recorded:
        logger.warning("notification.events_backfilled count=%d", len(recorded))
    return len(events)


def _event_type(event: DocumentEvent) -> EventType:
    if event.from_status is None:
        return EventType.DOCUMENT_REGISTERED
    return EventType.DOCUMENT_STATUS_CHANGED


def _record(session: Session, events: Sequence[DocumentEvent]) -> list[uuid.UUID]:
    if not events:
        return []
    now = utc_now()
    rows = [
        {
            "public_id": uuid.uuid4(),
            "document_event_id": event.id,
            "document_id": event.document_id,
            "type": _event_type(event).value,
            "occurred_at": event.at,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "reason": event.reason,
            "created_at": now,
        }
        for event in events
    ]
    inserted = repository.insert_events(session, rows)
    _queue_deliveries(session, inserted)
    return [public_id for public_id, _, _, _ in inserted]


def _queue_deliveries(session: Session, events: Sequence[repository.EventRow]) -> None:
    """One pending delivery per (event, subscription that may see and wants it)."""
    document_ids = list({document_id for _, _, document_id, _ in events})
    candidates = repository.candidate_subscriptions(session, document_ids)
    if not candidates:
        return
    visible: dict[uuid.UUID, set[uuid.UUID]] = {}
    now = utc_now()
    rows: list[dict[str, Any]] = []
    for subscription, role, tax_id in candidates:
        if subscription.party_id not in visible:
            caller = Caller(subscription.party_id, PartyRole(role), tax_id)
            visible[subscription.party_id] = repository.visible_document_ids(
                session, caller, document_ids
            )
        wanted = _types_of(subscription)
        for _, event_id, document_id, event_type in events:
            if document_id in visible[subscription.party_id] and (
                wanted is None or event_type in wanted
            ):
                rows.append(
                    {
                        "subscription_id": subscription.id,
                        "event_id": event_id,
                        "status": DeliveryStatus.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
    if rows:
        session.execute(insert(WebhookDelivery), rows)


def _types_of(subscription: WebhookSubscription) -> set[str] | None:
    if subscription.event_types is None:
        return None
    return set(subscription.event_types.split(","))


# --- the feed -----------------------------------------------------------------


def sequence_events(session: Session, limit: int = BATCH) -> int:
    """Give committed events their feed positions (module docstring).

    Returns how many were positioned; call again while it returns ``limit``.
    """
    state = repository.lock_state(session)
    event_ids = repository.unsequenced_ids(session, limit)
    positions = {
        event_id: state.last_seq + offset
        for offset, event_id in enumerate(event_ids, start=1)
    }
    repository.assign_positions(session, positions)
    state.last_seq += len(event_ids)
    return len(event_ids)


def read_feed(
    session: Session, caller: Caller, after: str | None, limit: int
) -> EventPage:
    """The caller's events after the cursor ``after`` (from the start when None)."""
    position = decode_cursor(after) if after else 0
    events = repository.feed(session, caller, position, limit)
    if events:
        last = events[-1].seq
        assert last is not None
        position = last
    return EventPage(
        events=[event_out(event) for event in events],
        cursor=encode_cursor(position),
    )


def event_out(event: NotificationEvent) -> EventOut:
    """The public shape of an event (the feed item and the webhook body)."""
    return EventOut(
        id=event.public_id,
        type=EventType(event.type),
        occurred_at=event.occurred_at,
        document_id=event.document_id,
        from_status=event.from_status,
        to_status=event.to_status,
        reason=event.reason,
    )


def encode_cursor(position: int) -> str:
    """An opaque cursor for a feed position."""
    raw = f"{_CURSOR_PREFIX}{position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The feed position of a cursor from :func:`encode_cursor`.

    Raises:
        InvalidCursorError: not a cursor this service issued.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as err:
        raise InvalidCursorError(cursor) from err
    prefix, digits = raw[: len(_CURSOR_PREFIX)], raw[len(_CURSOR_PREFIX) :]
    if prefix != _CURSOR_PREFIX or not digits.isdigit() or len(digits) > 19:
        raise InvalidCursorError(cursor)
    return int(digits)


# --- subscriptions --------------------------------------------------------------


def create_subscription(
    session: Session,
    cipher: SecretCipher,
    settings: NotificationSettings,
    caller: Caller,
    request: WebhookCreate,
) -> WebhookCreated:
    """Register a webhook for the caller; its secret is returned only here.

    Raises:
        InvalidWebhookUrlError: not an acceptable target.
        TooManyWebhooksError: the caller is at its limit.
    """
    url = check_url(request.url, allow_private_networks=settings.allow_private_networks)
    limit = settings.max_subscriptions_per_party
    if repository.count_subscriptions(session, caller.id) >= limit:
        raise TooManyWebhooksError(caller.id, limit)

    secret = new_secret()
    subscription_id = uuid.uuid4()
    types = sorted(set(request.event_types)) if request.event_types else None
    subscription = WebhookSubscription(
        id=subscription_id,
        party_id=caller.id,
        url=url,
        event_types=",".join(types) if types else None,
        secret_ciphertext=cipher.seal(subscription_id, secret),
        created_at=utc_now(),
    )
    session.add(subscription)
    session.flush()
    logger.info(
        "webhook.registered webhook_id=%s party_id=%s", subscription.id, caller.id
    )
    return WebhookCreated(**_webhook_out(subscription).model_dump(), secret=secret)


def list_subscriptions(session: Session, caller: Caller) -> WebhookList:
    """The caller's live webhooks."""
    subscriptions = repository.list_subscriptions(session, caller.id)
    return WebhookList(items=[_webhook_out(s) for s in subscriptions])


def delete_subscription(
    session: Session, caller: Caller, subscription_id: uuid.UUID
) -> None:
    """Stop a webhook; its pending deliveries are given up.

    Raises:
        WebhookNotFoundError: no such live webhook of the caller.
    """
    subscription = repository.get_subscription(session, caller.id, subscription_id)
    if subscription is None:
        raise WebhookNotFoundError(subscription_id)
    subscription.deleted_at = utc_now()
    repository.fail_pending_deliveries(session, subscription.id, "webhook deleted")
    logger.info("webhook.deleted webhook_id=%s party_id=%s", subscription.id, caller.id)


def _webhook_out(subscription: WebhookSubscription) -> WebhookOut:
    types = _types_of(subscription)
    return WebhookOut(
        id=subscription.id,
        url=subscription.url,
        event_types=sorted(EventType(t) for t in types) if types else None,
        created_at=subscription.created_at,
    )
