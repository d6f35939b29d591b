"""Fixtures for service tests: a database per test on SQLite and on PostgreSQL.

The PostgreSQL cluster is a real server this test session starts itself (once per
session, i.e. once per xdist worker) from the machine's PostgreSQL binaries: ``initdb``
into a temporary folder, ``pg_ctl start`` on a free loopback port with its socket in
that folder, one fresh database per test, stopped and removed at the end. As root the
server programs run as the ``postgres`` user. Without the binaries those tests skip.
"""

from __future__ import annotations

import base64
import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

OPERATOR_TOKEN = "operator-test-token"
MISSING_POSTGRES = (
    "PostgreSQL server binaries are missing (initdb, pg_ctl not found via "
    "`pg_config --bindir` or /usr/lib/postgresql/*/bin); install postgresql-15 "
    "to run the PostgreSQL tests"
)


def _postgres_bindir() -> Path | None:
    candidates: list[str] = []
    if shutil.which("pg_config"):
        result = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        )
        candidates.append(result.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    bindir: Path
    root: Path
    port: int
    as_postgres: list[str] = field(default_factory=list)

    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self) -> str:
        name = f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def pg_ctl(self, *args: str) -> None:
        command = [*self.as_postgres, str(self.bindir / "pg_ctl"), *args]
        subprocess.run(command, check=True, capture_output=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip(MISSING_POSTGRES)
    root = Path(tempfile.mkdtemp(prefix="receivables-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    cluster = PostgresCluster(bindir, root, _free_port(), as_postgres)
    data = root / "data"
    subprocess.run(
        [
            *as_postgres,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        "-c max_connections=300"
    )
    cluster.pg_ctl(
        "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "start"
    )
    try:
        yield cluster
    finally:
        cluster.pg_ctl("-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """For tests whose outcome does not depend on the database."""
    return f"sqlite:///{tmp_path / 'registry.sqlite'}"


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "operator_token": OPERATOR_TOKEN,
        "master_key": _key(),
        "fingerprint_key": _key(),
        "idempotency_wait_seconds": 5.0,
        "sqlite_busy_timeout_ms": 10_000,
    }
    values.update(overrides)
    return Settings(**values)


class Api:
    """A TestClient with helpers for onboarding parties and registering records."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.client = TestClient(app)
        self.operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}

    def party(self, role: str, tax_id: str | None = None, name: str = "Acme") -> Party:
        body: dict[str, Any] = {
            "role": role,
            "name": name,
            "eth_address": "0x" + secrets.token_hex(20),
        }
        if tax_id is not None:
            body["tax_id"] = tax_id
        response = self.client.post("/v1/parties", json=body, headers=self.operator)
        assert response.status_code == 201, response.text
        data = response.json()
        return Party(
            uuid.UUID(data["party"]["id"]),
            tax_id,
            {"Authorization": f"Bearer {data['token']}"},
        )


@dataclass(frozen=True)
class Party:
    id: uuid.UUID
    tax_id: str | None
    headers: dict[str, str]


def _api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    app = create_app(make_settings(database_url, tmp_path / "data"))
    api = Api(app)
    with api.client:
        yield api
    app.state.database.dispose()


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    """The service on SQLite and on PostgreSQL."""
    yield from _api(database_url, tmp_path)


@pytest.fixture
def sqlite_api(sqlite_url: str, tmp_path: Path) -> Iterator[Api]:
    """The service on SQLite only (input checks that never reach storage)."""
    yield from _api(sqlite_url, tmp_path)


def invoice(
    seller_tax_id: str = "DE111",
    buyer_tax_id: str = "DE222",
    number: str = "INV-1",
    **overrides: Any,
) -> dict[str, Any]:
    """A valid invoice record as a client sends it."""
    record: dict[str, Any] = {
        "type": "invoice",
        "number": number,
        "issued_on": "2025-01-15",
        "due_on": "2025-03-15",
        "seller": {"tax_id": seller_tax_id, "name": "Small Supplier GmbH"},
        "buyer": {"tax_id": buyer_tax_id, "name": "Core Enterprise AG"},
        "currency": "EUR",
        "order_numbers": ["PO-1"],
        "delivery_note_numbers": ["DN-1"],
        "lines": [
            {
                "description": "Widgets",
                "quantity": "10",
                "unit_price": "123.45",
                "amount": "1234.50",
            }
        ],
        "tax": "0",
        "total": "1234.50",
    }
    record.update(overrides)
    return record


def purchase_order(
    seller_tax_id: str = "DE111", buyer_tax_id: str = "DE222", number: str = "PO-1"
) -> dict[str, Any]:
    return {
        "type": "purchase_order",
        "number": number,
        "issued_on": "2025-01-02",
        "seller": {"tax_id": seller_tax_id, "name": "Small Supplier GmbH"},
        "buyer": {"tax_id": buyer_tax_id, "name": "Core Enterprise AG"},
        "currency": "EUR",
        "lines": [
            {
                "description": "Widgets",
                "quantity": "10",
                "unit_price_minor": 12345,
                "amount_minor": 123450,
            }
        ],
        "total_minor": 123450,
    }


def delivery_note(
    seller_tax_id: str = "DE111", buyer_tax_id: str = "DE222", number: str = "DN-1"
) -> dict[str, Any]:
    return {
        "type": "delivery_note",
        "number": number,
        "issued_on": "2025-01-10",
        "seller": {"tax_id": seller_tax_id, "name": "Small Supplier GmbH"},
        "buyer": {"tax_id": buyer_tax_id, "name": "Core Enterprise AG"},
        "order_number": "PO-1",
        "lines": [{"description": "Widgets", "quantity": "10"}],
    }
