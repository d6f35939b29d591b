"""Queries of the notifications package: events, sequencing, subscriptions, outbox.

Visibility reuses :func:`api.documents.repository.visible_to`, so a party is told
about exactly the documents it may read; operators are told about every document.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    exists,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.auth.service import Caller
from api.documents.repository import visible_to
from api.models import Document, DocumentEvent, DocumentKind, Grant, Party, PartyRole
from api.notifications.models import (
    DeliveryStatus,
    NotificationEvent,
    NotificationState,
    WebhookDelivery,
    WebhookSubscription,
)

STATE_ID = 1
CHUNK = 500
"""Rows or values per statement: far below SQLite's and PostgreSQL's limits."""

EventRow = Row[uuid.UUID, int, uuid.UUID, str]
"""(public id, internal id, document id, type) of a newly written event."""


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def scope(caller: Caller) -> ColumnElement[bool]:
    """The documents whose events ``caller`` receives."""
    return true() if caller.role is PartyRole.OPERATOR else visible_to(caller)


# --- capturing document events ------------------------------------------------


def unrecorded_document_events(
    session: Session, document_ids: Sequence[uuid.UUID] | None, limit: int
) -> Sequence[DocumentEvent]:
    """Notifiable document events without a notification event, oldest first.

    Notifiable: a registration (no previous status) or a change of status; an
    event that keeps the status (an erasure) is not.
    """
    mirrored = exists().where(NotificationEvent.document_event_id == DocumentEvent.id)
    statement = (
        select(DocumentEvent)
        .where(
            ~mirrored,
            or_(
                DocumentEvent.from_status.is_(None),
                DocumentEvent.from_status != DocumentEvent.to_status,
            ),
        )
        .order_by(DocumentEvent.id)
        .limit(limit)
    )
    if document_ids is not None:
        statement = statement.where(DocumentEvent.document_id.in_(document_ids))
    return session.scalars(statement).all()


def insert_events(
    session: Session, rows: Sequence[Mapping[str, Any]]
) -> list[EventRow]:
    """Insert events; a document event already recorded is skipped, not repeated."""
    dialect = session.get_bind().dialect.name
    make_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted: list[EventRow] = []
    for chunk in _chunks(rows):
        statement = (
            make_insert(NotificationEvent)
            .values(list(chunk))
            .on_conflict_do_nothing(index_elements=["document_event_id"])
            .returning(
                NotificationEvent.public_id,
                NotificationEvent.id,
                NotificationEvent.document_id,
                NotificationEvent.type,
            )
        )
        inserted.extend(session.execute(statement).all())
    return inserted


def lock_state(session: Session) -> NotificationState:
    """The state row, locked until the transaction ends (SQLite: writers are serial)."""
    statement = (
        select(NotificationState)
        .where(NotificationState.id == STATE_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    state = session.scalars(statement).one_or_none()
    if state is None:  # NOTE: the migration inserts it; this covers a wiped table.
        state = NotificationState(id=STATE_ID, last_seq=0)
        session.add(state)
        session.flush()
    return state


def has_unsequenced(session: Session) -> bool:
    """Whether some committed event still waits for its feed position."""
    statement = select(NotificationEvent.id).where(NotificationEvent.seq.is_(None))
    return session.scalars(statement.limit(1)).first() is not None


def unsequenced_ids(session: Session, limit: int) -> Sequence[int]:
    """Ids of events without a position, in the order they were written."""
    statement = (
        select(NotificationEvent.id)
        .where(NotificationEvent.seq.is_(None))
        .order_by(NotificationEvent.id)
        .limit(limit)
    )
    return session.scalars(statement).all()


def assign_positions(session: Session, positions: Mapping[int, int]) -> None:
    """Set ``seq`` of each event id."""
    if positions:
        session.execute(
            update(NotificationEvent),
            [{"id": event_id, "seq": seq} for event_id, seq in positions.items()],
        )


def feed(
    session: Session, caller: Caller, after: int, limit: int
) -> Sequence[NotificationEvent]:
    """The caller's sequenced events after position ``after``, in order."""
    statement = (
        select(NotificationEvent)
        .join(Document, Document.id == NotificationEvent.document_id)
        .where(NotificationEvent.seq > after, scope(caller))
        .order_by(NotificationEvent.seq)
        .limit(limit)
    )
    return session.scalars(statement).all()


