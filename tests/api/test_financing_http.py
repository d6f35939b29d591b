"""Recording financings over HTTP: at most once per invoice, even under a race.

Funders record a financing of an invoice they were granted; the service refuses a
second one (409) and queues the invoice's nullifier for publication on chain in the
same transaction. Many funders racing over real HTTP requests (threads released by
a barrier, repeated) end with exactly one financing, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from api.anchoring.models import NullifierPublication
from tests.api.conftest import Api, Party, invoice

RACERS = 6
ROUNDS = 3


def _granted_invoice(api: Api, seller: Party, funders: list[Party], number: str) -> str:
    created = api.client.post(
        "/v1/documents", json=invoice(number=number), headers=seller.headers
    )
    assert created.status_code == 201, created.text
    document_id: str = created.json()["id"]
    for funder in funders:
        granted = api.client.post(
            f"/v1/documents/{document_id}/grants",
            json={"party_id": str(funder.id)},
            headers=seller.headers,
        )
        assert granted.status_code == 201, granted.text
    return document_id


def test_a_funder_records_a_financing_and_the_nullifier_is_queued(api: Api) -> None:
    seller = api.party("seller", "DE111")
    funder = api.party("funder")
    document_id = _granted_invoice(api, seller, [funder], "INV-F1")

    response = api.client.post(
        f"/v1/documents/{document_id}/financings", headers=funder.headers
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["funder_party_id"] == str(funder.id)
    with api.app.state.database.sessions() as session:
        queued = session.scalars(select(NullifierPublication.nullifier)).all()
    assert ["0x" + n.hex() for n in queued] == [body["nullifier"]]
    document = api.client.get(f"/v1/documents/{document_id}", headers=seller.headers)
    assert document.json()["status"] == "financed"


def test_a_second_financing_of_the_same_invoice_is_refused(api: Api) -> None:
    seller = api.party("seller", "DE111")
    first, second = api.party("funder"), api.party("funder")
    document_id = _granted_invoice(api, seller, [first, second], "INV-F2")
    url = f"/v1/documents/{document_id}/financings"

    accepted = api.client.post(url, headers=first.headers)
    refused = api.client.post(url, headers=second.headers)

    assert accepted.status_code == 201
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("already-financed")


def test_only_a_granted_funder_may_record_a_financing(api: Api) -> None:
    seller = api.party("seller", "DE111")
    stranger = api.party("funder")
    document_id = _granted_invoice(api, seller, [], "INV-F3")
    url = f"/v1/documents/{document_id}/financings"

    by_seller = api.client.post(url, headers=seller.headers)
    by_stranger = api.client.post(url, headers=stranger.headers)

    assert by_seller.status_code == 403
    assert by_stranger.status_code == 404


def test_racing_funders_finance_an_invoice_exactly_once(api: Api) -> None:
    seller = api.party("seller", "DE111")
    funders = [api.party("funder") for _ in range(RACERS)]
    for round_ in range(ROUNDS):
        document_id = _granted_invoice(api, seller, funders, f"INV-RACE-{round_}")
        url = f"/v1/documents/{document_id}/financings"
        barrier = threading.Barrier(RACERS)

        def race(
            funder: Party, url: str = url, barrier: threading.Barrier = barrier
        ) -> int:
            barrier.wait()
            return api.client.post(url, headers=funder.headers).status_code

        with ThreadPoolExecutor(RACERS) as pool:
            codes = sorted(pool.map(race, funders))

        assert codes == [201] + [409] * (RACERS - 1), codes
    with api.app.state.database.sessions() as session:
        published = session.scalar(select(func.count(NullifierPublication.id)))
    assert published == ROUNDS
