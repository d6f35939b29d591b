"""Errors of the claims domain (leaves of ``api.errors``' tree)."""

from __future__ import annotations

from collections.abc import Sequence

from api.errors import (
    ConflictError,
    FieldProblem,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
    UnprocessableError,
)


class ClaimNotFoundError(NotFoundError):
    """No claim with this id that the caller may see."""

    def __init__(self, claim_id: str) -> None:
        self.claim_id = claim_id
        super().__init__(f"claim {claim_id} not found")


class OfferNotFoundError(NotFoundError):
    """No stored offer with this id."""

    def __init__(self, offer_id: str) -> None:
        super().__init__(f"offer {offer_id} not found")


class ClaimsUnavailableError(ServiceUnavailableError):
    """The service runs without a claim token (no chain, or none configured)."""

    slug = "claims-unavailable"
    title = "Claims unavailable"

    def __init__(self) -> None:
        super().__init__("the service runs without a claim token")


class SignedMessageRejectedError(UnprocessableError):
    """A signed EIP-712 message the API refuses before relaying anything.

    ``reason`` names what is wrong: ``wrong_domain`` (another chain id or contract),
    ``wrong_signer``, ``expired``, ``terms_mismatch``, ``wrong_claim``.
    """

    slug = "signed-message-rejected"
    title = "Signed message rejected"

    def __init__(self, reason: str, detail: str, field: str = "/typed_data") -> None:
        self.reason = reason
        super().__init__(
            detail, errors=[FieldProblem(field, reason)], extensions={"reason": reason}
        )


class StaleNonceError(ConflictError):
    """The message's nonce is not the signer's current one: replayed or outdated."""

    slug = "stale-nonce"
    title = "Nonce already used or not yet reached"

    def __init__(self, nonce: int, current: int) -> None:
        self.nonce = nonce
        self.current = current
        super().__init__(
            f"nonce {nonce} is not the current nonce {current}: fetch new typed data",
            extensions={"nonce": nonce, "current_nonce": current},
        )


class RelayRefusedError(ConflictError):
    """The chain would refuse (or refused) the transaction; nothing was changed.

    ``error_name`` and ``error_args`` are the contract's custom error.
    """

    slug = "relay-refused"
    title = "Refused by the contract"

    def __init__(
        self, error_name: str, error_args: Sequence[object], tx_hash: str | None
    ) -> None:
        self.error_name = error_name
        self.error_args = tuple(error_args)
        super().__init__(
            f"the contract refused the transaction: {error_name}",
            extensions={
                "error_name": error_name,
                "error_args": [str(arg) for arg in error_args],
                "transaction_hash": tx_hash,
            },
        )


class InvalidSignedTransactionError(UnprocessableError):
    """Raw signed bytes that are not a transaction this endpoint relays."""

    slug = "invalid-signed-transaction"
    title = "Invalid signed transaction"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[FieldProblem("/raw", detail)])


class NotTheSignerError(ForbiddenError):
    """The transaction was signed by another key than the caller's address."""

    def __init__(self, sender: str) -> None:
        super().__init__(
            f"the transaction is signed by {sender}, not by the caller's address"
        )


class NoAddressError(UnprocessableError):
    """The calling party has no Ethereum address on record."""

    def __init__(self) -> None:
        super().__init__(
            "the caller has no Ethereum address",
            errors=[FieldProblem("/eth_address", "missing")],
        )
