"""The chain client: deploy, send signed transactions by nonce, wait, read anchors.

Invariants:
    * Every transaction is signed locally by one account and sent raw; the client keeps
      its own next nonce and a record of each sent transaction by nonce (hash and signed
      bytes), so a transaction can be found by sender and nonce, or rebroadcast as the
      same bytes, whatever happened to its hash.
    * Receipts for many transactions are fetched in one JSON-RPC batch per poll, not
      one 0.1 s poll per transaction.
    * web3 errors never leave this module: reverts become
      :class:`~registry.errors.TransactionRevertedError` with the decoded custom error
      name and arguments; an unreachable node becomes
      :class:`~registry.errors.ChainUnavailableError`.
"""

from __future__ import annotations

import ast
import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any, cast

import requests
from eth_abi.abi import decode as abi_decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed
from eth_typing import Hash32
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from eth_utils.exceptions import ValidationError
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3Exception
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import Nonce, RPCEndpoint, TxParams, TxReceipt, Wei

from registry.anchors import AnchorRecord
from registry.compiler import artifact
from registry.errors import (
    ChainUnavailableError,
    ConfigurationError,
    ConfirmationTimeoutError,
    TransactionRevertedError,
)

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 60.0
_POLL_SECONDS = 0.05
_TIP_WEI = 1_000_000_000


@dataclass(slots=True)
class SentTransaction:
    """A transaction this client signed and broadcast, tracked by its nonce.

    Attributes:
        nonce: the sender's nonce; the key a transaction is tracked by.
        tx_hash: hash of the signed bytes (changes if the transaction is replaced).
        raw: the signed bytes, kept so the same transaction can be rebroadcast.
        label: what the transaction does, for logs and timelines.
    """

    nonce: int
    tx_hash: bytes
    raw: bytes
    label: str
    receipt: TxReceipt | None = None


@dataclass(frozen=True, slots=True)
class SignedTransaction:
    """A transaction signed locally and not (yet) sent: the bytes to store, then send.

    Signing is deterministic (RFC 6979), so the same fields always give the same
    bytes and hash; storing ``raw`` before sending makes a rebroadcast exact.
    """

    nonce: int
    tx_hash: bytes
    raw: bytes
    gas: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


class BroadcastOutcome(StrEnum):
    """What the node said to a raw transaction (see :meth:`ChainClient.send_raw`)."""

    ACCEPTED = "accepted"
    KNOWN = "known"
    """Already in the node's pool (the same bytes were sent before)."""
    NONCE_USED = "nonce_used"
    """The sender's nonce is past this one: mined, or replaced by another."""
    UNDERPRICED = "underpriced"
    """A transaction with this nonce and a higher or equal fee is already pooled."""
    REJECTED = "rejected"
    """Refused for another reason (fee below base fee, no funds, bad gas)."""


@dataclass(frozen=True, slots=True)
class Broadcast:
    """The outcome of sending raw bytes, with the node's message when refused."""

    outcome: BroadcastOutcome
    detail: str = ""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One event log as the node reported it (topics and data raw)."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    log_index: int = 0


