"""HTTP routes: the event feed and webhook subscriptions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth.dependencies import CurrentCaller
from api.db import Database, ReadSession, WriteSession
from api.errors import problem_responses
from api.idempotency import Idempotency
from api.notifications import repository, service
from api.notifications.delivery import Notifications, sequence_all
from api.notifications.schemas import (
    EventPage,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
)

router = APIRouter(tags=["notifications"])


def notifications(request: Request) -> Notifications:
    """The notifications runtime (built once at start)."""
    runtime: Notifications = request.app.state.notifications
    return runtime


Runtime = Annotated[Notifications, Depends(notifications)]

_PROBLEMS = problem_responses(
    {
        401: "Missing or invalid bearer token",
        404: "No such webhook of the caller",
        409: "Too many webhooks, or Idempotency-Key in progress",
        422: "Invalid request or cursor; `errors` lists each field",
        503: "Database unavailable; see Retry-After",
    }
)


@router.get("/v1/events", response_model=EventPage, responses=_PROBLEMS)
def list_events(
    request: Request,
    caller: CurrentCaller,
    session: ReadSession,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventPage:
    """The caller's document events after a cursor, oldest first."""
    database: Database = request.app.state.database
    if _has_unsequenced(database):
        sequence_all(database.sessions)
    return service.read_feed(session, caller, after, limit)


def _has_unsequenced(database: Database) -> bool:
    with database.read_sessions() as session:
        return repository.has_unsequenced(session)


@router.post(
    "/v1/webhooks", status_code=201, response_model=WebhookCreated, responses=_PROBLEMS
)
def create_webhook(
    body: WebhookCreate,
    caller: CurrentCaller,
    idempotent: Idempotency,
    session: WriteSession,
    runtime: Runtime,
) -> Response:
    """Register a webhook; the response shows its signing secret, once."""
    if idempotent.replay is not None:
        return idempotent.replay
    created = service.create_subscription(
        session, runtime.cipher, runtime.settings, caller, body
    )
    return idempotent.respond(session, 201, created)


@router.get("/v1/webhooks", response_model=WebhookList, responses=_PROBLEMS)
def list_webhooks(caller: CurrentCaller, session: ReadSession) -> WebhookList:
    """The caller's webhooks (without their secrets)."""
    return service.list_subscriptions(session, caller)


@router.delete("/v1/webhooks/{webhook_id}", status_code=204, responses=_PROBLEMS)
def delete_webhook(
    webhook_id: uuid.UUID, caller: CurrentCaller, session: WriteSession
) -> Response:
    """Delete a webhook; its pending deliveries are given up."""
    service.delete_subscription(session, caller, webhook_id)
    return Response(status_code=204)
