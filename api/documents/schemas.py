"""Bodies for document routes, and strict JSON reading of bulk requests.

A document body is a record exactly as :mod:`registry.records` accepts it: unknown
keys (``status``, ``id``, ``content_hash``, ...) are refused, never applied.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.errors import FieldProblem, UnprocessableError

MAX_BULK_DOCUMENTS = 10_000


class _NotAJsonInteger:
    """Stands in for a float, NaN or Infinity: every amount check refuses it."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


class _Object(dict[str, Any]):
    """A JSON object that remembers repeated keys (``registry.records`` reads them)."""

    duplicate_keys: tuple[str, ...] = ()


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated: list[str] = []
        for key, _ in pairs:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        obj.duplicate_keys = tuple(repeated)
    return obj


def load_bulk_json(body: bytes) -> list[Any]:
    """The ``documents`` array of a bulk body, read without floats.

    Raises:
        UnprocessableError: not JSON, not ``{"documents": [...]}``, or too many.
    """
    try:
        data = json.loads(
            body.decode("utf-8"),
            parse_float=_NotAJsonInteger,
            parse_constant=_NotAJsonInteger,
            object_pairs_hook=_pairs,
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UnprocessableError(
            "the body is not valid JSON", errors=[FieldProblem("", str(err))]
        ) from err
    if not isinstance(data, dict) or set(data) != {"documents"}:
        raise UnprocessableError(
            'the body must be {"documents": [...]}',
            errors=[FieldProblem("", "must be an object with only 'documents'")],
        )
    documents = data["documents"]
    if not isinstance(documents, list) or not documents:
        raise UnprocessableError(
            "documents must be a non-empty array",
            errors=[FieldProblem("/documents", "must be a non-empty array")],
        )
    if len(documents) > MAX_BULK_DOCUMENTS:
        raise UnprocessableError(
            f"at most {MAX_BULK_DOCUMENTS} documents per request",
            errors=[FieldProblem("/documents", "too many documents")],
        )
    return documents


class DocumentOut(BaseModel):
    """A document's metadata; ``record`` is its decrypted contents (single reads)."""

    id: uuid.UUID
    kind: str
    status: str
    number: str
    seller_id: uuid.UUID | None
    buyer_id: uuid.UUID | None
    registered_by_party_id: uuid.UUID
    issued_on: date
    due_on: date | None
    currency: str | None
    total_minor: int | None
    content_hash: str
    document_root: str | None
    fingerprint_status: str | None
    duplicate_of_id: uuid.UUID | None = None
    similar_to_id: uuid.UUID | None = None
    anchor_status: str | None = None
    links: list[DocumentLinkOut] = Field(default_factory=list)
    erased: bool
    created_at: datetime
    record: dict[str, Any] | None = None


class DocumentLinkOut(BaseModel):
    """A reference to another document (an order, a delivery note, an invoice)."""

    relation: str
    document_id: uuid.UUID


class DocumentPage(BaseModel):
    """One page of a document list; pass ``next_cursor`` back for the next page."""

    items: list[DocumentOut]
    next_cursor: str | None


class BulkRegistered(BaseModel):
    """The documents a bulk request registered, in request order."""

    count: int
    items: list[BulkItem]


class BulkItem(BaseModel):
    """One registered document of a bulk request."""

    index: int
    id: uuid.UUID
    content_hash: str
    document_root: str
    fingerprint_status: str
    similar_to_id: uuid.UUID | None = None


class TimelineEvent(BaseModel):
    """One status change: who, when, from what, to what, why."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor_party_id: uuid.UUID | None
    from_status: str | None
    to_status: str
    reason: str | None


class Timeline(BaseModel):
    """A document's status history, oldest first."""

    document_id: uuid.UUID
    events: list[TimelineEvent]


class CancelRequest(BaseModel):
    """Why the document is cancelled."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=1000)


class FinancingOut(BaseModel):
    """A recorded financing; the nullifier is published on chain by the worker."""

    document_id: uuid.UUID
    funder_party_id: uuid.UUID
    nullifier: str
    financed_at: datetime


class GrantRequest(BaseModel):
    """Give an auditor or funder read access to one document."""

    model_config = ConfigDict(extra="forbid")

    party_id: uuid.UUID


class GrantOut(BaseModel):
    """A read grant."""

    document_id: uuid.UUID
    party_id: uuid.UUID


DocumentOut.model_rebuild()
BulkRegistered.model_rebuild()
