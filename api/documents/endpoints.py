"""HTTP routes for documents."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth.dependencies import CurrentCaller
from api.db import ReadSession, WriteSession
from api.documents import service
from api.documents.schemas import (
    BulkRegistered,
    CancelRequest,
    DocumentOut,
    DocumentPage,
    FinancingOut,
    GrantOut,
    GrantRequest,
    Timeline,
    load_bulk_json,
)
from api.errors import problem_responses
from api.idempotency import Idempotency, RawBody
from api.models import DocumentKind, DocumentStatus
from registry.records import load_record_json

router = APIRouter(prefix="/v1/documents", tags=["documents"])


def registry_context(request: Request) -> service.RegistryContext:
    """The keys registration and reading need (built once at start)."""
    context: service.RegistryContext = request.app.state.registry_context
    return context


Context = Annotated[service.RegistryContext, Depends(registry_context)]

_PROBLEMS = problem_responses(
    {
        401: "Missing or invalid bearer token",
        403: "The caller's role may not do this; nothing changed",
        404: "No such document visible to the caller",
        409: "Duplicate document, invalid transition, or key in progress",
        422: "Invalid record or request; `errors` lists each field",
        503: "Database unavailable; see Retry-After",
    }
)
_RECORD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "A record as registry.records accepts it.",
                }
            }
        },
    }
}
_BULK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["documents"],
                    "properties": {
                        "documents": {"type": "array", "items": {"type": "object"}}
                    },
                }
            }
        },
    }
}


@router.post(
    "",
    status_code=201,
    response_model=DocumentOut,
    responses=_PROBLEMS,
    openapi_extra=_RECORD_BODY,
)
def register_document(
    body: RawBody,
    caller: CurrentCaller,
    idempotent: Idempotency,
    session: WriteSession,
    context: Context,
) -> Response:
    """Register a purchase order, delivery note, invoice or credit note."""
    if idempotent.replay is not None:
        return idempotent.replay
    record = load_record_json(body)
    document = service.register_document(session, context, caller, record)
    return idempotent.respond(session, 201, document)


@router.post(
    "/bulk",
    status_code=201,
    response_model=BulkRegistered,
    responses=_PROBLEMS,
    openapi_extra=_BULK_BODY,
)
def register_documents(
    body: RawBody,
    caller: CurrentCaller,
    idempotent: Idempotency,
    session: WriteSession,
    context: Context,
) -> Response:
    """Register many records at once: all of them, or none with every problem."""
    if idempotent.replay is not None:
        return idempotent.replay
    registered = service.register_documents(
        session, context, caller, load_bulk_json(body)
    )
    return idempotent.respond(session, 201, registered)


@router.get("", response_model=DocumentPage, responses=_PROBLEMS)
def list_documents(
    caller: CurrentCaller,
    session: ReadSession,
    kind: DocumentKind | None = None,
    status: DocumentStatus | None = None,
    number: Annotated[str | None, Query(max_length=4096)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DocumentPage:
    """List the documents the caller may see, newest first, a page at a time."""
    return service.list_documents(
        session,
        caller,
        kind=kind,
        status=status,
        number=number,
        cursor=cursor,
        limit=limit,
    )


@router.get("/{document_id}", response_model=DocumentOut, responses=_PROBLEMS)
def read_document(
    document_id: uuid.UUID,
    caller: CurrentCaller,
    session: ReadSession,
    context: Context,
) -> DocumentOut:
    """A document with its decrypted record."""
    return service.get_document(session, context, caller, document_id)


@router.get("/{document_id}/timeline", response_model=Timeline, responses=_PROBLEMS)
def read_timeline(
    document_id: uuid.UUID, caller: CurrentCaller, session: ReadSession
) -> Timeline:
    """A document's status changes: who, what, when, why."""
    return service.timeline(session, caller, document_id)


@router.post("/{document_id}/cancel", response_model=DocumentOut, responses=_PROBLEMS)
def cancel_document(
    document_id: uuid.UUID,
    caller: CurrentCaller,
    idempotent: Idempotency,
    session: WriteSession,
    body: CancelRequest | None = None,
) -> Response:
    """Cancel a document before it is financed."""
    if idempotent.replay is not None:
        return idempotent.replay
    reason = body.reason if body else None
    document = service.cancel_document(session, caller, document_id, reason)
    return idempotent.respond(session, 200, document)


@router.post(
    "/{document_id}/financings",
    status_code=201,
    response_model=FinancingOut,
    responses=_PROBLEMS,
)
def record_financing(
    document_id: uuid.UUID,
    caller: CurrentCaller,
    idempotent: Idempotency,
    session: WriteSession,
) -> Response:
    """Record that the calling funder financed this invoice (at most once)."""
    if idempotent.replay is not None:
        return idempotent.replay
    financing = service.record_financing(session, caller, document_id)
    return idempotent.respond(session, 201, financing)


@router.delete("/{document_id}/contents", status_code=204, responses=_PROBLEMS)
def erase_contents(
    document_id: uuid.UUID, caller: CurrentCaller, session: WriteSession
) -> Response:
    """Erase a document's contents (its data key); its hashes stay as evidence."""
    service.erase_contents(session, caller, document_id)
    return Response(status_code=204)


@router.post(
    "/{document_id}/grants",
    status_code=201,
    response_model=GrantOut,
    responses=_PROBLEMS,
)
def grant_access(
    document_id: uuid.UUID,
    body: GrantRequest,
    caller: CurrentCaller,
    idempotent: Idempotency,
    session: WriteSession,
) -> Response:
    """Let an auditor or funder read one of the caller's documents."""
    if idempotent.replay is not None:
        return idempotent.replay
    service.grant_access(session, caller, document_id, body.party_id)
    granted = GrantOut(document_id=document_id, party_id=body.party_id)
    return idempotent.respond(session, 201, granted)
