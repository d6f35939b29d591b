"""Signing apart from sending, raw broadcasts and batched receipts (anvil)."""

from __future__ import annotations

import os

from registry.chain import BroadcastOutcome, ChainClient


def _registry(client: ChainClient) -> str:
    assert client.signer is not None
    owner = client.signer.address
    return client.deploy("ReceivableRegistry", owner, owner)


def _anchor_data(client: ChainClient, contract: str) -> bytes:
    registry = client.contract("ReceivableRegistry", contract)
    encoded: str = registry.encode_abi("anchorBatch", args=[os.urandom(32), 1])
    return bytes.fromhex(encoded[2:])


def test_signing_is_deterministic_and_sends_nothing(anvil_client: ChainClient) -> None:
    contract = _registry(anvil_client)
    assert anvil_client.signer is not None
    nonce = anvil_client.transaction_count(anvil_client.signer.address, "pending")
    data = _anchor_data(anvil_client, contract)
    fees = anvil_client.fee_quote()

    first = anvil_client.sign(
        contract,
        data,
        nonce=nonce,
        gas=90_000,
        max_fee_per_gas=fees[0],
        max_priority_fee_per_gas=fees[1],
    )
    second = anvil_client.sign(
        contract,
        data,
        nonce=nonce,
        gas=90_000,
        max_fee_per_gas=fees[0],
        max_priority_fee_per_gas=fees[1],
    )

    assert first == second
    assert anvil_client.receipts([first.tx_hash]) == [None]
    assert (
        anvil_client.transaction_count(anvil_client.signer.address, "pending") == nonce
    )


def test_raw_broadcast_outcomes_are_classified(anvil_client: ChainClient) -> None:
    contract = _registry(anvil_client)
    assert anvil_client.signer is not None
    nonce = anvil_client.transaction_count(anvil_client.signer.address, "pending")
    fees = anvil_client.fee_quote()
    signed = anvil_client.sign(
        contract,
        _anchor_data(anvil_client, contract),
        nonce=nonce,
        gas=90_000,
        max_fee_per_gas=fees[0],
        max_priority_fee_per_gas=fees[1],
    )

    assert anvil_client.send_raw(signed.raw).outcome is BroadcastOutcome.ACCEPTED
    assert anvil_client.send_raw(signed.raw).outcome is BroadcastOutcome.NONCE_USED
    starved = anvil_client.sign(
        contract,
        b"",
        nonce=nonce + 1,
        gas=1_000,
        max_fee_per_gas=fees[0],
        max_priority_fee_per_gas=fees[1],
    )
    assert anvil_client.send_raw(starved.raw).outcome is BroadcastOutcome.REJECTED

    [receipt] = anvil_client.receipts([signed.tx_hash])
    assert receipt is not None
    assert receipt.status == 1
    assert receipt.tx_hash == signed.tx_hash
    assert anvil_client.block_hash(receipt.block_number) == receipt.block_hash
    assert len(receipt.logs) == 1
    assert anvil_client.code(contract)
