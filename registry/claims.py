"""Claims on confirmed invoices: EIP-712 messages, prices, and a client for ClaimToken.

Invariants:
    * Typed data is built in the JSON shape of ``eth_signTypedData_v4`` from
      ``contracts/eip712.json`` (the file the Hardhat suites sign with): ``types`` holds
      ``EIP712Domain`` and the primary type only, ``uint256`` values are decimal
      strings (a claim id does not fit a JavaScript number), ``bytes32`` and
      ``address`` are 0x-hex. A wallet signs the object unchanged; the digest is the
      contract's ``hashConfirmation`` / ``hashOffer`` (tests hold them equal).
    * The domain is ``ClaimToken`` version ``1`` with the chain id and the ClaimToken
      address, read from the deployed contract's ``eip712Domain()``: a signature for
      another chain or another contract recovers to another address.
    * A signature is 65 bytes ``r || s || v`` with ``v`` in {27, 28} and ``s`` in the
      lower half of the curve order (OpenZeppelin's ECDSA rejects the high-s twin);
      replay protection is the signer's nonce, never the signature bytes.
    * Prices follow ``ClaimMarket.priceFor``: ``floor(units * 1e18 / (1e18 + rate *
      days))`` with ``rate`` a simple daily rate scaled by 1e18. Days to maturity are
      whole days rounded up, so a funder is never charged for a day it does not wait.
    * :class:`ClaimsClient` sends with one :class:`~registry.chain.ChainClient` (one
      key); reverts arrive as :class:`~registry.errors.TransactionRevertedError` with
      the contract's custom error name and arguments.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils.address import is_hex_address, to_checksum_address
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import RPCEndpoint

from registry.chain import ChainClient
from registry.compiler import CONTRACTS_DIR, artifact
from registry.errors import ConfigurationError, RecordError
from registry.hashing import keccak256

EIP712_FILE = CONTRACTS_DIR / "eip712.json"
ZERO_ADDRESS = "0x" + "00" * 20
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
RATE_SCALE = 10**18
DAY_SECONDS = 86_400
UINT256_MAX = 2**256 - 1

GRACE_PERIOD_SECONDS = 7 * DAY_SECONDS
DEFAULT_PERIOD_SECONDS = 90 * DAY_SECONDS

# Gas limits, sent explicitly (estimation is slow in-process); measured use is below.
GAS = {
    "deploy_claim_token": 6_000_000,
    "deploy_settlement_token": 3_000_000,
    "registerParty": 150_000,
    "setObligorSigner": 80_000,
    "listCurrency": 120_000,
    "mint": 100_000,
    "approve": 80_000,
    "confirm": 200_000,
    "buy": 200_000,
    "cancelOffers": 80_000,
    "safeTransferFrom": 150_000,
    "repay": 150_000,
    "redeem": 200_000,
}


class InvalidTypedDataError(RecordError):
    """Typed data that is not a Confirmation or Offer of ClaimToken in v4 form."""


class InvalidSignatureError(RecordError):
    """A signature that is malformed, high-s, or recovers to no address."""

    def __init__(self, message: str) -> None:
        super().__init__("/signature", message)


class ClaimState(IntEnum):
    """``IClaimToken.ClaimState``, in the contract's order."""

    NONEXISTENT = 0
    ACTIVE = 1
    DUE = 2
    OVERDUE = 3
    DEFAULTED = 4
    PAID = 5
    CLOSED = 6


@cache
def eip712_spec() -> dict[str, Any]:
    """``contracts/eip712.json``: the domain name, version and the message types."""
    spec: dict[str, Any] = json.loads(EIP712_FILE.read_text())
    return spec


