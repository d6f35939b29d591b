"""The claims indexer: ClaimToken logs into ``claim_events``, then the projection.

Each run:

1. **Reorg check.** The newest remembered block hash of this scan is compared with
   the canonical chain; on a mismatch the remembered hashes are walked down to the
   newest one that still matches. Everything above it is rolled back in one
   transaction: its events deleted, the claims they touched rebuilt from what
   remains (``api.claims.projection``), the checkpoint moved back. The range is
   then scanned again.
2. **Scan.** From the checkpoint up to the *safe head* (``latest - confirmations +
   1``), in ranges of ``block_range`` blocks: the logs are read from the chain with
   no database transaction open, then one transaction locks the checkpoint, checks
   that nobody else moved it meanwhile (compare-and-set; a concurrent run simply
   stops), inserts the events (a log already there is skipped), rebuilds the claims
   they touch, remembers the range's last block hash and advances the checkpoint.

Invariants:
    * Idempotent: scanning a range twice, or two indexers at once, changes nothing
      more (unique event rows, a pure fold, compare-and-set on the checkpoint).
    * With ``confirmations`` above one, nothing younger than the safe head is
      projected, so a reorg shallower than that never shows in the API at all; a
      deeper one is rolled back as above.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.anchoring.models import ChainCheckpoint
from api.claims import projection, repository
from api.db import Database
from api.models import utc_now
from registry.chain import ChainClient, LogEntry
from registry.claims import claim_event_topics, decode_claim_log
from registry.errors import ChainError

logger = logging.getLogger(__name__)

REMEMBERED_BLOCKS = 256


@dataclass(slots=True)
class IndexReport:
    """What one run did."""

    from_block: int = 0
    to_block: int = -1
    events: int = 0
    claims_rebuilt: int = 0
    reorg_from: int | None = None


class ClaimIndexer:
    """Projects one ClaimToken's events into the database (see the module doc)."""

    def __init__(
        self,
        database: Database,
        client: ChainClient,
        claim_token: str,
        *,
        confirmations: int = 1,
        start_block: int = 0,
        block_range: int = 500,
        max_ranges: int = 20,
    ) -> None:
        self.database = database
        self.client = client
        self.claim_token = claim_token
        self.confirmations = max(1, confirmations)
        self.start_block = start_block
        self.block_range = block_range
        self.max_ranges = max_ranges
        self.scan = f"claims:{claim_token.lower()}"
        self._topics = claim_event_topics()

    def run_once(self) -> IndexReport:
        """Check for a reorg, then scan up to the safe head (see the module doc)."""
        report = IndexReport()
        report.reorg_from = self._roll_back_reorg()
        head = self.client.latest_block_number() - (self.confirmations - 1)
        start = self._next_block()
        report.from_block = start
        for _ in range(self.max_ranges):
            if start > head:
                break
            end = min(start + self.block_range - 1, head)
            if not self._apply_range(start, end, report):
                # another run moved the checkpoint meanwhile: go on from where it is,
                # so what this caller waits for (its own transaction) is projected
                start = self._next_block()
                continue
            report.to_block = end
            start = end + 1
        return report

    # -- reorgs --------------------------------------------------------------------

    def _roll_back_reorg(self) -> int | None:
        with self.database.read_sessions() as session:
            remembered = [
                (row.block_number, row.block_hash)
                for row in repository.remembered_blocks(
                    session, self.scan, REMEMBERED_BLOCKS
                )
            ]
        if (
            not remembered
            or self.client.block_hash(remembered[0][0]) == remembered[0][1]
        ):
            return None
        fork = self.start_block
        for number, block_hash in remembered[1:]:
            if self.client.block_hash(number) == block_hash:
                fork = number + 1
                break
        with self.database.sessions() as session:
            _lock_checkpoint(session, self.scan, self.start_block)
            touched = repository.delete_events_from(session, fork)
            repository.forget_blocks_from(session, self.scan, fork)
            _set_checkpoint(session, self.scan, fork)
            for claim_id in sorted(touched):
                projection.rebuild_claim(session, claim_id, reorg=True)
            session.commit()
        logger.warning(
            "claims.reorg_rolled_back from_block=%d claims=%d", fork, len(touched)
        )
        return fork

    # -- scanning ------------------------------------------------------------------

    def _next_block(self) -> int:
        with self.database.read_sessions() as session:
            row = session.get(ChainCheckpoint, self.scan)
            return row.next_block if row is not None else self.start_block

    def _apply_range(self, start: int, end: int, report: IndexReport) -> bool:
        logs = self.client.logs(self.claim_token, self._topics, start, end)
        end_hash = self.client.block_hash(end)
        times = {n: self._block_time(n) for n in {log.block_number for log in logs}}
        rows = _event_rows(logs, times)
        if end_hash is None:
            return False
        with self.database.sessions() as session:
            checkpoint = _lock_checkpoint(session, self.scan, self.start_block)
            if checkpoint != start:
                session.rollback()
                return False
            repository.insert_events(session, rows)
            touched = sorted({row["claim_id"] for row in rows})
            for claim_id in touched:
                projection.rebuild_claim(session, claim_id)
            blocks = {(log.block_number, log.block_hash) for log in logs}
            blocks.add((end, end_hash))
            repository.remember_blocks(session, self.scan, blocks, REMEMBERED_BLOCKS)
            _set_checkpoint(session, self.scan, end + 1)
            session.commit()
        report.events += len(rows)
        report.claims_rebuilt += len(touched)
        if rows:
            logger.info(
                "claims.indexed from_block=%d to_block=%d events=%d claims=%d",
                start,
                end,
                len(rows),
                len(touched),
            )
        return True

    def _block_time(self, number: int) -> int:
        block = self.client.w3.eth.get_block(number)
        return int(block["timestamp"])


