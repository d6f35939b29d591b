"""The chain client against the in-process chain and a real anvil node over JSON-RPC."""

from __future__ import annotations

import os

import pytest
from eth_account import Account

from registry.chain import ChainClient
from registry.devchain import ANVIL_KEYS, free_port
from registry.errors import ChainUnavailableError, TransactionRevertedError


def _deploy_registry(client: ChainClient) -> str:
    assert client.signer is not None
    return client.deploy(
        "ReceivableRegistry", client.signer.address, client.signer.address
    )


@pytest.fixture(params=["tester", "anvil"])
def client(request: pytest.FixtureRequest) -> ChainClient:
    return request.getfixturevalue(f"{request.param}_client")


def test_anchored_root_reports_its_batch_block_and_count(client: ChainClient) -> None:
    address = _deploy_registry(client)
    registry = client.contract("ReceivableRegistry", address)
    root = os.urandom(32)

    sent = client.send(registry.functions.anchorBatch(root, 7), gas=100_000, label="t")
    receipt = client.wait([sent])[0]

    record = client.anchor_of(address, root)
    assert record is not None
    assert record.block_number == receipt["blockNumber"]
    assert record.document_count == 7
    assert record.batch_id == 1
    assert client.anchor_of(address, os.urandom(32)) is None


def test_anchoring_the_same_root_twice_raises_decoded_custom_error(
    client: ChainClient,
) -> None:
    address = _deploy_registry(client)
    registry = client.contract("ReceivableRegistry", address)
    root = os.urandom(32)
    client.wait(
        [client.send(registry.functions.anchorBatch(root, 1), gas=100_000, label="a")]
    )

    sent = client.send(registry.functions.anchorBatch(root, 1), gas=100_000, label="b")

    with pytest.raises(TransactionRevertedError) as caught:
        client.wait([sent])

    assert caught.value.error_name == "ReceivableRegistryRootAlreadyAnchored"
    assert caught.value.error_args == ("0x" + root.hex(), 1)


def test_account_without_anchorer_role_cannot_anchor(client: ChainClient) -> None:
    address = _deploy_registry(client)
    registry = client.contract("ReceivableRegistry", address)
    role = client.read(registry.functions.ANCHORER_ROLE())
    outsider = ChainClient(client.w3, Account.create())
    assert outsider.signer is not None
    client.wait([client.transfer_ether(outsider.signer.address, 10**18)])
    attempt = registry.functions.anchorBatch(os.urandom(32), 1)

    with pytest.raises(TransactionRevertedError) as caught:
        outsider.wait([outsider.send(attempt, gas=100_000, label="outsider")])

    assert caught.value.error_name == "AccessControlUnauthorizedAccount"
    assert caught.value.error_args == (
        outsider.signer.address,
        "0x" + bytes(role).hex(),
    )
    assert client.read(registry.functions.batchCount()) == 0


def test_many_transactions_are_confirmed_together_with_contiguous_nonces(
    client: ChainClient,
) -> None:
    address = _deploy_registry(client)
    registry = client.contract("ReceivableRegistry", address)

    sent = [
        client.send(
            registry.functions.anchorBatch(os.urandom(32), 1), gas=100_000, label="n"
        )
        for _ in range(25)
    ]
    receipts = client.wait(sent)

    nonces = [s.nonce for s in sent]
    assert nonces == list(range(nonces[0], nonces[0] + 25))
    assert all(r["status"] == 1 for r in receipts)
    assert client.read(registry.functions.batchCount()) == 25
    assert client.sent(nonces[3]) is sent[3]


def test_rebroadcasting_a_mined_transaction_changes_nothing(
    client: ChainClient,
) -> None:
    address = _deploy_registry(client)
    registry = client.contract("ReceivableRegistry", address)
    sent = client.send(
        registry.functions.anchorBatch(os.urandom(32), 1), gas=100_000, label="r"
    )
    client.wait([sent])

    client.rebroadcast(sent.nonce)

    assert client.read(registry.functions.batchCount()) == 1


def test_confirmations_count_the_blocks_mined_on_top(anvil_client: ChainClient) -> None:
    address = _deploy_registry(anvil_client)
    registry = anvil_client.contract("ReceivableRegistry", address)
    sent = anvil_client.send(
        registry.functions.anchorBatch(os.urandom(32), 1), gas=100_000, label="c"
    )
    block = anvil_client.wait([sent])[0]["blockNumber"]

    anvil_client.w3.provider.make_request("anvil_mine", [3])  # type: ignore[arg-type]

    assert anvil_client.confirmations(block) == 4


def test_unreachable_endpoint_raises_chain_unavailable() -> None:
    with pytest.raises(ChainUnavailableError):
        ChainClient.connect(f"http://127.0.0.1:{free_port()}", ANVIL_KEYS[0], timeout=2)