# -- messages ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Domain:
    """The EIP-712 domain of one deployed ClaimToken."""

    chain_id: int
    verifying_contract: str
    name: str = "ClaimToken"
    version: str = "1"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": str(self.chain_id),
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The obligor's confirmation of an invoice (``IClaimToken.Confirmation``)."""

    document_root: bytes
    batch_root: bytes
    seller: str
    obligor: str
    currency: str
    face_value: int
    due_date: int
    nonce: int
    deadline: int

    primary_type = "Confirmation"

    @property
    def claim_id(self) -> int:
        return int.from_bytes(self.document_root, "big")

    def as_message(self) -> dict[str, str]:
        return {
            "documentRoot": "0x" + self.document_root.hex(),
            "batchRoot": "0x" + self.batch_root.hex(),
            "seller": to_checksum_address(self.seller),
            "obligor": to_checksum_address(self.obligor),
            "currency": to_checksum_address(self.currency),
            "faceValue": str(self.face_value),
            "dueDate": str(self.due_date),
            "nonce": str(self.nonce),
            "deadline": str(self.deadline),
        }

    def as_args(self) -> tuple[Any, ...]:
        return (
            self.document_root,
            self.batch_root,
            to_checksum_address(self.seller),
            to_checksum_address(self.obligor),
            to_checksum_address(self.currency),
            self.face_value,
            self.due_date,
            self.nonce,
            self.deadline,
        )


@dataclass(frozen=True, slots=True)
class Offer:
    """A holder's offer to sell claim units (``IClaimMarket.Offer``)."""

    claim_id: int
    units: int
    price: int
    seller: str
    buyer: str
    nonce: int
    deadline: int

    primary_type = "Offer"

    def as_message(self) -> dict[str, str]:
        return {
            "claimId": str(self.claim_id),
            "units": str(self.units),
            "price": str(self.price),
            "seller": to_checksum_address(self.seller),
            "buyer": to_checksum_address(self.buyer),
            "nonce": str(self.nonce),
            "deadline": str(self.deadline),
        }

    def as_args(self) -> tuple[Any, ...]:
        return (
            self.claim_id,
            self.units,
            self.price,
            to_checksum_address(self.seller),
            to_checksum_address(self.buyer),
            self.nonce,
            self.deadline,
        )


Message = Confirmation | Offer


def typed_data(domain: Domain, message: Message) -> dict[str, Any]:
    """The ``eth_signTypedData_v4`` object a wallet signs unchanged.

    Args:
        domain: the deployed ClaimToken's domain (see :meth:`ClaimsClient.domain`).
        message: a confirmation or an offer.

    Returns:
        ``{"types", "primaryType", "domain", "message"}`` with only the domain and
        the primary type in ``types``.
    """
    types = eip712_spec()["types"]
    primary = message.primary_type
    return {
        "types": {"EIP712Domain": types["EIP712Domain"], primary: types[primary]},
        "primaryType": primary,
        "domain": domain.as_json(),
        "message": message.as_message(),
    }


def parse_typed_data(data: object) -> tuple[Domain, Message]:
    """Read back a typed-data object this module built (and a wallet signed).

    Raises:
        InvalidTypedDataError: not a ClaimToken Confirmation or Offer in v4 form.
    """
    if not isinstance(data, Mapping):
        raise InvalidTypedDataError("/typed_data", "must be an object")
    primary = data.get("primaryType")
    if primary not in ("Confirmation", "Offer"):
        raise InvalidTypedDataError("/typed_data/primaryType", "unknown primary type")
    spec_types = eip712_spec()["types"]
    expected = {
        "EIP712Domain": spec_types["EIP712Domain"],
        primary: spec_types[primary],
    }
    if data.get("types") != expected:
        raise InvalidTypedDataError("/typed_data/types", "not ClaimToken's types")
    domain_data = _mapping(data.get("domain"), "/typed_data/domain")
    domain = Domain(
        chain_id=_uint(domain_data.get("chainId"), "/typed_data/domain/chainId"),
        verifying_contract=_address(
            domain_data.get("verifyingContract"), "/typed_data/domain/verifyingContract"
        ),
        name=str(domain_data.get("name")),
        version=str(domain_data.get("version")),
    )
    message = _mapping(data.get("message"), "/typed_data/message")
    if set(message) != {field["name"] for field in spec_types[primary]}:
        raise InvalidTypedDataError("/typed_data/message", "fields do not match")
    return domain, (
        _confirmation(message) if primary == "Confirmation" else _offer(message)
    )


