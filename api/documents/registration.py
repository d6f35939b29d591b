"""Registering documents, one or thousands at a time, in the caller's transaction.

Registration seals the record (``registry.document``), fingerprints it
(``registry.fingerprints``), encrypts the canonical record and its salts
(``api.crypto``) and queues the document root in the anchoring outbox. A single
registration and a bulk one take the same path, so both batch their inserts.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth.service import Caller
from api.crypto import DocumentCipher
from api.documents import repository
from api.documents.schemas import (
    BulkItem,
    BulkRegistered,
)
from api.errors import (
    ApiError,
    DuplicateInvoiceError,
    FieldProblem,
    ForbiddenError,
    UnprocessableError,
)
from api.models import (
    AnchorOutbox,
    Document,
    DocumentEvent,
    DocumentKind,
    DocumentLink,
    DocumentStatus,
    FingerprintRecord,
    FingerprintStatus,
    OutboxStatus,
    PartyRole,
    utc_now,
)
from api.parties import repository as parties
from registry.canonical import canonical_bytes
from registry.document import seal_canonical
from registry.errors import RecordValidationError
from registry.fingerprints import DocumentKeys, document_keys, normalise_tax_id
from registry.hashing import keccak256
from registry.records import Record, parse_record, record_to_canonical_dict

logger = logging.getLogger(__name__)

PAYLOAD = "record"
SALTS = "salts"
_BUYER_KINDS = {DocumentKind.PURCHASE_ORDER, DocumentKind.DELIVERY_NOTE}
_REFERENCES = {
    # record field -> (linked kind, relation)
    "order_number": (DocumentKind.PURCHASE_ORDER, "order"),
    "order_numbers": (DocumentKind.PURCHASE_ORDER, "order"),
    "delivery_note_numbers": (DocumentKind.DELIVERY_NOTE, "delivery"),
    "invoice_number": (DocumentKind.INVOICE, "invoice"),
}


@dataclass(frozen=True, slots=True)
class RegistryContext:
    """What registration needs besides the session: keys."""

    cipher: DocumentCipher
    fingerprint_key: bytes


class BulkRejectedError(ApiError):
    """A bulk request was refused as a whole; ``errors`` lists every problem."""

    slug = "bulk-rejected"
    title = "Bulk registration refused"

    def __init__(self, status: int, problems: Sequence[FieldProblem]) -> None:
        self.status = status  # type: ignore[misc]
        super().__init__(
            f"{len(problems)} problem(s); nothing was registered", errors=problems
        )


@dataclass(slots=True)
class _Prepared:
    """One record sealed, fingerprinted and encrypted, ready to insert."""

    index: int
    id: uuid.UUID
    data: dict[str, Any]
    content_hash: bytes
    root: bytes
    keys: DocumentKeys
    payload: bytes
    salts: bytes
    wrapped_key: bytes
    status: FingerprintStatus = FingerprintStatus.UNIQUE
    duplicate_of_id: uuid.UUID | None = None
    similar_to_id: uuid.UUID | None = None
    links: list[tuple[str, uuid.UUID]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Duplicate:
    index: int
    number: str
    existing_id: uuid.UUID


def registrant_problems(caller: Caller, record: Record) -> list[FieldProblem]:
    """Why ``caller`` may not register ``record`` (empty when it may).

    A seller registers any document on which it is the seller; a buyer registers a
    purchase order it issued or a delivery (goods-received) note it received.
    """
    own = caller.tax_id or ""
    if caller.role is PartyRole.SELLER:
        if normalise_tax_id(record.seller.tax_id) != own:
            return [FieldProblem("/seller/tax_id", "must be your own tax id")]
        return []
    if caller.role is PartyRole.BUYER:
        if record.type not in _BUYER_KINDS:
            message = "a buyer registers only purchase orders and delivery notes"
            return [FieldProblem("/type", message)]
        if normalise_tax_id(record.buyer.tax_id) != own:
            return [FieldProblem("/buyer/tax_id", "must be your own tax id")]
        return []
    return [FieldProblem("", f"a {caller.role} cannot register documents")]


def _prepare(context: RegistryContext, index: int, record: Record) -> _Prepared:
    document_id = uuid.uuid4()
    data = record_to_canonical_dict(record)
    # NOTE: keccak256 of the canonical bytes is registry.canonical.content_hash by
    # definition; computing it here reuses the bytes we encrypt anyway.
    canonical = canonical_bytes(data)
    sealed = seal_canonical(data)
    data_key, wrapped_key = context.cipher.new_data_key(document_id)
    salts = b"".join(
        salt for _, salt in sorted(zip(sealed.paths, sealed.salts, strict=True))
    )
    encrypt = DocumentCipher.encrypt
    return _Prepared(
        index=index,
        id=document_id,
        data=data,
        content_hash=keccak256(canonical),
        root=sealed.root,
        keys=document_keys(context.fingerprint_key, data),
        payload=encrypt(data_key, document_id, PAYLOAD, canonical),
        salts=encrypt(data_key, document_id, SALTS, salts),
        wrapped_key=wrapped_key,
    )


@dataclass(frozen=True, slots=True)
class Registered:
    """The rows one registration inserted, to answer without reading them back."""

    data: dict[str, Any]
    document: dict[str, Any]
    fingerprint: dict[str, Any]
    outbox: dict[str, Any]
    links: list[dict[str, Any]]


def register_document(
    session: Session, context: RegistryContext, caller: Caller, record: Record
) -> Registered:
    """Register one record for ``caller``; return the rows it inserted.

    Raises:
        ForbiddenError: the caller may not register this record.
        DuplicateInvoiceError: the caller already registered this document.
    """
    problems = registrant_problems(caller, record)
    if problems:
        raise ForbiddenError("you may not register this document", errors=problems)
    prepared = [_prepare(context, 0, record)]
    duplicates = _classify(session, caller, prepared)
    if duplicates:
        raise DuplicateInvoiceError(
            caller.id, duplicates[0].number, duplicates[0].existing_id
        )
    rows = _insert(session, caller, prepared)
    return Registered(
        data=prepared[0].data,
        document=rows.documents[0],
        fingerprint=rows.fingerprints[0],
        outbox=rows.outbox[0],
        links=rows.links,
    )


def register_documents(
    session: Session, context: RegistryContext, caller: Caller, raw: Sequence[Any]
) -> BulkRegistered:
    """Register many records at once: all of them, or none with every problem listed.

    Raises:
        BulkRejectedError: 422 when any record is invalid, else 403 when the caller
            may not register one, else 409 for duplicates; each problem carries the
            record's index.
    """
    problems: list[FieldProblem] = []
    forbidden: list[FieldProblem] = []
    records: list[tuple[int, Record]] = []
    for index, item in enumerate(raw):
        try:
            record = parse_record(item)
        except RecordValidationError as err:
            problems += [FieldProblem(p.field, p.message, index) for p in err.problems]
            continue
        forbidden += [
            FieldProblem(p.field, p.message, index)
            for p in registrant_problems(caller, record)
        ]
        records.append((index, record))
    if problems or forbidden:
        raise BulkRejectedError(422 if problems else 403, problems + forbidden)

    prepared = [_prepare(context, index, record) for index, record in records]
    duplicates = _classify(session, caller, prepared)
    if duplicates:
        raise BulkRejectedError(409, [_duplicate_problem(d) for d in duplicates])
    _insert(session, caller, prepared)
    logger.info(
        "document.bulk_registered party_id=%s documents=%d", caller.id, len(prepared)
    )
    return BulkRegistered(count=len(prepared), items=[_bulk_item(p) for p in prepared])


def _duplicate_problem(duplicate: _Duplicate) -> FieldProblem:
    message = f"already registered as {duplicate.existing_id}"
    return FieldProblem("/number", message, duplicate.index)


def _bulk_item(prepared: _Prepared) -> BulkItem:
    return BulkItem(
        index=prepared.index,
        id=prepared.id,
        content_hash="0x" + prepared.content_hash.hex(),
        document_root="0x" + prepared.root.hex(),
        fingerprint_status=prepared.status,
        similar_to_id=prepared.similar_to_id,
    )


def _classify(
    session: Session, caller: Caller, prepared: Sequence[_Prepared]
) -> list[_Duplicate]:
    """Set each record's fingerprint status; return the caller's own duplicates."""
    existing = repository.active_by_fingerprint(
        session, (p.keys.fingerprint for p in prepared)
    )
    duplicates: list[_Duplicate] = []
    first_in_batch: dict[bytes, _Prepared] = {}
    for item in prepared:
        fingerprint = item.keys.fingerprint
        prior = existing.get(fingerprint)
        earlier = first_in_batch.get(fingerprint)
        if prior is not None and prior[1] != caller.id:
            # the counterparty's copy of a document: kept, marked, not blocked
            financed = prior[2] == FingerprintStatus.FINANCED
            item.status = (
                FingerprintStatus.DUPLICATE_OF_FINANCED
                if financed
                else FingerprintStatus.DUPLICATE
            )
            item.duplicate_of_id = prior[0]
        elif prior is not None or earlier is not None:
            existing_id = prior[0] if prior is not None else earlier.id  # type: ignore[union-attr]
            duplicates.append(_Duplicate(item.index, item.data["number"], existing_id))
        else:
            first_in_batch[fingerprint] = item
    _flag_similar(session, prepared)
    return duplicates


def _flag_similar(session: Session, prepared: Sequence[_Prepared]) -> None:
    similarity = [p.keys.similarity_key for p in prepared if p.keys.similarity_key]
    lines = [p.keys.lines_key for p in prepared]
    known = repository.similar_documents(session, similarity, lines)
    for item in prepared:
        for key in (item.keys.similarity_key, item.keys.lines_key):
            if key is None:
                continue
            match = known.get(key)
            if match is not None and match != item.duplicate_of_id:
                item.similar_to_id = match
                break
        for key in (item.keys.similarity_key, item.keys.lines_key):
            if key is not None:
                known.setdefault(key, item.id)


def _resolve_links(session: Session, prepared: Sequence[_Prepared]) -> None:
    wanted: dict[tuple[str, str], set[str]] = {}
    in_batch: dict[tuple[str, str, str], uuid.UUID] = {}
    for item in prepared:
        seller = normalise_tax_id(item.data["seller"]["tax_id"])
        in_batch[(seller, item.data["type"], item.data["number"])] = item.id
        for name, (kind, _relation) in _REFERENCES.items():
            for number in _numbers(item.data.get(name)):
                wanted.setdefault((seller, kind), set()).add(number)
    found = {
        (seller, kind, number): document_id
        for (seller, kind), numbers in wanted.items()
        for number, document_id in repository.documents_by_number(
            session, seller, kind, numbers
        ).items()
    }
    found.update(in_batch)
    for item in prepared:
        seller = normalise_tax_id(item.data["seller"]["tax_id"])
        for name, (kind, relation) in _REFERENCES.items():
            for number in _numbers(item.data.get(name)):
                target = found.get((seller, kind, number))
                if target is not None and (relation, target) not in item.links:
                    item.links.append((relation, target))


def _numbers(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _insert(session: Session, caller: Caller, prepared: Sequence[_Prepared]) -> _Rows:
    _resolve_links(session, prepared)
    sellers = _party_ids(
        session,
        caller,
        PartyRole.SELLER,
        {normalise_tax_id(p.data["seller"]["tax_id"]) for p in prepared},
    )
    buyers = _party_ids(
        session,
        caller,
        PartyRole.BUYER,
        {normalise_tax_id(p.data["buyer"]["tax_id"]) for p in prepared},
    )
    now = utc_now()
    rows = _Rows()
    for item in prepared:
        rows.add(item, caller, sellers, buyers, now)
    try:
        with session.begin_nested():
            rows.insert(session)
    except IntegrityError as err:
        raise _race_lost(session, caller, prepared) from err
    for item in prepared:
        logger.debug(
            "document.registered document_id=%s root=0x%s fingerprint_status=%s",
            item.id,
            item.root.hex(),
            item.status,
        )
    return rows


def _party_ids(
    session: Session, caller: Caller, role: PartyRole, tax_ids: set[str]
) -> dict[str, uuid.UUID]:
    """Tax id -> id of the parties of ``role``; no query when it is only the caller.

    ``(role, tax_id)`` is unique among parties, so a caller of ``role`` whose tax id
    is the only one asked for is the answer itself.
    """
    if caller.role is role and caller.tax_id is not None and tax_ids == {caller.tax_id}:
        return {caller.tax_id: caller.id}
    return parties.ids_by_tax_id(session, role, tax_ids)


def _race_lost(
    session: Session, caller: Caller, prepared: Sequence[_Prepared]
) -> Exception:
    """The error for a registration that lost a race to the unique index."""
    unique = [p for p in prepared if p.status is FingerprintStatus.UNIQUE]
    existing = repository.active_by_fingerprint(
        session, (p.keys.fingerprint for p in unique)
    )
    duplicates = [
        _Duplicate(p.index, p.data["number"], existing[p.keys.fingerprint][0])
        for p in unique
        if p.keys.fingerprint in existing
    ]
    if not duplicates:
        return UnprocessableError("the documents conflict with a concurrent change")
    if len(prepared) == 1:
        first = duplicates[0]
        return DuplicateInvoiceError(caller.id, first.number, first.existing_id)
    return BulkRejectedError(409, [_duplicate_problem(d) for d in duplicates])


class _Rows:
    """Column values for every table a registration writes, inserted in batches."""

    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []
        self.fingerprints: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []

    def add(
        self,
        item: _Prepared,
        caller: Caller,
        sellers: dict[str, uuid.UUID],
        buyers: dict[str, uuid.UUID],
        now: datetime,
    ) -> None:
        data = item.data
        seller_tax_id = normalise_tax_id(data["seller"]["tax_id"])
        buyer_tax_id = normalise_tax_id(data["buyer"]["tax_id"])
        self.documents.append(
            {
                "id": item.id,
                "kind": data["type"],
                "status": DocumentStatus.REGISTERED,
                "seller_id": sellers.get(seller_tax_id),
                "buyer_id": buyers.get(buyer_tax_id),
                "registered_by_party_id": caller.id,
                "seller_tax_id": seller_tax_id,
                "buyer_tax_id": buyer_tax_id,
                "number": data["number"],
                "issued_on": _date(data["issued_on"]),
                "due_on": _date(data["due_on"]) if "due_on" in data else None,
                "currency": data.get("currency"),
                "total_minor": data.get("total_minor"),
                "content_hash": item.content_hash,
                "document_root": item.root,
                "payload": item.payload,
                "salts": item.salts,
                "wrapped_key": item.wrapped_key,
                "erased_at": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        self.fingerprints.append(
            {
                "document_id": item.id,
                "fingerprint": item.keys.fingerprint,
                "status": item.status,
                "similarity_key": item.keys.similarity_key,
                "lines_key": item.keys.lines_key,
                "similar_to_id": item.similar_to_id,
                "duplicate_of_id": item.duplicate_of_id,
                "created_at": now,
            }
        )
        self.outbox.append(
            {
                "document_id": item.id,
                "document_root": item.root,
                "status": OutboxStatus.PENDING,
                "batch_id": None,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
        self.events.append(
            {
                "document_id": item.id,
                "at": now,
                "actor_party_id": caller.id,
                "from_status": None,
                "to_status": DocumentStatus.REGISTERED,
                "reason": _registration_reason(item),
            }
        )
        self.links += [
            {"document_id": item.id, "target_id": target, "relation": relation}
            for relation, target in item.links
        ]

    def insert(self, session: Session) -> None:
        repository.insert_rows(session, Document, self.documents)
        repository.insert_rows(session, FingerprintRecord, self.fingerprints)
        repository.insert_rows(session, AnchorOutbox, self.outbox)
        repository.insert_rows(session, DocumentEvent, self.events)
        repository.insert_rows(session, DocumentLink, self.links)


def _registration_reason(item: _Prepared) -> str | None:
    if item.duplicate_of_id is not None:
        return f"counterparty copy of {item.duplicate_of_id}"
    if item.similar_to_id is not None:
        return f"similar to {item.similar_to_id}: held for review"
    return None


def _date(value: str) -> date:
    return date.fromisoformat(value)
