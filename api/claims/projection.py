"""The claims projection: a claim's events folded into its row, holdings and offers.

Invariants:
    * :func:`rebuild_claim` is a pure fold over the claim's ``claim_events`` in chain
      order (block, log index): running it twice, or after the same log was inserted
      twice, gives the same rows. It never reads the chain.
    * The invoice's status follows the claim: ``confirmed`` (minted), ``financed``
      (units sold through an offer), ``partially_paid``, ``paid`` (repaid in full),
      ``closed`` (every unit redeemed). Each change is a timeline event with the
      chain event that caused it, and a notification.
    * The first sale of units is the moment of financing: the duplicate-financing
      check and the nullifier are ``mark_financed``'s. A sale made directly on chain
      that the service did not relay is recorded here; if the invoice is a duplicate
      of a financed one, that is logged as an error and put on the timeline, since
      the chain cannot be undone.
    * A reorg that removes events moves the invoice back (down to ``anchored`` when
      the confirmation itself is gone). A recorded financing and its published
      nullifier stay: they are promises not to finance the invoice elsewhere.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from api.claims import repository
from api.claims.models import Claim, ClaimEvent, OfferStatus
from api.documents import repository as documents
from api.documents.service import change_status, mark_financed
from api.errors import AlreadyFinancedError, InvalidTransitionError
from api.models import Document, DocumentStatus, FinancingSource, utc_now
from api.notifications.service import record_event
from registry.claims import ZERO_ADDRESS

logger = logging.getLogger(__name__)

FINANCEABLE_BEFORE_SALE = {
    DocumentStatus.ANCHORED,
    DocumentStatus.PENDING_CONFIRMATION,
    DocumentStatus.CONFIRMED,
    DocumentStatus.LISTED,
}
FOLLOWS_CHAIN = FINANCEABLE_BEFORE_SALE | {
    DocumentStatus.REGISTERED,
    DocumentStatus.REJECTED,
    DocumentStatus.EXPIRED,
    DocumentStatus.FINANCED,
    DocumentStatus.DUE,
    DocumentStatus.PARTIALLY_PAID,
    DocumentStatus.PAID,
    DocumentStatus.OVERDUE,
    DocumentStatus.DEFAULTED,
    DocumentStatus.CLOSED,
}
"""Statuses the chain may move an invoice out of (not cancelled, not disputed)."""


@dataclass
class _Fold:
    balances: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fills: dict[bytes, int] = field(default_factory=lambda: defaultdict(int))
    cancelled: set[tuple[str, int]] = field(default_factory=set)
    units_sold: int = 0
    repaid: int = 0
    paid_out: int = 0
    units_redeemed: int = 0
    closed: bool = False
    cause: str = ""


def _args(event: ClaimEvent) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(event.args)
    return loaded


def _where(event: ClaimEvent) -> str:
    return f"block {event.block_number}, tx 0x{event.tx_hash.hex()}"


def _fold(events: list[ClaimEvent]) -> _Fold:
    fold = _Fold()
    for event in events:
        args = _args(event)
        if event.name in ("TransferSingle", "TransferBatch"):
            value = int(args["value"])
            if args["from"] != ZERO_ADDRESS:
                fold.balances[args["from"]] -= value
            if args["to"] != ZERO_ADDRESS:
                fold.balances[args["to"]] += value
        elif event.name == "OfferFilled":
            fold.units_sold += int(args["units"])
            fold.fills[bytes.fromhex(args["offerHash"][2:])] += int(args["units"])
            fold.cause = (
                f"{args['units']} units sold for {args['price']} ({_where(event)})"
            )
        elif event.name == "OffersCancelled":
            fold.cancelled.add((args["seller"], int(args["nonce"])))
        elif event.name == "Repaid":
            fold.repaid = int(args["totalRepaid"])
            fold.cause = (
                f"repaid {args['amount']}, {args['totalRepaid']} in all "
                f"({_where(event)})"
            )
        elif event.name == "Redeemed":
            fold.paid_out += int(args["amount"])
            fold.units_redeemed += int(args["unitsBurnt"])
        elif event.name == "ClaimClosed":
            fold.closed = True
            fold.paid_out += int(args["dust"])
            fold.cause = f"every unit redeemed, claim closed ({_where(event)})"
    return fold


def claim_state(fold: _Fold, face_value: int) -> DocumentStatus:
    """The invoice status a claim's fold implies."""
    if fold.closed:
        return DocumentStatus.CLOSED
    if fold.repaid >= face_value:
        return DocumentStatus.PAID
    if fold.repaid > 0:
        return DocumentStatus.PARTIALLY_PAID
    if fold.units_sold > 0:
        return DocumentStatus.FINANCED
    return DocumentStatus.CONFIRMED


