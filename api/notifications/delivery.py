"""The webhook sender: claims due deliveries, POSTs signed bodies, schedules retries.

Each pass runs three steps, and no database transaction stays open during HTTP:

1. *claim* (one transaction): pending deliveries due at ``now`` are locked (``FOR
   UPDATE SKIP LOCKED`` on PostgreSQL, so several senders share the outbox), their
   ``attempts`` incremented and ``next_attempt_at`` pushed to ``now + lease``: if the
   sender dies mid-send, the delivery becomes due again after the lease;
2. *send*: POST the event's JSON with ``Receivables-Signature`` and
   ``Receivables-Event-Id``; bounded timeouts; redirects are never followed; the
   response body is never read;
3. *record* (one transaction): 2xx -> ``delivered``; otherwise the next attempt is
   scheduled with exponential backoff and jitter (:func:`retry_delay`), or the
   delivery is ``failed`` after ``max_attempts``. The update is a compare-and-set on
   ``attempts``, so a sender whose lease ran out cannot overwrite a newer attempt.

Delivery is therefore at least once: a receiver may see an event twice (a crash
between its 2xx and step 3, a lease overrun) and must dedupe on the event id.
Secrets and bodies are never logged; errors are recorded as exception class names.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session

from api.db import Database
from api.models import utc_now
from api.notifications import repository, service
from api.notifications.models import DeliveryStatus
from api.notifications.settings import NotificationSettings
from api.notifications.signing import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    SecretCipher,
    signature_header,
)
from api.notifications.targets import resolves_to_public

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]
USER_AGENT = "receivables-webhooks/1"


@dataclass(frozen=True, slots=True)
class _Job:
    delivery_id: int
    attempt: int
    url: str
    event_id: uuid.UUID
    body: bytes = field(repr=False)
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class _Outcome:
    status_code: int | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(slots=True)
class DeliveryReport:
    """What one pass did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


def retry_delay(
    attempt: int, settings: NotificationSettings, rng: random.Random | None = None
) -> timedelta:
    """How long to wait after failed attempt number ``attempt`` (1-based).

    ``min(first * factor ** (attempt - 1), max)`` times a random factor in
    ``[1 - jitter, 1 + jitter]``, so receivers recovering from an outage are not hit
    by every sender at once.
    """
    base = min(
        settings.first_retry_seconds * settings.backoff_factor ** (attempt - 1),
        settings.max_retry_seconds,
    )
    spread = (rng or random).uniform(-settings.jitter, settings.jitter)
    return timedelta(seconds=base * (1 + spread))