def _confirmation(message: Mapping[str, Any]) -> Confirmation:
    at = "/typed_data/message/"
    return Confirmation(
        document_root=_bytes32(message["documentRoot"], at + "documentRoot"),
        batch_root=_bytes32(message["batchRoot"], at + "batchRoot"),
        seller=_address(message["seller"], at + "seller"),
        obligor=_address(message["obligor"], at + "obligor"),
        currency=_address(message["currency"], at + "currency"),
        face_value=_uint(message["faceValue"], at + "faceValue"),
        due_date=_uint(message["dueDate"], at + "dueDate"),
        nonce=_uint(message["nonce"], at + "nonce"),
        deadline=_uint(message["deadline"], at + "deadline"),
    )


def _offer(message: Mapping[str, Any]) -> Offer:
    at = "/typed_data/message/"
    return Offer(
        claim_id=_uint(message["claimId"], at + "claimId"),
        units=_uint(message["units"], at + "units"),
        price=_uint(message["price"], at + "price"),
        seller=_address(message["seller"], at + "seller"),
        buyer=_address(message["buyer"], at + "buyer"),
        nonce=_uint(message["nonce"], at + "nonce"),
        deadline=_uint(message["deadline"], at + "deadline"),
    )


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidTypedDataError(field, "must be an object")
    return value


