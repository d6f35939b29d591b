"""The reconciler catches up from BatchAnchored events (RELIABILITY 19)."""

from __future__ import annotations

from api.anchoring.models import BatchStatus, ChainTransactionStatus
from api.anchoring.reconciler import checkpoint_name, reconcile
from api.anchoring.repository import checkpoint
from api.anchoring.worker import CycleReport
from api.db import Database
from api.models import DocumentStatus
from tests.api.anchoring.conftest import (
    Chain,
    all_batches,
    all_transactions,
    assert_anchored_exactly_once,
    document_statuses,
    make_worker,
    queue_documents,
)


def test_reconciler_marks_a_mined_batch_the_database_missed_and_is_idempotent(
    database: Database, chain: Chain
) -> None:
    queue_documents(database, 3)
    worker = make_worker(database, chain, confirmations=1)
    report = CycleReport()
    worker._submit_batches(report)  # built, sent and mined; no receipt read yet
    assert report.built == 1
    [tx] = all_transactions(database)
    assert tx.status == ChainTransactionStatus.BROADCAST  # mined, but not recorded

    first = reconcile(database, worker.client, chain.contract, block_range=1)
    second = reconcile(database, worker.client, chain.contract, block_range=1)

    assert (first.events, first.batches_marked) == (1, 1)
    assert (second.events, second.batches_marked) == (0, 0)
    [batch] = all_batches(database)
    assert batch.status == BatchStatus.MINED
    assert batch.onchain_batch_id == 1
    assert set(document_statuses(database).values()) == {DocumentStatus.ANCHORED}
    with database.read_sessions() as session:
        saved = checkpoint(session, checkpoint_name(chain.contract))
    assert saved is not None
    assert saved.next_block == chain.admin.latest_block_number() + 1

    worker.run_cycle()  # the receipt, seen later, changes nothing more
    chain.mine(1)
    worker.run_cycle()
    assert_anchored_exactly_once(database, chain)


def test_reconciler_ignores_roots_it_does_not_know(
    sqlite_database: Database, chain: Chain
) -> None:
    registry = chain.admin.contract("ReceivableRegistry", chain.contract)
    chain.admin.wait(
        [
            chain.admin.send(
                registry.functions.anchorBatch(b"\x07" * 32, 1), gas=90_000, label="x"
            )
        ]
    )

    report = reconcile(sqlite_database, chain.admin, chain.contract)

    assert (report.events, report.batches_marked) == (1, 0)
