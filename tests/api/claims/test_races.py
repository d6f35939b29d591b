"""RELIABILITY 12, 14, 15: funders racing for the same units, partial purchases
racing, and a cancel racing a purchase, through the service on a real anvil node
(barrier-synchronised threads), on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tests.api.claims.conftest import FACE_VALUE, ClaimsApi, KeyedParty


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _funders(api: ClaimsApi, count: int) -> list[KeyedParty]:
    funders = [api.keyed("funder", money=2 * FACE_VALUE) for _ in range(count)]
    for funder in funders:
        api.approve(funder)
    return funders


def test_funders_racing_for_the_same_units_one_wins_the_losers_keep_their_money(
    anvil_claims_api: ClaimsApi,
) -> None:
    api = anvil_claims_api
    seller = api.keyed("seller", "DE111")
    buyer = api.keyed("buyer", "DE222")
    claim_id = api.confirmed_claim(seller, buyer)
    offer = api.offer(seller, claim_id, FACE_VALUE // 2)
    funders = _funders(api, 4)
    balances = {f.address: api.claims.token_balance(f.address) for f in funders}
    raws = [api.purchase_tx(f, offer, FACE_VALUE // 2) for f in funders]

    results = _race(
        [
            (lambda f=f, raw=raw: api.post_raw(f, claim_id, "purchases", raw))
            for f, raw in zip(funders, raws, strict=True)
        ]
    )

    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409, 409, 409], [r.text for r in results]
    winner = next(
        f for f, r in zip(funders, results, strict=True) if r.status_code == 200
    )
    for funder in funders:
        spent = balances[funder.address] - api.claims.token_balance(funder.address)
        assert spent == (offer["price"] if funder is winner else 0)
        units = api.claims.balance_of(funder.address, int(claim_id, 16))
        assert units == (FACE_VALUE // 2 if funder is winner else 0)
    assert {r.json()["error_name"] for r in results if r.status_code == 409} <= {
        "ClaimMarketOfferClosed",
        "ClaimMarketUnitsExceedOffer",
    }


def test_racing_partial_purchases_never_sell_more_than_the_offer(
    anvil_claims_api: ClaimsApi,
) -> None:
    api = anvil_claims_api
    seller = api.keyed("seller", "DE111")
    buyer = api.keyed("buyer", "DE222")
    claim_id = api.confirmed_claim(seller, buyer)
    offered = 10_000
    offer = api.offer(seller, claim_id, offered)
    funders = _funders(api, 5)
    raws = [api.purchase_tx(f, offer, 3_000) for f in funders]

    results = _race(
        [
            (lambda f=f, raw=raw: api.post_raw(f, claim_id, "purchases", raw))
            for f, raw in zip(funders, raws, strict=True)
        ]
    )

    sold = sum(api.claims.balance_of(f.address, int(claim_id, 16)) for f in funders)
    assert [r.status_code for r in results].count(200) == 3
    assert sold == 9_000 <= offered
    claim = api.client.get(f"/v1/claims/{claim_id}", headers=seller.headers).json()
    assert claim["units_sold"] == sold
    assert sum(h["units"] for h in claim["holdings"]) == FACE_VALUE


def test_a_cancel_racing_a_purchase_never_ends_cancelled_and_sold(
    anvil_claims_api: ClaimsApi,
) -> None:
    api = anvil_claims_api
    seller = api.keyed("seller", "DE111")
    buyer = api.keyed("buyer", "DE222")
    claim_id = api.confirmed_claim(seller, buyer)
    offer = api.offer(seller, claim_id, FACE_VALUE)
    (funder,) = _funders(api, 1)
    buy = api.purchase_tx(funder, offer, FACE_VALUE)
    cancel = api.signed_tx(seller, "cancelOffers", int(claim_id, 16))

    bought, cancelled = _race(
        [
            lambda: api.post_raw(funder, claim_id, "purchases", buy),
            lambda: api.post_raw(seller, claim_id, "offer-cancellations", cancel),
        ]
    )

    units = api.claims.balance_of(funder.address, int(claim_id, 16))
    assert cancelled.status_code == 200, cancelled.text
    if bought.status_code == 200:
        assert (
            units == FACE_VALUE
        )  # bought first; the cancel closed an offer already filled
    else:
        assert bought.status_code == 409
        assert units == 0
        assert bought.json()["error_name"] == "ClaimMarketOfferClosed"
    offers = api.client.get("/v1/claims/offers", headers=funder.headers).json()["items"]
    assert offers == []
