"""What a verifier needs to know about the chain, as a narrow read-only interface.

The offline verifier never talks to a node; the on-chain verifier asks an
:class:`AnchorLookup` four questions. :class:`registry.chain.ChainClient` answers them
over JSON-RPC (or the in-process chain); tests can answer them from a dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AnchorRecord:
    """Where and when the registry contract recorded a batch root.

    Attributes:
        batch_id: the contract's sequence number for the batch (starts at 1).
        block_number: the block whose transaction anchored the root.
        anchored_at: the block's timestamp, in seconds since the epoch.
        document_count: how many document roots the anchorer said the batch holds.
    """

    batch_id: int
    block_number: int
    anchored_at: int
    document_count: int


class AnchorLookup(Protocol):
    """Read-only questions the on-chain verifier asks of a chain."""

    def chain_id(self) -> int:
        """The chain id the endpoint reports (``eth_chainId``)."""
        ...

    def has_code(self, contract: str) -> bool:
        """Whether a contract is deployed at the checksummed address ``contract``."""
        ...

    def anchor_of(self, contract: str, batch_root: bytes) -> AnchorRecord | None:
        """The registry's record of ``batch_root``; None when never anchored."""
        ...

    def block_hash(self, block_number: int) -> bytes | None:
        """The hash of the canonical block at ``block_number``, or None if none yet."""
        ...

    def latest_block_number(self) -> int:
        """The number of the newest block the endpoint knows."""
        ...
