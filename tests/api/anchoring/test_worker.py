"""The anchoring worker against a real anvil node (RELIABILITY 16, 21-24)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from web3 import Web3

from api.anchoring.models import (
    AnchorBatch,
    BatchStatus,
    ChainTransactionStatus,
    NullifierPublication,
    NullifierStatus,
)
from api.anchoring.service import enqueue_nullifier
from api.anchoring.worker import Backoff
from api.db import Database
from api.models import AnchorOutbox, DocumentEvent, DocumentStatus
from registry.errors import ChainUnavailableError
from tests.api.anchoring.conftest import (
    Chain,
    all_batches,
    all_transactions,
    assert_anchored_exactly_once,
    document_statuses,
    make_worker,
    outbox_statuses,
    queue_documents,
)


def test_queued_documents_are_anchored_once_and_final_only_after_confirmations(
    database: Database, chain: Chain
) -> None:
    documents = queue_documents(database, 6)
    worker = make_worker(database, chain, batch_size=4, confirmations=3)

    worker.run_cycle()  # two batches (4 + 2) built, committed, then broadcast
    worker.run_cycle()  # receipts: mined, one block of confirmation each

    assert set(outbox_statuses(database).values()) == {"anchored"}
    assert set(document_statuses(database).values()) == {DocumentStatus.ANCHORED}
    assert [b.size for b in all_batches(database)] == [4, 2]
    assert [b.status for b in all_batches(database)] == [BatchStatus.MINED] * 2
    chain.mine(1)
    worker.run_cycle()  # the first batch has 3 confirmations, the second 2
    assert [b.status for b in all_batches(database)] == [
        BatchStatus.FINAL,
        BatchStatus.MINED,
    ]

    chain.mine(1)
    worker.run_cycle()

    assert_anchored_exactly_once(database, chain)
    with database.read_sessions() as session:
        events = session.scalars(
            select(DocumentEvent).where(DocumentEvent.document_id == documents[0])
        ).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        (DocumentStatus.REGISTERED, DocumentStatus.ANCHORED)
    ]
    assert events[0].actor_party_id is None
    assert "batch 1" in (events[0].reason or "")


def test_a_small_batch_waits_until_its_oldest_document_is_batch_age_old(
    sqlite_database: Database, chain: Chain
) -> None:
    queue_documents(sqlite_database, 2)
    worker = make_worker(sqlite_database, chain, batch_size=10, batch_age_seconds=0.3)

    worker.run_cycle()
    assert all_batches(sqlite_database) == []

    time.sleep(0.3)
    worker.run_cycle()
    assert [b.size for b in all_batches(sqlite_database)] == [2]


def test_batch_that_runs_out_of_gas_is_failed_never_anchored_and_rebatched(
    database: Database, chain: Chain
) -> None:
    documents = queue_documents(database, 3)
    starved = make_worker(database, chain, anchor_gas=30_000)
    observer = make_worker(database, chain, max_batches=0)

    starved.run_cycle()
    observer.run_cycle()

    [failed] = all_batches(database)
    assert failed.status == BatchStatus.FAILED
    assert chain.admin.anchor_of(chain.contract, failed.batch_root) is None
    assert set(outbox_statuses(database).values()) == {"pending"}
    assert set(document_statuses(database).values()) == {DocumentStatus.REGISTERED}
    [tx] = all_transactions(database)
    assert tx.status == ChainTransactionStatus.FAILED

    worker = make_worker(database, chain, confirmations=1)
    for _ in range(3):
        worker.run_cycle()

    with database.read_sessions() as session:
        attempts = session.scalars(select(AnchorOutbox.attempts)).all()
    assert set(attempts) == {2}
    live = [b for b in all_batches(database) if b.status != BatchStatus.FAILED]
    assert live[0].batch_root == failed.batch_root  # same documents, same root
    assert set(document_statuses(database)) == set(documents)
    # the failed transaction used a nonce too: nonces stay contiguous
    assert_anchored_exactly_once(database, chain)


def test_reorg_sends_documents_back_to_registered_and_anchors_them_again(
    database: Database, chain: Chain
) -> None:
    documents = queue_documents(database, 2)
    worker = make_worker(database, chain, confirmations=3)
    worker.run_cycle()
    worker.run_cycle()
    [mined] = all_transactions(database)
    assert mined.status == ChainTransactionStatus.MINED

    chain.rpc("anvil_reorg", 1, [])  # the anchor's block is replaced by an empty one
    # The block hash differs: documents back to registered, the same bytes sent
    # again (automine mines them at once), and the reconciler sees the new event.
    worker.run_cycle()

    [again] = all_transactions(database)
    assert again.nonce == mined.nonce
    assert again.tx_hash == mined.tx_hash
    assert again.block_number == (mined.block_number or 0) + 1
    assert again.status == ChainTransactionStatus.MINED

    chain.mine(2)
    worker.run_cycle()

    assert_anchored_exactly_once(database, chain)
    with database.read_sessions() as session:
        events = session.scalars(
            select(DocumentEvent).where(DocumentEvent.document_id == documents[0])
        ).all()
    assert [e.to_status for e in events] == [
        DocumentStatus.ANCHORED,
        DocumentStatus.REGISTERED,
        DocumentStatus.ANCHORED,
    ]
    assert "reorg" in (events[1].reason or "")


def test_stuck_transaction_is_replaced_with_higher_fees_and_the_same_nonce(
    sqlite_database: Database, chain: Chain
) -> None:
    queue_documents(sqlite_database, 2)
    chain.rpc("evm_setAutomine", False)
    worker = make_worker(sqlite_database, chain, stuck_after_seconds=0.0)
    worker.run_cycle()
    [first] = all_transactions(sqlite_database)

    worker.run_cycle()  # no receipt and older than stuck_after: re-signed, resent

    [replaced] = all_transactions(sqlite_database)
    assert replaced.nonce == first.nonce
    assert replaced.tx_hash != first.tx_hash
    assert replaced.all_hashes() == [replaced.tx_hash, first.tx_hash]
    assert replaced.max_fee_per_gas * 8 >= first.max_fee_per_gas * 9
    assert replaced.max_priority_fee_per_gas * 8 >= first.max_priority_fee_per_gas * 9

    chain.rpc("evm_setAutomine", True)
    chain.mine(1)
    worker.run_cycle()
    chain.mine(1)
    worker.run_cycle()

    [tx] = all_transactions(sqlite_database)
    assert tx.mined_hash == replaced.tx_hash
    assert_anchored_exactly_once(sqlite_database, chain)


def test_transaction_whose_nonce_was_taken_elsewhere_is_dropped_and_rebatched(
    sqlite_database: Database, chain: Chain
) -> None:
    queue_documents(sqlite_database, 2)
    chain.rpc("evm_setAutomine", False)
    worker = make_worker(sqlite_database, chain)
    worker.run_cycle()
    [lost] = all_transactions(sqlite_database)
    chain.rpc("anvil_dropTransaction", "0x" + lost.tx_hash.hex())
    other = chain.worker_client()  # same key, outside the pipeline
    other.transfer_ether("0x" + "22" * 20, 1)
    chain.rpc("evm_setAutomine", True)
    chain.mine(1)

    worker.run_cycle()  # nonce used, none of its hashes mined: dropped, re-queued
    assert all_transactions(sqlite_database)[0].status == ChainTransactionStatus.DROPPED
    worker.run_cycle()
    chain.mine(1)
    worker.run_cycle()

    [dropped, live] = all_batches(sqlite_database)
    assert dropped.status == BatchStatus.DROPPED
    assert live.status == BatchStatus.FINAL
    assert chain.anchored_roots() == [live.batch_root]
    assert set(outbox_statuses(sqlite_database).values()) == {"final"}
    # The transfer made outside the pipeline took lost.nonce; the new batch the next.
    assert [tx.nonce for tx in all_transactions(sqlite_database)] == [
        lost.nonce,
        lost.nonce + 1,
    ]


def test_node_outage_changes_nothing_and_the_worker_keeps_retrying(
    sqlite_database: Database, chain: Chain
) -> None:
    queue_documents(sqlite_database, 2)
    worker = make_worker(sqlite_database, chain, confirmations=1)
    healthy = worker.client.w3.provider
    worker.client.w3.provider = Web3.HTTPProvider(
        "http://127.0.0.1:9", exception_retry_configuration=None
    )

    with pytest.raises(ChainUnavailableError):
        worker.run_cycle()
    assert all_transactions(sqlite_database) == []
    assert set(outbox_statuses(sqlite_database).values()) == {"pending"}
    started = time.monotonic()
    worker.run(threading.Event(), backoff=Backoff(base=0.01, cap=0.05), max_cycles=4)
    assert time.monotonic() - started < 2.0

    worker.client.w3.provider = healthy
    for _ in range(3):
        worker.run_cycle()
    assert_anchored_exactly_once(sqlite_database, chain)


def test_backoff_grows_exponentially_up_to_its_cap_with_jitter() -> None:
    backoff = Backoff(base=0.5, cap=4.0)

    ceilings = [backoff.delay(n, rng=lambda: 1.0) for n in range(1, 7)]
    floors = [backoff.delay(n, rng=lambda: 0.0) for n in range(1, 7)]

    assert ceilings == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert floors == [c / 2 for c in ceilings]


def test_nullifier_is_published_once_through_the_nonce_pipeline(
    database: Database, chain: Chain
) -> None:
    nullifier = bytes.fromhex("ab" * 32)
    with database.sessions() as session:
        enqueue_nullifier(session, nullifier)
        enqueue_nullifier(session, nullifier)
        session.commit()
    worker = make_worker(database, chain, confirmations=1)

    worker.run_cycle()
    worker.run_cycle()

    with database.read_sessions() as session:
        [publication] = session.scalars(select(NullifierPublication)).all()
    assert publication.status == NullifierStatus.FINAL
    registry = chain.admin.contract("ReceivableRegistry", chain.contract)
    assert chain.admin.read(registry.functions.nullifierPublishedAt(nullifier)) > 0
    [tx] = all_transactions(database)
    assert tx.kind == "publish_nullifier"


def test_enqueue_nullifier_refuses_a_zero_or_short_value(
    sqlite_database: Database,
) -> None:
    with sqlite_database.sessions() as session:
        with pytest.raises(ValueError, match="32 bytes"):
            enqueue_nullifier(session, bytes(32))
        with pytest.raises(ValueError, match="32 bytes"):
            enqueue_nullifier(session, b"\x01" * 31)


def test_at_most_one_live_batch_per_root(database: Database, chain: Chain) -> None:
    queue_documents(database, 1)
    make_worker(database, chain, anchor_gas=30_000).run_cycle()
    make_worker(database, chain, max_batches=0).run_cycle()
    [failed] = all_batches(database)

    with database.sessions() as session:
        session.execute(update(AnchorBatch).values(status=BatchStatus.SUBMITTED))
        session.commit()
    worker = make_worker(database, chain)
    with pytest.raises(IntegrityError):
        worker.run_cycle()
    assert len(all_batches(database)) == 1
    assert failed.batch_root == all_batches(database)[0].batch_root
