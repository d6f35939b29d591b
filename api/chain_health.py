"""Chain availability for endpoints that need the chain (RELIABILITY 22).

An endpoint that reads or writes the chain declares ``Depends(require_chain)``; when
the node is down it fails fast with :class:`registry.errors.ChainUnavailableError`,
which the service's error handler answers as 503 ``chain-unavailable`` with
``Retry-After``. Endpoints that do not declare it never touch the chain and keep
serving.

The node is probed at most once per ``ttl`` seconds: a success is trusted for that
long, and so is a failure (a small circuit breaker), so an outage costs one slow probe
per ``ttl``, not one per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from fastapi import Request

from registry.chain import ChainClient
from registry.errors import ChainError, ChainUnavailableError


class ChainHealth:
    """A chain client with a cached health probe; keep one in ``app.state``."""

    def __init__(
        self,
        client: ChainClient | None,
        *,
        ttl: float = 2.0,
        probe: Callable[[], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self._probe = probe or (client.latest_block_number if client else None)
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._healthy = False

    def require(self) -> ChainClient:
        """The client, if the node answered within the last ``ttl`` seconds.

        Raises:
            ChainUnavailableError: no chain configured, or the node does not answer.
        """
        if self.client is None or self._probe is None:
            raise ChainUnavailableError("the service runs without a chain")
        with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self.ttl:
                self._healthy = self._answers()
                self._checked_at = self._clock()
            healthy = self._healthy
        if not healthy:
            raise ChainUnavailableError("the chain endpoint does not answer")
        return self.client

    def _answers(self) -> bool:
        assert self._probe is not None
        try:
            self._probe()
        except ChainError:
            return False
        return True


def require_chain(request: Request) -> ChainClient:
    """FastAPI dependency: the chain client, or 503 with Retry-After when it is down."""
    health: ChainHealth | None = getattr(request.app.state, "chain_health", None)
    if health is None:
        raise ChainUnavailableError("the service runs without a chain")
    return health.require()
