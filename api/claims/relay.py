"""Relaying transactions a party signed itself: purchase, transfer, repay, redeem.

The party signs a whole transaction with its own key (nonce, gas and fees its own);
the service only checks and broadcasts it, so it can never act for a party that did
not sign. Before broadcasting:

* the signer must be the caller's registered address, the chain id ours, the target
  the claim token (the currency token for an approval), the function the one the
  endpoint is for, and the claim the one in the path;
* a purchase's offer is checked as the contract will (signature of the offer's
  seller in low-s form, deadline), and the call is simulated from the sender: a
  transaction the contract would refuse is answered 409 and never sent.

Purchases are the moment of financing. The duplicate-financing check, the chain
transaction and the financing record happen under one lock on the invoice's
fingerprint (a PostgreSQL advisory lock; SQLite writers are serial): the request
checks that no duplicate of the invoice was financed, simulates, broadcasts, waits
for the receipt, and records the financing (which queues the nullifier) in the same
database transaction. Two funders racing for the same units therefore run one after
the other: the second simulation fails, and the loser's transaction is never sent.

NOTE: holding a write transaction while a purchase is mined makes other writers
wait that long (about one block); purchases are rare next to registrations.
A process killed between the receipt and the commit leaves a mined purchase
without its financing row: the indexer records it when it sees the ``OfferFilled``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from sqlalchemy.orm import Session

from api.auth.service import Caller
from api.claims import repository
from api.claims.errors import (
    InvalidSignedTransactionError,
    NotTheSignerError,
    RelayRefusedError,
    SignedMessageRejectedError,
)
from api.claims.schemas import RelayedOut, claim_id_bytes
from api.claims.service import (
    ClaimsContext,
    _ensure_on_chain,
    address_of,
    claim_out,
    visible_claim,
)
from api.documents import repository as documents
from api.documents.service import mark_financed
from api.errors import AlreadyFinancedError, FieldProblem, UnprocessableError
from api.models import Document, FinancingSource
from registry.chain import BroadcastOutcome, ReceiptSummary
from registry.claims import (
    ZERO_ADDRESS,
    InvalidSignatureError,
    Offer,
    chain_time,
    recover_signer,
    typed_data,
)
from registry.errors import ChainUnavailableError, TransactionRevertedError
from registry.hashing import keccak256

logger = logging.getLogger(__name__)

RECEIPT_TIMEOUT_SECONDS = 60.0
FUNCTIONS = {
    "purchase": "buy",
    "transfer": "safeTransferFrom",
    "repayment": "repay",
    "redemption": "redeem",
    "cancellation": "cancelOffers",
    "approval": "approve",
}


@dataclass(frozen=True, slots=True)
class SignedCall:
    """A party's signed transaction, decoded."""

    raw: bytes
    tx_hash: bytes
    sender: str
    to: str
    chain_id: int
    function: str
    args: dict[str, Any]
    bound: Any


def relay(
    context: ClaimsContext,
    caller: Caller,
    action: str,
    raw: bytes,
    claim_id: str | None = None,
) -> RelayedOut:
    """Check a party's signed transaction for ``action`` and relay it (module doc).

    Raises:
        NotTheSignerError: signed by another key than the caller's address.
        InvalidSignedTransactionError: not decodable, other chain, other target or
            function, or another claim than ``claim_id``.
        SignedMessageRejectedError: a purchase whose offer signature is invalid or
            whose offer has expired.
        AlreadyFinancedError: a purchase of an invoice that duplicates a financed one.
        RelayRefusedError: the contract would refuse, or refused, the transaction.
    """
    with context.database.read_sessions() as session:
        call = _decode(context, raw, action)
        if call.sender != address_of(caller, session):
            raise NotTheSignerError(call.sender)
        key = _claim_of(session, caller, call, claim_id)

    if action == "purchase":
        assert key is not None
        _check_offer(context, call)
        _ensure_on_chain(context, call.sender, ZERO_ADDRESS)
        receipt = _purchase(context, call, key)
    else:
        if action == "transfer":
            _check_recipient(context, call)
        _simulate(context, call)
        receipt = _broadcast(context, call)

    logger.info(
        "claim.relayed action=%s sender=%s tx=0x%s block=%d gas=%d",
        action,
        call.sender,
        receipt.tx_hash.hex(),
        receipt.block_number,
        receipt.gas_used,
    )
    context.indexer.run_once()
    with context.database.read_sessions() as session:
        row = repository.claim(session, key) if key else None
        return RelayedOut(
            action=action,
            transaction_hash="0x" + receipt.tx_hash.hex(),
            block_number=receipt.block_number,
            gas_used=receipt.gas_used,
            claim=claim_out(session, row) if row else None,
        )


