"""Buyer confirmation and rejection, claim views, and the offers book.

The platform relays; it never signs for a party. A confirmation is the buyer's own
EIP-712 signature: the API checks it as the contract will (domain, terms, deadline,
signer, low-s, nonce) and refuses before relaying anything; the contract checks it
again. Offers are the holder's own signatures, stored as signed.

Services do not hold a request's transaction: a relay must not keep a database
write open while it waits for the chain (SQLite has one writer), so each function
opens the short transactions it needs and runs the indexer after the chain answered.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy.orm import Session

from api.anchoring.models import AnchorBatch
from api.auth.service import Caller
from api.claims import repository
from api.claims.errors import (
    ClaimNotFoundError,
    NoAddressError,
    RelayRefusedError,
    SignedMessageRejectedError,
    StaleNonceError,
)
from api.claims.indexer import ClaimIndexer
from api.claims.models import Claim, ClaimOffer, OfferStatus
from api.claims.runtime import ClaimsRuntime
from api.claims.schemas import (
    ClaimEventOut,
    ClaimHistory,
    ClaimList,
    ClaimOut,
    ConfirmationTypedData,
    CreditOut,
    HoldingOut,
    OfferCreate,
    OfferDraftOut,
    OfferDraftRequest,
    OfferList,
    OfferOut,
    QuoteOut,
    SignedMessage,
    claim_id_bytes,
)
from api.credit.service import CreditService, decide_claim
from api.db import Database
from api.documents import repository as documents
from api.documents.service import change_status
from api.errors import (
    ConflictError,
    DocumentNotFoundError,
    FieldProblem,
    ForbiddenError,
    InvalidTransitionError,
    UnprocessableError,
)
from api.evidence.service import ANCHORED_STATES, NotAnchoredYetError
from api.models import Document, DocumentKind, DocumentStatus, Party, PartyRole
from registry.claims import (
    ZERO_ADDRESS,
    Confirmation,
    Offer,
    chain_time,
    parse_typed_data,
    price_for,
    quote,
    rate_from_decimal,
    rate_to_decimal,
    recover_signer,
    typed_data,
    typed_data_digest,
)
from registry.credit.model import Band
from registry.errors import TransactionRevertedError
from registry.merkle import build_batch

logger = logging.getLogger(__name__)

CONFIRMATION_VALIDITY_SECONDS = 86_400
CONFIRMABLE = {DocumentStatus.ANCHORED, DocumentStatus.PENDING_CONFIRMATION}
REJECTABLE = {
    DocumentStatus.REGISTERED,
    DocumentStatus.ANCHORED,
    DocumentStatus.PENDING_CONFIRMATION,
}


@dataclass
class ClaimsContext:
    """What the claims routes need: the chain side, the database, the indexer."""

    runtime: ClaimsRuntime
    database: Database
    indexer: ClaimIndexer
    currency_code: str = "EUR"
    """The ISO 4217 code the settlement token stands for (2 decimals: minor units)."""
    credit: CreditService | None = None
    """Grades invoices offered for financing (issue 5); None serves offers ungraded."""


class CreditDeclinedError(ConflictError):
    """The invoice's credit decision is *decline*: it may not be offered for sale."""

    slug = "credit-declined"
    title = "Credit declined"

    def __init__(self, document_id: uuid.UUID, reasons: list[str]) -> None:
        super().__init__(
            f"invoice {document_id} is declined for financing: " + "; ".join(reasons),
            extensions={"document_id": str(document_id), "reasons": reasons},
        )


def credit_of(
    context: ClaimsContext, session: Session, document_id: uuid.UUID | None
) -> CreditOut | None:
    """The credit decision of a claim's invoice, as funders see it (None: ungraded)."""
    if context.credit is None or document_id is None:
        return None
    try:
        decision = decide_claim(session, document_id, context.credit)
    except DocumentNotFoundError:
        return None
    return CreditOut(
        band=decision.band.value,
        grade=decision.grade,
        discount_rate_bps=decision.discount_rate_bps,
        reasons=[reason.message for reason in decision.reasons],
    )


