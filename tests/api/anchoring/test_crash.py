"""Kill a real worker process at each dangerous point; a restart anchors every
document exactly once (RELIABILITY 16-19).

The worker runs as ``python -m api.anchoring.worker`` against a real anvil and a real
database (a SQLite file, a PostgreSQL server). ``RECEIVABLES_CRASH_AT`` makes it exit
with status 137, as if killed, right after the commit that stored a signed
transaction (nothing sent yet), right after the broadcast (the database does not know
it was sent), or right after reading receipts (the database does not know it was
mined).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from api.anchoring.models import ChainTransactionStatus
from api.anchoring.worker import CRASH_ENV, CRASHED_EXIT_CODE, KEY_ENV
from api.db import Database, create_db_engine, upgrade_database
from registry.compiler import REPO_ROOT
from registry.devchain import ANVIL_KEYS
from tests.api.anchoring.conftest import (
    Chain,
    all_transactions,
    assert_anchored_exactly_once,
    outbox_statuses,
    queue_documents,
)
from tests.api.conftest import PostgresCluster, make_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _start_worker(
    database: Database, chain: Chain, log: Path, crash_at: str | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, KEY_ENV: ANVIL_KEYS[0]}
    env.pop(CRASH_ENV, None)
    if crash_at is not None:
        env[CRASH_ENV] = crash_at
    command = [
        sys.executable,
        "-m",
        "api.anchoring.worker",
        "--db",
        database.engine.url.render_as_string(hide_password=False),
        "--rpc",
        chain.node.rpc_url,
        "--contract",
        chain.contract,
        "--batch-size",
        "4",
        "--batch-age",
        "0.05",
        "--confirmations",
        "2",
        "--poll",
        "0.05",
    ]
    with log.open("ab") as stderr:
        return subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def _exit_code(process: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return _exit_code(process)


def _wait_until_final(
    database: Database,
    chain: Chain,
    processes: list[subprocess.Popen[bytes]],
    log: Path,
    timeout: float = 60.0,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if set(outbox_statuses(database).values()) == {"final"}:
            return
        for process in processes:
            assert process.poll() is None, log.read_text()[-3000:]
        chain.mine(1)
        time.sleep(0.1)
    raise AssertionError(f"not final in {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.mark.parametrize(
    ("crash_at", "stored", "anchored_before_restart"),
    [
        ("after_commit", ChainTransactionStatus.BUILT, 0),
        ("after_broadcast", ChainTransactionStatus.BUILT, 1),
        ("after_receipt", ChainTransactionStatus.BROADCAST, 2),
    ],
)
def test_worker_killed_at_a_crash_point_anchors_everything_once_after_restart(
    database: Database,
    chain: Chain,
    tmp_path: Path,
    crash_at: str,
    stored: str,
    anchored_before_restart: int,
) -> None:
    queue_documents(database, 6)
    log = tmp_path / "worker.log"

    crashed = _start_worker(database, chain, log, crash_at)
    assert _exit_code(crashed) == CRASHED_EXIT_CODE, log.read_text()[-3000:]

    assert {tx.status for tx in all_transactions(database)} == {stored}
    assert len(chain.anchored_roots()) == anchored_before_restart

    restarted = _start_worker(database, chain, log)
    _wait_until_final(database, chain, [restarted], log)
    assert _stop(restarted) == 0

    assert_anchored_exactly_once(database, chain)


def test_two_workers_sharing_one_postgresql_queue_anchor_each_document_once(
    postgres_cluster: PostgresCluster, chain: Chain, tmp_path: Path
) -> None:
    settings = make_settings(postgres_cluster.create_database(), tmp_path / "data")
    database = Database(create_db_engine(settings))
    upgrade_database(database.engine)
    log = tmp_path / "workers.log"
    queue_documents(database, 40)

    workers = [_start_worker(database, chain, log) for _ in range(2)]
    try:
        for _ in range(4):  # more documents arrive while both workers run
            time.sleep(0.2)
            queue_documents(database, 20)
        _wait_until_final(database, chain, workers, log)
    finally:
        codes = [_stop(worker) for worker in workers]

    assert codes == [0, 0]
    assert len(outbox_statuses(database)) == 120
    assert_anchored_exactly_once(database, chain)
    database.dispose()
