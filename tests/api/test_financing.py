"""Financed at most once, even under concurrent requests (RELIABILITY.md 12, 14)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import select

from api.auth.service import Caller
from api.db import Database
from api.documents.service import cancel_document, mark_financed
from api.errors import AlreadyFinancedError, InvalidTransitionError
from api.models import Financing, PartyRole
from registry.fingerprints import nullifier
from tests.api.conftest import Api, Party, invoice

RACERS = 6
ROUNDS = 4


def _register(api: Api, seller: Party, number: str) -> uuid.UUID:
    response = api.client.post(
        "/v1/documents", json=invoice(number=number), headers=seller.headers
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


def _race(database: Database, actions: list[Callable[..., object]]) -> list[object]:
    """Run each action in its own thread and transaction, all released at once."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[object] = [None] * len(actions)

    def run(index: int) -> None:
        barrier.wait()
        with database.sessions() as session:
            try:
                outcomes[index] = actions[index](session)
                session.commit()
            except Exception as err:
                outcomes[index] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_second_financing_of_same_invoice_is_refused(api: Api) -> None:
    seller = api.party("seller", "DE111")
    document_id = _register(api, seller, "INV-1")
    database: Database = api.app.state.database

    with database.sessions() as session:
        financing = mark_financed(session, document_id)
        session.commit()
    with database.sessions() as session, pytest.raises(AlreadyFinancedError) as err:
        mark_financed(session, document_id)

    assert err.value.financed_document_id == document_id
    assert financing.nullifier == nullifier(financing.fingerprint)
    shown = api.client.get(f"/v1/documents/{document_id}", headers=seller.headers)
    assert shown.json()["status"] == "financed"
    assert shown.json()["fingerprint_status"] == "financed"


def test_concurrent_financing_of_one_invoice_succeeds_exactly_once(api: Api) -> None:
    seller = api.party("seller", "DE111")
    database: Database = api.app.state.database

    for round_number in range(ROUNDS):
        document_id = _register(api, seller, f"INV-RACE-{round_number}")

        outcomes = _race(
            database,
            [lambda s, d=document_id: mark_financed(s, d) for _ in range(RACERS)],
        )

        wins = [o for o in outcomes if isinstance(o, Financing)]
        losses = [o for o in outcomes if isinstance(o, AlreadyFinancedError)]
        assert len(wins) == 1, outcomes
        assert len(losses) == RACERS - 1, outcomes
        with database.sessions() as session:
            rows = session.scalars(
                select(Financing).where(Financing.document_id == document_id)
            ).all()
        assert len(rows) == 1


def test_cancel_racing_financing_never_ends_cancelled_and_financed(api: Api) -> None:
    seller = api.party("seller", "DE111")
    caller = Caller(seller.id, PartyRole.SELLER, "DE111")
    database: Database = api.app.state.database

    for round_number in range(ROUNDS):
        document_id = _register(api, seller, f"INV-CANCEL-{round_number}")

        outcomes = _race(
            database,
            [
                lambda s, d=document_id: mark_financed(s, d),
                lambda s, d=document_id: cancel_document(s, caller, d, "race"),
            ],
        )

        failures = [o for o in outcomes if isinstance(o, Exception)]
        assert len(failures) == 1, outcomes
        assert isinstance(failures[0], AlreadyFinancedError | InvalidTransitionError)
        status = api.client.get(
            f"/v1/documents/{document_id}", headers=seller.headers
        ).json()["status"]
        financed = isinstance(outcomes[0], Financing)
        assert status == ("financed" if financed else "cancelled")


def test_cancelled_invoice_cannot_be_financed(api: Api) -> None:
    seller = api.party("seller", "DE111")
    document_id = _register(api, seller, "INV-1")
    api.client.post(f"/v1/documents/{document_id}/cancel", headers=seller.headers)
    database: Database = api.app.state.database

    with database.sessions() as session, pytest.raises(InvalidTransitionError):
        mark_financed(session, document_id)


def test_financed_invoice_cannot_be_cancelled(api: Api) -> None:
    seller = api.party("seller", "DE111")
    document_id = _register(api, seller, "INV-1")
    database: Database = api.app.state.database
    with database.sessions() as session:
        mark_financed(session, document_id)
        session.commit()

    response = api.client.post(
        f"/v1/documents/{document_id}/cancel", headers=seller.headers
    )

    assert response.status_code == 409
    assert response.json()["document_status"] == "financed"
