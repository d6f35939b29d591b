"""Document queries: visibility rules, lookups for duplicates and links, bulk inserts.

Every read that a caller triggers goes through :func:`visible_to`, so object-level
access is decided in one place and an invisible document looks exactly like a
missing one.
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
    bindparam,
    false,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from api.auth.service import Caller
from api.models import (
    ACTIVE_FINGERPRINT_STATUSES,
    AnchorOutbox,
    Document,
    DocumentEvent,
    DocumentKind,
    DocumentLink,
    Financing,
    FingerprintRecord,
    FingerprintStatus,
    Grant,
    PartyRole,
)

CHUNK = 500
"""Values per IN (...) list: far below SQLite's and PostgreSQL's parameter limits."""
PROBES = 200
"""Single-key probes per UNION ALL statement (SQLite allows 500 compound terms)."""


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(dict.fromkeys(values))
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def visible_to(caller: Caller) -> ColumnElement[bool]:
    """The documents ``caller`` may see (DESIGN.md, "Trust and privacy").

    A seller: its own documents (as seller, or registered by it). A buyer: invoices
    addressed to its tax id, and documents it registered. Funders and auditors: what
    they were granted. Operators: none (they run the platform, not the trade).
    """
    granted = Document.id.in_(
        select(Grant.document_id).where(Grant.party_id == caller.id)
    )
    if caller.role is PartyRole.SELLER:
        return or_(
            Document.seller_id == caller.id,
            Document.registered_by_party_id == caller.id,
        )
    if caller.role is PartyRole.BUYER:
        addressed = and_(
            Document.kind == DocumentKind.INVOICE,
            Document.buyer_tax_id == (caller.tax_id or ""),
        )
        return or_(addressed, Document.registered_by_party_id == caller.id)
    if caller.role in (PartyRole.FUNDER, PartyRole.AUDITOR):
        return granted
    return false()


def get_visible(
    session: Session, caller: Caller, document_id: uuid.UUID
) -> Document | None:
    """The document if ``caller`` may see it."""
    statement = select(Document).where(Document.id == document_id, visible_to(caller))
    return session.scalars(statement).one_or_none()


def get_for_update(session: Session, document_id: uuid.UUID) -> Document | None:
    """The document, row-locked until the transaction ends (PostgreSQL).

    SQLite needs no row lock: write transactions begin IMMEDIATE, so they run one
    at a time.
    """
    statement = (
        select(Document)
        .where(Document.id == document_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(statement).one_or_none()


ListingRow = Row[Document, str, str]
"""A document with its fingerprint and anchoring status (None when missing)."""


def list_visible(
    session: Session,
    caller: Caller,
    *,
    filters: Sequence[ColumnElement[bool]],
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[ListingRow]:
    """Newest first: documents with their fingerprint and anchoring status."""
    statement = (
        select(Document, FingerprintRecord.status, AnchorOutbox.status)
        .outerjoin(FingerprintRecord, FingerprintRecord.document_id == Document.id)
        .outerjoin(AnchorOutbox, AnchorOutbox.document_id == Document.id)
        .where(visible_to(caller), *filters)
        .order_by(Document.created_at.desc(), Document.id.desc())
        .limit(limit)
    )
    if after is not None:
        created_at, document_id = after
        statement = statement.where(
            or_(
                Document.created_at < created_at,
                and_(Document.created_at == created_at, Document.id < document_id),
            )
        )
    return session.execute(statement).all()


def fingerprint_of(
    session: Session, document_id: uuid.UUID
) -> FingerprintRecord | None:
    """A document's fingerprint row."""
    return session.get(FingerprintRecord, document_id)


def anchor_status(session: Session, document_id: uuid.UUID) -> str | None:
    """The status of a document's outbox row."""
    statement = select(AnchorOutbox.status).where(
        AnchorOutbox.document_id == document_id
    )
    return session.scalars(statement).one_or_none()


_ACTIVE_BY_FINGERPRINT = (
    select(
        FingerprintRecord.fingerprint,
        Document.id,
        Document.registered_by_party_id,
        FingerprintRecord.status,
    )
    .join(Document, Document.id == FingerprintRecord.document_id)
    .where(
        FingerprintRecord.fingerprint.in_(bindparam("fingerprints", expanding=True)),
        FingerprintRecord.status.in_(ACTIVE_FINGERPRINT_STATUSES),
    )
)


def active_by_fingerprint(
    session: Session, fingerprints: Iterable[bytes]
) -> dict[bytes, tuple[uuid.UUID, uuid.UUID, str]]:
    """Fingerprint -> (document id, registering party, status) of active rows.

    NOTE: like every lookup of the registration path, this runs on the session's
    connection, without an ORM autoflush: registration adds no ORM objects.
    """
    found: dict[bytes, tuple[uuid.UUID, uuid.UUID, str]] = {}
    connection = session.connection()
    for chunk in _chunks(fingerprints):
        rows = connection.execute(_ACTIVE_BY_FINGERPRINT, {"fingerprints": chunk})
        for fingerprint, document_id, registered_by, status in rows:
            found[fingerprint] = (document_id, registered_by, status)
    return found


