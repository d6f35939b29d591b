"""HTTP routes for data credit."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from api.auth.dependencies import CurrentCaller, OperatorCaller
from api.credit import service
from api.credit.schemas import (
    ClaimCredit,
    PartyAttributesIn,
    PartyAttributesOut,
    SellerCredit,
)
from api.db import ReadSession, WriteSession
from api.errors import problem_responses

router = APIRouter(prefix="/v1/credit", tags=["credit"])


def credit_service(request: Request) -> service.CreditService:
    """The process's credit engine and caches (built once at start)."""
    credit: service.CreditService = request.app.state.credit
    return credit


Credit = Annotated[service.CreditService, Depends(credit_service)]

_PROBLEMS = problem_responses(
    {
        401: "Missing or invalid bearer token",
        403: "Only operators may do this",
        404: "No such seller, invoice or party visible to the caller",
        422: "Invalid request",
        503: "Database unavailable; see Retry-After",
    }
)


@router.get("/sellers/{party_id}", response_model=SellerCredit, responses=_PROBLEMS)
def read_seller(
    party_id: uuid.UUID, caller: CurrentCaller, session: ReadSession, credit: Credit
) -> SellerCredit:
    """A seller's profile, fraud signals and credit decision with reasons."""
    return service.seller_credit(session, credit, caller, party_id)


@router.get("/claims/{document_id}", response_model=ClaimCredit, responses=_PROBLEMS)
def read_claim(
    document_id: uuid.UUID, caller: CurrentCaller, session: ReadSession, credit: Credit
) -> ClaimCredit:
    """An invoice's grade, band and discount rate with reasons, for funders."""
    return service.claim_credit(session, credit, caller, document_id)


@router.put(
    "/parties/{party_id}/attributes",
    response_model=PartyAttributesOut,
    responses=_PROBLEMS,
)
def put_attributes(
    party_id: uuid.UUID,
    body: PartyAttributesIn,
    _operator: OperatorCaller,
    session: WriteSession,
    credit: Credit,
) -> PartyAttributesOut:
    """Replace a party's industry and identity attributes (operators only)."""
    return service.set_attributes(session, credit, party_id, body)
