"""Fixtures for the anchoring pipeline: a fresh anvil with a registry, a migrated
database (SQLite and PostgreSQL, from ``tests/api/conftest.py``), queued documents.

Each test gets its own anvil (about 0.2 s to start): the fault tests switch automine
off, reorganise blocks and drop transactions, which must not leak between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.anchoring.models import AnchorBatch, BatchStatus, ChainTransaction
from api.anchoring.service import BATCH_ANCHORED_TOPIC, AnchoringConfig
from api.anchoring.worker import Worker
from api.db import Database, create_db_engine, upgrade_database
from api.models import AnchorOutbox, Document, DocumentStatus, Party, PartyRole
from registry.anchoring import Anchorer
from registry.chain import ChainClient
from registry.devchain import ANVIL_KEYS, AnvilNode, start_anvil
from tests.api.conftest import make_settings


@dataclass
class Chain:
    """A fresh anvil, the registry deployed on it, and a client for test moves."""

    node: AnvilNode
    contract: str
    admin: ChainClient

    def rpc(self, method: str, *params: Any) -> Any:
        response = self.admin.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        assert "error" not in response, response
        return response.get("result")

    def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            self.rpc("evm_mine")

    def worker_client(self) -> ChainClient:
        return ChainClient.connect(self.node.rpc_url, ANVIL_KEYS[0])

    def anchored_roots(self) -> list[bytes]:
        """Batch roots of every BatchAnchored event, in chain order."""
        latest = self.admin.latest_block_number()
        logs = self.admin.logs(self.contract, BATCH_ANCHORED_TOPIC, 0, latest)
        return [log.topics[2] for log in logs]


@pytest.fixture
def chain() -> Iterator[Chain]:
    node = start_anvil()
    try:
        admin = ChainClient.connect(node.rpc_url, ANVIL_KEYS[0])
        contract = Anchorer.deploy(admin).registry_address
        yield Chain(node, contract, admin)
    finally:
        node.stop()


@pytest.fixture
def database(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """A migrated database, on SQLite and on PostgreSQL."""
    db = Database(create_db_engine(make_settings(database_url, tmp_path / "data")))
    upgrade_database(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(sqlite_url: str, tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database, for tests whose outcome storage does not change."""
    db = Database(create_db_engine(make_settings(sqlite_url, tmp_path / "data")))
    upgrade_database(db.engine)
    yield db
    db.dispose()


def queue_documents(database: Database, count: int) -> list[uuid.UUID]:
    """Register ``count`` documents the way the API does: document + outbox row."""
    ids = [uuid.uuid4() for _ in range(count)]
    with database.sessions() as session:
        seller = Party(role=PartyRole.SELLER, name="Seller", tax_id=f"T{uuid.uuid4()}")
        session.add(seller)
        session.flush()
        for number, document_id in enumerate(ids):
            root = os.urandom(32)
            session.add(
                Document(
                    id=document_id,
                    kind="invoice",
                    status=DocumentStatus.REGISTERED,
                    registered_by_party_id=seller.id,
                    seller_id=seller.id,
                    seller_tax_id=seller.tax_id or "",
                    buyer_tax_id="DE222",
                    number=f"INV-{number}",
                    issued_on=date(2025, 1, 15),
                    content_hash=os.urandom(32),
                    document_root=root,
                )
            )
            session.flush()
            session.add(AnchorOutbox(document_id=document_id, document_root=root))
        session.commit()
    return ids


def make_worker(
    database: Database, chain: Chain, *, max_batches: int = 8, **overrides: Any
) -> Worker:
    values: dict[str, Any] = {
        "contract": chain.contract,
        "batch_size": 4,
        "batch_age_seconds": 0.0,
        "confirmations": 2,
        "stuck_after_seconds": 3600.0,
        "rebroadcast_after_seconds": 3600.0,
    }
    values.update(overrides)
    return Worker(
        database,
        chain.worker_client(),
        AnchoringConfig(**values),
        max_batches_per_cycle=max_batches,
    )


def outbox_statuses(database: Database) -> dict[uuid.UUID, str]:
    with database.read_sessions() as session:
        rows = session.execute(select(AnchorOutbox.document_id, AnchorOutbox.status))
        return {row.document_id: row.status for row in rows}


def document_statuses(database: Database) -> dict[uuid.UUID, str]:
    with database.read_sessions() as session:
        rows = session.execute(select(Document.id, Document.status))
        return {row.id: row.status for row in rows}


def all_transactions(database: Database) -> list[ChainTransaction]:
    with database.read_sessions() as session:
        statement = select(ChainTransaction).order_by(ChainTransaction.nonce)
        return list(session.scalars(statement))


def all_batches(database: Database) -> list[AnchorBatch]:
    with database.read_sessions() as session:
        return list(session.scalars(select(AnchorBatch).order_by(AnchorBatch.id)))


def assert_anchored_exactly_once(database: Database, chain: Chain) -> None:
    """Every document final in exactly one final batch, each anchored once on chain,
    and the signer's nonces contiguous up to the chain's own count."""
    outbox = outbox_statuses(database)
    assert set(outbox.values()) == {"final"}, outbox
    assert set(document_statuses(database).values()) == {DocumentStatus.ANCHORED}

    final = [b for b in all_batches(database) if b.status == BatchStatus.FINAL]
    with database.read_sessions() as session:
        roots = list(session.scalars(select(AnchorOutbox.document_root)))
    in_batches = [root for batch in final for root in batch.roots()]
    assert sorted(in_batches) == sorted(roots)

    on_chain = chain.anchored_roots()
    assert sorted(on_chain) == sorted(b.batch_root for b in final)
    for batch in final:
        record = chain.admin.anchor_of(chain.contract, batch.batch_root)
        assert record is not None
        assert record.document_count == batch.size
        assert record.batch_id == batch.onchain_batch_id

    nonces = [tx.nonce for tx in all_transactions(database)]
    assert nonces == list(range(nonces[0], nonces[0] + len(nonces)))
    signer = chain.worker_client().signer
    assert signer is not None
    assert chain.admin.transaction_count(signer.address) == nonces[-1] + 1
