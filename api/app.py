"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from api.auth.service import bootstrap_operator
from api.chain_health import ChainHealth
from api.claims.endpoints import router as claims_router
from api.claims.indexer import ClaimIndexer
from api.claims.service import ClaimsContext
from api.credit.endpoints import router as credit_router
from api.credit.service import CreditService
from api.crypto import DocumentCipher
from api.db import Database, create_db_engine, upgrade_database
from api.documents.endpoints import router as documents_router
from api.documents.service import RegistryContext
from api.errors import install_error_handlers
from api.evidence.endpoints import router as evidence_router
from api.evidence.service import EvidenceContext
from api.idempotency import ResponseCipher
from api.notifications.delivery import Notifications
from api.notifications.endpoints import router as notifications_router
from api.parties.endpoints import router as parties_router
from api.settings import Settings, read_or_create_secret

if TYPE_CHECKING:
    from api.runtime import ChainRuntime

logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    chain: ChainRuntime | None = None,
    database: Database | None = None,
) -> FastAPI:
    """Build the service: migrate the database, bootstrap the operator, mount routes.

    The operator's token is ``settings.operator_token``, or one generated once into
    ``<data_dir>/operator.token`` (0600); it is never logged.

    Args:
        settings: the configuration; None reads the environment.
        chain: the chain to verify against and report anchors from; None serves
            everything that does not need the chain (the rest answers 503).
        database: an engine already built for ``settings`` (shared with a worker);
            None builds one.
    """
    settings = settings or Settings()
    database = database or Database(create_db_engine(settings))
    upgrade_database(database.engine)
    master_key = settings.master_key_bytes()
    _bootstrap(database, settings)
    notifications = Notifications(database, master_key)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        notifications.start()
        try:
            yield
        finally:
            notifications.stop()
            database.dispose()

    app = FastAPI(
        title="Receivables registry",
        version="0.1.0",
        summary="Blockchain-anchored trade documents and invoice claims.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.retry_after_seconds = settings.retry_after_seconds
    app.state.registry_context = RegistryContext(
        cipher=DocumentCipher(master_key),
        fingerprint_key=settings.fingerprint_key_bytes(),
    )
    app.state.credit = CreditService(app.state.registry_context)
    app.state.response_cipher = ResponseCipher(master_key)
    app.state.notifications = notifications
    app.state.chain_health = ChainHealth(chain.client if chain else None)
    app.state.evidence_context = EvidenceContext(
        registry=app.state.registry_context,
        chain_id=chain.chain_id if chain else None,
        lookup=chain.client if chain else None,
        min_confirmations=chain.confirmations if chain else 1,
    )
    app.state.claims_context = _claims_context(chain, database)
    if app.state.claims_context is not None:
        app.state.claims_context.credit = app.state.credit
    install_error_handlers(app)
    app.include_router(parties_router)
    app.include_router(documents_router)
    app.include_router(evidence_router)
    app.include_router(notifications_router)
    app.include_router(credit_router)
    app.include_router(claims_router)
    logger.info("service.started database=%s", database.engine.dialect.name)
    return app


def _bootstrap(database: Database, settings: Settings) -> None:
    if settings.operator_token is not None:
        token = settings.operator_token.get_secret_value()
    else:
        token = read_or_create_secret(settings.data_dir / "operator.token")
    with database.sessions() as session:
        bootstrap_operator(session, token)
        session.commit()


def _claims_context(
    chain: ChainRuntime | None, database: Database
) -> ClaimsContext | None:
    """The claims side, when the chain runtime has a claim token."""
    if chain is None or chain.claims is None:
        return None
    runtime = chain.claims
    indexer = ClaimIndexer(
        database,
        runtime.client,
        runtime.claims.claim_token,
        confirmations=runtime.confirmations,
        start_block=runtime.start_block,
    )
    return ClaimsContext(runtime, database, indexer)
