"""Bodies of the event feed and webhook routes; a webhook body is an ``EventOut``."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.notifications.models import EventType


class EventOut(BaseModel):
    """One document event, as the feed lists it and as a webhook delivers it."""

    id: uuid.UUID = Field(description="Stable event id; receivers dedupe on it.")
    type: EventType
    occurred_at: datetime
    document_id: uuid.UUID
    from_status: str | None
    to_status: str
    reason: str | None


class EventPage(BaseModel):
    """Events after a cursor, oldest first; pass ``cursor`` back as ``after``."""

    events: list[EventOut]
    cursor: str = Field(
        description="Position after the last event listed; unchanged when empty."
    )


class WebhookCreate(BaseModel):
    """A webhook to register: where to POST, and which event types (default all)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048)
    event_types: list[EventType] | None = Field(default=None, min_length=1)


class WebhookOut(BaseModel):
    """A registered webhook (its secret is never shown again)."""

    id: uuid.UUID
    url: str
    event_types: list[EventType] | None
    created_at: datetime


class WebhookCreated(WebhookOut):
    """A new webhook with its signing secret, shown only in this response."""

    secret: str


class WebhookList(BaseModel):
    """The caller's webhooks, oldest first."""

    items: list[WebhookOut]