def address_of(caller: Caller, session: Session) -> str:
    """The caller's Ethereum address (checksummed), or 422."""
    party = session.get(Party, caller.id)
    if party is None or party.eth_address is None:
        raise NoAddressError()
    return party.eth_address


# -- confirmation ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Invoice:
    document_id: uuid.UUID
    document_root: bytes
    batch_root: bytes
    proof: list[bytes]
    seller: str
    obligor: str
    face_value: int
    due_date: int


def _invoice(session: Session, caller: Caller, document_id: uuid.UUID) -> _Invoice:
    """An anchored invoice addressed to the calling buyer, ready to confirm."""
    if caller.role is not PartyRole.BUYER:
        raise ForbiddenError("only the invoice's buyer confirms or rejects it")
    document = documents.get_visible(session, caller, document_id)
    if document is None or document.kind != DocumentKind.INVOICE:
        raise DocumentNotFoundError(document_id)
    if document.status not in CONFIRMABLE:
        raise InvalidTransitionError(document.id, document.status, "confirm")
    outbox = repository.anchor_of(session, document_id)
    batch = (
        session.get(AnchorBatch, outbox.batch_id)
        if outbox is not None and outbox.batch_id is not None
        else None
    )
    if outbox is None or outbox.status not in ANCHORED_STATES or batch is None:
        raise NotAnchoredYetError(document_id, outbox.status if outbox else None)
    assert document.document_root is not None
    return _Invoice(
        document_id=document.id,
        document_root=document.document_root,
        batch_root=batch.batch_root,
        proof=build_batch(batch.roots()).proof(document.document_root),
        seller=_seller_address(session, document),
        obligor=address_of(caller, session),
        face_value=_face_value(document),
        due_date=_due_date(document),
    )


def _seller_address(session: Session, document: Document) -> str:
    seller = session.get(Party, document.seller_id) if document.seller_id else None
    if seller is None or seller.eth_address is None:
        raise UnprocessableError(
            "the invoice's seller is not onboarded with an Ethereum address",
            errors=[FieldProblem("/seller", "no address")],
        )
    return seller.eth_address


def _face_value(document: Document) -> int:
    if not document.total_minor:
        raise UnprocessableError(
            "the invoice has no total", errors=[FieldProblem("/total_minor", "missing")]
        )
    return document.total_minor


def _due_date(document: Document) -> int:
    if document.due_on is None:
        raise UnprocessableError(
            "the invoice has no due date", errors=[FieldProblem("/due_on", "missing")]
        )
    return int(datetime.combine(document.due_on, time(0), UTC).timestamp())


def _check_currency(context: ClaimsContext, document: Document | None) -> None:
    if document is not None and document.currency != context.currency_code:
        raise UnprocessableError(
            f"claims settle in {context.currency_code}, the invoice is in "
            f"{document.currency}",
            errors=[FieldProblem("/currency", "not settled here")],
        )


def _ensure_on_chain(context: ClaimsContext, address: str, signer: str) -> None:
    """Register a party on the claim token (lazily, with the operator key)."""
    runtime = context.runtime
    with runtime.lock:
        registered = runtime.claims.ensure_party(address, signer)
        if registered and runtime.gas_allowance_wei:
            client = runtime.client
            client.wait([client.transfer_ether(address, runtime.gas_allowance_wei)])
    if registered:
        logger.info("claims.party_registered address=%s", address)