def _uint(value: object, field: str) -> int:
    if isinstance(value, bool):
        raise InvalidTypedDataError(field, "must be an unsigned integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        raise InvalidTypedDataError(field, "must be a decimal string")
    if not 0 <= number <= UINT256_MAX:
        raise InvalidTypedDataError(field, "out of the uint256 range")
    return number


def _address(value: object, field: str) -> str:
    if not isinstance(value, str) or not is_hex_address(value):
        raise InvalidTypedDataError(field, "must be a 0x-hex address")
    return to_checksum_address(value)


def _bytes32(value: object, field: str) -> bytes:
    if (
        not isinstance(value, str)
        or len(value) != 66
        or not value.startswith("0x")
        or any(c not in "0123456789abcdefABCDEF" for c in value[2:])
    ):
        raise InvalidTypedDataError(field, "must be 0x and 64 hex digits")
    return bytes.fromhex(value[2:])


# -- digests and signatures ----------------------------------------------------------


def typed_data_digest(data: Mapping[str, Any]) -> bytes:
    """The EIP-712 digest of a typed-data object (what the key signs)."""
    return bytes(_hash_eip191_message(encode_typed_data(full_message=dict(data))))


def sign_typed_data(private_key: str | bytes, data: Mapping[str, Any]) -> bytes:
    """Sign like a wallet's ``eth_signTypedData_v4`` (eth_account's standard path)."""
    signed = Account.sign_typed_data(private_key, full_message=dict(data))
    return bytes(signed.signature)


def check_signature_form(signature: bytes) -> None:
    """Refuse what OpenZeppelin's ECDSA refuses: not 65 bytes, high s, bad v.

    Raises:
        InvalidSignatureError: naming what is wrong.
    """
    if len(signature) != 65:
        raise InvalidSignatureError(f"must be 65 bytes, got {len(signature)}")
    s = int.from_bytes(signature[32:64], "big")
    if s == 0 or s > SECP256K1_N // 2:
        raise InvalidSignatureError("s is in the upper half of the curve order")
    if signature[64] not in (27, 28):
        raise InvalidSignatureError("v must be 27 or 28")


def recover_signer(data: Mapping[str, Any], signature: bytes) -> str:
    """The address whose key signed ``data``, after :func:`check_signature_form`.

    Raises:
        InvalidSignatureError: malformed, high-s, or unrecoverable.
    """
    check_signature_form(signature)
    try:
        digest = typed_data_digest(data)
        return str(Account._recover_hash(digest, signature=signature))
    except (ValueError, TypeError) as err:
        raise InvalidSignatureError("does not recover to an address") from err


def high_s_twin(signature: bytes) -> bytes:
    """The other valid encoding of the same signature: ``(r, n - s, v ^ 1)``."""
    s = int.from_bytes(signature[32:64], "big")
    v = 28 if signature[64] == 27 else 27
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([v])


# -- prices --------------------------------------------------------------------------


def rate_from_decimal(daily_rate: Decimal | str) -> int:
    """A daily rate given as a decimal fraction (``"0.0003"`` = 0.03% a day), scaled.

    Raises:
        RecordError: not a finite, non-negative decimal with at most 18 places.
    """
    try:
        value = Decimal(daily_rate)
    except InvalidOperation as err:
        raise RecordError("/daily_rate", "must be a decimal string") from err
    if not value.is_finite() or value < 0 or value >= 1:
        raise RecordError("/daily_rate", "must be at least 0 and below 1")
    scaled = value * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise RecordError("/daily_rate", "has more than 18 decimal places")
    return int(scaled)


def rate_to_decimal(daily_rate: int) -> str:
    """The scaled daily rate as a plain decimal string (for display)."""
    return format((Decimal(daily_rate) / RATE_SCALE).normalize(), "f")


def price_for(face_units: int, daily_rate: int, days: int) -> int:
    """``ClaimMarket.priceFor``: ``floor(units * 1e18 / (1e18 + rate * days))``."""
    return face_units * RATE_SCALE // (RATE_SCALE + daily_rate * days)


def days_to_maturity(due_date: int, now: int) -> int:
    """Whole days from ``now`` to ``due_date`` (Unix seconds), rounded up; never < 0."""
    return max(0, math.ceil((due_date - now) / DAY_SECONDS))


@dataclass(frozen=True, slots=True)
class Quote:
    """What a funder is shown before signing: price, rate, days, discount."""

    units: int
    price: int
    daily_rate: int
    days_to_maturity: int

    @property
    def discount(self) -> int:
        return self.units - self.price

    @property
    def daily_rate_decimal(self) -> str:
        return rate_to_decimal(self.daily_rate)


def quote(units: int, daily_rate: int, due_date: int, now: int) -> Quote:
    """The price of ``units`` due at ``due_date``, bought at ``now``."""
    days = days_to_maturity(due_date, now)
    return Quote(units, price_for(units, daily_rate, days), daily_rate, days)


# -- the client ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """A mined transaction: what it did, where, and its gas."""

    label: str
    tx_hash: bytes
    block_number: int
    gas_used: int


@dataclass(frozen=True, slots=True)
class ClaimTerms:
    """``IClaimToken.ClaimRecord``: a claim's terms as confirmed."""

    document_root: bytes
    seller: str
    obligor: str
    currency: str
    face_value: int
    due_date: int


@dataclass(frozen=True, slots=True)
class Settlement:
    """``settlementOf``: repaid, credited, paid out, units redeemed."""

    repaid: int
    credited: int
    paid_out: int
    units_redeemed: int


class ClaimsClient:
    """ClaimToken and its currency token, driven by one chain client's key."""

    def __init__(self, client: ChainClient, claim_token: str, currency: str) -> None:
        self.client = client
        self.claim_token = to_checksum_address(claim_token)
        self.currency = to_checksum_address(currency)
        self._token = client.contract("ClaimToken", self.claim_token)
        self._currency = client.contract("SettlementToken", self.currency)

    @classmethod
    def deploy(
        cls,
        client: ChainClient,
        registry: str,
        *,
        currency: str | None = None,
        grace_period: int = GRACE_PERIOD_SECONDS,
        default_period: int = DEFAULT_PERIOD_SECONDS,
        decimals: int = 2,
    ) -> ClaimsClient:
        """Deploy a ClaimToken (and, without ``currency``, a SettlementToken) and list
        the currency; the client's key becomes admin, operator and minter."""
        if client.signer is None:
            raise ConfigurationError("deploying the claim token needs a signing key")
        owner = client.signer.address
        if currency is None:
            currency = client.deploy(
                "SettlementToken",
                "Euro Settlement Token",
                "EURS",
                decimals,
                owner,
                gas=GAS["deploy_settlement_token"],
            )
        token = client.deploy(
            "ClaimToken",
            owner,
            owner,
            to_checksum_address(registry),
            grace_period,
            default_period,
            gas=GAS["deploy_claim_token"],
        )
        claims = cls(client, token, currency)
        claims.list_currency(currency)
        return claims

    def for_signer(self, client: ChainClient) -> ClaimsClient:
        """The same contracts, driven by another key (a party's own client)."""
        return ClaimsClient(client, self.claim_token, self.currency)

    @property
    def address(self) -> str:
        """The address this client signs with."""
        if self.client.signer is None:
            raise ConfigurationError("this chain client has no signing key")
        return str(self.client.signer.address)

    def domain(self) -> Domain:
        """The EIP-712 domain, as the contract reports it (``eip712Domain()``)."""
        _fields, name, version, chain_id, contract, _salt, _ext = self.client.read(
            self._token.functions.eip712Domain()
        )
        return Domain(int(chain_id), to_checksum_address(contract), name, version)

    # -- sending -----------------------------------------------------------------

    def _send(self, label: str, call: Any, gas: int) -> Step:
        sent = self.client.send(call, gas=gas, label=label)
        receipt = self.client.wait([sent])[0]
        return Step(
            label,
            bytes(receipt["transactionHash"]),
            int(receipt["blockNumber"]),
            int(receipt["gasUsed"]),
        )

    def register_party(self, party: str, obligor_signer: str = ZERO_ADDRESS) -> Step:
        """Operator: permit ``party`` to hold units, with its confirmation key."""
        call = self._token.functions.registerParty(
            to_checksum_address(party), to_checksum_address(obligor_signer)
        )
        return self._send(f"register party {party}", call, GAS["registerParty"])

    def ensure_party(self, party: str, obligor_signer: str = ZERO_ADDRESS) -> bool:
        """Operator: register ``party`` unless it is; set its key if it has none.

        Returns:
            True when a transaction was sent.
        """
        party_id, _permitted, signer = self.party_of(party)
        if party_id == 0:
            self.register_party(party, obligor_signer)
            return True
        if obligor_signer != ZERO_ADDRESS and signer != to_checksum_address(
            obligor_signer
        ):
            call = self._token.functions.setObligorSigner(
                to_checksum_address(party), to_checksum_address(obligor_signer)
            )
            self._send(f"set signer of {party}", call, GAS["setObligorSigner"])
            return True
        return False

    def list_currency(self, currency: str) -> Step:
        """Operator: accept ``currency`` for new claims."""
        call = self._token.functions.listCurrency(to_checksum_address(currency))
        return self._send("list currency", call, GAS["listCurrency"])

    def mint(self, to: str, amount: int) -> Step:
        """Minter of a local SettlementToken: create ``amount`` for ``to``."""
        call = self._currency.functions.mint(to_checksum_address(to), amount)
        return self._send(f"mint {amount}", call, GAS["mint"])

    def approve(self, amount: int = UINT256_MAX) -> Step:
        """Let the ClaimToken take up to ``amount`` of this key's currency."""
        call = self._currency.functions.approve(self.claim_token, amount)
        return self._send("approve currency", call, GAS["approve"])

    def confirm(
        self, confirmation: Confirmation, signature: bytes, proof: list[bytes]
    ) -> Step:
        """Relay an obligor's signed confirmation; mints the claim to the seller."""
        call = self._token.functions.confirm(confirmation.as_args(), signature, proof)
        return self._send("confirm and mint", call, GAS["confirm"])

    def buy(self, offer: Offer, signature: bytes, units: int, max_price: int) -> Step:
        """Buy ``units`` of a signed offer, paying at most ``max_price``."""
        call = self._token.functions.buy(offer.as_args(), signature, units, max_price)
        return self._send(f"buy {units} units", call, GAS["buy"])

    def cancel_offers(self, claim_id: int) -> Step:
        """Close this key's open offers on ``claim_id``."""
        call = self._token.functions.cancelOffers(claim_id)
        return self._send("cancel offers", call, GAS["cancelOffers"])

    def transfer(self, to: str, claim_id: int, units: int) -> Step:
        """Move ``units`` of this key's units to ``to`` (a permitted holder)."""
        call = self._token.functions.safeTransferFrom(
            self.address, to_checksum_address(to), claim_id, units, b""
        )
        return self._send(f"transfer {units} units", call, GAS["safeTransferFrom"])

    def repay(self, claim_id: int, amount: int) -> Step:
        """Repay ``amount`` on ``claim_id`` from this key's currency."""
        call = self._token.functions.repay(claim_id, amount)
        return self._send(f"repay {amount}", call, GAS["repay"])

    def redeem(self, claim_id: int, holder: str) -> Step:
        """Pay ``holder`` what it is owed from ``claim_id`` (anyone may call)."""
        call = self._token.functions.redeem(claim_id, to_checksum_address(holder))
        return self._send("redeem", call, GAS["redeem"])

    # -- transactions a party signs itself -----------------------------------------

    def call_data(self, function: str, *args: Any) -> tuple[str, bytes]:
        """``(to, data)`` of a ClaimToken call, or of ``approve`` on the currency."""
        contract = self._currency if function == "approve" else self._token
        encoded = contract.encode_abi(function, args=list(args))
        return contract.address, bytes.fromhex(encoded[2:])

    def unsigned_transaction(
        self, sender: str, function: str, *args: Any, gas: int | None = None
    ) -> dict[str, Any]:
        """An EIP-1559 transaction of ``sender`` calling ``function``, to sign.

        The nonce is the sender's pending count and the fees the chain's quote now.
        """
        to, data = self.call_data(function, *args)
        max_fee, tip = self.client.fee_quote()
        return {
            "type": 2,
            "chainId": self.client.chain_id(),
            "nonce": self.client.transaction_count(sender, "pending"),
            "to": to,
            "data": "0x" + data.hex(),
            "value": 0,
            "gas": gas or GAS[function],
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": tip,
        }

    # -- views ---------------------------------------------------------------------

    def nonce_of(self, obligor: str) -> int:
        """The obligor's next confirmation nonce."""
        return int(
            self.client.read(self._token.functions.nonces(to_checksum_address(obligor)))
        )

    def party_of(self, party: str) -> tuple[int, bool, str]:
        """``(party id, permitted, obligor signer)``; id 0 when never registered."""
        party_id, permitted, signer = self.client.read(
            self._token.functions.partyOf(to_checksum_address(party))
        )
        return int(party_id), bool(permitted), to_checksum_address(signer)

    def is_permitted(self, holder: str) -> bool:
        return bool(
            self.client.read(
                self._token.functions.isPermitted(to_checksum_address(holder))
            )
        )

    def claim_of(self, claim_id: int) -> ClaimTerms | None:
        """The claim's terms, or None when no claim has this id."""
        root, seller, obligor, currency, face, due = self.client.read(
            self._token.functions.claimOf(claim_id)
        )
        if face == 0:
            return None
        return ClaimTerms(
            bytes(root),
            to_checksum_address(seller),
            to_checksum_address(obligor),
            to_checksum_address(currency),
            int(face),
            int(due),
        )

    def claim_state(self, claim_id: int) -> ClaimState:
        return ClaimState(
            int(self.client.read(self._token.functions.claimState(claim_id)))
        )

    def settlement_of(self, claim_id: int) -> Settlement:
        values = self.client.read(self._token.functions.settlementOf(claim_id))
        return Settlement(*(int(v) for v in values))

    def balance_of(self, holder: str, claim_id: int) -> int:
        """Units of ``claim_id`` held by ``holder``."""
        return int(
            self.client.read(
                self._token.functions.balanceOf(to_checksum_address(holder), claim_id)
            )
        )

    def redeemable(self, claim_id: int, holder: str) -> int:
        return int(
            self.client.read(
                self._token.functions.redeemable(claim_id, to_checksum_address(holder))
            )
        )

    def offer_status(self, claim_id: int, seller: str) -> tuple[int, int]:
        """``(open nonce, units filled under it)`` of ``seller`` on ``claim_id``."""
        nonce, filled = self.client.read(
            self._token.functions.offerStatus(claim_id, to_checksum_address(seller))
        )
        return int(nonce), int(filled)

    def token_balance(self, holder: str) -> int:
        """Currency held by ``holder``, in minor units."""
        return int(
            self.client.read(
                self._currency.functions.balanceOf(to_checksum_address(holder))
            )
        )

    def hash_confirmation(self, confirmation: Confirmation) -> bytes:
        return bytes(
            self.client.read(
                self._token.functions.hashConfirmation(confirmation.as_args())
            )
        )

    def hash_offer(self, offer: Offer) -> bytes:
        return bytes(self.client.read(self._token.functions.hashOffer(offer.as_args())))

    def contract_price_for(self, units: int, daily_rate: int, days: int) -> int:
        return int(
            self.client.read(self._token.functions.priceFor(units, daily_rate, days))
        )


# -- events --------------------------------------------------------------------------

CLAIM_EVENTS = (
    "ClaimConfirmed",
    "TransferSingle",
    "TransferBatch",
    "OfferFilled",
    "OffersCancelled",
    "Repaid",
    "Redeemed",
    "ClaimClosed",
)


@dataclass(frozen=True, slots=True)
class ClaimLog:
    """One decoded ClaimToken event about one claim (integers stay integers)."""

    name: str
    claim_id: int
    args: dict[str, Any]


@cache
def _event_table() -> dict[bytes, tuple[str, list[dict[str, Any]]]]:
    table: dict[bytes, tuple[str, list[dict[str, Any]]]] = {}
    for entry in artifact("ClaimToken").abi:
        if entry.get("type") == "event" and entry["name"] in CLAIM_EVENTS:
            types = ",".join(arg["type"] for arg in entry["inputs"])
            topic = keccak256(f"{entry['name']}({types})".encode())
            table[topic] = (entry["name"], entry["inputs"])
    return table


def claim_event_topics() -> list[bytes]:
    """The first topics of the events the claims projection is built from."""
    return list(_event_table())


def decode_claim_log(topics: tuple[bytes, ...], data: bytes) -> list[ClaimLog]:
    """Decode a ClaimToken log; a batch transfer gives one entry per claim id.

    Returns:
        An empty list for a log that is none of :data:`CLAIM_EVENTS`.
    """
    if not topics or topics[0] not in _event_table():
        return []
    name, inputs = _event_table()[topics[0]]
    indexed = [arg for arg in inputs if arg["indexed"]]
    plain = [arg for arg in inputs if not arg["indexed"]]
    args: dict[str, Any] = {}
    for arg, topic in zip(indexed, topics[1:], strict=True):
        (args[arg["name"]],) = abi_decode([arg["type"]], topic)
    values = abi_decode([arg["type"] for arg in plain], data)
    for arg, value in zip(plain, values, strict=True):
        args[arg["name"]] = value
    for key, value in list(args.items()):
        if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
            args[key] = to_checksum_address(value)
        elif isinstance(value, bytes):
            args[key] = "0x" + value.hex()
    if name == "TransferBatch":
        return [
            ClaimLog(
                name,
                int(claim_id),
                {**args, "ids": None, "values": None, "id": claim_id, "value": value},
            )
            for claim_id, value in zip(args["ids"], args["values"], strict=True)
        ]
    claim_id = args["claimId"] if "claimId" in args else args["id"]
    return [ClaimLog(name, int(claim_id), args)]


# -- time on local chains ------------------------------------------------------------


def chain_time(client: ChainClient) -> int:
    """The timestamp of the newest block."""
    block = client.w3.eth.get_block("latest")
    return int(block["timestamp"])


def advance_time(client: ChainClient, seconds: int) -> int:
    """Move a local chain's clock ``seconds`` ahead and mine a block (tests, demo).

    The in-process chain time-travels; anvil and Hardhat take ``evm_increaseTime``
    and ``evm_mine``.

    Returns:
        The new block's timestamp.
    """
    provider: Any = client.w3.provider
    if isinstance(provider, EthereumTesterProvider):
        tester: Any = provider.ethereum_tester
        tester.time_travel(chain_time(client) + seconds)
        tester.mine_blocks(1)
    else:
        client.w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [seconds])
        client.w3.provider.make_request(RPCEndpoint("evm_mine"), [])
    return chain_time(client)


def party_client(client: ChainClient, private_key: str | bytes) -> ChainClient:
    """A chain client on the same connection, signing with another key."""
    return ChainClient(client.w3, Account.from_key(private_key))
