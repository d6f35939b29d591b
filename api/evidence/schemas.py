"""Request and response bodies of the evidence routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class VerifyRequest(BaseModel):
    """A bundle to verify, and optionally the document it claims to be about."""

    model_config = ConfigDict(extra="forbid")

    bundle: dict[str, Any] = Field(description="An evidence bundle (docs/bundle.md)")
    document: dict[str, Any] | None = Field(
        default=None, description="The record the bundle should be about, if held"
    )


class CheckOut(BaseModel):
    """One step of the verification."""

    name: str
    ok: bool
    detail: str


class VerdictOut(BaseModel):
    """The outcome: valid only if every check passed; else the first failed check."""

    valid: bool
    scope: Literal["offline", "chain"]
    reason: str
    failed_check: str | None
    anchor_block: int | None = Field(
        description="The block that anchored the batch, when the bundle is valid"
    )
    checks: list[CheckOut]
