"""Fixtures for notification tests: the service with the notifications package wired.

Until ``create_app`` mounts notifications, :func:`_notify_api` wires them the way
``create_app`` will (the router and ``app.state.notifications``); once it does, the
fixture uses its wiring. The background sender is off (``TEST_ENVIRONMENT``): tests
drive :func:`api.notifications.delivery.deliver_due` with an explicit ``now``, and
only the end-to-end test starts the loop.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.app import create_app
from api.auth.service import Caller, authenticate
from api.documents import service as documents
from api.notifications.delivery import Notifications
from api.notifications.endpoints import router
from api.notifications.models import NotificationEvent, WebhookDelivery
from api.notifications.settings import NotificationSettings
from tests.api.conftest import Api, Party, invoice, make_settings

TEST_ENVIRONMENT = {
    "RECEIVABLES_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
    "RECEIVABLES_WEBHOOK_BACKGROUND_DELIVERY": "false",
    "RECEIVABLES_WEBHOOK_CONNECT_TIMEOUT_SECONDS": "2",
    "RECEIVABLES_WEBHOOK_READ_TIMEOUT_SECONDS": "2",
    "RECEIVABLES_WEBHOOK_POLL_INTERVAL_SECONDS": "0.05",
}
"""Loopback receivers, and no background sender unless a test starts one."""


def _notify_api(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    for name, value in TEST_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    app = create_app(make_settings(database_url, tmp_path / "data"))
    database = app.state.database
    if not hasattr(app.state, "notifications"):  # until create_app wires them
        app.state.notifications = Notifications(
            database, app.state.settings.master_key_bytes(), NotificationSettings()
        )
    if not any(getattr(r, "path", None) == "/v1/events" for r in app.routes):
        app.include_router(router)
    api = Api(app)
    with api.client:
        yield api
    app.state.notifications.stop()
    database.dispose()


@pytest.fixture
def notify_api(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    """The service with notifications, on SQLite and on PostgreSQL."""
    yield from _notify_api(database_url, tmp_path, monkeypatch)


@pytest.fixture
def sqlite_notify_api(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Api]:
    """The service with notifications, on SQLite only."""
    yield from _notify_api(sqlite_url, tmp_path, monkeypatch)


def runtime(api: Api) -> Notifications:
    notifications: Notifications = api.app.state.notifications
    return notifications


def caller_of(session: Session, party: Party) -> Caller:
    token = party.headers["Authorization"].removeprefix("Bearer ")
    caller = authenticate(session, token)
    assert caller is not None
    return caller


def register(api: Api, seller: Party, number: str = "INV-1", **kw: Any) -> uuid.UUID:
    record = invoice(seller_tax_id=seller.tax_id or "DE111", number=number, **kw)
    response = api.client.post("/v1/documents", json=record, headers=seller.headers)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


def cancel_and_record(
    api: Api, party: Party, document_id: uuid.UUID, reason: str = "withdrawn"
) -> list[uuid.UUID]:
    """Cancel through the service; returns the ids of the events it recorded.

    The service records the event in the cancel's own transaction, so the events of
    the document that exist afterwards, less those before, are what it recorded.
    """
    with api.app.state.database.sessions() as session:
        before = set(_event_ids(session, document_id))
        documents.cancel_document(
            session, caller_of(session, party), document_id, reason
        )
        session.commit()
        return [e for e in _event_ids(session, document_id) if e not in before]


def _event_ids(session: Session, document_id: uuid.UUID) -> list[uuid.UUID]:
    statement = (
        select(NotificationEvent.public_id)
        .where(NotificationEvent.document_id == document_id)
        .order_by(NotificationEvent.id)
    )
    return list(session.scalars(statement))


def subscribe(
    api: Api, party: Party, url: str, event_types: list[str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    if event_types is not None:
        body["event_types"] = event_types
    response = api.client.post("/v1/webhooks", json=body, headers=party.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def count(api: Api, model: type[Any], *where: Any) -> int:
    with api.app.state.database.sessions() as session:
        total: int = session.scalars(
            select(func.count()).select_from(model).where(*where)
        ).one()
        return total


def events_of(api: Api, document_id: uuid.UUID) -> int:
    return count(api, NotificationEvent, NotificationEvent.document_id == document_id)


def deliveries_of(api: Api, subscription_id: str) -> list[WebhookDelivery]:
    with api.app.state.database.sessions() as session:
        return list(
            session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.subscription_id == uuid.UUID(subscription_id))
                .order_by(WebhookDelivery.id)
            )
        )


@dataclass
class Receiver:
    """A loopback HTTP server that records requests and answers a fixed status."""

    status: int = 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.requests.append((dict(self.headers.items()), body))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            state.received.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
