"""The anchoring worker: batch queued documents, send, watch receipts, settle.

Run it with ``python -m api.anchoring.worker --db URL --rpc URL --contract ADDR``
(signing key in ``--key`` or ``RECEIVABLES_ANCHOR_KEY``). Several may run against one
PostgreSQL database with one key: queue claims skip each other's locked rows and
nonces are handed out under a row lock (``api.anchoring.repository``).

Invariants (see docs/anchoring.md):
    * A transaction is signed and stored in the database transaction that claims its
      work; it is broadcast only after that commit. Nothing reaches the chain without
      a committed row; a crash after the commit is healed by sending the stored
      bytes (status ``built``) on the next cycle, by any worker.
    * A chain read never happens while a database write transaction is open, except
      for one ``nullifierPublishedAt`` on the rare retry of a failed publication.
    * A failing cycle (node down, database down) changes nothing half-way: each step
      is one database transaction. The loop retries with capped exponential backoff
      and jitter, forever, logging an error once the outage lasts.

Fault injection for the crash tests: ``RECEIVABLES_CRASH_AT`` = ``after_commit`` |
``after_broadcast`` | ``after_receipt`` makes the process exit at once (status 137,
as if killed) at that point. Unset in production.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType

from sqlalchemy import exc as sa_exc

from api.anchoring import repository, service
from api.anchoring.models import UNMINED, ChainTransaction, ChainTransactionStatus
from api.anchoring.reconciler import reconcile
from api.anchoring.service import AnchoringConfig, SigningContext
from api.anchoring.startup import check_chain
from api.db import Database, create_db_engine, upgrade_database
from api.models import utc_now
from api.settings import Settings
from registry.chain import ChainClient, ReceiptSummary
from registry.errors import ChainError, ConfigurationError

logger = logging.getLogger(__name__)

CRASH_ENV = "RECEIVABLES_CRASH_AT"
KEY_ENV = "RECEIVABLES_ANCHOR_KEY"
CRASHED_EXIT_CODE = 137


def crash_point(name: str) -> None:
    """Exit at once, like a killed process, when ``RECEIVABLES_CRASH_AT`` names this."""
    if os.environ.get(CRASH_ENV) == name:
        logging.shutdown()
        os._exit(CRASHED_EXIT_CODE)


@dataclass(frozen=True, slots=True)
class _Pending:
    """A snapshot of an unmined transaction, taken outside any write transaction."""

    id: int
    nonce: int
    tx_hash: bytes
    hashes: list[bytes]
    raw: bytes
    signed_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, tx: ChainTransaction) -> _Pending:
        return cls(
            tx.id,
            tx.nonce,
            tx.tx_hash,
            tx.all_hashes(),
            tx.raw,
            tx.signed_at,
            tx.sent_at,
        )


@dataclass(slots=True)
class CycleReport:
    """What one cycle did (counts of transactions)."""

    built: int = 0
    sent: int = 0
    receipts: int = 0
    dropped: int = 0
    replaced: int = 0
    settled: int = 0
    reconciled: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with jitter: ``base * 2**(n-1)``, at most ``cap``."""

    base: float = 0.5
    cap: float = 30.0

    def delay(self, failures: int, rng: Callable[[], float] = random.random) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** max(0, failures - 1))
        return float(ceiling * (0.5 + 0.5 * rng()))


