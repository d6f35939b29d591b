"""HTTP routes for parties."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from api.auth.dependencies import CurrentCaller, OperatorCaller
from api.db import ReadSession, WriteSession
from api.errors import problem_responses
from api.idempotency import Idempotency
from api.parties import service
from api.parties.schemas import PartyCreate, PartyCreated, PartyOut

router = APIRouter(prefix="/v1/parties", tags=["parties"])

_PROBLEMS = problem_responses(
    {
        401: "Missing or invalid bearer token",
        403: "Only operators may do this",
        404: "No such party visible to the caller",
        409: "Conflict",
        422: "Invalid request",
        503: "Database unavailable",
    }
)


@router.post("", status_code=201, response_model=PartyCreated, responses=_PROBLEMS)
def create_party(
    body: PartyCreate,
    _operator: OperatorCaller,
    idempotent: Idempotency,
    session: WriteSession,
) -> Response:
    """Onboard a party and return its API token, shown only this once."""
    if idempotent.replay is not None:
        return idempotent.replay
    party, token = service.create_party(session, body)
    created = PartyCreated(party=PartyOut.model_validate(party), token=token)
    return idempotent.respond(session, 201, created)


@router.get("/me", response_model=PartyOut, responses=_PROBLEMS)
def read_me(caller: CurrentCaller, session: ReadSession) -> PartyOut:
    """The calling party."""
    return PartyOut.model_validate(service.get_party(session, caller, caller.id))


@router.get("/{party_id}", response_model=PartyOut, responses=_PROBLEMS)
def read_party(
    party_id: uuid.UUID, caller: CurrentCaller, session: ReadSession
) -> PartyOut:
    """A party by id (operators: any; others: only themselves)."""
    return PartyOut.model_validate(service.get_party(session, caller, party_id))