def rebuild_claim(session: Session, claim_id: bytes, *, reorg: bool = False) -> None:
    """Rebuild one claim's rows from its events and move its invoice to match."""
    events = repository.events(session, claim_id)
    confirmed = next((e for e in events if e.name == "ClaimConfirmed"), None)
    row = repository.lock_claim(session, claim_id)
    document_id = row.document_id if row else None
    if document_id is None:
        document = repository.document_by_root(session, claim_id)
        document_id = document.id if document else None

    if confirmed is None:
        if row is not None:
            repository.delete_claim(session, claim_id)
            logger.warning("claim.removed_by_reorg claim_id=0x%s", claim_id.hex())
        if document_id is not None:
            _follow(
                session,
                document_id,
                DocumentStatus.ANCHORED,
                "chain reorg: the confirmation was removed; confirm again",
            )
        return

    terms = _args(confirmed)
    fold = _fold(events)
    state = claim_state(fold, int(terms["faceValue"]))
    row = _upsert(session, row, claim_id, document_id, confirmed, terms, fold, state)
    repository.replace_holdings(session, claim_id, dict(fold.balances))
    _update_offers(session, claim_id, fold)
    session.flush()
    if document_id is None:
        return

    if fold.units_sold > 0:
        _finance(session, document_id, row)
    cause = fold.cause or f"confirmed by the obligor ({_where(confirmed)})"
    if reorg:
        cause = "chain reorg: " + cause
    _follow(session, document_id, state, cause)


def _upsert(
    session: Session,
    row: Claim | None,
    claim_id: bytes,
    document_id: uuid.UUID | None,
    confirmed: ClaimEvent,
    terms: dict[str, Any],
    fold: _Fold,
    state: DocumentStatus,
) -> Claim:
    if row is None:
        row = Claim(claim_id=claim_id)
        session.add(row)
    row.document_id = document_id
    row.seller, row.obligor = terms["seller"], terms["obligor"]
    row.currency = terms["currency"]
    row.face_value, row.due_date = int(terms["faceValue"]), int(terms["dueDate"])
    row.batch_root = bytes.fromhex(terms["batchRoot"][2:])
    row.units_sold, row.repaid = fold.units_sold, fold.repaid
    row.paid_out, row.units_redeemed = fold.paid_out, fold.units_redeemed
    row.state = state
    row.confirmed_block, row.confirmed_tx = confirmed.block_number, confirmed.tx_hash
    row.updated_at = utc_now()
    return row


def _update_offers(session: Session, claim_id: bytes, fold: _Fold) -> None:
    """Fills and statuses of the stored offers (one fill counter per seller nonce)."""
    offers = repository.offers_of_claim(session, claim_id)
    by_nonce: dict[tuple[str, int], int] = defaultdict(int)
    for offer in offers:
        offer.units_filled = fold.fills.get(offer.offer_hash, 0)
        by_nonce[(offer.seller, offer.nonce)] += offer.units_filled
    for offer in offers:
        group = (offer.seller, offer.nonce)
        sold_out = any(
            by_nonce[group] >= other.units
            for other in offers
            if (other.seller, other.nonce) == group
        )
        if offer.units_filled >= offer.units:
            offer.status = OfferStatus.FILLED
        elif group in fold.cancelled:
            offer.status = OfferStatus.CANCELLED
        elif sold_out or any(
            s == offer.seller and n > offer.nonce for s, n in by_nonce
        ):
            offer.status = OfferStatus.CLOSED
        else:
            offer.status = OfferStatus.OPEN


def _finance(session: Session, document_id: uuid.UUID, claim_row: Claim) -> None:
    """Record the financing of a sale the service did not relay (see module doc)."""
    if repository.financing_of_document(session, document_id) is not None:
        return
    document = session.get(Document, document_id)
    if document is None or document.status not in FINANCEABLE_BEFORE_SALE:
        return
    try:
        with session.begin_nested():
            mark_financed(session, document_id, source=FinancingSource.CLAIM_SALE)
    except (AlreadyFinancedError, InvalidTransitionError) as err:
        logger.error(
            "claim.sold_unfinanceable claim_id=0x%s document_id=%s error=%s",
            claim_row.claim_id.hex(),
            document_id,
            type(err).__name__,
        )
        documents.add_event(
            session,
            document_id,
            None,
            document.status,
            document.status,
            f"units sold on chain, but the invoice cannot be financed: {err}",
        )
        record_event(session, document_id)


def _follow(
    session: Session, document_id: uuid.UUID, to_status: DocumentStatus, reason: str
) -> None:
    document = documents.get_for_update(session, document_id)
    if document is None or document.status == to_status:
        return
    if document.status not in FOLLOWS_CHAIN:
        logger.warning(
            "claim.status_not_followed document_id=%s status=%s chain=%s",
            document_id,
            document.status,
            to_status,
        )
        return
    change_status(session, document, to_status, None, reason)
