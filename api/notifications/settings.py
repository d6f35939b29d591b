"""Webhook settings, read from ``RECEIVABLES_WEBHOOK_*`` environment variables.

The retry schedule: attempt ``n`` (1-based) that fails is retried after
``min(first_retry_seconds * backoff_factor ** (n - 1), max_retry_seconds)`` seconds,
each delay multiplied by a random factor in ``[1 - jitter, 1 + jitter]``; after
``max_attempts`` attempts the delivery is ``failed``. With the defaults: 8 attempts,
retries after about 30 s, 1, 2, 4, 8, 16 and 32 min: the last attempt about 63 min
after the first.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotificationSettings(BaseSettings):
    """Delivery, retry and target rules for webhooks (module docstring)."""

    model_config = SettingsConfigDict(env_prefix="RECEIVABLES_WEBHOOK_", extra="ignore")

    max_attempts: int = Field(default=8, ge=1, le=50)
    first_retry_seconds: float = Field(default=30.0, gt=0)
    backoff_factor: float = Field(default=2.0, ge=1)
    max_retry_seconds: float = Field(default=3600.0, gt=0)
    jitter: float = Field(default=0.2, ge=0, lt=1 / 3)
    """Below 1/3, so with a factor of 2 each delay stays longer than the one before."""
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    read_timeout_seconds: float = Field(default=10.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=0)
    """A claimed delivery is due again after this long (covers a crashed sender)."""
    batch_size: int = Field(default=50, ge=1)
    poll_interval_seconds: float = Field(default=1.0, gt=0)
    backfill_interval_seconds: float = Field(default=60.0, gt=0)
    max_subscriptions_per_party: int = Field(default=20, ge=1)
    background_delivery: bool = True
    """Run the sender's loop in the API process (false: a separate worker, or tests
    that drive :func:`api.notifications.delivery.deliver_due` themselves)."""
    allow_private_networks: bool = False
    """Allow loopback, private and link-local targets (tests, closed networks only)."""
