"""Reading and changing trade documents; marking invoices financed.

Services never commit: the request (or a worker) owns the transaction. Registration
lives in :mod:`api.documents.registration`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.anchoring.service import enqueue_nullifier
from api.auth.service import Caller
from api.crypto import DocumentCipher
from api.documents import registration, repository
from api.documents.registration import (
    PAYLOAD,
    SALTS,
    BulkRejectedError,
    RegistryContext,
)
from api.documents.schemas import (
    BulkRegistered,
    DocumentLinkOut,
    DocumentOut,
    DocumentPage,
    FinancingOut,
    Timeline,
    TimelineEvent,
)
from api.errors import (
    AlreadyFinancedError,
    DocumentNotFoundError,
    FieldProblem,
    ForbiddenError,
    InvalidTransitionError,
    PartyNotFoundError,
    UnprocessableError,
)
from api.models import (
    Document,
    DocumentKind,
    DocumentStatus,
    Financing,
    FinancingSource,
    FingerprintRecord,
    FingerprintStatus,
    Party,
    PartyRole,
    utc_now,
)
from api.notifications.service import record_event
from registry.canonical import flatten
from registry.fingerprints import nullifier as nullifier_of
from registry.records import Record

logger = logging.getLogger(__name__)

__all__ = ["BulkRejectedError", "RegistryContext"]

CANCELLABLE = {
    DocumentStatus.REGISTERED,
    DocumentStatus.ANCHORED,
    DocumentStatus.PENDING_CONFIRMATION,
}
FINANCEABLE = {
    DocumentStatus.REGISTERED,
    DocumentStatus.ANCHORED,
    DocumentStatus.PENDING_CONFIRMATION,
    DocumentStatus.CONFIRMED,
    DocumentStatus.LISTED,
}
"""NOTE: provisional until the claims workflow exists; it will require CONFIRMED."""


def register_document(
    session: Session, context: RegistryContext, caller: Caller, record: Record
) -> DocumentOut:
    """Register one record for ``caller`` (see :mod:`api.documents.registration`).

    The answer is built from the rows just inserted, not read back: the same values,
    with the links in the order a read returns them (by target id).
    """
    registered = registration.register_document(session, context, caller, record)
    fingerprint = FingerprintRecord(**registered.fingerprint)
    links = [
        DocumentLinkOut(relation=link["relation"], document_id=link["target_id"])
        for link in sorted(registered.links, key=lambda link: link["target_id"])
    ]
    return _out(
        Document(**registered.document),
        fingerprint.status,
        registered.outbox["status"],
        record=registered.data,
        links=links,
        fingerprint=fingerprint,
    )


def register_documents(
    session: Session, context: RegistryContext, caller: Caller, raw: list[Any]
) -> BulkRegistered:
    """Register many records: all of them, or none with every problem listed."""
    return registration.register_documents(session, context, caller, raw)


# --- reading -------------------------------------------------------------------


def get_document(
    session: Session, context: RegistryContext, caller: Caller, document_id: uuid.UUID
) -> DocumentOut:
    """A document the caller may see, with its decrypted record (None once erased).

    Raises:
        DocumentNotFoundError: missing, or not visible to the caller.
    """
    document = _visible(session, caller, document_id)
    return _document_out(session, document, decrypt_record(context, document))


def decrypt_record(
    context: RegistryContext, document: Document
) -> dict[str, Any] | None:
    """The document's canonical record, or None once its data key is erased."""
    if document.wrapped_key is None or document.payload is None:
        return None
    data_key = context.cipher.unwrap(document.id, document.wrapped_key)
    plaintext = DocumentCipher.decrypt(data_key, document.id, PAYLOAD, document.payload)
    record: dict[str, Any] = json.loads(plaintext)
    return record


def decrypt_salts(
    context: RegistryContext, document: Document
) -> dict[str, bytes] | None:
    """Path -> salt of a document (to rebuild proofs), or None once erased."""
    record = decrypt_record(context, document)
    if record is None or document.salts is None or document.wrapped_key is None:
        return None
    data_key = context.cipher.unwrap(document.id, document.wrapped_key)
    blob = DocumentCipher.decrypt(data_key, document.id, SALTS, document.salts)
    paths = sorted(path for path, _ in flatten(record))
    return {path: blob[i * 32 : (i + 1) * 32] for i, path in enumerate(paths)}


def _visible(session: Session, caller: Caller, document_id: uuid.UUID) -> Document:
    document = repository.get_visible(session, caller, document_id)
    if document is None:
        raise DocumentNotFoundError(document_id)
    return document


def _document_out(
    session: Session, document: Document, record: dict[str, Any] | None
) -> DocumentOut:
    fingerprint = repository.fingerprint_of(session, document.id)
    links = [
        DocumentLinkOut(relation=link.relation, document_id=link.target_id)
        for link in repository.links(session, document.id)
    ]
    return _out(
        document,
        fingerprint.status if fingerprint else None,
        repository.anchor_status(session, document.id),
        record=record,
        links=links,
        fingerprint=fingerprint,
    )


