"""The service's errors and the one handler that turns every error into RFC 9457.

Errors raised anywhere (the registry core's tree, the API's own leaves below, FastAPI's
request validation, database outages) become ``application/problem+json`` bodies with
``type``, ``title``, ``status``, ``detail`` and, for invalid input, ``errors``: a list
of ``{"field": <JSON Pointer>, "message": ...}`` (bulk requests add ``index``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.errors import (
    ChainError,
    ChainUnavailableError,
    ConfigurationError,
    ProofError,
    RecordError,
    RecordValidationError,
    RegistryError,
)

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "/problems/"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One invalid field: its JSON Pointer, what is wrong, and (bulk) the item index."""

    field: str
    message: str
    index: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field, "message": self.message}
        if self.index is not None:
            data["index"] = self.index
        return data


class FieldProblemBody(BaseModel):
    """One invalid field in a problem body."""

    field: str = PydanticField(description="JSON Pointer of the field ('' = body)")
    message: str
    index: int | None = PydanticField(
        default=None, description="The item of a bulk request it concerns"
    )


class ProblemBody(BaseModel):
    """An error, as RFC 9457 problem details (media type application/problem+json)."""

    type: str = PydanticField(description="A URI naming the kind of problem")
    title: str
    status: int
    detail: str
    errors: list[FieldProblemBody] = PydanticField(
        default_factory=list, description="Each invalid field, for 422 and bulk errors"
    )


def problem_responses(
    descriptions: Mapping[int, str],
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error codes, each a problem+json body."""
    schema = {"$ref": "#/components/schemas/ProblemBody"}
    return {
        code: {
            "model": ProblemBody,
            "content": {PROBLEM_JSON: {"schema": schema}},
            "description": text,
        }
        for code, text in descriptions.items()
    }


class ApiError(Exception):
    """Root of the API's own errors; each leaf fixes its status and problem type."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[FieldProblem] = (),
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}
        self.extensions = extensions or {}
        super().__init__(detail)


class AuthenticationError(ApiError):
    """No bearer token, or one that matches no live credential."""

    status = 401
    slug = "unauthenticated"
    title = "Authentication required"

    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class ForbiddenError(ApiError):
    """The caller's role may not do this; nothing was changed."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFoundError(ApiError):
    """No such object, or one the caller may not see (indistinguishable on purpose)."""

    status = 404
    slug = "not-found"
    title = "Not found"


class DocumentNotFoundError(NotFoundError):
    """No document with this id that the caller may see."""

    def __init__(self, document_id: uuid.UUID | str) -> None:
        self.document_id = document_id
        super().__init__(f"document {document_id} not found")


class PartyNotFoundError(NotFoundError):
    """No party with this id."""

    def __init__(self, party_id: uuid.UUID | str) -> None:
        self.party_id = party_id
        super().__init__(f"party {party_id} not found")


class ConflictError(ApiError):
    """The request conflicts with the current state; nothing was changed."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class InvalidTransitionError(ConflictError):
    """A document cannot take this step from its current status."""

    slug = "invalid-transition"
    title = "Invalid status transition"

    def __init__(self, document_id: uuid.UUID, status: str, action: str) -> None:
        self.document_id = document_id
        self.current_status = status
        self.action = action
        super().__init__(
            f"document {document_id} is {status}: cannot {action}",
            extensions={"document_id": str(document_id), "document_status": status},
        )


class AlreadyFinancedError(ConflictError):
    """The invoice (by fingerprint) was already financed."""

    slug = "already-financed"
    title = "Already financed"

    def __init__(self, document_id: uuid.UUID, financed_document_id: uuid.UUID) -> None:
        self.document_id = document_id
        self.financed_document_id = financed_document_id
        super().__init__(
            f"invoice {document_id} is already financed as {financed_document_id}",
            extensions={"financed_document_id": str(financed_document_id)},
        )


class PartyConflictError(ConflictError):
    """A party with this Ethereum address, or this role and tax id, exists."""

    slug = "party-exists"
    title = "Party already registered"


class IdempotencyInProgressError(ConflictError):
    """Another request with the same Idempotency-Key is still running."""

    slug = "idempotency-in-progress"
    title = "Request with this Idempotency-Key in progress"

    def __init__(self, key: str, retry_after: int) -> None:
        self.key = key
        super().__init__(
            "a request with this Idempotency-Key is still being processed; retry",
            headers={"Retry-After": str(retry_after)},
        )


class UnprocessableError(ApiError):
    """Well-formed but unacceptable input."""

    status = 422
    slug = "invalid-request"
    title = "Invalid request"


