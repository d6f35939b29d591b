"""Credit queries: a seller's documents and links, its buyers' invoices, the trade
graph's invoices, payment and dispute events, party attributes, the cache version.

Counterparty copies of a document (fingerprint status ``duplicate`` or
``duplicate_of_financed``) and cancelled documents are left out everywhere, so a
trade registered by both sides counts once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, delete, func, select
from sqlalchemy.orm import Session

from api.credit.models import PartyAttribute
from api.documents.repository import CHUNK
from api.models import (
    Document,
    DocumentEvent,
    DocumentKind,
    DocumentLink,
    DocumentStatus,
    FingerprintRecord,
    FingerprintStatus,
    Party,
)

_COUNTED = FingerprintRecord.status.is_(None) | FingerprintRecord.status.not_in(
    (FingerprintStatus.DUPLICATE, FingerprintStatus.DUPLICATE_OF_FINANCED)
)
_COLUMNS = (
    Document.id,
    Document.kind,
    Document.status,
    Document.seller_tax_id,
    Document.buyer_tax_id,
    Document.issued_on,
    Document.due_on,
    Document.total_minor,
)
DocumentRow = Row[tuple[uuid.UUID, str, str, str, str, date, date | None, int | None]]


def _counted(*where: Any) -> Any:
    return (
        select(*_COLUMNS)
        .outerjoin(FingerprintRecord, FingerprintRecord.document_id == Document.id)
        .where(Document.status != DocumentStatus.CANCELLED, _COUNTED, *where)
    )


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(dict.fromkeys(values))
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def seller_documents(session: Session, seller_tax_id: str) -> Sequence[DocumentRow]:
    """Every counted document on which ``seller_tax_id`` is the seller."""
    return session.execute(_counted(Document.seller_tax_id == seller_tax_id)).all()


def invoices_to(session: Session, buyer_tax_ids: Iterable[str]) -> list[DocumentRow]:
    """Counted invoices addressed to any of ``buyer_tax_ids``."""
    rows: list[DocumentRow] = []
    for chunk in _chunks(buyer_tax_ids):
        statement = _counted(
            Document.kind == DocumentKind.INVOICE, Document.buyer_tax_id.in_(chunk)
        )
        rows += session.execute(statement).all()
    return rows


def graph_invoices(session: Session, since: date) -> Sequence[DocumentRow]:
    """Counted invoices of the whole registry issued after ``since``."""
    statement = _counted(
        Document.kind == DocumentKind.INVOICE, Document.issued_on > since
    )
    return session.execute(statement).all()


def links(
    session: Session, document_ids: Iterable[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """(document, target, relation) of the documents' references."""
    found: list[tuple[uuid.UUID, uuid.UUID, str]] = []
    for chunk in _chunks(document_ids):
        statement = select(
            DocumentLink.document_id, DocumentLink.target_id, DocumentLink.relation
        ).where(DocumentLink.document_id.in_(chunk))
        found += [(a, b, c) for a, b, c in session.execute(statement)]
    return found


def first_events(
    session: Session, document_ids: Iterable[uuid.UUID], statuses: Iterable[str]
) -> list[tuple[uuid.UUID, str, date]]:
    """(document, status, day) of the first time each document took each status."""
    wanted = list(statuses)
    found: list[tuple[uuid.UUID, str, date]] = []
    for chunk in _chunks(document_ids):
        statement = (
            select(
                DocumentEvent.document_id,
                DocumentEvent.to_status,
                func.min(DocumentEvent.at),
            )
            .where(
                DocumentEvent.document_id.in_(chunk),
                DocumentEvent.to_status.in_(wanted),
            )
            .group_by(DocumentEvent.document_id, DocumentEvent.to_status)
        )
        found += [(d, s, _day(at)) for d, s, at in session.execute(statement)]
    return found


def _day(moment: Any) -> date:
    # NOTE: min() over an aware column comes back as text on SQLite
    if isinstance(moment, str):
        return date.fromisoformat(moment[:10])
    day: date = moment.date()
    return day


def documents(session: Session, document_ids: Iterable[uuid.UUID]) -> list[Document]:
    """Documents by id (for decrypting their records)."""
    found: list[Document] = []
    for chunk in _chunks(document_ids):
        found += session.scalars(select(Document).where(Document.id.in_(chunk))).all()
    return found


def version(session: Session) -> tuple[int, int]:
    """Changes whenever a document or party attribute changes (cache key)."""
    events = session.scalar(select(func.max(DocumentEvent.id))) or 0
    attributes = session.scalar(select(func.max(PartyAttribute.id))) or 0
    return events, attributes


def attributes_of(
    session: Session, tax_ids: Iterable[str]
) -> list[tuple[str, str, bytes | None, str | None]]:
    """(tax id, kind, value key, value) of every party with one of ``tax_ids``."""
    found: list[tuple[str, str, bytes | None, str | None]] = []
    for chunk in _chunks(tax_ids):
        statement = (
            select(
                Party.tax_id,
                PartyAttribute.kind,
                PartyAttribute.value_key,
                PartyAttribute.value,
            )
            .join(Party, Party.id == PartyAttribute.party_id)
            .where(Party.tax_id.in_(chunk))
        )
        found += [(t or "", k, key, v) for t, k, key, v in session.execute(statement)]
    return found


def tax_ids_sharing(session: Session, keys: Iterable[bytes]) -> set[str]:
    """Tax ids of the parties holding any of the identifier ``keys``."""
    found: set[str] = set()
    for chunk in _chunks(keys):
        statement = (
            select(Party.tax_id)
            .join(PartyAttribute, Party.id == PartyAttribute.party_id)
            .where(PartyAttribute.value_key.in_(chunk))
        )
        found |= {tax_id for tax_id in session.scalars(statement) if tax_id}
    return found


def replace_attributes(
    session: Session, party_id: uuid.UUID, rows: Sequence[dict[str, Any]]
) -> None:
    """Replace a party's attributes as a whole."""
    session.execute(delete(PartyAttribute).where(PartyAttribute.party_id == party_id))
    session.add_all(PartyAttribute(party_id=party_id, **row) for row in rows)
    session.flush()


def financed_open(session: Session, seller_tax_id: str) -> int:
    """The seller's financed invoices not yet paid (minor units)."""
    statement = select(Document.total_minor).where(
        Document.seller_tax_id == seller_tax_id,
        Document.kind == DocumentKind.INVOICE,
        Document.status.in_(
            (
                DocumentStatus.FINANCED,
                DocumentStatus.DUE,
                DocumentStatus.PARTIALLY_PAID,
                DocumentStatus.OVERDUE,
            )
        ),
    )
    return sum(amount or 0 for amount in session.scalars(statement))
