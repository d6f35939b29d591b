"""``Idempotency-Key`` for every POST: one execution, replays get the stored response.

Protocol (per caller and key, enforced by the UNIQUE (party_id, key) constraint):

1. Before the endpoint runs, the key is *claimed*: a row ``in_progress`` holding a
   hash of the method, path, query and body is inserted and committed in its own
   short transaction.
2. The endpoint does its work in the request transaction and finishes through
   :meth:`IdempotentRequest.respond`, which marks the row ``completed`` with the
   status and body *in that same transaction*: the effect and the stored response
   commit together or not at all.
3. If the endpoint fails (any error response, or a failed commit), the claim is
   deleted, so the client may retry with the same key. Only successes are stored.

A second request with the same key:
    * different method, path or body -> 422, nothing runs;
    * the first already completed -> the stored status and body, with header
      ``Idempotent-Replayed: true``;
    * the first still running -> it waits (polling, up to ``idempotency_wait_seconds``)
      and then replays the stored response, or runs itself if the first failed and
      released the key; if the wait runs out -> 409 with ``Retry-After``.
A claim older than ``idempotency_lease_seconds`` is presumed to belong to a crashed
process and is taken over (compare-and-set on ``updated_at``).

Stored bodies are encrypted (AES-GCM, key derived from the master key), because some
responses carry a secret shown once, such as a new party's token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from api.auth.dependencies import CurrentCaller
from api.crypto import DocumentCipher
from api.db import Database
from api.errors import (
    FieldProblem,
    IdempotencyInProgressError,
    IdempotencyKeyReusedError,
    UnprocessableError,
)
from api.models import IdempotencyKey, IdempotencyState, utc_now
from api.settings import Settings

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
_POLL_SECONDS = 0.05
_PURPOSE = "idempotent-response"


async def raw_body(request: Request) -> bytes:
    """The request body as sent (read once; FastAPI caches it)."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


class IdempotentRequest:
    """A request's idempotency state; endpoints answer through :meth:`respond`."""

    def __init__(
        self, row_id: int | None, cipher: ResponseCipher | None, replay: Response | None
    ) -> None:
        self.row_id = row_id
        self.replay = replay
        self.completed = replay is not None
        self._cipher = cipher

    def respond(
        self, session: Session, status_code: int, payload: BaseModel
    ) -> Response:
        """Build the JSON response and store it with the request's own changes."""
        body = payload.model_dump_json().encode()
        if self.row_id is not None and self._cipher is not None:
            session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == self.row_id)
                .values(
                    state=IdempotencyState.COMPLETED,
                    status_code=status_code,
                    response_body=self._cipher.seal(self.row_id, body),
                    updated_at=utc_now(),
                )
            )
        self.completed = True
        return Response(body, status_code, media_type="application/json")


class ResponseCipher:
    """Encrypts stored responses under a key derived from the master key."""

    def __init__(self, master_key: bytes) -> None:
        self._key = hmac.new(
            master_key, b"receivables.idempotency.v1", "sha256"
        ).digest()

    def seal(self, row_id: int, body: bytes) -> bytes:
        return DocumentCipher.encrypt(self._key, _row_uuid(row_id), _PURPOSE, body)

    def open(self, row_id: int, blob: bytes) -> bytes:
        return DocumentCipher.decrypt(self._key, _row_uuid(row_id), _PURPOSE, blob)


def _row_uuid(row_id: int) -> uuid.UUID:
    return uuid.UUID(int=row_id)


def request_hash(request: Request, body: bytes) -> bytes:
    """SHA-256 over method, path, query and body: what "the same request" means."""
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode() + b"\x00")
    digest.update(body)
    return digest.digest()


def idempotency(
    request: Request, caller: CurrentCaller, body: RawBody
) -> Iterator[IdempotentRequest]:
    """Claim the request's Idempotency-Key (see the module docstring)."""
    key = request.headers.get(HEADER)
    if key is None:
        yield IdempotentRequest(None, None, None)
        return
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise UnprocessableError(
            f"{HEADER} must be 1-{MAX_KEY_LENGTH} printable characters",
            errors=[FieldProblem(f"/headers/{HEADER}", "invalid")],
        )
    database: Database = request.app.state.database
    settings: Settings = request.app.state.settings
    cipher: ResponseCipher = request.app.state.response_cipher
    claim = _claim(
        database, settings, cipher, caller.id, key, request_hash(request, body)
    )
    try:
        yield claim
    finally:
        if claim.row_id is not None and not claim.completed:
            _release(database, claim.row_id)


def _claim(
    database: Database,
    settings: Settings,
    cipher: ResponseCipher,
    party_id: uuid.UUID,
    key: str,
    digest: bytes,
) -> IdempotentRequest:
    deadline = time.monotonic() + settings.idempotency_wait_seconds
    while True:
        row_id = _insert_claim(database, party_id, key, digest)
        if row_id is not None:
            return IdempotentRequest(row_id, cipher, None)
        outcome = _existing(database, settings, cipher, party_id, key, digest)
        if outcome is not None:
            return outcome
        if time.monotonic() >= deadline:
            raise IdempotencyInProgressError(key, settings.retry_after_seconds)
        time.sleep(_POLL_SECONDS)


def _insert_claim(
    database: Database, party_id: uuid.UUID, key: str, digest: bytes
) -> int | None:
    with database.sessions() as session:
        row = IdempotencyKey(
            party_id=party_id,
            key=key,
            request_hash=digest,
            state=IdempotencyState.IN_PROGRESS,
        )
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return None
        return row.id


def _existing(
    database: Database,
    settings: Settings,
    cipher: ResponseCipher,
    party_id: uuid.UUID,
    key: str,
    digest: bytes,
) -> IdempotentRequest | None:
    """The outcome for a key someone else holds, or None to keep waiting."""
    with database.sessions() as session:
        row = session.scalars(
            select(IdempotencyKey).where(
                IdempotencyKey.party_id == party_id, IdempotencyKey.key == key
            )
        ).one_or_none()
        if row is None:  # released by a failed first attempt: claim it again
            return None
        if not hmac.compare_digest(row.request_hash, digest):
            raise IdempotencyKeyReusedError(key)
        if row.state == IdempotencyState.COMPLETED and row.response_body is not None:
            body = cipher.open(row.id, row.response_body)
            replay = Response(
                body,
                row.status_code or 200,
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
            return IdempotentRequest(None, None, replay)
        lease = timedelta(seconds=settings.idempotency_lease_seconds)
        if row.updated_at < utc_now() - lease:
            taken = session.execute(
                update(IdempotencyKey)
                .where(
                    IdempotencyKey.id == row.id,
                    IdempotencyKey.updated_at == row.updated_at,
                )
                .values(updated_at=utc_now())
            )
            session.commit()
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return IdempotentRequest(row.id, cipher, None)
    return None


def _release(database: Database, row_id: int) -> None:
    try:
        with database.sessions() as session:
            session.execute(
                delete(IdempotencyKey).where(
                    IdempotencyKey.id == row_id,
                    IdempotencyKey.state == IdempotencyState.IN_PROGRESS,
                )
            )
            session.commit()
    except SQLAlchemyError:
        # NOTE: the claim then expires after idempotency_lease_seconds.
        logger.warning("idempotency.release_failed row_id=%s", row_id)


Idempotency = Annotated[IdempotentRequest, Depends(idempotency, scope="function")]