def confirmation_typed_data(
    context: ClaimsContext, caller: Caller, document_id: uuid.UUID
) -> ConfirmationTypedData:
    """The typed data the buyer signs to confirm an invoice.

    Registers the seller and the buyer (with its own address as signing key) on
    the claim token first if they are not, so the nonce served stays current.
    """
    with context.database.read_sessions() as session:
        invoice = _invoice(session, caller, document_id)
        _check_currency(context, session.get(Document, document_id))
    _ensure_on_chain(context, invoice.seller, ZERO_ADDRESS)
    _ensure_on_chain(context, invoice.obligor, invoice.obligor)

    claims = context.runtime.claims
    deadline = chain_time(claims.client) + CONFIRMATION_VALIDITY_SECONDS
    confirmation = _confirmation(
        context, invoice, claims.nonce_of(invoice.obligor), deadline
    )
    data = typed_data(context.runtime.domain, confirmation)
    return ConfirmationTypedData(
        typed_data=data,
        digest="0x" + typed_data_digest(data).hex(),
        document_id=document_id,
        claim_id="0x" + invoice.document_root.hex(),
        face_value=invoice.face_value,
        currency=context.currency_code,
        due_date=invoice.due_date,
        deadline=deadline,
    )


def _confirmation(
    context: ClaimsContext, invoice: _Invoice, nonce: int, deadline: int
) -> Confirmation:
    return Confirmation(
        document_root=invoice.document_root,
        batch_root=invoice.batch_root,
        seller=invoice.seller,
        obligor=invoice.obligor,
        currency=context.runtime.claims.currency,
        face_value=invoice.face_value,
        due_date=invoice.due_date,
        nonce=nonce,
        deadline=deadline,
    )


def confirm_invoice(
    context: ClaimsContext,
    caller: Caller,
    document_id: uuid.UUID,
    signed: SignedMessage,
) -> ClaimOut:
    """Check the buyer's signed confirmation as the contract will, then relay it.

    Raises:
        SignedMessageRejectedError: another domain, other terms, expired, or signed
            by another key.
        InvalidSignatureError: malformed or high-s signature.
        StaleNonceError: the nonce was used (a replay) or is not reached yet.
        RelayRefusedError: the contract refused it all the same.
    """
    with context.database.read_sessions() as session:
        invoice = _invoice(session, caller, document_id)
    signature = signed.signature_bytes()
    confirmation = _checked_confirmation(context, invoice, signed.typed_data)
    signer = recover_signer(signed.typed_data, signature)
    if signer != invoice.obligor:
        raise SignedMessageRejectedError(
            "wrong_signer", f"signed by {signer}, not by the buyer", "/signature"
        )
    claims = context.runtime.claims
    current = claims.nonce_of(invoice.obligor)
    if confirmation.nonce != current:
        raise StaleNonceError(confirmation.nonce, current)

    with context.runtime.lock:
        try:
            step = claims.confirm(confirmation, signature, invoice.proof)
        except TransactionRevertedError as err:
            raise RelayRefusedError(
                err.error_name, err.error_args, err.tx_hash
            ) from err
    logger.info(
        "claim.confirmed document_id=%s claim_id=0x%s tx=0x%s gas=%d",
        document_id,
        invoice.document_root.hex(),
        step.tx_hash.hex(),
        step.gas_used,
    )
    context.indexer.run_once()
    with context.database.read_sessions() as session:
        row = repository.claim(session, invoice.document_root)
        if row is None:  # not final yet: the indexer projects it later
            return _pending_claim(
                invoice, confirmation, step.block_number, step.tx_hash
            )
        return claim_out(session, row)


def _checked_confirmation(
    context: ClaimsContext, invoice: _Invoice, data: dict[str, object]
) -> Confirmation:
    domain, message = parse_typed_data(data)
    if domain != context.runtime.domain:
        raise SignedMessageRejectedError(
            "wrong_domain",
            f"signed for chain {domain.chain_id} and contract "
            f"{domain.verifying_contract}, not for this claim token",
            "/typed_data/domain",
        )
    if not isinstance(message, Confirmation):
        raise SignedMessageRejectedError("terms_mismatch", "not a Confirmation")
    expected = _confirmation(context, invoice, message.nonce, message.deadline)
    if message != expected:
        raise SignedMessageRejectedError(
            "terms_mismatch", "the signed terms are not this invoice's"
        )
    if message.deadline < chain_time(context.runtime.client):
        raise SignedMessageRejectedError(
            "expired",
            f"the deadline {message.deadline} has passed",
            "/typed_data/message/deadline",
        )
    return message


