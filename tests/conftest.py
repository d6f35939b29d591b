"""Fixtures shared by the whole suite: chains to anchor on.

The anvil node is a real JSON-RPC server started from node_modules on a free loopback
port, once per test session (per xdist worker), and stopped at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registry.chain import ChainClient
from registry.devchain import ANVIL_KEYS, AnvilNode, start_anvil


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilNode]:
    with start_anvil() as node:
        yield node


@pytest.fixture
def anvil_client(anvil_node: AnvilNode) -> ChainClient:
    return ChainClient.connect(anvil_node.rpc_url, ANVIL_KEYS[0])


@pytest.fixture
def tester_client() -> ChainClient:
    return ChainClient.in_process()
