"""The start-up check refuses a chain or contract the records are not about (25)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from api.anchoring.models import ChainDeployment
from api.anchoring.repository import deployment
from api.anchoring.startup import (
    DEPLOYMENT,
    check_chain,
    executable_code,
    expected_code_hash,
)
from api.db import Database
from registry.anchoring import Anchorer
from registry.chain import ChainClient
from registry.devchain import ANVIL_KEYS, AnvilNode, start_anvil
from registry.errors import ConfigurationError
from tests.api.anchoring.conftest import Chain, make_worker, queue_documents


@pytest.fixture
def other_node() -> Iterator[AnvilNode]:
    with start_anvil(chain_id=4242) as node:
        yield node


def _check(database: Database, client: ChainClient, contract: str) -> None:
    with database.sessions() as session:
        check_chain(session, client, contract)
        session.commit()


def test_first_start_records_chain_contract_and_code_hash(
    database: Database, chain: Chain
) -> None:
    _check(database, chain.admin, chain.contract)
    _check(database, chain.admin, chain.contract)  # a restart passes

    with database.read_sessions() as session:
        recorded = deployment(session, DEPLOYMENT)
    assert recorded is not None
    assert recorded.chain_id == 31337
    assert recorded.address == chain.contract
    assert recorded.code_hash == expected_code_hash()


def test_another_chain_id_is_refused(
    sqlite_database: Database, chain: Chain, other_node: AnvilNode
) -> None:
    _check(sqlite_database, chain.admin, chain.contract)
    other = ChainClient.connect(other_node.rpc_url, ANVIL_KEYS[0])
    same_address = Anchorer.deploy(other).registry_address
    assert same_address == chain.contract  # same key, same nonce: same address

    with pytest.raises(ConfigurationError, match=r"chain 4242.*chain 31337"):
        _check(sqlite_database, other, same_address)


def test_another_contract_address_is_refused(
    sqlite_database: Database, chain: Chain
) -> None:
    _check(sqlite_database, chain.admin, chain.contract)
    second = Anchorer.deploy(chain.admin).registry_address

    with pytest.raises(ConfigurationError, match="point --contract"):
        _check(sqlite_database, chain.admin, second)


def test_an_address_without_code_is_refused(
    sqlite_database: Database, chain: Chain
) -> None:
    with pytest.raises(ConfigurationError, match="no contract code"):
        _check(sqlite_database, chain.admin, "0x" + os.urandom(20).hex())


def test_code_other_than_the_compiled_registry_is_refused(
    sqlite_database: Database, chain: Chain
) -> None:
    harness = chain.admin.deploy("ReceivableHashingHarness")

    with pytest.raises(ConfigurationError, match="not the ReceivableRegistry"):
        _check(sqlite_database, chain.admin, harness)


def test_a_changed_code_hash_is_refused(
    sqlite_database: Database, chain: Chain
) -> None:
    _check(sqlite_database, chain.admin, chain.contract)
    with sqlite_database.sessions() as session:
        session.execute(update(ChainDeployment).values(code_hash=bytes(32)))
        session.commit()

    with pytest.raises(ConfigurationError, match="changed since it was recorded"):
        _check(sqlite_database, chain.admin, chain.contract)


def test_a_reset_chain_without_the_final_batches_is_refused(
    database: Database, chain: Chain
) -> None:
    _check(database, chain.admin, chain.contract)
    queue_documents(database, 2)
    worker = make_worker(database, chain, confirmations=1)
    worker.run_cycle()
    worker.run_cycle()

    with start_anvil() as fresh:  # same chain id, same deployer: same address
        client = ChainClient.connect(fresh.rpc_url, ANVIL_KEYS[0])
        assert Anchorer.deploy(client).registry_address == chain.contract
        with pytest.raises(ConfigurationError, match="recorded as final"):
            _check(database, client, chain.contract)


def test_executable_code_drops_the_solc_metadata_section() -> None:
    code = bytes.fromhex("6080604052") + bytes.fromhex("a2646970") + b"\x00\x04"

    assert executable_code(code) == bytes.fromhex("6080604052")
    assert executable_code(b"\x00") == b"\x00"