# --- subscriptions --------------------------------------------------------------


def candidate_subscriptions(
    session: Session, document_ids: Sequence[uuid.UUID]
) -> Sequence[Row[WebhookSubscription, str, str | None]]:
    """Live subscriptions of parties that may see any of the documents.

    A superset (cheap, one query); :func:`visible_document_ids` decides per party.
    """
    of_documents = Document.id.in_(document_ids)
    related = or_(
        Party.role == PartyRole.OPERATOR,
        Party.id.in_(select(Document.seller_id).where(of_documents)),
        Party.id.in_(select(Document.registered_by_party_id).where(of_documents)),
        and_(
            Party.role == PartyRole.BUYER,
            Party.tax_id.in_(
                select(Document.buyer_tax_id).where(
                    of_documents, Document.kind == DocumentKind.INVOICE
                )
            ),
        ),
        Party.id.in_(select(Grant.party_id).where(Grant.document_id.in_(document_ids))),
    )
    statement = (
        select(WebhookSubscription, Party.role, Party.tax_id)
        .join(Party, Party.id == WebhookSubscription.party_id)
        .where(WebhookSubscription.deleted_at.is_(None), related)
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    )
    return session.execute(statement).all()


def visible_document_ids(
    session: Session, caller: Caller, document_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """The documents among ``document_ids`` whose events ``caller`` receives."""
    statement = select(Document.id).where(Document.id.in_(document_ids), scope(caller))
    return set(session.scalars(statement))


def count_subscriptions(session: Session, party_id: uuid.UUID) -> int:
    """How many live subscriptions a party has."""
    statement = select(func.count()).where(
        WebhookSubscription.party_id == party_id,
        WebhookSubscription.deleted_at.is_(None),
    )
    return session.scalars(statement).one()


def list_subscriptions(
    session: Session, party_id: uuid.UUID
) -> Sequence[WebhookSubscription]:
    """A party's live subscriptions, oldest first."""
    statement = (
        select(WebhookSubscription)
        .where(
            WebhookSubscription.party_id == party_id,
            WebhookSubscription.deleted_at.is_(None),
        )
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    )
    return session.scalars(statement).all()


def get_subscription(
    session: Session, party_id: uuid.UUID, subscription_id: uuid.UUID
) -> WebhookSubscription | None:
    """A party's live subscription (another party's looks missing)."""
    statement = select(WebhookSubscription).where(
        WebhookSubscription.id == subscription_id,
        WebhookSubscription.party_id == party_id,
        WebhookSubscription.deleted_at.is_(None),
    )
    return session.scalars(statement).one_or_none()


def fail_pending_deliveries(
    session: Session, subscription_id: uuid.UUID, reason: str
) -> None:
    """Give up every pending delivery of a subscription."""
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.FAILED, last_error=reason)
    )


# --- the outbox ---------------------------------------------------------------

ClaimRow = Row[WebhookDelivery, WebhookSubscription, NotificationEvent]


def due_deliveries(session: Session, now: datetime, limit: int) -> Sequence[ClaimRow]:
    """Pending deliveries due at ``now``, locked; others' locked rows are skipped."""
    statement = (
        select(WebhookDelivery, WebhookSubscription, NotificationEvent)
        .join(
            WebhookSubscription,
            WebhookSubscription.id == WebhookDelivery.subscription_id,
        )
        .join(NotificationEvent, NotificationEvent.id == WebhookDelivery.event_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    return session.execute(statement).all()


def finish_attempt(
    session: Session, delivery_id: int, attempt: int, values: Mapping[str, Any]
) -> bool:
    """Record an attempt's outcome unless someone else has tried since (lease over)."""
    result = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.attempts == attempt,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(**values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