class IdempotencyKeyReusedError(UnprocessableError):
    """The Idempotency-Key was used before with a different request."""

    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different request"

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            "this Idempotency-Key was used with a different request body or path",
            errors=[FieldProblem("/headers/Idempotency-Key", "reused")],
        )


class ServiceUnavailableError(ApiError):
    """A dependency (database, chain) is unavailable; retry later."""

    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"


class DuplicateInvoiceError(RecordError):
    """Raised when a seller registers a document it has already registered."""

    def __init__(self, seller_id: uuid.UUID, number: str, existing_id: uuid.UUID):
        self.seller_id = seller_id
        self.invoice_number = number
        self.existing_id = existing_id
        super().__init__(
            "/number",
            f"document {number!r} of seller {seller_id} "
            f"is already registered as {existing_id}",
        )


def _problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors: Sequence[FieldProblem] = (),
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [error.as_dict() for error in errors]
    body.update(extensions or {})
    return JSONResponse(body, status, headers=headers, media_type=PROBLEM_JSON)


def _record_problems(err: RecordError) -> list[FieldProblem]:
    if isinstance(err, RecordValidationError):
        return [FieldProblem(p.field, p.message) for p in err.problems]
    return [FieldProblem(err.field, err.message)]


def _pointer(location: Sequence[int | str]) -> str:
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in location]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return "/" + "/".join(parts) if parts else ""


def _retry_after(request: Request) -> dict[str, str]:
    seconds = getattr(request.app.state, "retry_after_seconds", 2)
    return {"Retry-After": str(seconds)}


def problem_for(request: Request, exc: Exception) -> JSONResponse:
    """The problem response for any exception (the single error handler)."""
    if isinstance(exc, ApiError):
        headers = dict(exc.headers)
        if exc.status == 503:
            headers.update(_retry_after(request))
        return _problem(
            exc.status,
            exc.slug,
            exc.title,
            exc.detail,
            errors=exc.errors,
            headers=headers,
            extensions=exc.extensions,
        )
    if isinstance(exc, RegistryError):
        return _registry_problem(request, exc)
    if isinstance(exc, RequestValidationError):
        problems = [
            FieldProblem(_pointer(error.get("loc", ())), str(error.get("msg", "")))
            for error in exc.errors()
        ]
        return _problem(
            422, "invalid-request", "Invalid request", "invalid input", errors=problems
        )
    if isinstance(exc, StarletteHTTPException):
        return _problem(
            exc.status_code,
            "http-error",
            str(exc.detail),
            str(exc.detail),
            headers=dict(exc.headers or {}),
        )
    return _database_or_internal_problem(request, exc)


def _registry_problem(request: Request, exc: RegistryError) -> JSONResponse:
    if isinstance(exc, DuplicateInvoiceError):
        return _problem(
            409,
            "duplicate-document",
            "Document already registered",
            exc.message,
            errors=[FieldProblem(exc.field, exc.message)],
            extensions={"existing_document_id": str(exc.existing_id)},
        )
    if isinstance(exc, RecordError):
        return _problem(
            422,
            "invalid-record",
            "Invalid record",
            "the record has invalid fields",
            errors=_record_problems(exc),
        )
    if isinstance(exc, ProofError):
        return _problem(422, "invalid-proof", "Invalid proof", str(exc))
    if isinstance(exc, ChainUnavailableError | ChainError):
        logger.warning("chain.unavailable error=%s", type(exc).__name__)
        return _problem(
            503,
            "chain-unavailable",
            "Chain unavailable",
            "the chain could not be reached; retry later",
            headers=_retry_after(request),
        )
    if isinstance(exc, ConfigurationError):
        logger.error("service.misconfigured error=%s", exc)
    return _problem(500, "internal", "Internal error", "internal error")


def _database_or_internal_problem(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, sa_exc.IntegrityError):
        logger.warning("db.unexpected_conflict error=%s", type(exc.orig).__name__)
        return _problem(409, "conflict", "Conflict", "conflicting concurrent change")
    if isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError
    ) or (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated):
        logger.warning("db.unavailable error=%s", type(exc).__name__)
        return _problem(
            503,
            "database-unavailable",
            "Database unavailable",
            "the database is unavailable; retry later",
            headers=_retry_after(request),
        )
    logger.error("request.failed error=%s", type(exc).__name__, exc_info=exc)
    return _problem(500, "internal", "Internal error", "internal error")


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    return problem_for(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through :func:`problem_for`."""
    for kind in (
        ApiError,
        RegistryError,
        RequestValidationError,
        StarletteHTTPException,
        sa_exc.SQLAlchemyError,
        Exception,
    ):
        app.add_exception_handler(kind, _handle)