def _pending_claim(
    invoice: _Invoice, confirmation: Confirmation, block: int, tx_hash: bytes
) -> ClaimOut:
    return ClaimOut(
        claim_id="0x" + invoice.document_root.hex(),
        document_id=invoice.document_id,
        document_status=None,
        seller=invoice.seller,
        obligor=invoice.obligor,
        currency=confirmation.currency,
        face_value=invoice.face_value,
        due_date=invoice.due_date,
        state="pending_finality",
        units_sold=0,
        repaid=0,
        paid_out=0,
        units_redeemed=0,
        holdings=[],
        confirmed_block=block,
        confirmed_transaction="0x" + tx_hash.hex(),
    )


def reject_invoice(
    session: Session, caller: Caller, document_id: uuid.UUID, reason: str
) -> DocumentStatus:
    """The buyer refuses to confirm an invoice, saying why."""
    if caller.role is not PartyRole.BUYER:
        raise ForbiddenError("only the invoice's buyer confirms or rejects it")
    visible = documents.get_visible(session, caller, document_id)
    if visible is None or visible.kind != DocumentKind.INVOICE:
        raise DocumentNotFoundError(document_id)
    document = documents.get_for_update(session, document_id)
    assert document is not None
    if document.status not in REJECTABLE:
        raise InvalidTransitionError(document.id, document.status, "reject")
    change_status(session, document, DocumentStatus.REJECTED, caller.id, reason)
    return DocumentStatus.REJECTED


# -- views -------------------------------------------------------------------------


def claim_out(session: Session, row: Claim) -> ClaimOut:
    document = session.get(Document, row.document_id) if row.document_id else None
    return ClaimOut(
        claim_id="0x" + row.claim_id.hex(),
        document_id=row.document_id,
        document_status=document.status if document else None,
        seller=row.seller,
        obligor=row.obligor,
        currency=row.currency,
        face_value=row.face_value,
        due_date=row.due_date,
        state=row.state,
        units_sold=row.units_sold,
        repaid=row.repaid,
        paid_out=row.paid_out,
        units_redeemed=row.units_redeemed,
        holdings=[
            HoldingOut(holder=h.holder, units=h.units)
            for h in repository.holdings(session, row.claim_id)
        ],
        confirmed_block=row.confirmed_block,
        confirmed_transaction="0x" + row.confirmed_tx.hex(),
    )


def visible_claim(session: Session, caller: Caller, claim_id: str) -> Claim:
    """A claim the caller holds, sold, owes or was offered, or whose invoice it may
    see (an auditor or funder with a grant); else 404 like a missing one."""
    try:
        key = claim_id_bytes(claim_id)
    except ValueError as err:
        raise ClaimNotFoundError(claim_id) from err
    row = repository.claim(session, key)
    if row is None:
        raise ClaimNotFoundError(claim_id)
    party = session.get(Party, caller.id)
    address = party.eth_address if party else None
    if repository.is_involved(session, row, address):
        return row
    if row.document_id and documents.get_visible(session, caller, row.document_id):
        return row
    raise ClaimNotFoundError(claim_id)


def list_claims(session: Session, caller: Caller, limit: int) -> ClaimList:
    """Claims the caller holds units of, sold, or owes."""
    party = session.get(Party, caller.id)
    if party is None or party.eth_address is None:
        return ClaimList(items=[])
    rows = repository.claims_of(session, party.eth_address, limit)
    return ClaimList(items=[claim_out(session, row) for row in rows])


def claim_history(session: Session, caller: Caller, claim_id: str) -> ClaimHistory:
    """Every indexed event of a claim, in chain order."""
    row = visible_claim(session, caller, claim_id)
    return ClaimHistory(
        claim_id=claim_id,
        events=[
            ClaimEventOut(
                name=event.name,
                args=json.loads(event.args),
                block_number=event.block_number,
                block_time=event.block_time,
                transaction_hash="0x" + event.tx_hash.hex(),
            )
            for event in repository.events(session, row.claim_id)
        ],
    )