@dataclass(frozen=True, slots=True)
class ReceiptSummary:
    """The parts of a receipt a worker records: where it was mined and how it went."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    status: int
    gas_used: int
    logs: tuple[LogEntry, ...]


_KNOWN = ("already known", "already imported", "known transaction")
_NONCE_USED = ("nonce too low", "nonce is too low", "oldnonce")
_UNDERPRICED = ("underpriced",)


@dataclass(slots=True)
class _Ledger:
    """The client's own view of its sender's nonces."""

    next_nonce: int | None = None
    by_nonce: dict[int, SentTransaction] = field(default_factory=dict)


class ChainClient:
    """One signing account on one chain, reached over JSON-RPC or in-process.

    Implements :class:`registry.anchors.AnchorLookup`, so a verifier can use it.
    """

    def __init__(self, w3: Web3, signer: LocalAccount | None) -> None:
        self.w3 = w3
        self.signer = signer
        self._ledger = _Ledger()
        self._chain_id: int | None = None

    # -- construction --------------------------------------------------------------

    @classmethod
    def connect(
        cls, rpc_url: str, private_key: str | None = None, *, timeout: float = 10.0
    ) -> ChainClient:
        """A client for the JSON-RPC endpoint at ``rpc_url``.

        Raises:
            ChainUnavailableError: the endpoint does not answer.
        """
        w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        signer = Account.from_key(private_key) if private_key else None
        client = cls(w3, signer)
        client.chain_id()  # fail now, with a clear error, if the node is not there
        return client

    @classmethod
    def in_process(cls) -> ChainClient:
        """A client for a fresh in-process chain, signing with its first funded key."""
        provider = EthereumTesterProvider()
        tester: Any = provider.ethereum_tester
        key = tester.backend.account_keys[0]
        return cls(Web3(provider), Account.from_key(key.to_bytes()))

    # -- reads ---------------------------------------------------------------------

    def chain_id(self) -> int:
        """The endpoint's chain id (asked once, then remembered)."""
        if self._chain_id is None:
            self._chain_id = int(self._call(lambda: self.w3.eth.chain_id))
        return self._chain_id

    def latest_block_number(self) -> int:
        """The newest block's number."""
        return int(self._call(lambda: self.w3.eth.block_number))

    def block_hash(self, block_number: int) -> bytes | None:
        """Hash of the canonical block at ``block_number``, or None if there is none."""
        if block_number > self.latest_block_number():
            return None
        block = self._call(lambda: self.w3.eth.get_block(block_number))
        return bytes(block["hash"])

    def has_code(self, contract: str) -> bool:
        """Whether any contract code is deployed at ``contract``."""
        address = to_checksum_address(contract)
        return len(self._call(lambda: self.w3.eth.get_code(address))) > 0

    def confirmations(self, block_number: int) -> int:
        """How many blocks, counting its own, sit on top of ``block_number``."""
        return max(0, self.latest_block_number() - block_number + 1)

    def anchor_of(self, contract: str, batch_root: bytes) -> AnchorRecord | None:
        """The registry's record of ``batch_root``; None when it was never anchored."""
        registry = self.contract("ReceivableRegistry", contract)
        batch_id, block_number, anchored_at, count = self.read(
            registry.functions.anchorOf(batch_root)
        )
        if batch_id == 0:
            return None
        return AnchorRecord(batch_id, block_number, anchored_at, count)

    def contract(self, name: str, address: str) -> Any:
        """A web3 contract object for the compiled contract ``name`` at ``address``."""
        abi = artifact(name).abi
        return self.w3.eth.contract(address=to_checksum_address(address), abi=abi)

    def read(
        self, call: Any, *, sender: str | None = None, funded: bool = False
    ) -> Any:
        """Run a contract call without sending it, translating errors.

        Args:
            call: a bound contract function.
            sender: the ``from`` address the call is simulated with, if it matters.
            funded: the sender pays gas like a real transaction (the in-process
                chain refuses a zero gas price once the base fee is above zero).
        """
        params: TxParams = {}
        if sender and funded:
            params = {"from": to_checksum_address(sender)}
        elif sender:
            # A zero gas price lets an unfunded address be simulated on every node.
            params = {"from": to_checksum_address(sender), "gasPrice": Wei(0)}
        return self._call(lambda: call.call(params))

    # -- writes --------------------------------------------------------------------

    def deploy(self, name: str, *args: Any, gas: int = 5_000_000) -> str:
        """Deploy the compiled contract ``name`` and wait for it to be mined.

        Returns:
            The checksummed address of the new contract.
        """
        compiled = artifact(name)
        factory = self.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
        sent = self.send(factory.constructor(*args), gas=gas, label=f"deploy {name}")
        receipt = self.wait([sent])[0]
        address = receipt["contractAddress"]
        if address is None:  # pragma: no cover - a mined deployment always has one
            raise ConfigurationError(f"deployment of {name} returned no address")
        return to_checksum_address(address)

    def send(self, call: Any, *, gas: int, label: str) -> SentTransaction:
        """Sign ``call`` (a contract function or constructor) with the next nonce, send.

        Gas is given explicitly: estimation is slow on the in-process chain and a
        wrong guess is cheaper to see as a revert than to hide behind estimation.

        Raises:
            ConfigurationError: the client has no signing key.
            TransactionRevertedError: the node refused the transaction outright.
        """
        if self.signer is None:
            raise ConfigurationError("this chain client has no signing key")
        nonce = self._next_nonce()
        params: TxParams = {
            "from": self.signer.address,
            "nonce": Nonce(nonce),
            "gas": gas,
            "chainId": self.chain_id(),
            **self._fees(),
        }
        return self._broadcast(nonce, call.build_transaction(params), label)

    def _broadcast(self, nonce: int, tx: TxParams, label: str) -> SentTransaction:
        assert self.signer is not None
        signed = self.signer.sign_transaction(cast(dict[str, Any], tx))
        raw = bytes(signed.raw_transaction)
        self._call(lambda: self.w3.eth.send_raw_transaction(raw))
        sent = SentTransaction(nonce, bytes(signed.hash), raw, label)
        self._ledger.by_nonce[nonce] = sent
        self._ledger.next_nonce = nonce + 1
        logger.debug(
            "chain.tx_sent nonce=%d tx=%s label=%s", nonce, sent.tx_hash.hex(), label
        )
        return sent

    def transfer_ether(self, to: str, wei: int) -> SentTransaction:
        """Send ``wei`` of the native coin to ``to`` (on local chains: gas money)."""
        if self.signer is None:
            raise ConfigurationError("this chain client has no signing key")
        nonce = self._next_nonce()
        tx: TxParams = {
            "to": to_checksum_address(to),
            "value": Wei(wei),
            "nonce": Nonce(nonce),
            "gas": 21_000,
            "chainId": self.chain_id(),
            **self._fees(),
        }
        return self._broadcast(nonce, tx, f"fund {to}")

    def rebroadcast(self, nonce: int) -> SentTransaction:
        """Send the exact signed bytes recorded for ``nonce`` again (idempotent)."""
        sent = self._ledger.by_nonce[nonce]
        try:
            self.w3.eth.send_raw_transaction(sent.raw)
        except (Web3Exception, ValidationError, ValueError) as err:
            # "already known" or "nonce too low": it is pending or mined; nothing to do
            logger.debug("chain.rebroadcast_ignored nonce=%d reason=%s", nonce, err)
        return sent

    def sent(self, nonce: int) -> SentTransaction | None:
        """The transaction this client sent with ``nonce``, if any."""
        return self._ledger.by_nonce.get(nonce)

    def wait(
        self,
        transactions: Sequence[SentTransaction],
        *,
        confirmations: int = 1,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> list[TxReceipt]:
        """Wait until every transaction is mined with ``confirmations`` blocks.

        All outstanding receipts are asked for in one JSON-RPC batch per poll.

        Returns:
            The receipts, in the order of ``transactions``.

        Raises:
            TransactionRevertedError: a transaction was mined but reverted.
            ConfirmationTimeoutError: not all were confirmed within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while True:
            pending = [t for t in transactions if t.receipt is None]
            for sent, receipt in zip(pending, self._receipts(pending), strict=True):
                sent.receipt = receipt
            mined = [t.receipt for t in transactions if t.receipt is not None]
            if len(mined) == len(transactions):
                newest = max(int(r["blockNumber"]) for r in mined)
                if self.confirmations(newest) >= confirmations:
                    break
            if time.monotonic() > deadline:
                late = (
                    next(t for t in transactions if t.receipt is None)
                    if pending
                    else transactions[-1]
                )
                raise ConfirmationTimeoutError("0x" + late.tx_hash.hex(), timeout)
            time.sleep(_POLL_SECONDS)
        receipts = [cast(TxReceipt, t.receipt) for t in transactions]
        for sent, receipt in zip(transactions, receipts, strict=True):
            if receipt["status"] != 1:
                raise self._revert_of(sent, receipt)
        return receipts

    # -- signing apart from sending (for a caller that stores bytes first) -----------

    def fee_quote(self) -> tuple[int, int]:
        """``(max_fee_per_gas, max_priority_fee_per_gas)`` for a transaction now."""
        fees = self._fees()
        return int(fees["maxFeePerGas"]), int(fees["maxPriorityFeePerGas"])

    def transaction_count(self, address: str, block: str = "latest") -> int:
        """How many transactions ``address`` sent up to ``block`` (latest, pending)."""
        checksummed = to_checksum_address(address)
        return int(
            self._call(
                lambda: self.w3.eth.get_transaction_count(checksummed, block)  # type: ignore[arg-type]
            )
        )

    def sign(
        self,
        to: str,
        data: bytes,
        *,
        nonce: int,
        gas: int,
        max_fee_per_gas: int,
        max_priority_fee_per_gas: int,
    ) -> SignedTransaction:
        """Sign a call of ``data`` to ``to`` with this nonce and these fees; no send.

        Raises:
            ConfigurationError: the client has no signing key.
        """
        if self.signer is None:
            raise ConfigurationError("this chain client has no signing key")
        tx: dict[str, Any] = {
            "to": to_checksum_address(to),
            "data": "0x" + data.hex(),
            "value": 0,
            "nonce": nonce,
            "gas": gas,
            "chainId": self.chain_id(),
            "maxFeePerGas": max_fee_per_gas,
            "maxPriorityFeePerGas": max_priority_fee_per_gas,
            "type": 2,
        }
        signed = self.signer.sign_transaction(tx)
        return SignedTransaction(
            nonce,
            bytes(signed.hash),
            bytes(signed.raw_transaction),
            gas,
            max_fee_per_gas,
            max_priority_fee_per_gas,
        )

    def send_raw(self, raw: bytes) -> Broadcast:
        """Send signed bytes and classify the node's answer; never raises on refusal.

        Raises:
            ChainUnavailableError: the node could not be reached.
        """
        try:
            self._call(lambda: self.w3.eth.send_raw_transaction(raw))
        except (Web3Exception, ValidationError, ValueError) as err:
            message = str(err).lower()
            for needles, outcome in (
                (_KNOWN, BroadcastOutcome.KNOWN),
                (_NONCE_USED, BroadcastOutcome.NONCE_USED),
                (_UNDERPRICED, BroadcastOutcome.UNDERPRICED),
            ):
                if any(needle in message for needle in needles):
                    return Broadcast(outcome, str(err)[:200])
            return Broadcast(BroadcastOutcome.REJECTED, str(err)[:200])
        return Broadcast(BroadcastOutcome.ACCEPTED)

    def code(self, address: str) -> bytes:
        """The runtime code deployed at ``address`` (empty when none)."""
        checksummed = to_checksum_address(address)
        return bytes(self._call(lambda: self.w3.eth.get_code(checksummed)))

    def receipts(self, tx_hashes: Sequence[bytes]) -> list[ReceiptSummary | None]:
        """Receipts of many transactions, in one JSON-RPC batch (None: not mined)."""
        if not tx_hashes:
            return []
        provider: Any = self.w3.provider
        if isinstance(provider, EthereumTesterProvider):
            return [self._summary_in_process(h) for h in tx_hashes]
        calls = [
            (RPCEndpoint("eth_getTransactionReceipt"), ["0x" + h.hex()])
            for h in tx_hashes
        ]
        responses = self._call(lambda: provider.make_batch_request(calls))
        if not isinstance(responses, list):
            raise ChainUnavailableError(f"batch receipt request failed: {responses}")
        return [_summary_of(response.get("result")) for response in responses]

    def logs(
        self,
        address: str,
        topic0: bytes | Sequence[bytes],
        from_block: int,
        to_block: int,
    ) -> list[LogEntry]:
        """Logs of ``address`` whose first topic is ``topic0`` (or any of several),
        in a block range, in chain order."""
        wanted = [topic0] if isinstance(topic0, bytes) else list(topic0)
        params: Any = {
            "address": to_checksum_address(address),
            "topics": [["0x" + topic.hex() for topic in wanted]],
            "fromBlock": from_block,
            "toBlock": to_block,
        }
        entries = self._call(lambda: self.w3.eth.get_logs(params))
        return [
            LogEntry(
                address=to_checksum_address(entry["address"]),
                topics=tuple(bytes(t) for t in entry["topics"]),
                data=bytes(entry["data"]),
                block_number=int(entry["blockNumber"]),
                block_hash=bytes(entry["blockHash"]),
                tx_hash=bytes(entry["transactionHash"]),
                log_index=int(entry["logIndex"]),
            )
            for entry in entries
        ]

    def _summary_in_process(self, tx_hash: bytes) -> ReceiptSummary | None:
        receipt = self._receipt_or_none(tx_hash)
        if receipt is None:
            return None
        return ReceiptSummary(
            tx_hash=bytes(receipt["transactionHash"]),
            block_number=int(receipt["blockNumber"]),
            block_hash=bytes(receipt["blockHash"]),
            status=int(receipt["status"]),
            gas_used=int(receipt["gasUsed"]),
            logs=tuple(
                LogEntry(
                    address=to_checksum_address(log["address"]),
                    topics=tuple(bytes(t) for t in log["topics"]),
                    data=bytes(log["data"]),
                    block_number=int(log["blockNumber"]),
                    block_hash=bytes(log["blockHash"]),
                    tx_hash=bytes(log["transactionHash"]),
                    log_index=int(log["logIndex"]),
                )
                for log in receipt["logs"]
            ),
        )

    # -- internals -----------------------------------------------------------------

    def _next_nonce(self) -> int:
        assert self.signer is not None
        address = self.signer.address
        on_chain = int(
            self._call(lambda: self.w3.eth.get_transaction_count(address, "pending"))
        )
        local = self._ledger.next_nonce
        return on_chain if local is None else max(local, on_chain)

    def _fees(self) -> TxParams:
        block = self._call(lambda: self.w3.eth.get_block("latest"))
        base_fee = int(block.get("baseFeePerGas", 0) or 0)
        return {
            "maxFeePerGas": Wei(2 * base_fee + _TIP_WEI),
            "maxPriorityFeePerGas": Wei(_TIP_WEI),
        }

    def _receipts(self, pending: Iterable[SentTransaction]) -> list[TxReceipt | None]:
        pending = list(pending)
        if not pending:
            return []
        provider: Any = self.w3.provider
        if isinstance(provider, EthereumTesterProvider):
            return [self._receipt_or_none(t.tx_hash) for t in pending]
        requests_ = [
            (RPCEndpoint("eth_getTransactionReceipt"), ["0x" + t.tx_hash.hex()])
            for t in pending
        ]
        responses = self._call(lambda: provider.make_batch_request(requests_))
        if not isinstance(responses, list):
            raise ChainUnavailableError(f"batch receipt request failed: {responses}")
        out: list[TxReceipt | None] = []
        for t, response in zip(pending, responses, strict=True):
            out.append(
                self._receipt_or_none(t.tx_hash) if response.get("result") else None
            )
        return out

    def _receipt_or_none(self, tx_hash: bytes) -> TxReceipt | None:
        try:
            return self.w3.eth.get_transaction_receipt(Hash32(tx_hash))
        except Web3Exception:
            return None

    def _revert_of(
        self, sent: SentTransaction, receipt: TxReceipt
    ) -> TransactionRevertedError:
        """Replay a reverted transaction as a call to learn its error.

        NOTE: the replay runs on the state after the block before the transaction's, so
        when earlier transactions in the same block changed what it depended on, the
        decoded error can differ from the one it really hit; the revert itself is
        certain (the receipt says so).
        """
        tx = self.w3.eth.get_transaction(Hash32(sent.tx_hash))
        replay: TxParams = {"from": tx["from"], "data": tx["input"], "gas": tx["gas"]}
        if tx.get("to"):
            replay["to"] = tx["to"]
        tx_hex = "0x" + sent.tx_hash.hex()
        try:
            self.w3.eth.call(replay, receipt["blockNumber"] - 1)
        except ContractCustomError as err:
            return self.decode_revert(err.data, tx_hex)
        except TransactionFailed as err:
            return self.decode_revert(_tester_revert_data(err), tx_hex)
        except ContractLogicError as err:
            return TransactionRevertedError(str(err.message or "revert"), (), tx_hex)
        gas_used = int(receipt["gasUsed"])
        if gas_used >= int(tx["gas"]):
            return TransactionRevertedError("OutOfGas", (gas_used,), tx_hex)
        return TransactionRevertedError("UnknownRevert", (), tx_hex)

    def decode_revert(
        self, data: object, tx_hash: str | None = None
    ) -> TransactionRevertedError:
        """Decode revert data into the custom error's name and arguments."""
        raw = data if isinstance(data, str) else ""
        selector = raw[:10].lower()
        errors = _error_table()
        if selector in errors:
            name, types = errors[selector]
            values = abi_decode(types, bytes.fromhex(raw[10:]))
            return TransactionRevertedError(name, _plain(types, values), tx_hash)
        return TransactionRevertedError("UnknownError", (raw,), tx_hash)

    def _call(self, thunk: Any) -> Any:
        try:
            return thunk()
        except ContractCustomError as err:
            raise self.decode_revert(err.data) from err
        except ContractLogicError as err:
            raise TransactionRevertedError(str(err.message or "revert"), ()) from err
        except TransactionFailed as err:  # the in-process chain reverts at send time
            raise self.decode_revert(_tester_revert_data(err)) from err
        except (requests.ConnectionError, requests.Timeout, ConnectionError) as err:
            raise ChainUnavailableError(
                f"JSON-RPC endpoint unreachable: {type(err).__name__}"
            ) from err


def _hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def _summary_of(raw: dict[str, Any] | None) -> ReceiptSummary | None:
    """A receipt from its raw JSON-RPC form (hex quantities), or None."""
    if not raw or raw.get("blockNumber") is None:
        return None
    return ReceiptSummary(
        tx_hash=_hex_bytes(raw["transactionHash"]),
        block_number=int(raw["blockNumber"], 16),
        block_hash=_hex_bytes(raw["blockHash"]),
        status=int(raw.get("status", "0x0"), 16),
        gas_used=int(raw["gasUsed"], 16),
        logs=tuple(
            LogEntry(
                address=to_checksum_address(log["address"]),
                topics=tuple(_hex_bytes(t) for t in log["topics"]),
                data=_hex_bytes(log["data"]),
                block_number=int(log["blockNumber"], 16),
                block_hash=_hex_bytes(log["blockHash"]),
                tx_hash=_hex_bytes(log["transactionHash"]),
                log_index=int(log.get("logIndex", "0x0"), 16),
            )
            for log in raw.get("logs", [])
        ),
    )


def _tester_revert_data(err: TransactionFailed) -> str:
    """The revert data eth-tester carries as bytes, or as text quoting the bytes."""
    raw = err.args[0] if err.args else b""
    if isinstance(raw, str):
        quoted = re.search(r"b(['\"]).*\1", raw, re.S)
        raw = ast.literal_eval(quoted.group(0)) if quoted else b""
    return "0x" + bytes(raw).hex() if isinstance(raw, bytes | bytearray) else ""


def _plain(types: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
    """ABI values as plain Python: bytes as 0x-hex, addresses checksummed."""
    out: list[Any] = []
    for abi_type, value in zip(types, values, strict=True):
        if abi_type == "address":
            out.append(to_checksum_address(value))
        elif isinstance(value, bytes):
            out.append("0x" + value.hex())
        else:
            out.append(value)
    return tuple(out)


@cache
def _error_table() -> Mapping[str, tuple[str, tuple[str, ...]]]:
    """Selector -> (name, argument types) for every custom error in our contracts.

    Built once per process, on the first revert that needs decoding: it depends only
    on the compiled contracts, which never change while the process runs.
    """
    from registry.compiler import compile_contracts

    table: dict[str, tuple[str, tuple[str, ...]]] = {}
    for compiled in compile_contracts().values():
        for entry in compiled.abi:
            if entry.get("type") != "error":
                continue
            types = tuple(arg["type"] for arg in entry["inputs"])
            signature = f"{entry['name']}({','.join(types)})"
            selector = "0x" + function_signature_to_4byte_selector(signature).hex()
            table[selector] = (entry["name"], types)
    return table
