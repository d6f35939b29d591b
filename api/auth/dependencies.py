"""FastAPI dependencies: who is calling, and may their role do this."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.auth.service import Caller, authenticate
from api.db import Database
from api.errors import AuthenticationError, ForbiddenError
from api.models import PartyRole


def current_caller(request: Request) -> Caller:
    """The party behind the request's ``Authorization: Bearer`` token (else 401)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError()
    database: Database = request.app.state.database
    with database.read_sessions() as session:
        caller = authenticate(session, token.strip())
    if caller is None:
        raise AuthenticationError("the bearer token is not valid")
    request.state.caller = caller
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def require_operator(caller: CurrentCaller) -> Caller:
    """The caller, who must be an operator (else 403)."""
    if caller.role is not PartyRole.OPERATOR:
        raise ForbiddenError("only an operator may do this")
    return caller


OperatorCaller = Annotated[Caller, Depends(require_operator)]