# -- offers ------------------------------------------------------------------------


def offer_draft(
    context: ClaimsContext, caller: Caller, claim_id: str, request: OfferDraftRequest
) -> OfferDraftOut:
    """Typed data of an offer to sell ``units`` at a daily rate, with its price."""
    with context.database.read_sessions() as session:
        row = visible_claim(session, caller, claim_id)
        seller = address_of(caller, session)
        held = repository.units_of(session, row.claim_id, seller)
        due_date = row.due_date
    if request.units > held:
        raise UnprocessableError(
            f"the caller holds {held} units",
            errors=[FieldProblem("/units", "too many")],
        )
    buyer = _buyer(request.buyer)
    rate = rate_from_decimal(request.daily_rate)
    claims = context.runtime.claims
    now = chain_time(claims.client)
    priced = quote(request.units, rate, due_date, now)
    nonce, _filled = claims.offer_status(int.from_bytes(row.claim_id, "big"), seller)
    offer = Offer(
        claim_id=int.from_bytes(row.claim_id, "big"),
        units=request.units,
        price=priced.price,
        seller=seller,
        buyer=buyer,
        nonce=nonce,
        deadline=now + request.valid_for_seconds,
    )
    data = typed_data(context.runtime.domain, offer)
    return OfferDraftOut(
        typed_data=data,
        digest="0x" + typed_data_digest(data).hex(),
        quote=QuoteOut(
            units=priced.units,
            price=priced.price,
            discount=priced.discount,
            daily_rate=priced.daily_rate_decimal,
            days_to_maturity=priced.days_to_maturity,
        ),
    )


def _buyer(value: str | None) -> str:
    from eth_utils.address import is_hex_address, to_checksum_address

    if value is None:
        return ZERO_ADDRESS
    if not is_hex_address(value):
        raise UnprocessableError(
            "not an address", errors=[FieldProblem("/buyer", "invalid")]
        )
    return str(to_checksum_address(value))


def create_offer(
    context: ClaimsContext, caller: Caller, claim_id: str, body: OfferCreate
) -> OfferOut:
    """Store a holder's signed offer after checking it as the contract will."""
    with context.database.read_sessions() as session:
        row = visible_claim(session, caller, claim_id)
        seller = address_of(caller, session)
        held = repository.units_of(session, row.claim_id, seller)
        due_date = row.due_date
    offer = _checked_offer(context, body, row.claim_id, seller, held)
    with context.database.read_sessions() as session:
        credit = credit_of(context, session, row.document_id)
    if credit is not None and credit.band == Band.DECLINE.value:
        assert row.document_id is not None
        raise CreditDeclinedError(row.document_id, credit.reasons)
    rate = rate_from_decimal(body.daily_rate)
    now = chain_time(context.runtime.client)
    days = quote(offer.units, rate, due_date, now).days_to_maturity
    if offer.price not in {
        price_for(offer.units, rate, d) for d in (days - 1, days, days + 1) if d >= 0
    }:
        raise SignedMessageRejectedError(
            "terms_mismatch", "the price does not follow from the daily rate"
        )
    current, _filled = context.runtime.claims.offer_status(offer.claim_id, seller)
    if offer.nonce != current:
        raise StaleNonceError(offer.nonce, current)

    offer_hash = typed_data_digest(body.typed_data)
    with context.database.sessions() as session:
        stored = repository.offer_by_hash(session, offer_hash)
        if stored is None:
            stored = ClaimOffer(
                claim_id=row.claim_id,
                seller=seller,
                buyer=offer.buyer,
                units=offer.units,
                price=offer.price,
                daily_rate=rate,
                nonce=offer.nonce,
                deadline=offer.deadline,
                signature=body.signature_bytes(),
                offer_hash=offer_hash,
                units_filled=0,
                status=OfferStatus.OPEN,
                created_by_party_id=caller.id,
            )
            session.add(stored)
            session.flush()
            logger.info(
                "claim.offer_created claim_id=%s offer_id=%s units=%d price=%d",
                claim_id,
                stored.id,
                offer.units,
                offer.price,
            )
        result = offer_out(context, session, stored, due_date, now)
        session.commit()
    return result


