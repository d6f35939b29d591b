"""Queries of the claims projection and the offers book. Nothing here commits.

Locking follows ``api.anchoring.repository``: ``FOR UPDATE`` on PostgreSQL; on SQLite
every write transaction is ``BEGIN IMMEDIATE`` and so already serial.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, exists, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.claims.models import (
    ChainBlockHash,
    Claim,
    ClaimEvent,
    ClaimHolding,
    ClaimOffer,
    OfferStatus,
)
from api.models import AnchorOutbox, Document, Financing, Party

# -- claims ----------------------------------------------------------------------


def claim(session: Session, claim_id: bytes) -> Claim | None:
    return session.get(Claim, claim_id)


def claim_by_document(session: Session, document_id: uuid.UUID) -> Claim | None:
    statement = select(Claim).where(Claim.document_id == document_id)
    return session.scalars(statement).one_or_none()


def holdings(session: Session, claim_id: bytes) -> list[ClaimHolding]:
    statement = (
        select(ClaimHolding)
        .where(ClaimHolding.claim_id == claim_id)
        .order_by(ClaimHolding.units.desc(), ClaimHolding.holder)
    )
    return list(session.scalars(statement))


def units_of(session: Session, claim_id: bytes, holder: str) -> int:
    row = session.get(ClaimHolding, (claim_id, holder))
    return row.units if row else 0


def claims_of(session: Session, address: str, limit: int) -> list[Claim]:
    """Claims ``address`` holds units of, sold, or owes; newest first."""
    held = exists().where(
        ClaimHolding.claim_id == Claim.claim_id, ClaimHolding.holder == address
    )
    statement = (
        select(Claim)
        .where(or_(held, Claim.seller == address, Claim.obligor == address))
        .order_by(Claim.confirmed_block.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def is_involved(session: Session, claim_row: Claim, address: str | None) -> bool:
    """Whether ``address`` is the claim's seller, obligor, or a holder (ever)."""
    if address is None:
        return False
    if address in (claim_row.seller, claim_row.obligor):
        return True
    if units_of(session, claim_row.claim_id, address):
        return True
    statement = select(ClaimOffer.id).where(
        ClaimOffer.claim_id == claim_row.claim_id,
        or_(ClaimOffer.seller == address, ClaimOffer.buyer == address),
    )
    return session.scalars(statement.limit(1)).first() is not None


def events(session: Session, claim_id: bytes) -> list[ClaimEvent]:
    statement = (
        select(ClaimEvent)
        .where(ClaimEvent.claim_id == claim_id)
        .order_by(ClaimEvent.block_number, ClaimEvent.log_index, ClaimEvent.id)
    )
    return list(session.scalars(statement))


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert event rows; one already there (same block hash and log) is skipped."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(upsert(ClaimEvent).values(list(rows)).on_conflict_do_nothing())


def delete_events_from(session: Session, block_number: int) -> set[bytes]:
    """Delete events at or above ``block_number``; returns the claims they touched."""
    touched = set(
        session.scalars(
            select(ClaimEvent.claim_id)
            .where(ClaimEvent.block_number >= block_number)
            .distinct()
        )
    )
    session.execute(delete(ClaimEvent).where(ClaimEvent.block_number >= block_number))
    return touched


def lock_claim(session: Session, claim_id: bytes) -> Claim | None:
    statement = (
        select(Claim)
        .where(Claim.claim_id == claim_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(statement).one_or_none()


def replace_holdings(
    session: Session, claim_id: bytes, balances: dict[str, int]
) -> None:
    session.execute(delete(ClaimHolding).where(ClaimHolding.claim_id == claim_id))
    for holder, units in sorted(balances.items()):
        if units:
            session.add(ClaimHolding(claim_id=claim_id, holder=holder, units=units))


def delete_claim(session: Session, claim_id: bytes) -> None:
    session.execute(delete(ClaimHolding).where(ClaimHolding.claim_id == claim_id))
    session.execute(delete(Claim).where(Claim.claim_id == claim_id))


# -- documents and parties ---------------------------------------------------------


def document_by_root(session: Session, document_root: bytes) -> Document | None:
    statement = (
        select(Document)
        .where(Document.document_root == document_root)
        .order_by(Document.created_at)
    )
    return session.scalars(statement.limit(1)).first()


def anchor_of(session: Session, document_id: uuid.UUID) -> AnchorOutbox | None:
    statement = select(AnchorOutbox).where(AnchorOutbox.document_id == document_id)
    return session.scalars(statement).one_or_none()


def party_by_address(session: Session, address: str) -> Party | None:
    statement = select(Party).where(Party.eth_address == address)
    return session.scalars(statement).one_or_none()


def party_by_tax_id(session: Session, role: str, tax_id: str) -> Party | None:
    statement = select(Party).where(Party.role == role, Party.tax_id == tax_id)
    return session.scalars(statement).one_or_none()


def financing_of_document(session: Session, document_id: uuid.UUID) -> Financing | None:
    statement = select(Financing).where(Financing.document_id == document_id)
    return session.scalars(statement).one_or_none()


def lock_fingerprint(session: Session, fingerprint: bytes) -> None:
    """Serialise financings of one invoice identity until the transaction ends.

    PostgreSQL: a transaction-level advisory lock keyed by the fingerprint (two
    duplicate invoices are different rows, so no row lock covers both). SQLite:
    nothing to do, write transactions are serial.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(fingerprint[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


# -- offers ------------------------------------------------------------------------


def offers_of_claim(session: Session, claim_id: bytes) -> list[ClaimOffer]:
    statement = (
        select(ClaimOffer)
        .where(ClaimOffer.claim_id == claim_id)
        .order_by(ClaimOffer.created_at, ClaimOffer.id)
    )
    return list(session.scalars(statement))


def open_offers(session: Session, limit: int) -> list[ClaimOffer]:
    statement = (
        select(ClaimOffer)
        .where(ClaimOffer.status == OfferStatus.OPEN)
        .order_by(ClaimOffer.created_at.desc(), ClaimOffer.id)
        .limit(limit)
    )
    return list(session.scalars(statement))


def offer(session: Session, offer_id: uuid.UUID) -> ClaimOffer | None:
    return session.get(ClaimOffer, offer_id)


def offer_by_hash(session: Session, offer_hash: bytes) -> ClaimOffer | None:
    statement = select(ClaimOffer).where(ClaimOffer.offer_hash == offer_hash)
    return session.scalars(statement).one_or_none()


# -- block hashes ------------------------------------------------------------------


def remembered_blocks(session: Session, scan: str, limit: int) -> list[ChainBlockHash]:
    """The newest remembered block hashes of a scan, newest first."""
    statement = (
        select(ChainBlockHash)
        .where(ChainBlockHash.scan == scan)
        .order_by(ChainBlockHash.block_number.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def remember_blocks(
    session: Session, scan: str, hashes: Iterable[tuple[int, bytes]], keep: int
) -> None:
    """Remember block hashes (replacing older ones of the same number); prune old."""
    newest = 0
    for number, block_hash in hashes:
        session.merge(
            ChainBlockHash(scan=scan, block_number=number, block_hash=block_hash)
        )
        newest = max(newest, number)
    if newest:
        session.execute(
            delete(ChainBlockHash).where(
                ChainBlockHash.scan == scan,
                ChainBlockHash.block_number < newest - keep,
            )
        )


def forget_blocks_from(session: Session, scan: str, block_number: int) -> None:
    session.execute(
        delete(ChainBlockHash).where(
            ChainBlockHash.scan == scan, ChainBlockHash.block_number >= block_number
        )
    )
