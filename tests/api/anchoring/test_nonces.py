"""Nonces from one key stay contiguous under concurrent allocation (16)."""

from __future__ import annotations

import threading

from api.anchoring.repository import allocate_nonce
from api.db import Database

SIGNER = "0x" + "11" * 20


def test_concurrent_allocations_never_reuse_or_skip_a_nonce(database: Database) -> None:
    taken: list[int] = []
    barrier = threading.Barrier(8)
    lock = threading.Lock()

    def allocate() -> None:
        barrier.wait()
        for _ in range(10):
            with database.sessions() as session:
                nonce = allocate_nonce(session, SIGNER, chain_next=5)
                session.commit()
            with lock:
                taken.append(nonce)

    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(taken) == list(range(5, 85))


def test_allocation_jumps_past_nonces_used_outside_the_database(
    database: Database,
) -> None:
    with database.sessions() as session:
        assert allocate_nonce(session, SIGNER, chain_next=0) == 0
        assert allocate_nonce(session, SIGNER, chain_next=7) == 7
        assert allocate_nonce(session, SIGNER, chain_next=3) == 8
        session.commit()


def test_a_rolled_back_allocation_gives_its_nonce_back(database: Database) -> None:
    with database.sessions() as session:
        allocate_nonce(session, SIGNER, chain_next=0)
        session.rollback()
    with database.sessions() as session:
        assert allocate_nonce(session, SIGNER, chain_next=0) == 0