class Worker:
    """One anchoring worker: one database, one chain client (one signing key)."""

    def __init__(
        self,
        database: Database,
        client: ChainClient,
        config: AnchoringConfig,
        *,
        max_batches_per_cycle: int = 8,
        start_block: int = 0,
    ) -> None:
        if client.signer is None:
            raise ConfigurationError("the anchoring worker needs a signing key")
        self.database = database
        self.client = client
        self.config = config
        self.signer = client.signer.address
        self.max_batches_per_cycle = max_batches_per_cycle
        self.start_block = start_block

    # -- one cycle -----------------------------------------------------------------

    def run_cycle(self) -> CycleReport:
        """Send stored bytes, apply receipts, settle, reconcile, then submit new work.

        Raises:
            ChainError: the node failed; whatever was committed stays consistent.
            sqlalchemy.exc.SQLAlchemyError: the database failed, likewise.
        """
        report = CycleReport()
        self._send_built(report)
        self._poll_receipts(report)
        self._settle(report)
        report.reconciled = reconcile(
            self.database,
            self.client,
            self.config.contract,
            start_block=self.start_block,
            block_range=self.config.log_range,
        ).batches_marked
        self._submit_batches(report)
        self._submit_nullifiers(report)
        return report

    def _unmined(self, status: str) -> list[_Pending]:
        with self.database.read_sessions() as session:
            txs = repository.transactions(session, self.signer, [status])
            return [_Pending.of(tx) for tx in txs]

    def _send(self, tx_id: int, tx_hash: bytes, raw: bytes) -> None:
        sent = self.client.send_raw(raw)
        crash_point("after_broadcast")
        with self.database.sessions() as session:
            service.record_broadcast(session, tx_id, tx_hash, sent, utc_now())
            session.commit()

    def _send_built(self, report: CycleReport) -> None:
        for tx in self._unmined(ChainTransactionStatus.BUILT):
            self._send(tx.id, tx.tx_hash, tx.raw)
            report.sent += 1

    def _poll_receipts(self, report: CycleReport) -> None:
        """Receipts of every unmined transaction, all its hashes, in one batch.

        The sender's mined-nonce count is read before the receipts: a nonce below it
        whose hashes all lack a receipt was taken by a transaction that is none of
        ours (dropped), never by one mined between the two reads.
        """
        pending = [tx for status in UNMINED for tx in self._unmined(status)]
        if not pending:
            return
        mined_count = self.client.transaction_count(self.signer, "latest")
        hashes = [h for tx in pending for h in tx.hashes]
        by_hash = dict(zip(hashes, self.client.receipts(hashes), strict=True))
        found: dict[int, ReceiptSummary] = {}
        for tx in pending:
            receipt = next((by_hash[h] for h in tx.hashes if by_hash[h]), None)
            if receipt is not None:
                found[tx.id] = receipt
        if found:
            crash_point("after_receipt")

        dropped = {t.id for t in pending if t.id not in found and t.nonce < mined_count}
        with self.database.sessions() as session:
            now = utc_now()
            for tx_id, receipt in found.items():
                service.record_receipt(session, tx_id, receipt, now)
            for tx_id in dropped:
                service.record_dropped(session, tx_id, now)
            session.commit()
        report.receipts += len(found)
        report.dropped += len(dropped)

        waiting = [t for t in pending if t.id not in found and t.id not in dropped]
        self._nudge(waiting, report)

    def _nudge(self, waiting: Sequence[_Pending], report: CycleReport) -> None:
        """Replace stuck transactions with higher fees; resend others now and then."""
        now = utc_now()
        for tx in waiting:
            age = (now - tx.signed_at).total_seconds()
            if age >= self.config.stuck_after_seconds:
                self._replace(tx, report)
            elif (
                tx.sent_at is None
                or (now - tx.sent_at).total_seconds()
                >= self.config.rebroadcast_after_seconds
            ):
                self._send(tx.id, tx.tx_hash, tx.raw)
                report.sent += 1

    def _replace(self, tx: _Pending, report: CycleReport) -> None:
        quote = self.client.fee_quote()
        with self.database.sessions() as session:
            replaced = service.replace_with_higher_fees(
                session, self.client, self.config, tx.id, tx.tx_hash, quote, utc_now()
            )
            session.commit()
        if replaced is not None:
            report.replaced += 1
            self._send(replaced.id, replaced.tx_hash, replaced.raw)
            report.sent += 1

    def _settle(self, report: CycleReport) -> None:
        """Final after the confirmations; back to broadcast if its block is gone."""
        with self.database.read_sessions() as session:
            mined = [
                (tx.id, tx.block_number)
                for tx in repository.transactions(
                    session, self.signer, [ChainTransactionStatus.MINED]
                )
            ]
        if not mined:
            return
        latest = self.client.latest_block_number()
        canonical = {
            number: self.client.block_hash(number)
            for number in {n for _, n in mined if n is not None}
        }
        with self.database.sessions() as session:
            now = utc_now()
            for tx_id, number in mined:
                service.settle_mined(
                    session,
                    tx_id,
                    canonical.get(number) if number is not None else None,
                    latest,
                    self.config.confirmations,
                    now,
                )
            session.commit()
        report.settled += len(mined)
        # A reorged transaction is broadcast again at once, with the same bytes.
        for tx in self._unmined(ChainTransactionStatus.BROADCAST):
            if tx.sent_at is None:
                self._send(tx.id, tx.tx_hash, tx.raw)
                report.sent += 1

    def _signing_context(self) -> SigningContext:
        max_fee, tip = self.client.fee_quote()
        return SigningContext(
            signer=self.signer,
            chain_next_nonce=self.client.transaction_count(self.signer, "pending"),
            max_fee_per_gas=max_fee,
            max_priority_fee_per_gas=tip,
        )

    def _submit_batches(self, report: CycleReport) -> None:
        for _ in range(self.max_batches_per_cycle):
            signing = self._signing_context()
            with self.database.sessions() as session:
                tx = service.build_anchor_transaction(
                    session, self.client, self.config, signing, utc_now()
                )
                if tx is None:
                    session.rollback()
                    return
                session.commit()
            report.built += 1
            crash_point("after_commit")
            self._send(tx.id, tx.tx_hash, tx.raw)
            report.sent += 1

    def _submit_nullifiers(self, report: CycleReport) -> None:
        signing = self._signing_context()
        with self.database.sessions() as session:
            built = service.build_nullifier_transactions(
                session, self.client, self.config, signing, utc_now()
            )
            session.commit()
        report.built += len(built)
        for tx in built:
            self._send(tx.id, tx.tx_hash, tx.raw)
            report.sent += 1

    # -- the loop ------------------------------------------------------------------

    def run(
        self,
        stop: threading.Event,
        *,
        poll_seconds: float = 1.0,
        backoff: Backoff | None = None,
        alert_after: int = 10,
        max_cycles: int | None = None,
    ) -> None:
        """Run cycles until ``stop`` is set; outages are retried with backoff."""
        backoff = backoff or Backoff()
        failures, cycles = 0, 0
        while not stop.is_set() and (max_cycles is None or cycles < max_cycles):
            cycles += 1
            try:
                self.run_cycle()
                failures, delay = 0, poll_seconds
            except (ChainError, sa_exc.OperationalError, sa_exc.InterfaceError) as err:
                failures += 1
                delay = backoff.delay(failures)
                log = logger.error if failures >= alert_after else logger.warning
                log(
                    "anchor.cycle_failed error=%s failures=%d retry_in=%.2f",
                    type(err).__name__,
                    failures,
                    delay,
                )
            except Exception:
                # A bug or an unforeseen state: keep the worker alive, loudly.
                failures += 1
                delay = backoff.delay(failures)
                logger.exception("anchor.cycle_crashed failures=%d", failures)
            stop.wait(delay)


