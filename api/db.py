"""Engines, sessions and migrations for SQLite (embedded) and PostgreSQL (production).

SQLite runs in WAL mode with a busy timeout and foreign keys on. pysqlite's own
implicit ``BEGIN`` is switched off and every transaction is begun explicitly:
``BEGIN IMMEDIATE`` for writers, so concurrent writers queue on the busy timeout
instead of failing with "database is locked" when they upgrade a read lock, and a
plain deferred ``BEGIN`` for read-only sessions, which WAL lets run beside a writer.

Alembic migrations are the only source of the schema: :func:`upgrade_database` runs
``alembic upgrade head`` in-process (on PostgreSQL under an advisory lock, so several
API processes starting at once migrate once).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from fastapi import Request
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
READ_ONLY = "receivables_read_only"
_MIGRATION_LOCK_ID = 0x5245_4345_4956  # "RECEIV": any constant shared by processes


def create_db_engine(settings: Settings) -> Engine:
    """Build the engine for the configured database (see the module docstring)."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(settings, url.render_as_string(hide_password=False))
    return create_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args={"connect_timeout": 5},
    )


def _sqlite_engine(settings: Settings, url: str) -> Engine:
    busy_timeout_ms = settings.sqlite_busy_timeout_ms
    engine = create_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        connect_args={
            "timeout": busy_timeout_ms / 1000,
            "check_same_thread": False,
        },
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def is_sqlite(engine: Engine) -> bool:
    """Whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


class Database:
    """An engine with its two session factories: read-write and read-only."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def upgrade_database(engine: Engine) -> None:
    """Run ``alembic upgrade head`` on ``engine``'s database."""
    config = alembic_config()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
            )
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.rollback()
                connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID}
                )
                connection.commit()


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic configuration pointing at ``api/migrations``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url)
    return config


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def write_session(request: Request) -> Iterator[Session]:
    """A request's read-write session: committed when the endpoint returns.

    Use with ``Depends(write_session, scope="function")`` so the commit happens before
    the response is sent, and a failed commit becomes the error response.
    """
    with _database(request).sessions() as session:
        yield session
        session.commit()


def read_session(request: Request) -> Iterator[Session]:
    """A request's read-only session (a deferred transaction on SQLite)."""
    with _database(request).read_sessions() as session:
        yield session
        session.rollback()
