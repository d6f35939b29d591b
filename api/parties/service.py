"""Onboarding parties (operators only) and reading them."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth.service import Caller, issue_credential
from api.errors import (
    FieldProblem,
    PartyConflictError,
    PartyNotFoundError,
    UnprocessableError,
)
from api.models import Party, PartyRole
from api.parties import repository
from api.parties.schemas import PartyCreate

logger = logging.getLogger(__name__)

_NEEDS_TAX_ID = {PartyRole.SELLER, PartyRole.BUYER}


def create_party(session: Session, request: PartyCreate) -> tuple[Party, str]:
    """Register a party and issue its first token.

    Raises:
        UnprocessableError: a seller or buyer without a tax id, or a non-operator
            without an Ethereum address.
        PartyConflictError: the address, or the role and tax id, are taken.
    """
    _check_required(request)
    if repository.conflicting(
        session, request.role, request.tax_id, request.eth_address
    ):
        raise PartyConflictError("a party with this address or tax id exists")

    party = Party(
        role=request.role,
        name=request.name,
        tax_id=request.tax_id,
        eth_address=request.eth_address,
    )
    try:
        with session.begin_nested():
            session.add(party)
            session.flush()
    except IntegrityError as err:
        raise PartyConflictError("a party with this address or tax id exists") from err
    token = issue_credential(session, party)

    logger.info("party.registered party_id=%s role=%s", party.id, party.role)
    return party, token


def _check_required(request: PartyCreate) -> None:
    problems = []
    if request.role in _NEEDS_TAX_ID and request.tax_id is None:
        problems.append(FieldProblem("/tax_id", f"is required for a {request.role}"))
    if request.role is not PartyRole.OPERATOR and request.eth_address is None:
        problems.append(
            FieldProblem("/eth_address", f"is required for a {request.role}")
        )
    if problems:
        raise UnprocessableError("the party is incomplete", errors=problems)


def get_party(session: Session, caller: Caller, party_id: uuid.UUID) -> Party:
    """A party: operators see every party, others only themselves (else 404)."""
    party = repository.get(session, party_id)
    visible = caller.role is PartyRole.OPERATOR or party_id == caller.id
    if party is None or not visible:
        raise PartyNotFoundError(party_id)
    return party