def deliver_due(
    session_factory: SessionFactory,
    client: httpx.Client,
    now: datetime,
    *,
    cipher: SecretCipher,
    settings: NotificationSettings | None = None,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Attempt every delivery due at ``now`` (module docstring); one batch.

    ``now`` is the clock for claiming, signing and scheduling, so tests drive time by
    passing it. Returns the counts of this pass.
    """
    settings = settings or NotificationSettings()
    jobs = _claim(session_factory, now, cipher, settings)
    outcomes = [(job, _send(client, job, now, settings)) for job in jobs]
    return _record(session_factory, outcomes, now, settings, rng)


def _claim(
    session_factory: SessionFactory,
    now: datetime,
    cipher: SecretCipher,
    settings: NotificationSettings,
) -> list[_Job]:
    lease = timedelta(seconds=settings.lease_seconds)
    jobs: list[_Job] = []
    with session_factory() as session:
        due = repository.due_deliveries(session, now, settings.batch_size)
        for delivery, subscription, event in due:
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.next_attempt_at = now + lease
            body = service.event_out(event).model_dump_json().encode()
            jobs.append(
                _Job(
                    delivery_id=delivery.id,
                    attempt=delivery.attempts,
                    url=subscription.url,
                    event_id=event.public_id,
                    body=body,
                    secret=cipher.open(subscription.id, subscription.secret_ciphertext),
                )
            )
        session.commit()
    return jobs


def _send(
    client: httpx.Client, job: _Job, now: datetime, settings: NotificationSettings
) -> _Outcome:
    if not settings.allow_private_networks and not resolves_to_public(job.url):
        return _Outcome(None, "target address not allowed")
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(job.secret, timestamp, job.body),
        EVENT_ID_HEADER: str(job.event_id),
    }
    timeout = httpx.Timeout(
        settings.read_timeout_seconds, connect=settings.connect_timeout_seconds
    )
    try:
        with client.stream(
            "POST",
            job.url,
            content=job.body,
            headers=headers,
            timeout=timeout,
            follow_redirects=False,
        ) as response:
            return _Outcome(response.status_code, None)
    except httpx.HTTPError as err:
        return _Outcome(None, type(err).__name__)


def _record(
    session_factory: SessionFactory,
    outcomes: list[tuple[_Job, _Outcome]],
    now: datetime,
    settings: NotificationSettings,
    rng: random.Random | None,
) -> DeliveryReport:
    report = DeliveryReport()
    if not outcomes:
        return report
    with session_factory() as session:
        for job, outcome in outcomes:
            values = _next_state(job, outcome, now, settings, rng)
            if repository.finish_attempt(session, job.delivery_id, job.attempt, values):
                _report(report, job, outcome, values["status"])
        session.commit()
    return report


def _next_state(
    job: _Job,
    outcome: _Outcome,
    now: datetime,
    settings: NotificationSettings,
    rng: random.Random | None,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
    }
    if outcome.succeeded:
        values.update(status=DeliveryStatus.DELIVERED, delivered_at=now)
    elif job.attempt >= settings.max_attempts:
        values.update(status=DeliveryStatus.FAILED)
    else:
        delay = retry_delay(job.attempt, settings, rng)
        values.update(status=DeliveryStatus.PENDING, next_attempt_at=now + delay)
    return values


def _report(
    report: DeliveryReport, job: _Job, outcome: _Outcome, status: DeliveryStatus
) -> None:
    facts = (job.delivery_id, job.event_id, job.attempt, outcome.status_code)
    if status is DeliveryStatus.DELIVERED:
        report.delivered += 1
        logger.info(
            "webhook.delivered delivery_id=%s event_id=%s attempt=%d status=%s",
            *facts,
        )
    elif status is DeliveryStatus.FAILED:
        report.failed += 1
        logger.error(
            "webhook.gave_up delivery_id=%s event_id=%s attempt=%d status=%s error=%s",
            *facts,
            outcome.error,
        )
    else:
        report.retrying += 1
        logger.warning(
            "webhook.retry_scheduled delivery_id=%s event_id=%s attempt=%d "
            "status=%s error=%s",
            *facts,
            outcome.error,
        )


# --- transactions owned by the worker ------------------------------------------


def sequence_all(session_factory: SessionFactory) -> int:
    """Give every committed event its feed position; returns how many."""
    total = 0
    while True:
        with session_factory() as session:
            count = service.sequence_events(session)
            session.commit()
        total += count
        if count < service.BATCH:
            return total


def backfill_all(session_factory: SessionFactory) -> int:
    """Record every committed document event that was not recorded; returns how many
    were found."""
    total = 0
    while True:
        with session_factory() as session:
            count = service.backfill_events(session)
            session.commit()
        total += count
        if count < service.BATCH:
            return total


def _new_client() -> httpx.Client:
    # NOTE: trust_env=False: proxy variables and .netrc must not redirect or
    # decorate requests to third-party URLs.
    return httpx.Client(
        follow_redirects=False, trust_env=False, headers={"User-Agent": USER_AGENT}
    )


class Notifications:
    """The package's runtime: the secret cipher, settings, and the sender's loop.

    ``start()`` runs a daemon thread that, every ``poll_interval_seconds``, positions
    new events in the feed, backfills every ``backfill_interval_seconds``, and
    attempts due deliveries; ``stop()`` ends it and closes the HTTP client it made.
    """

    def __init__(
        self,
        database: Database,
        master_key: bytes,
        settings: NotificationSettings | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.database = database
        self.settings = settings or NotificationSettings()
        self.cipher = SecretCipher(master_key)
        self._owns_client = client is None
        self.client = client or _new_client()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_backfill = 0.0

    def run_once(self, now: datetime | None = None) -> DeliveryReport:
        """One pass of the loop (also usable from a script or a test)."""
        sessions = self.database.sessions
        with self.database.read_sessions() as session:
            waiting = repository.has_unsequenced(session)
        if waiting:
            sequence_all(sessions)
        if time.monotonic() >= self._next_backfill:
            backfill_all(sessions)
            sequence_all(sessions)
            self._next_backfill = (
                time.monotonic() + self.settings.backfill_interval_seconds
            )
        return deliver_due(
            sessions,
            self.client,
            now or utc_now(),
            cipher=self.cipher,
            settings=self.settings,
        )

    def start(self) -> None:
        """Start the background loop, unless ``background_delivery`` is off."""
        if not self.settings.background_delivery:
            logger.info("webhook.deliverer_disabled")
            return
        if self._thread is not None and self._thread.is_alive():
            return
        if self._owns_client and self.client.is_closed:
            self.client = _new_client()
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._loop, name="webhook-deliverer", daemon=True
        )
        self._thread.start()
        logger.info("webhook.deliverer_started")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop after its current pass, then close the HTTP client."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._owns_client:
            self.client.close()
        logger.info("webhook.deliverer_stopped")

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                report = self.run_once()
            except Exception as err:  # keep running through database outages
                logger.warning("webhook.pass_failed error=%s", type(err).__name__)
                report = DeliveryReport()
            if report.attempted < self.settings.batch_size:
                self._stopping.wait(self.settings.poll_interval_seconds)