# -- command line --------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m api.anchoring.worker", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--db", help="SQLAlchemy URL (default: the service's)")
    parser.add_argument("--rpc", required=True, help="EVM JSON-RPC endpoint")
    parser.add_argument("--contract", required=True, help="registry address")
    parser.add_argument("--key", help=f"signing key (default: ${KEY_ENV})")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--batch-age", type=float, default=10.0, help="seconds")
    parser.add_argument("--confirmations", type=int, default=12)
    parser.add_argument("--poll", type=float, default=1.0, help="seconds per cycle")
    parser.add_argument("--stuck-after", type=float, default=120.0, help="seconds")
    parser.add_argument("--once", action="store_true", help="run one cycle and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the worker until SIGTERM or SIGINT; 2 when the chain check refuses."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(process)d %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    key = args.key or os.environ.get(KEY_ENV)
    if not key:
        print(f"a signing key is needed: --key or ${KEY_ENV}", file=sys.stderr)
        return 2
    settings = Settings(database_url=args.db) if args.db else Settings()
    database = Database(create_db_engine(settings))
    try:
        upgrade_database(database.engine)
        client = ChainClient.connect(args.rpc, key)
        with database.sessions() as session:
            deployment = check_chain(session, client, args.contract)
            session.commit()
    except ConfigurationError as err:
        print(f"refusing to start: {err}", file=sys.stderr)
        database.dispose()
        return 2

    config = AnchoringConfig(
        contract=deployment.address,
        batch_size=args.batch_size,
        batch_age_seconds=args.batch_age,
        confirmations=args.confirmations,
        stuck_after_seconds=args.stuck_after,
    )
    worker = Worker(database, client, config, start_block=deployment.block_number)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    logger.info(
        "anchor.worker_started signer=%s contract=%s chain_id=%d",
        worker.signer,
        config.contract,
        deployment.chain_id,
    )
    worker.run(stop, poll_seconds=args.poll, max_cycles=1 if args.once else None)
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
