"""Anchor batches of sealed documents on the registry contract and record where.

Invariants:
    * One transaction anchors one batch root (``anchorBatch(root, documentCount)``);
      nothing about a document but its root, hashed again into the batch tree, reaches
      the chain.
    * An :class:`AnchorFacts` is only made from a successful, mined receipt, and holds
      the block hash of that receipt, so a later reorg is detectable by comparing it
      with the canonical chain.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from web3.types import TxReceipt

from registry.chain import ChainClient, SentTransaction
from registry.errors import ProofError
from registry.merkle import BatchTree

logger = logging.getLogger(__name__)

# anchorBatch costs ~55,000 gas on a warm contract; the margin covers the first batch,
# which also initialises the batch counter's storage slot.
ANCHOR_GAS = 90_000


@dataclass(frozen=True, slots=True)
class AnchorFacts:
    """Where a batch root was anchored, as recorded in an evidence bundle."""

    chain_id: int
    contract: str
    transaction_hash: bytes
    block_number: int
    block_hash: bytes
    batch_id: int
    gas_used: int


class Anchorer:
    """Sends batch roots to one registry contract with the client's signing key."""

    def __init__(self, client: ChainClient, registry_address: str) -> None:
        self.client = client
        self.registry_address = registry_address
        self._registry = client.contract("ReceivableRegistry", registry_address)

    @classmethod
    def deploy(cls, client: ChainClient) -> Anchorer:
        """Deploy a new registry with the client's key as admin and anchorer."""
        if client.signer is None:
            raise ProofError("deploying a registry needs a signing key")
        owner = client.signer.address
        return cls(client, client.deploy("ReceivableRegistry", owner, owner))

    def submit(self, batch: BatchTree) -> SentTransaction:
        """Send the transaction anchoring ``batch``; returns without waiting."""
        call = self._registry.functions.anchorBatch(batch.root, batch.size)
        sent = self.client.send(
            call, gas=ANCHOR_GAS, label=f"anchor {batch.size} documents"
        )
        logger.info(
            "anchor.batch_submitted documents=%d root=%s nonce=%d tx=%s",
            batch.size,
            batch.root.hex(),
            sent.nonce,
            sent.tx_hash.hex(),
        )
        return sent

    def facts(self, receipt: TxReceipt) -> AnchorFacts:
        """Read the anchor's facts from a successful receipt of :meth:`submit`."""
        events = self._registry.events.BatchAnchored().process_receipt(receipt)
        if len(events) != 1:
            raise ProofError(
                "the receipt holds no BatchAnchored event of this registry"
            )
        return AnchorFacts(
            chain_id=self.client.chain_id(),
            contract=self.registry_address,
            transaction_hash=bytes(receipt["transactionHash"]),
            block_number=int(receipt["blockNumber"]),
            block_hash=bytes(receipt["blockHash"]),
            batch_id=int(events[0]["args"]["batchId"]),
            gas_used=int(receipt["gasUsed"]),
        )

    def anchor(
        self, batches: Sequence[BatchTree], *, confirmations: int = 1
    ) -> list[AnchorFacts]:
        """Anchor several batches (one transaction each) and wait for all of them.

        Raises:
            TransactionRevertedError: a batch was refused (say, already anchored).
            ConfirmationTimeoutError: the chain did not confirm them in time.
        """
        sent = [self.submit(batch) for batch in batches]
        receipts = self.client.wait(sent, confirmations=confirmations)
        facts = [self.facts(receipt) for receipt in receipts]
        for fact in facts:
            logger.info(
                "anchor.batch_mined batch_id=%d block=%d gas=%d",
                fact.batch_id,
                fact.block_number,
                fact.gas_used,
            )
        return facts