def similar_documents(
    session: Session, similarity_keys: Iterable[bytes], lines_keys: Iterable[bytes]
) -> dict[bytes, uuid.UUID]:
    """Secondary key -> a non-cancelled document that has it.

    One index probe per distinct key (``LIMIT 1``, no ``ORDER BY``: on SQLite the
    first row of the key's index entries, the earliest inserted), so a key that many
    documents share, such as the same line items invoiced every month, costs the same
    as a rare one, however large the registry grows.
    """
    live = FingerprintRecord.status != FingerprintStatus.CANCELLED
    probes = [
        select(column.label("key"), FingerprintRecord.document_id)
        .where(column == key, live)
        .limit(1)
        .subquery()
        for column, keys in (
            (FingerprintRecord.similarity_key, similarity_keys),
            (FingerprintRecord.lines_key, lines_keys),
        )
        for key in dict.fromkeys(keys)
        if key is not None
    ]
    found: dict[bytes, uuid.UUID] = {}
    connection = session.connection()
    for start in range(0, len(probes), PROBES):
        selects = [select(probe) for probe in probes[start : start + PROBES]]
        statement = selects[0] if len(selects) == 1 else union_all(*selects)
        for key, document_id in connection.execute(statement):
            found.setdefault(key, document_id)
    return found


_BY_NUMBER = (
    select(Document.number, Document.id)
    .where(
        Document.seller_tax_id == bindparam("seller_tax_id"),
        Document.kind == bindparam("kind"),
        Document.number.in_(bindparam("numbers", expanding=True)),
        Document.status != "cancelled",
    )
    .order_by(Document.created_at)
)


def documents_by_number(
    session: Session, seller_tax_id: str, kind: str, numbers: Iterable[str]
) -> dict[str, uuid.UUID]:
    """Number -> the newest non-cancelled document of one seller and kind."""
    found: dict[str, uuid.UUID] = {}
    connection = session.connection()
    for chunk in _chunks(numbers):
        parameters = {"seller_tax_id": seller_tax_id, "kind": kind, "numbers": chunk}
        rows = connection.execute(_BY_NUMBER, parameters)
        found.update({number: document_id for number, document_id in rows})
    return found


def insert_rows(
    session: Session, model: type[Any], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert many rows in batched statements (no ORM objects)."""
    if rows:
        session.connection().execute(insert(model.__table__), list(rows))


def add_event(
    session: Session,
    document_id: uuid.UUID,
    actor_party_id: uuid.UUID | None,
    from_status: str | None,
    to_status: str,
    reason: str | None = None,
) -> None:
    """Append a timeline event."""
    session.add(
        DocumentEvent(
            document_id=document_id,
            actor_party_id=actor_party_id,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
        )
    )


def events(session: Session, document_id: uuid.UUID) -> Sequence[DocumentEvent]:
    """A document's timeline, oldest first."""
    statement = (
        select(DocumentEvent)
        .where(DocumentEvent.document_id == document_id)
        .order_by(DocumentEvent.id)
    )
    return session.scalars(statement).all()


def links(session: Session, document_id: uuid.UUID) -> Sequence[DocumentLink]:
    """What a document refers to."""
    statement = select(DocumentLink).where(DocumentLink.document_id == document_id)
    return session.scalars(statement).all()


def set_fingerprint_status(
    session: Session, document_id: uuid.UUID, status: FingerprintStatus
) -> None:
    """Change one document's fingerprint status."""
    session.execute(
        update(FingerprintRecord)
        .where(FingerprintRecord.document_id == document_id)
        .values(status=status)
    )


def mark_duplicates_of_financed(session: Session, fingerprint: bytes) -> None:
    """Registered duplicates of a fingerprint now duplicate a financed invoice."""
    session.execute(
        update(FingerprintRecord)
        .where(
            FingerprintRecord.fingerprint == fingerprint,
            FingerprintRecord.status == FingerprintStatus.DUPLICATE,
        )
        .values(status=FingerprintStatus.DUPLICATE_OF_FINANCED)
    )


def financing_of(session: Session, fingerprint: bytes) -> Financing | None:
    """The financing of this fingerprint, if any."""
    statement = select(Financing).where(Financing.fingerprint == fingerprint)
    return session.scalars(statement).one_or_none()


def add_grant(
    session: Session,
    document_id: uuid.UUID,
    party_id: uuid.UUID,
    granted_by: uuid.UUID,
) -> None:
    """Grant ``party_id`` read access unless it already has it."""
    exists = session.scalars(
        select(Grant.id).where(
            Grant.document_id == document_id, Grant.party_id == party_id
        )
    ).first()
    if exists is None:
        session.add(
            Grant(
                document_id=document_id,
                party_id=party_id,
                granted_by_party_id=granted_by,
            )
        )
