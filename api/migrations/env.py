"""Alembic environment: migrates the connection handed in by ``api.db``, or the URL
from ``alembic.ini`` / ``RECEIVABLES_DATABASE_URL`` when run from the command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from api.models import Base
from api.settings import Settings

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or (Settings().resolved_database_url)
    engine = create_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: give a database URL")
run_migrations_online()
