"""Evidence bundles over HTTP and the public verify endpoint (issue 3, item 6).

The service runs with an in-process chain; the real anchoring worker anchors the
documents (one cycle at a time, so no thread is involved).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.anchoring.service import AnchoringConfig
from api.anchoring.worker import Worker
from api.app import create_app
from api.runtime import ChainRuntime
from registry.anchoring import Anchorer
from registry.chain import ChainClient
from registry.verify import verify_bundle
from tests.api.conftest import Api, Party, invoice, make_settings


class ChainApi(Api):
    """The service with a chain, and a worker to anchor what was registered."""

    def __init__(self, app: Any, worker: Worker, client: ChainClient) -> None:
        super().__init__(app)
        self.worker = worker
        self.chain = client

    def anchor_all(self) -> None:
        for _ in range(3):
            self.worker.run_cycle()


@pytest.fixture
def chain_api(database_url: str, tmp_path: Path) -> Iterator[ChainApi]:
    client = ChainClient.in_process()
    contract = Anchorer.deploy(client).registry_address
    runtime = ChainRuntime(client, contract, client.chain_id(), confirmations=1)
    settings = make_settings(database_url, tmp_path / "data")
    app = create_app(settings, runtime)
    config = AnchoringConfig(contract=contract, batch_age_seconds=0, confirmations=1)
    api = ChainApi(app, Worker(app.state.database, client, config), client)
    with api.client:
        yield api
    app.state.database.dispose()


def _register(api: ChainApi, seller: Party, **overrides: Any) -> str:
    response = api.client.post(
        "/v1/documents", json=invoice(**overrides), headers=seller.headers
    )
    assert response.status_code == 201, response.text
    document_id: str = response.json()["id"]
    return document_id


def _evidence(api: ChainApi, party: Party, document_id: str, **params: Any) -> Any:
    return api.client.get(
        f"/v1/documents/{document_id}/evidence", params=params, headers=party.headers
    )


def test_seller_downloads_a_bundle_that_verifies_on_the_chain(
    chain_api: ChainApi,
) -> None:
    seller = chain_api.party("seller", "DE111")
    document_id = _register(chain_api, seller)
    chain_api.anchor_all()

    response = _evidence(chain_api, seller, document_id)

    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["document"]["complete"] is True
    assert verify_bundle(bundle, chain_api.chain).valid


def test_a_bundle_is_refused_until_the_document_is_anchored(
    chain_api: ChainApi,
) -> None:
    seller = chain_api.party("seller", "DE111")
    document_id = _register(chain_api, seller)

    response = _evidence(chain_api, seller, document_id)

    assert response.status_code == 409
    assert response.json()["anchor_status"] == "pending"
    assert "Retry-After" in response.headers


def test_a_funder_with_a_grant_sees_only_the_chosen_fields(chain_api: ChainApi) -> None:
    seller = chain_api.party("seller", "DE111")
    funder = chain_api.party("funder")
    document_id = _register(chain_api, seller)
    chain_api.anchor_all()
    granted = chain_api.client.post(
        f"/v1/documents/{document_id}/grants",
        json={"party_id": str(funder.id)},
        headers=seller.headers,
    )
    assert granted.status_code == 201, granted.text

    response = _evidence(
        chain_api, funder, document_id, field=["/total_minor", "/due_on"]
    )

    assert response.status_code == 200, response.text
    bundle = response.json()
    assert {f["path"] for f in bundle["document"]["fields"]} == {
        "/total_minor",
        "/due_on",
    }
    assert bundle["document"]["complete"] is False
    assert verify_bundle(bundle, chain_api.chain).valid


def test_someone_elses_document_answers_like_a_missing_one(chain_api: ChainApi) -> None:
    seller = chain_api.party("seller", "DE111")
    other = chain_api.party("seller", "DE333")
    funder = chain_api.party("funder")
    document_id = _register(chain_api, seller)
    chain_api.anchor_all()

    missing = _evidence(chain_api, other, "00000000-0000-0000-0000-000000000000")
    foreign = _evidence(chain_api, other, document_id)
    ungranted = _evidence(chain_api, funder, document_id)

    assert foreign.status_code == ungranted.status_code == missing.status_code == 404
    assert foreign.json()["type"] == missing.json()["type"]


def test_a_field_the_document_lacks_is_refused(chain_api: ChainApi) -> None:
    seller = chain_api.party("seller", "DE111")
    document_id = _register(chain_api, seller)
    chain_api.anchor_all()

    response = _evidence(chain_api, seller, document_id, field=["/no/such/field"])

    assert response.status_code == 422


def test_erased_contents_give_no_bundle_but_an_earlier_bundle_still_verifies(
    chain_api: ChainApi,
) -> None:
    seller = chain_api.party("seller", "DE111")
    document_id = _register(chain_api, seller)
    chain_api.anchor_all()
    earlier = _evidence(chain_api, seller, document_id).json()

    erased = chain_api.client.delete(
        f"/v1/documents/{document_id}/contents", headers=seller.headers
    )
    after = _evidence(chain_api, seller, document_id)
    verdict = chain_api.client.post("/v1/verify", json={"bundle": earlier})

    assert erased.status_code in (200, 204)
    assert after.status_code == 410
    assert verdict.json()["valid"] is True


def test_public_verify_needs_no_account_and_names_the_first_failure(
    chain_api: ChainApi,
) -> None:
    seller = chain_api.party("seller", "DE111")
    document_id = _register(chain_api, seller)
    chain_api.anchor_all()
    bundle = _evidence(chain_api, seller, document_id).json()
    forged = copy.deepcopy(bundle)
    forged["batch"]["root"] = "0x" + "11" * 32

    good = chain_api.client.post("/v1/verify", json={"bundle": bundle})
    bad = chain_api.client.post("/v1/verify", json={"bundle": forged})

    assert good.status_code == bad.status_code == 200
    assert good.json()["valid"] is True
    assert good.json()["anchor_block"] == bundle["anchor"]["block_number"]
    assert bad.json()["valid"] is False
    assert bad.json()["failed_check"] == "batch_proof"


def test_public_verify_checks_the_document_a_holder_brings(chain_api: ChainApi) -> None:
    seller = chain_api.party("seller", "DE111")
    document_id = _register(chain_api, seller)
    chain_api.anchor_all()
    bundle = _evidence(chain_api, seller, document_id).json()

    same = chain_api.client.post(
        "/v1/verify", json={"bundle": bundle, "document": invoice()}
    )
    other = chain_api.client.post(
        "/v1/verify", json={"bundle": bundle, "document": invoice(total="1234.51")}
    )

    assert same.json()["valid"] is True
    assert other.json()["valid"] is False


def test_a_malformed_bundle_is_invalid_not_an_error(chain_api: ChainApi) -> None:
    response = chain_api.client.post("/v1/verify", json={"bundle": {"format": "x"}})

    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert response.json()["failed_check"] == "bundle_format"