def _decode(context: ClaimsContext, raw: bytes, action: str) -> SignedCall:
    if not raw or raw[0] not in (1, 2):
        raise InvalidSignedTransactionError(
            "must be a typed (EIP-2930 or EIP-1559) transaction"
        )
    try:
        fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        sender = to_checksum_address(Account.recover_transaction(raw))
    except Exception as err:  # eth_account raises many kinds on bad bytes
        raise InvalidSignedTransactionError("not a signed transaction") from err
    claims = context.runtime.claims
    chain_id = int(fields["chainId"])
    if chain_id != claims.client.chain_id():
        raise InvalidSignedTransactionError(
            f"signed for chain {chain_id}, not {claims.client.chain_id()}"
        )
    to = to_checksum_address(bytes(fields.get("to") or b"\x00" * 20))
    expected = claims.currency if action == "approval" else claims.claim_token
    if to != expected or int(fields.get("value", 0)):
        raise InvalidSignedTransactionError(f"must call {expected} and send no value")
    contract = claims.client.contract(
        "SettlementToken" if action == "approval" else "ClaimToken", to
    )
    try:
        function, args = contract.decode_function_input(bytes(fields["data"]))
    except ValueError as err:
        raise InvalidSignedTransactionError("unknown function") from err
    if function.fn_name != FUNCTIONS[action]:
        raise InvalidSignedTransactionError(
            f"calls {function.fn_name}, not {FUNCTIONS[action]}"
        )
    if action == "approval" and args["spender"] != claims.claim_token:
        raise InvalidSignedTransactionError("approvals are for the claim token only")
    bound = contract.functions[function.fn_name](**args)
    return SignedCall(
        raw, keccak256(raw), sender, to, chain_id, function.fn_name, dict(args), bound
    )


def _claim_of(
    session: Session, caller: Caller, call: SignedCall, claim_id: str | None
) -> bytes | None:
    if call.function == "approve":
        return None
    if call.function == "buy":
        number = int(call.args["offer"]["claimId"])
    else:
        number = int(call.args.get("claimId", call.args.get("id", -1)))
    key = number.to_bytes(32, "big") if 0 <= number < 2**256 else b""
    if claim_id is None or key != claim_id_bytes(claim_id):
        raise InvalidSignedTransactionError("the transaction is about another claim")
    if call.function != "buy":  # a funder buys what it was offered, not what it sees
        visible_claim(session, caller, claim_id)
    elif repository.claim(session, key) is None:
        raise InvalidSignedTransactionError("no such claim")
    if call.function == "safeTransferFrom" and call.args["from"] != call.sender:
        raise InvalidSignedTransactionError("a holder transfers only its own units")
    return key


def _check_offer(context: ClaimsContext, call: SignedCall) -> None:
    """The offer inside a purchase, checked as ``ClaimMarket.buy`` will."""
    fields = call.args["offer"]
    offer = Offer(
        int(fields["claimId"]),
        int(fields["units"]),
        int(fields["price"]),
        to_checksum_address(fields["seller"]),
        to_checksum_address(fields["buyer"]),
        int(fields["nonce"]),
        int(fields["deadline"]),
    )
    data = typed_data(context.runtime.domain, offer)
    try:
        signer = recover_signer(data, bytes(call.args["signature"]))
    except InvalidSignatureError as err:
        raise SignedMessageRejectedError(
            "invalid_signature", err.message, "/raw/signature"
        ) from err
    if signer != offer.seller:
        raise SignedMessageRejectedError(
            "wrong_signer", f"the offer is signed by {signer}, not its seller"
        )
    if offer.deadline < chain_time(context.runtime.client):
        raise SignedMessageRejectedError("expired", "the offer's deadline has passed")


