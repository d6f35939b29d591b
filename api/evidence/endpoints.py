"""HTTP routes for evidence: download a document's bundle; verify any bundle."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from api.auth.dependencies import CurrentCaller
from api.db import ReadSession
from api.errors import problem_responses
from api.evidence import service
from api.evidence.schemas import VerdictOut, VerifyRequest
from registry.bundle import bundle_to_dict

router = APIRouter(tags=["evidence"])


def evidence_context(request: Request) -> service.EvidenceContext:
    """The keys and the chain the evidence routes use (built once at start)."""
    context: service.EvidenceContext = request.app.state.evidence_context
    return context


Context = Annotated[service.EvidenceContext, Depends(evidence_context)]

_PROBLEMS = problem_responses(
    {
        401: "Missing or invalid bearer token",
        404: "No such document visible to the caller",
        409: "The document is not anchored yet; see Retry-After",
        410: "The document's contents were erased",
        422: "A requested field does not exist, or the bundle is malformed",
        503: "The chain or the database is unavailable; see Retry-After",
    }
)


@router.get(
    "/v1/documents/{document_id}/evidence",
    responses={
        200: {"description": "An evidence bundle (docs/bundle.md)"},
        **_PROBLEMS,
    },
)
def get_evidence(
    document_id: uuid.UUID,
    session: ReadSession,
    context: Context,
    caller: CurrentCaller,
    field: Annotated[
        list[str] | None,
        Query(description="Disclose only these fields (JSON Pointers); repeatable"),
    ] = None,
) -> JSONResponse:
    """The evidence bundle of an anchored document, whole or with chosen fields only."""
    bundle = service.evidence_bundle(session, context, caller, document_id, field)
    return JSONResponse(bundle_to_dict(bundle))


_VERIFY_PROBLEMS = problem_responses(
    {
        422: "The request is not a JSON object with a `bundle`",
        503: "The chain is unavailable; see Retry-After (or ask with offline=true)",
    }
)


@router.post("/v1/verify", response_model=VerdictOut, responses=_VERIFY_PROBLEMS)
def verify_bundle(
    body: VerifyRequest,
    context: Context,
    offline: Annotated[
        bool, Query(description="Check hashes and proofs only, not the chain")
    ] = False,
) -> VerdictOut:
    """Verify an evidence bundle against the chain; no account needed."""
    return service.verify(context, body.bundle, body.document, offline=offline)
