"""Chain-dependent endpoints answer 503 with Retry-After while the node is down (22)."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from web3 import Web3

from api.chain_health import ChainHealth, require_chain
from api.errors import install_error_handlers
from registry.chain import ChainClient
from registry.devchain import AnvilNode
from registry.errors import ChainUnavailableError


def _app(health: ChainHealth | None) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.state.retry_after_seconds = 3
    if health is not None:
        app.state.chain_health = health

    @app.get("/chain")
    def chain_endpoint(
        client: Annotated[ChainClient, Depends(require_chain)],
    ) -> dict[str, int]:
        return {"block": client.latest_block_number()}

    @app.get("/plain")
    def plain_endpoint() -> dict[str, str]:
        return {"ok": "yes"}

    return TestClient(app)


def _dead_client() -> ChainClient:
    provider = Web3.HTTPProvider(
        "http://127.0.0.1:9", exception_retry_configuration=None
    )
    return ChainClient(Web3(provider), None)


def test_chain_endpoint_answers_503_with_retry_after_while_node_is_down() -> None:
    http = _app(ChainHealth(_dead_client()))

    chain = http.get("/chain")
    plain = http.get("/plain")

    assert chain.status_code == 503
    assert chain.headers["Retry-After"] == "3"
    assert chain.json()["type"] == "/problems/chain-unavailable"
    assert plain.status_code == 200


def test_chain_endpoint_serves_when_node_answers(anvil_node: AnvilNode) -> None:
    http = _app(ChainHealth(ChainClient.connect(anvil_node.rpc_url)))

    assert http.get("/chain").status_code == 200


def test_service_without_chain_answers_503_on_chain_endpoints_only() -> None:
    http = _app(None)

    assert http.get("/chain").status_code == 503
    assert http.get("/plain").status_code == 200


def test_probe_runs_at_most_once_per_ttl_and_recovers_after_it() -> None:
    calls: list[float] = []
    now = [0.0]
    up = [False]

    def probe() -> None:
        calls.append(now[0])
        if not up[0]:
            raise ChainUnavailableError("down")

    health = ChainHealth(_dead_client(), ttl=2.0, probe=probe, clock=lambda: now[0])
    for moment in (0.0, 0.5, 1.9):
        now[0] = moment
        with pytest.raises(ChainUnavailableError):
            health.require()
    up[0], now[0] = True, 2.5

    assert health.require() is health.client
    assert calls == [0.0, 2.5]