def _check_recipient(context: ClaimsContext, call: SignedCall) -> None:
    recipient = to_checksum_address(call.args["to"])
    with context.database.read_sessions() as session:
        known = repository.party_by_address(session, recipient) is not None
    if not known:
        raise UnprocessableError(
            "units go only to parties onboarded here",
            errors=[FieldProblem("/raw/to", "unknown party")],
        )
    _ensure_on_chain(context, recipient, ZERO_ADDRESS)


def _purchase(
    context: ClaimsContext, call: SignedCall, claim_id: bytes
) -> ReceiptSummary:
    with context.database.sessions() as session:
        document_id = _lock_for_financing(session, claim_id)
        _simulate(context, call)
        receipt = _broadcast(context, call)
        if document_id is not None and not repository.financing_of_document(
            session, document_id
        ):
            financing = mark_financed(
                session, document_id, source=FinancingSource.CLAIM_SALE
            )
            logger.info(
                "claim.financed document_id=%s nullifier=0x%s tx=0x%s",
                document_id,
                financing.nullifier.hex(),
                receipt.tx_hash.hex(),
            )
        session.commit()
    return receipt


def _lock_for_financing(session: Session, claim_id: bytes) -> Any:
    """Lock the invoice's identity; refuse a duplicate of a financed invoice."""
    row = repository.claim(session, claim_id)
    if row is None or row.document_id is None:
        return None
    fingerprint = documents.fingerprint_of(session, row.document_id)
    if fingerprint is None:
        return row.document_id
    repository.lock_fingerprint(session, fingerprint.fingerprint)
    financed = documents.financing_of(session, fingerprint.fingerprint)
    # Only the claim's own first sale may have financed it: an invoice financed any
    # other way (a duplicate, or a financing a lender recorded) is never sold again.
    if financed is not None and (
        financed.document_id != row.document_id
        or financed.source != FinancingSource.CLAIM_SALE
    ):
        raise AlreadyFinancedError(row.document_id, financed.document_id)
    document = documents.get_for_update(session, row.document_id)
    assert isinstance(document, Document)
    return row.document_id


def _simulate(context: ClaimsContext, call: SignedCall) -> None:
    try:
        context.runtime.client.read(call.bound, sender=call.sender, funded=True)
    except TransactionRevertedError as err:
        raise RelayRefusedError(err.error_name, err.error_args, None) from err


def _broadcast(context: ClaimsContext, call: SignedCall) -> ReceiptSummary:
    client = context.runtime.client
    try:
        sent = client.send_raw(call.raw)
    except TransactionRevertedError as err:  # the in-process chain reverts at once
        raise RelayRefusedError(err.error_name, err.error_args, None) from err
    if sent.outcome in (BroadcastOutcome.REJECTED, BroadcastOutcome.UNDERPRICED):
        raise InvalidSignedTransactionError(f"the node refused it: {sent.detail}")
    receipt = _wait(context, call.tx_hash)
    if receipt.status != 1:
        try:
            _simulate(context, call)
        except RelayRefusedError as err:
            raise RelayRefusedError(
                err.error_name, err.error_args, "0x" + call.tx_hash.hex()
            ) from err
        raise RelayRefusedError("Reverted", (), "0x" + call.tx_hash.hex())
    return receipt


def _wait(context: ClaimsContext, tx_hash: bytes) -> ReceiptSummary:
    client = context.runtime.client
    deadline = time.monotonic() + RECEIPT_TIMEOUT_SECONDS
    while True:
        (receipt,) = client.receipts([tx_hash])
        if receipt is not None:
            return receipt
        if time.monotonic() > deadline:
            raise ChainUnavailableError(f"transaction 0x{tx_hash.hex()} not mined")
        time.sleep(0.05)