def _out(
    document: Document,
    fingerprint_status: str | None,
    anchor_status: str | None,
    *,
    record: dict[str, Any] | None = None,
    links: list[DocumentLinkOut] | None = None,
    fingerprint: FingerprintRecord | None = None,
) -> DocumentOut:
    return DocumentOut(
        id=document.id,
        kind=document.kind,
        status=document.status,
        number=document.number,
        seller_id=document.seller_id,
        buyer_id=document.buyer_id,
        registered_by_party_id=document.registered_by_party_id,
        issued_on=document.issued_on,
        due_on=document.due_on,
        currency=document.currency,
        total_minor=document.total_minor,
        content_hash="0x" + document.content_hash.hex(),
        document_root=(
            "0x" + document.document_root.hex() if document.document_root else None
        ),
        fingerprint_status=fingerprint_status,
        duplicate_of_id=fingerprint.duplicate_of_id if fingerprint else None,
        similar_to_id=fingerprint.similar_to_id if fingerprint else None,
        anchor_status=anchor_status,
        links=links or [],
        erased=document.erased_at is not None,
        created_at=document.created_at,
        record=record,
    )


def list_documents(
    session: Session,
    caller: Caller,
    *,
    kind: DocumentKind | None,
    status: DocumentStatus | None,
    number: str | None,
    cursor: str | None,
    limit: int,
) -> DocumentPage:
    """A page of the documents the caller may see, newest first."""
    filters: list[ColumnElement[bool]] = []
    if kind is not None:
        filters.append(Document.kind == kind)
    if status is not None:
        filters.append(Document.status == status)
    if number is not None:
        filters.append(Document.number == number)
    rows = repository.list_visible(
        session,
        caller,
        filters=filters,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    items = [_out(doc, fp_status, anchor) for doc, fp_status, anchor in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        next_cursor = encode_cursor(last.created_at, last.id)
    return DocumentPage(items=items, next_cursor=next_cursor)


def encode_cursor(created_at: datetime, document_id: uuid.UUID) -> str:
    """An opaque cursor: the position after which the next page starts."""
    raw = json.dumps([created_at.isoformat(), str(document_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Read a cursor from :func:`encode_cursor`.

    Raises:
        UnprocessableError: not a cursor this service issued.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, document_id = json.loads(raw)
        moment = datetime.fromisoformat(created_at)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, uuid.UUID(document_id)
    except (ValueError, TypeError, binascii.Error) as err:
        raise UnprocessableError(
            "invalid cursor", errors=[FieldProblem("/query/cursor", "invalid")]
        ) from err


def timeline(session: Session, caller: Caller, document_id: uuid.UUID) -> Timeline:
    """A document's status history, oldest first."""
    _visible(session, caller, document_id)
    events = repository.events(session, document_id)
    return Timeline(
        document_id=document_id,
        events=[TimelineEvent.model_validate(event) for event in events],
    )


# --- changing ------------------------------------------------------------------


def _owned_for_update(
    session: Session, caller: Caller, document_id: uuid.UUID, action: str
) -> Document:
    """Lock a visible document the caller owns (its seller or its registrant)."""
    _visible(session, caller, document_id)
    document = repository.get_for_update(session, document_id)
    if document is None:
        raise DocumentNotFoundError(document_id)
    if caller.id not in (document.seller_id, document.registered_by_party_id):
        raise ForbiddenError(f"only the document's seller or registrant may {action}")
    return document


def change_status(
    session: Session,
    document: Document,
    to_status: DocumentStatus,
    actor_party_id: uuid.UUID | None,
    reason: str | None,
) -> None:
    """Move a document to ``to_status``: its timeline row and its notification event.

    The one place a document's status changes outside registration and anchoring,
    so every change is recorded and notified alike (claims use it too).
    """
    from_status = document.status
    document.status = to_status
    document.updated_at = utc_now()
    repository.add_event(
        session, document.id, actor_party_id, from_status, to_status, reason
    )
    session.flush()  # the event reader must see the timeline row just added
    record_event(session, document.id)
    logger.info(
        "document.status_changed document_id=%s from=%s to=%s",
        document.id,
        from_status,
        to_status,
    )


def cancel_document(
    session: Session, caller: Caller, document_id: uuid.UUID, reason: str | None
) -> DocumentOut:
    """Cancel a document before any financing.

    Raises:
        DocumentNotFoundError: not visible to the caller.
        ForbiddenError: the caller is neither its seller nor its registrant.
        InvalidTransitionError: financed, cancelled, or past confirmation.
    """
    document = _owned_for_update(session, caller, document_id, "cancel it")
    if document.status not in CANCELLABLE:
        raise InvalidTransitionError(document.id, document.status, "cancel")
    change_status(session, document, DocumentStatus.CANCELLED, caller.id, reason)
    repository.set_fingerprint_status(session, document.id, FingerprintStatus.CANCELLED)
    session.flush()
    return _document_out(session, document, None)


def erase_contents(session: Session, caller: Caller, document_id: uuid.UUID) -> None:
    """Delete a document's data key and ciphertexts; its hashes remain as evidence."""
    document = _owned_for_update(session, caller, document_id, "erase it")
    if document.erased_at is not None:
        return
    document.payload = None
    document.salts = None
    document.wrapped_key = None
    document.erased_at = document.updated_at = utc_now()
    repository.add_event(
        session, document.id, caller.id, document.status, document.status, "erased"
    )
    logger.info("document.contents_erased document_id=%s", document.id)


def grant_access(
    session: Session, caller: Caller, document_id: uuid.UUID, party_id: uuid.UUID
) -> None:
    """Let an auditor or funder read one of the caller's documents."""
    document = _owned_for_update(session, caller, document_id, "grant access")
    party = session.get(Party, party_id)
    if party is None:
        raise PartyNotFoundError(party_id)
    if party.role not in (PartyRole.AUDITOR, PartyRole.FUNDER):
        raise UnprocessableError(
            "only auditors and funders are granted access",
            errors=[FieldProblem("/party_id", f"is a {party.role}")],
        )
    repository.add_grant(session, document.id, party.id, caller.id)
    logger.info(
        "document.access_granted document_id=%s party_id=%s", document.id, party.id
    )


def mark_financed(
    session: Session,
    document_id: uuid.UUID,
    *,
    funder_party_id: uuid.UUID | None = None,
    actor_party_id: uuid.UUID | None = None,
    source: FinancingSource = FinancingSource.RECORDED,
) -> Financing:
    """Record that an invoice was financed; at most once per invoice fingerprint.

    The checks run again here, inside the transaction that writes the financing: the
    document row is locked (``FOR UPDATE`` on PostgreSQL; SQLite write transactions
    are serial), and the UNIQUE fingerprint of ``financings`` makes a concurrent
    second financing fail alike, as :class:`AlreadyFinancedError`.

    Raises:
        DocumentNotFoundError: no such document.
        InvalidTransitionError: not an invoice, cancelled, or otherwise not financeable.
        AlreadyFinancedError: this invoice (by fingerprint) is already financed.
    """
    document = repository.get_for_update(session, document_id)
    if document is None:
        raise DocumentNotFoundError(document_id)
    fingerprint = repository.fingerprint_of(session, document_id)
    assert fingerprint is not None, "every document has a fingerprint row"
    financed = repository.financing_of(session, fingerprint.fingerprint)
    if financed is not None:
        raise AlreadyFinancedError(document_id, financed.document_id)
    if document.kind != DocumentKind.INVOICE or document.status not in FINANCEABLE:
        raise InvalidTransitionError(document.id, document.status, "finance")

    financing = Financing(
        document_id=document.id,
        fingerprint=fingerprint.fingerprint,
        nullifier=nullifier_of(fingerprint.fingerprint),
        funder_party_id=funder_party_id,
        source=source,
    )
    try:
        with session.begin_nested():
            session.add(financing)
            session.flush()
    except IntegrityError as err:
        winner = repository.financing_of(session, fingerprint.fingerprint)
        raise AlreadyFinancedError(
            document_id, winner.document_id if winner else document_id
        ) from err
    fingerprint.status = FingerprintStatus.FINANCED
    repository.mark_duplicates_of_financed(session, fingerprint.fingerprint)
    # Published by the anchoring worker from the same commit: any platform holding
    # the fingerprint key can then prove "financed at most once" on chain.
    enqueue_nullifier(session, financing.nullifier)
    change_status(session, document, DocumentStatus.FINANCED, actor_party_id, None)
    return financing


def record_financing(
    session: Session, caller: Caller, document_id: uuid.UUID
) -> FinancingOut:
    """A funder records that it financed an invoice it was granted (at most once).

    Raises:
        ForbiddenError: the caller is not a funder.
        DocumentNotFoundError: missing, or not granted to the funder.
        AlreadyFinancedError: this invoice (by fingerprint) was financed already.
        InvalidTransitionError: not an invoice, or not in a financeable status.
    """
    if caller.role is not PartyRole.FUNDER:
        raise ForbiddenError("only a funder records a financing")
    _visible(session, caller, document_id)
    financing = mark_financed(
        session, document_id, funder_party_id=caller.id, actor_party_id=caller.id
    )
    return FinancingOut(
        document_id=financing.document_id,
        funder_party_id=caller.id,
        nullifier="0x" + financing.nullifier.hex(),
        financed_at=financing.financed_at,
    )
