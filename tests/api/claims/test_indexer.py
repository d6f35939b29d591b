"""The indexer: reorgs before finality release nothing, rescans change nothing, and
repayment rounding never pays out more than was repaid (directly on chain, with the
projection following)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from api.anchoring.models import ChainCheckpoint
from api.claims.service import ClaimsContext
from registry.claims import party_client
from registry.errors import TransactionRevertedError
from tests.api.claims.conftest import FACE_VALUE, ClaimsApi, KeyedParty


def _rpc(api: ClaimsApi, method: str, *params: Any) -> Any:
    return api.chain.w3.provider.make_request(method, list(params))["result"]  # type: ignore[arg-type]


def _financed(api: ClaimsApi) -> tuple[KeyedParty, KeyedParty, KeyedParty, str]:
    seller = api.keyed("seller", "DE111")
    buyer = api.keyed("buyer", "DE222", money=2 * FACE_VALUE)
    funder = api.keyed("funder", money=2 * FACE_VALUE)
    claim_id = api.confirmed_claim(seller, buyer)
    offer = api.offer(seller, claim_id, FACE_VALUE // 2)
    api.approve(funder)
    api.approve(buyer)
    bought = api.post_raw(
        funder, claim_id, "purchases", api.purchase_tx(funder, offer, FACE_VALUE // 2)
    )
    assert bought.status_code == 200, bought.text
    return seller, buyer, funder, claim_id


def _claim(api: ClaimsApi, party: KeyedParty, claim_id: str) -> dict[str, Any]:
    response = api.client.get(f"/v1/claims/{claim_id}", headers=party.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _context(api: ClaimsApi) -> ClaimsContext:
    context: ClaimsContext = api.app.state.claims_context
    return context


def test_a_repayment_removed_by_a_reorg_is_rolled_back_and_releases_nothing(
    anvil_claims_api: ClaimsApi,
) -> None:
    api = anvil_claims_api
    seller, buyer, funder, claim_id = _financed(api)
    snapshot = _rpc(api, "evm_snapshot")
    repaid = api.post_raw(
        buyer,
        claim_id,
        "repayments",
        api.signed_tx(buyer, "repay", int(claim_id, 16), FACE_VALUE),
    )
    assert repaid.status_code == 200, repaid.text
    assert _claim(api, seller, claim_id)["document_status"] == "paid"

    _rpc(api, "evm_revert", snapshot)
    for _ in range(3):
        _rpc(api, "evm_mine")
    report = _context(api).indexer.run_once()

    claim = _claim(api, seller, claim_id)
    assert report.reorg_from is not None
    assert claim["repaid"] == 0
    assert claim["document_status"] == "financed"
    timeline = api.client.get(
        f"/v1/documents/{claim['document_id']}/timeline", headers=seller.headers
    ).json()["events"]
    assert timeline[-1]["to_status"] == "financed"
    assert timeline[-1]["reason"].startswith("chain reorg")
    holder = api.claims.for_signer(party_client(api.chain, funder.key))
    with pytest.raises(TransactionRevertedError) as caught:
        holder.redeem(int(claim_id, 16), funder.address)
    assert caught.value.error_name == "ClaimTokenNothingToRedeem"


def test_nothing_younger_than_the_confirmations_is_projected(
    anvil_claims_api: ClaimsApi,
) -> None:
    api = anvil_claims_api
    seller, buyer, _funder, claim_id = _financed(api)
    indexer = _context(api).indexer
    indexer.confirmations = 3
    snapshot = _rpc(api, "evm_snapshot")
    raw = api.signed_tx(buyer, "repay", int(claim_id, 16), FACE_VALUE)
    response = api.post_raw(buyer, claim_id, "repayments", raw)
    assert response.status_code == 200, response.text
    before_reorg = _claim(api, seller, claim_id)

    _rpc(api, "evm_revert", snapshot)
    for _ in range(4):
        _rpc(api, "evm_mine")
    report = indexer.run_once()

    assert before_reorg["repaid"] == 0
    assert before_reorg["document_status"] == "financed"
    assert report.reorg_from is None
    assert _claim(api, seller, claim_id)["repaid"] == 0


def test_rescanning_from_the_start_changes_nothing(
    sqlite_claims_api: ClaimsApi,
) -> None:
    api = sqlite_claims_api
    seller, _buyer, _funder, claim_id = _financed(api)
    before = _claim(api, seller, claim_id)
    context = _context(api)

    with api.app.state.database.sessions() as session:
        session.execute(
            update(ChainCheckpoint)
            .where(ChainCheckpoint.name == context.indexer.scan)
            .values(next_block=0)
        )
        session.commit()
    context.indexer.run_once()
    context.indexer.run_once()

    assert _claim(api, seller, claim_id) == before


def test_repayment_rounding_never_pays_out_more_than_was_repaid(
    sqlite_claims_api: ClaimsApi,
) -> None:
    api = sqlite_claims_api
    seller = api.keyed("seller", "DE111")
    buyer = api.keyed("buyer", "DE222", money=2 * FACE_VALUE)
    holders = [seller] + [api.keyed("seller", f"DE9{i}") for i in range(3)]
    claim_id = api.confirmed_claim(seller, buyer)
    number = int(claim_id, 16)
    on_chain = {
        p.address: api.claims.for_signer(party_client(api.chain, p.key))
        for p in holders
    }
    payer = api.claims.for_signer(party_client(api.chain, buyer.key))
    payer.approve()
    for holder, units in zip(holders[1:], (33_331, 17, 41_113), strict=True):
        api.claims.register_party(holder.address)
        on_chain[seller.address].transfer(holder.address, number, units)

    paid_out = 0
    repayments = [7, 1_001, 13, 40_009, 3, 77_777]
    repayments.append(FACE_VALUE - sum(repayments))
    repaid = 0
    for amount in repayments:
        payer.repay(number, amount)
        repaid += amount
        for holder in holders:
            if api.claims.redeemable(number, holder.address) or repaid == FACE_VALUE:
                before = api.claims.token_balance(holder.address)
                on_chain[holder.address].redeem(number, holder.address)
                paid_out += api.claims.token_balance(holder.address) - before
            assert paid_out <= repaid

    settlement = api.claims.settlement_of(number)
    _context(api).indexer.run_once()
    claim = _claim(api, seller, claim_id)
    assert settlement.paid_out == settlement.repaid == FACE_VALUE
    assert paid_out <= FACE_VALUE
    assert claim["paid_out"] == FACE_VALUE
    assert claim["state"] == "closed"
    assert claim["holdings"] == []
