"""Catch up with the chain from its events: the registry's ``BatchAnchored`` logs.

Receipt polling is the worker's usual way to learn that a batch was mined. The
reconciler is the second way, for when that knowledge was lost: a worker killed after
the receipt and before the database update, a database restored from a backup, a
transaction replaced by one whose hash was never saved. It scans the registry's logs
from a checkpoint in small block ranges, and marks every batch whose root it finds as
mined, exactly as a receipt would (``service.record_anchor_event``).

Invariants:
    * Idempotent: a batch already mined or final is left alone, so scanning a range
      twice, or two workers scanning at once, changes nothing more.
    * The checkpoint (``chain_checkpoints``) only moves forward, one range at a time,
      committed with what that range found; a crash rescans at most one range.
    * A log from a block a reorg later removes is corrected like any mined batch: the
      worker's block-hash check sends it back to ``broadcast``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from api.anchoring import repository, service
from api.anchoring.service import BATCH_ANCHORED_TOPIC
from api.db import Database
from api.models import utc_now
from registry.chain import ChainClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What one reconciliation pass did."""

    from_block: int
    to_block: int
    events: int
    batches_marked: int


def checkpoint_name(contract: str) -> str:
    """The checkpoint key of the BatchAnchored scan of one registry contract."""
    return f"batch_anchored:{contract.lower()}"


def reconcile(
    database: Database,
    client: ChainClient,
    contract: str,
    *,
    start_block: int = 0,
    block_range: int = 500,
    max_ranges: int = 20,
) -> ReconcileReport:
    """Scan ``BatchAnchored`` logs since the checkpoint; mark found batches mined.

    Args:
        start_block: where to start when no checkpoint exists yet (the deployment).
        block_range: blocks per ``eth_getLogs`` request.
        max_ranges: ranges per call, so one call never runs long; call again.
    """
    name = checkpoint_name(contract)
    with database.read_sessions() as session:
        saved = repository.checkpoint(session, name)
        first = saved.next_block if saved is not None else start_block
    latest = client.latest_block_number()

    start, events, marked = first, 0, 0
    for _ in range(max_ranges):
        if start > latest:
            break
        end = min(start + block_range - 1, latest)
        logs = client.logs(contract, BATCH_ANCHORED_TOPIC, start, end)
        with database.sessions() as session:
            now = utc_now()
            for log in logs:
                changed = service.record_anchor_event(
                    session,
                    batch_root=log.topics[2],
                    onchain_batch_id=int.from_bytes(log.topics[1], "big"),
                    block_number=log.block_number,
                    block_hash=log.block_hash,
                    tx_hash=log.tx_hash,
                    now=now,
                )
                marked += int(changed)
            repository.save_checkpoint(session, name, end + 1)
            session.commit()
        events += len(logs)
        start = end + 1

    if marked:
        logger.info(
            "anchor.reconciled from_block=%d to_block=%d events=%d marked=%d",
            first,
            start - 1,
            events,
            marked,
        )
    return ReconcileReport(first, start - 1, events, marked)
