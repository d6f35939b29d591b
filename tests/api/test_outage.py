"""A database outage answers 503 with Retry-After and heals itself (RELIABILITY 20)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from api.app import create_app
from tests.api.conftest import Api, PostgresCluster, invoice, make_settings


@pytest.fixture
def locked_sqlite_api(tmp_path: Path) -> Iterator[tuple[Api, Path]]:
    path = tmp_path / "registry.sqlite"
    app = create_app(
        make_settings(f"sqlite:///{path}", tmp_path / "d", sqlite_busy_timeout_ms=200)
    )
    api = Api(app)
    with api.client:
        yield api, path
    app.state.database.dispose()


def test_sqlite_locked_beyond_busy_timeout_answers_503_then_recovers(
    locked_sqlite_api: tuple[Api, Path],
) -> None:
    api, path = locked_sqlite_api
    seller = api.party("seller", "DE111")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")

    try:
        blocked = api.client.post(
            "/v1/documents", json=invoice(), headers=seller.headers
        )
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    recovered = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)

    assert blocked.status_code == 503
    assert blocked.headers["Retry-After"].isdigit()
    assert blocked.json()["type"].endswith("database-unavailable")
    assert recovered.status_code == 201


def test_postgres_unavailable_answers_503_then_recovers(
    postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    url = postgres_cluster.create_database()
    name = make_url(url).database
    app = create_app(make_settings(url, tmp_path / "d"))
    api = Api(app)
    seller = api.party("seller", "DE111")

    with psycopg.connect(postgres_cluster.admin_url(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (name,),
        )
        down = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)
        listing = api.client.get("/v1/documents", headers=seller.headers)
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    up = api.client.post("/v1/documents", json=invoice(), headers=seller.headers)
    app.state.database.dispose()

    assert down.status_code == listing.status_code == 503
    assert down.headers["Retry-After"].isdigit()
    assert up.status_code == 201