def _event_rows(
    logs: Sequence[LogEntry], times: dict[int, int]
) -> list[dict[str, Any]]:
    rows = []
    for log in logs:
        for decoded in decode_claim_log(log.topics, log.data):
            args = {
                key: str(value) if isinstance(value, int) else value
                for key, value in decoded.args.items()
                if value is not None
            }
            rows.append(
                {
                    "claim_id": decoded.claim_id.to_bytes(32, "big"),
                    "name": decoded.name,
                    "args": json.dumps(args, sort_keys=True),
                    "block_number": log.block_number,
                    "block_hash": log.block_hash,
                    "block_time": times[log.block_number],
                    "log_index": log.log_index,
                    "tx_hash": log.tx_hash,
                }
            )
    return rows


def _lock_checkpoint(session: Session, name: str, default: int) -> int:
    """The checkpoint's next block, locked; created at ``default`` the first time."""
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        upsert(ChainCheckpoint)
        .values(name=name, next_block=default, updated_at=utc_now())
        .on_conflict_do_nothing()
    )
    row = session.get(
        ChainCheckpoint, name, with_for_update=True, populate_existing=True
    )
    assert row is not None
    return row.next_block


def _set_checkpoint(session: Session, name: str, next_block: int) -> None:
    """Move the checkpoint to ``next_block``, back as well as forward (reorgs)."""
    session.execute(
        update(ChainCheckpoint)
        .where(ChainCheckpoint.name == name)
        .values(next_block=next_block, updated_at=utc_now())
    )


@dataclass
class IndexerThread:
    """The indexer running beside the service (``receivables serve``)."""

    indexer: ClaimIndexer
    poll_seconds: float = 1.0
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self._run, name="claims-indexer", daemon=True
        )
        self.thread.start()

    def _run(self) -> None:
        failures = 0
        while not self.stop_event.is_set():
            try:
                self.indexer.run_once()
                failures = 0
            except ChainError as err:
                failures += 1
                logger.warning(
                    "claims.index_failed error=%s failures=%d",
                    type(err).__name__,
                    failures,
                )
            except Exception:
                failures += 1
                logger.exception("claims.index_crashed failures=%d", failures)
            self.stop_event.wait(min(30.0, self.poll_seconds * 2 ** min(failures, 5)))

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