def _checked_offer(
    context: ClaimsContext, body: OfferCreate, claim_id: bytes, seller: str, held: int
) -> Offer:
    domain, offer = parse_typed_data(body.typed_data)
    if domain != context.runtime.domain:
        raise SignedMessageRejectedError(
            "wrong_domain", "signed for another chain or contract", "/typed_data/domain"
        )
    if not isinstance(offer, Offer) or offer.claim_id != int.from_bytes(
        claim_id, "big"
    ):
        raise SignedMessageRejectedError("wrong_claim", "not an offer on this claim")
    if offer.seller != seller:
        raise SignedMessageRejectedError(
            "wrong_signer", "the offer's seller is not the caller"
        )
    if offer.units == 0 or offer.units > held or offer.price > offer.units:
        raise SignedMessageRejectedError(
            "terms_mismatch", f"units must be 1..{held} and the price at most the units"
        )
    if offer.deadline < chain_time(context.runtime.client):
        raise SignedMessageRejectedError("expired", "the offer's deadline has passed")
    signer = recover_signer(body.typed_data, body.signature_bytes())
    if signer != seller:
        raise SignedMessageRejectedError(
            "wrong_signer", f"signed by {signer}, not by the seller", "/signature"
        )
    return offer


def offer_out(
    context: ClaimsContext, session: Session, offer: ClaimOffer, due_date: int, now: int
) -> OfferOut:
    remaining = 0
    if offer.status == OfferStatus.OPEN:
        shared = sum(
            o.units_filled
            for o in repository.offers_of_claim(session, offer.claim_id)
            if o.seller == offer.seller and o.nonce == offer.nonce
        )
        remaining = max(0, offer.units - shared)
    status = offer.status
    if status == OfferStatus.OPEN and offer.deadline < now:
        status = "expired"
    message = Offer(
        int.from_bytes(offer.claim_id, "big"),
        offer.units,
        offer.price,
        offer.seller,
        offer.buyer,
        offer.nonce,
        offer.deadline,
    )
    days = quote(offer.units, offer.daily_rate, due_date, now).days_to_maturity
    return OfferOut(
        id=offer.id,
        claim_id="0x" + offer.claim_id.hex(),
        seller=offer.seller,
        buyer=None if offer.buyer == ZERO_ADDRESS else offer.buyer,
        units=offer.units,
        units_remaining=remaining,
        price=offer.price,
        price_per_unit=str(round(offer.price / offer.units, 6)),
        daily_rate=rate_to_decimal(offer.daily_rate),
        days_to_maturity=days,
        due_date=due_date,
        deadline=offer.deadline,
        status=status,
        typed_data=typed_data(context.runtime.domain, message),
        signature="0x" + offer.signature.hex(),
        created_at=offer.created_at,
        credit=_offer_credit(context, session, offer.claim_id),
    )


def _offer_credit(
    context: ClaimsContext, session: Session, claim_id: bytes
) -> CreditOut | None:
    row = repository.claim(session, claim_id)
    return credit_of(context, session, row.document_id if row else None)


def list_offers(context: ClaimsContext, caller: Caller, limit: int) -> OfferList:
    """Open offers a funder may fill (reserved ones only for their funder)."""
    if caller.role not in (PartyRole.FUNDER, PartyRole.SELLER, PartyRole.OPERATOR):
        raise ForbiddenError("offers are for funders and holders")
    now = chain_time(context.runtime.client)
    with context.database.read_sessions() as session:
        party = session.get(Party, caller.id)
        address = party.eth_address if party else None
        items = []
        for offer in repository.open_offers(session, limit):
            if offer.deadline < now:
                continue
            if offer.buyer not in (ZERO_ADDRESS, address) and offer.seller != address:
                continue
            row = repository.claim(session, offer.claim_id)
            if row is None:
                continue
            items.append(offer_out(context, session, offer, row.due_date, now))
    return OfferList(items=items)
