"""Engines, sessions and migrations for SQLite (embedded) and PostgreSQL (production).

SQLite runs in WAL mode with a busy timeout and foreign keys on. pysqlite's own
implicit ``BEGIN`` is switched off and every transaction is begun explicitly:
``BEGIN IMMEDIATE`` for writers, so concurrent writers queue on the busy timeout
instead of failing with "database is locked" when they upgrade a read lock, and a
plain deferred ``BEGIN`` for read-only sessions, which WAL lets run beside a writer.

Within one process, SQLite writers also take turns on a lock (:class:`WriterTurns`)
before ``BEGIN IMMEDIATE``, so a waiting writer is woken the moment the previous one
commits instead of polling in SQLite's busy handler.

Alembic migrations are the only source of the schema: :func:`upgrade_database` runs
``alembic upgrade head`` in-process (on PostgreSQL under an advisory lock, so several
API processes starting at once migrate once).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

from alembic import command
from alembic.config import Config
from fastapi import Depends, Request
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

    turns = WriterTurns(busy_timeout_ms / 1000)

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY, False):
            connection.exec_driver_sql("BEGIN")
            return
        turns.take(connection.connection.dbapi_connection)
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    dialect: Any = engine.dialect
    for name in ("do_commit", "do_rollback", "do_close"):
        setattr(dialect, name, turns.giving_back_after(getattr(dialect, name)))
    return engine


class WriterTurns:
    """Hands SQLite's one write lock to the writers of this process in turn.

    SQLite lets one transaction write at a time. A writer that finds the lock taken
    sleeps in SQLite's busy handler (1, 2, 5, ... up to 100 ms at a time) and tries
    again, so under load a waiter can lose every retry to newcomers for seconds.
    Here a writer first waits on a process-wide lock, which wakes the next writer as
    soon as the previous one commits, rolls back or closes its connection.

    SQLite's lock stays the only guard of correctness: a writer that has not had its
    turn within the busy timeout goes on to ``BEGIN IMMEDIATE`` without it (and then
    waits in SQLite as before), so this can reorder writers but never block one for
    good, and writers of other processes still meet only SQLite's lock.
    """

    def __init__(self, timeout_seconds: float) -> None:
        self._lock = threading.Lock()
        self._timeout = timeout_seconds
        self._holder: object | None = None

    def take(self, dbapi_connection: object) -> None:
        """Wait for this connection's turn (at most the busy timeout)."""
        if self._lock.acquire(timeout=self._timeout):
            self._holder = dbapi_connection

    def give_back(self, dbapi_connection: object) -> None:
        """End the turn if this connection holds it."""
        if self._holder is not None and self._holder is dbapi_connection:
            self._holder = None
            self._lock.release()

    def giving_back_after(self, end: Callable[[Any], None]) -> Callable[[Any], None]:
        """Wrap a dialect's commit, rollback or close to end the turn after it."""

        def ended(connection: Any) -> None:
            try:
                end(connection)
            finally:
                self.give_back(getattr(connection, "dbapi_connection", connection))

        return ended


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


ReadSession = Annotated[Session, Depends(read_session, scope="function")]
"""A route's read-only session (no write lock taken)."""

WriteSession = Annotated[Session, Depends(write_session, scope="function")]
"""A route's write session: committed when the route returns, rolled back on error."""
