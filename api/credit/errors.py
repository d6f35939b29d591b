"""Errors of the credit routes (leaves of :class:`api.errors.ApiError`)."""

from __future__ import annotations

import uuid

from api.errors import NotFoundError


class SellerNotFoundError(NotFoundError):
    """No seller with this id that the caller may see (the same answer either way)."""

    def __init__(self, party_id: uuid.UUID) -> None:
        self.party_id = party_id
        super().__init__(f"seller {party_id} not found")
