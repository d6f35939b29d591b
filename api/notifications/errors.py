"""Errors of the notifications package, as leaves of :class:`api.errors.ApiError`."""

from __future__ import annotations

import uuid

from api.errors import ConflictError, FieldProblem, NotFoundError, UnprocessableError


class InvalidWebhookUrlError(UnprocessableError):
    """The webhook URL is not an acceptable http(s) target."""

    slug = "invalid-webhook-url"
    title = "Invalid webhook URL"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"webhook url refused: {reason}", errors=[FieldProblem("/url", reason)]
        )


class WebhookNotFoundError(NotFoundError):
    """No live subscription with this id belongs to the caller."""

    def __init__(self, subscription_id: uuid.UUID) -> None:
        self.subscription_id = subscription_id
        super().__init__(f"webhook {subscription_id} not found")


class TooManyWebhooksError(ConflictError):
    """The caller already has as many subscriptions as allowed."""

    slug = "too-many-webhooks"
    title = "Too many webhooks"

    def __init__(self, party_id: uuid.UUID, limit: int) -> None:
        self.party_id = party_id
        self.limit = limit
        super().__init__(
            f"party {party_id} already has {limit} webhooks; delete one first",
            extensions={"limit": limit},
        )


class InvalidCursorError(UnprocessableError):
    """The ``after`` cursor is not one this service issued."""

    def __init__(self, cursor: str) -> None:
        self.cursor = cursor
        super().__init__(
            "invalid cursor", errors=[FieldProblem("/query/after", "invalid cursor")]
        )
