"""A synthetic economy of sellers and buyers, with planted fraud and its labels.

Invariants:
    * Seeded and reproducible: the same ``seed`` and arguments give the same
      records, facts and labels, byte for byte.
    * Records are raw JSON-ready dicts as a seller would send them; with
      ``validate`` they pass through :func:`registry.records.parse_record` like real
      ones and the facts are read back from their canonical form.
    * Labels (which sellers are fraudulent, and how) are kept apart from the facts:
      party ids are neutral (``P00042``) and shuffled, and no fact carries a label.
    * Trading continues ``horizon_days`` after ``as_of`` for honest sellers (what
      really happened next, to judge limits against); fraudulent sellers stop at
      ``as_of`` and their open invoices are never paid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from registry.credit.facts import InvoiceFact, Order, PartyFacts, TradeFacts
from registry.credit.records import party_key, quantity_of
from registry.credit.trading import (
    SEASONAL,
    SHAPES,
    SellerPlan,
    TradeBuilder,
    seasonal_shape,
)
from registry.records import parse_record, record_to_canonical_dict

__all__ = ["FRAUD_KINDS", "SHAPES", "Economy", "SellerLabel", "generate_economy"]

FRAUD_KINDS = ("ring", "invented", "shell", "inflation")


@dataclass(frozen=True, slots=True)
class SellerLabel:
    """The ground truth about one seller (never shown to the scorer)."""

    seller: str
    industry: str
    fraud: str | None
    seasonal: bool
    young: bool
    drift: bool
    note: str = ""


@dataclass(slots=True)
class Economy:
    """What the generator made: facts through ``horizon_end``, records, labels."""

    seed: int
    as_of: date
    horizon_end: date
    facts: TradeFacts
    labels: dict[str, SellerLabel]
    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def generate_economy(
    seed: int,
    as_of: date,
    *,
    sellers: int = 300,
    buyers: int = 120,
    months: int = 30,
    horizon_days: int = 90,
    fraud_share: float = 0.12,
    validate: bool = False,
    keep_records: bool = False,
) -> Economy:
    """Generate a seeded economy (see the module docstring).

    Args:
        seed: the random seed.
        as_of: the day the portfolio is scored; planted fraud happens just before it.
        sellers: how many sellers (honest and fraudulent).
        buyers: how many core buyers.
        months: how far back the oldest sellers trade.
        horizon_days: how long honest trade continues after ``as_of``.
        fraud_share: the share of sellers that are fraudulent.
        validate: pass every record through ``parse_record`` and read the facts'
            amounts and quantities back from the canonical form.
        keep_records: keep the raw records (implied by ``validate``).

    Returns:
        The economy, with facts through ``as_of + horizon_days`` and the labels.
    """
    builder = TradeBuilder(seed, as_of, horizon_days, keep_records or validate)
    rng = builder.rng
    builder.new_party_ids(sellers * 2 + buyers + 50)
    origin = as_of - timedelta(days=round(months * 30.44))
    buyer_ids = [builder.take_party() for _ in range(buyers)]
    for buyer in buyer_ids:
        builder.add_party(buyer, None)
        roll = rng.random()
        builder.lateness[buyer] = 1.5 if roll < 0.7 else (8.0 if roll < 0.9 else 25.0)

    fraud_count = round(sellers * fraud_share)
    kinds = [FRAUD_KINDS[i % len(FRAUD_KINDS)] for i in range(fraud_count)]
    labels: dict[str, SellerLabel] = {}
    honest: list[SellerPlan] = []
    for _ in range(sellers - fraud_count):
        seller = _honest_seller(builder, origin, buyer_ids)
        honest.append(seller)
    _share_honest_identities(builder, honest)
    _honest_supply_chains(builder, honest)
    for seller in honest:
        builder.run_seller(seller)
        labels[seller.id] = _label(seller, as_of)
    _honest_reciprocal_pairs(builder, honest)

    pending = list(kinds)
    while pending:
        kind = pending.pop()
        if kind == "ring":
            size = rng.choice((3, 3, 4))
            members = _ring(builder, buyer_ids, size)
            for member in members:
                labels[member.id] = _label(member, as_of)
            for _ in range(size - 1):
                if "ring" in pending:
                    pending.remove("ring")
            continue
        seller = _fraud_seller(builder, origin, buyer_ids, kind)
        labels[seller.id] = _label(seller, as_of)

    economy = Economy(seed, as_of, builder.horizon_end, builder.facts, labels)
    economy.records = builder.records
    if validate:
        _validate(economy)
    return economy


def _label(seller: SellerPlan, as_of: date) -> SellerLabel:
    return SellerLabel(
        seller.id,
        seller.industry,
        seller.fraud,
        seller.industry in SEASONAL,
        (as_of - seller.start).days < 365,
        seller.drift,
    )


def _honest_seller(
    builder: TradeBuilder, origin: date, buyer_ids: list[str]
) -> SellerPlan:
    rng = builder.rng
    as_of = builder.as_of
    industry = rng.choices(list(SHAPES), (0.25, 0.25, 0.3, 0.2))[0]
    if rng.random() < 0.2:
        start = as_of - timedelta(days=rng.randrange(100, 365))
    else:
        start = origin + timedelta(days=rng.randrange(0, 150))
    count = min(rng.randrange(2, 9), len(buyer_ids))
    weights = [rng.uniform(0.2, 1.0) for _ in range(count)]
    seller = SellerPlan(
        id=builder.take_party(),
        industry=industry,
        start=start,
        rate=rng.uniform(3, 12),
        price=rng.randrange(500, 20_000),
        buyers=rng.sample(buyer_ids, count),
        weights=weights,
        on_time=rng.uniform(0.85, 0.99),
        in_full=rng.uniform(0.9, 0.99),
        terms=rng.choice((30, 45, 60, 90)),
        shape=seasonal_shape(rng, industry),
        growth=rng.uniform(0.9, 1.5),
        round_pricing=rng.random() < 0.1,
        stop=builder.horizon_end,
        drift=rng.random() < 0.06,
        spurt=rng.uniform(1.4, 2.0) if rng.random() < 0.05 else 1.0,
    )
    builder.add_party(seller.id, industry)
    return seller


def _honest_supply_chains(builder: TradeBuilder, honest: list[SellerPlan]) -> None:
    """One honest seller in ten also sells to another seller (a processor, a
    wholesaler), so the trade graph has chains and the odd honest cycle."""
    rng = builder.rng
    for seller in honest:
        if rng.random() < 0.1:
            other = rng.choice(honest)
            if other is not seller:
                seller.buyers.append(other.id)
                seller.weights.append(rng.uniform(0.3, 1.0))


def _share_honest_identities(builder: TradeBuilder, honest: list[SellerPlan]) -> None:
    """Business parks (one address, unrelated sellers) and shared directors."""
    rng = builder.rng
    pool = list(honest)
    rng.shuffle(pool)
    for group in range(max(1, len(pool) // 30)):
        members = pool[group * 3 : group * 3 + 3]
        address = f"Business Park {group}, Unit"
        for member in members:
            _replace(builder, member.id, "address", address)
    offset = (len(pool) // 30) * 3
    for pair in range(max(1, len(pool) // 60)):
        a, b = pool[offset + pair * 2], pool[offset + pair * 2 + 1]
        director = f"Director shared {pair}"
        _replace(builder, a.id, "director", director)
        _replace(builder, b.id, "director", director)


def _replace(builder: TradeBuilder, party: str, kind: str, value: str) -> None:
    facts = builder.facts.parties[party]
    identifiers = tuple((k, value if k == kind else v) for k, v in facts.identifiers)
    builder.facts.parties[party] = PartyFacts(party, facts.industry, identifiers)


def _honest_reciprocal_pairs(builder: TradeBuilder, honest: list[SellerPlan]) -> None:
    """Sellers that buy a little back from their customers (packaging, services)."""
    rng = builder.rng
    established = [s for s in honest if s.start < builder.as_of - timedelta(days=400)]
    if len(established) < 2:
        return
    for _ in range(max(1, len(established) // 25)):
        a, b = rng.sample(established, 2)
        a.buyers.append(b.id)  # b buys from a a lot, a buys back a little
        back = SellerPlan(
            **{**_as_dict(b), "buyers": [a.id], "weights": [1.0], "rate": 0.5}
        )
        back.stop = builder.horizon_end
        day = builder.as_of - timedelta(days=330)
        while day < builder.as_of:
            builder.trade(
                a, b.id, day, on_time=a.on_time, in_full=a.in_full, amount_scale=3
            )
            if rng.random() < 0.3:
                builder.trade(
                    back,
                    a.id,
                    day,
                    on_time=b.on_time,
                    in_full=b.in_full,
                    amount_scale=0.3,
                )
            day += timedelta(days=rng.randrange(7, 21))


def _as_dict(seller: SellerPlan) -> dict[str, Any]:
    return {name: getattr(seller, name) for name in SellerPlan.__dataclass_fields__}


def _ring(builder: TradeBuilder, buyer_ids: list[str], size: int) -> list[SellerPlan]:
    rng = builder.rng
    as_of = builder.as_of
    start = as_of - timedelta(days=rng.randrange(200, 420))
    director = f"Director {rng.randrange(10**9)}" if rng.random() < 0.3 else None
    members = []
    for _ in range(size):
        seller = SellerPlan(
            id=builder.take_party(),
            industry=rng.choice(list(SHAPES)),
            start=start + timedelta(days=rng.randrange(0, 30)),
            rate=rng.uniform(1, 3),
            price=rng.randrange(2_000, 20_000),
            buyers=rng.sample(buyer_ids, 1),
            weights=[1.0],
            on_time=0.97,
            in_full=0.98,
            terms=rng.choice((30, 60)),
            shape=(1.0,) * 12,
            growth=1.0,
            round_pricing=False,
            stop=as_of,
            fraud="ring",
            noise=0.0,
        )
        builder.add_party(seller.id, seller.industry, director=director)
        members.append(seller)
    volume = rng.uniform(3, 8)
    for i, seller in enumerate(members):
        target = members[(i + 1) % size]
        day = seller.start
        while day <= as_of:
            builder.trade(
                seller,
                target.id,
                day,
                on_time=0.97,
                in_full=0.98,
                amount_scale=volume * rng.uniform(0.85, 1.15) * 20_000 / seller.price,
                noise=0.0,
            )
            day += timedelta(days=rng.randrange(10, 20))
        builder.run_seller(seller)
    return members


def _fraud_seller(
    builder: TradeBuilder, origin: date, buyer_ids: list[str], kind: str
) -> SellerPlan:
    rng = builder.rng
    as_of = builder.as_of
    seller = _honest_seller(builder, origin, buyer_ids)
    seller.fraud = kind
    seller.drift = False
    seller.spurt = 1.0
    seller.stop = as_of
    if seller.start > as_of - timedelta(days=400):
        seller.start = origin + timedelta(days=rng.randrange(0, 200))
    if kind == "shell":
        shell = builder.take_party()
        mine = dict(builder.facts.parties[seller.id].identifiers)
        shared = rng.choice((("bank_account",), ("director", "address"), ("director",)))
        builder.add_party(
            shell,
            None,
            address=mine["address"] if "address" in shared else None,
            director=mine["director"] if "director" in shared else None,
            bank=mine["bank_account"] if "bank_account" in shared else None,
        )
        builder.lateness[shell] = 0.5
        seller.buyers.append(shell)
        seller.weights.append(sum(seller.weights) * rng.uniform(0.6, 1.5))
        builder.run_seller(seller)
        return seller
    window = rng.randrange(40, 80) if kind == "invented" else rng.randrange(30, 50)
    # orders placed so that their invoices (issued on delivery) land in the window
    begin = as_of - timedelta(days=window + 12)
    builder.run_seller(seller)
    mean_monthly = seller.rate * seller.growth ** ((as_of - seller.start).days / 365)
    if kind == "invented":
        count = max(4, round(mean_monthly * window / 30 * rng.uniform(0.4, 1.0)))
        for _ in range(count):
            day = begin + timedelta(days=rng.randrange(window))
            buyer = rng.choices(seller.buyers, seller.weights)[0]
            builder.trade(
                seller,
                buyer,
                day,
                on_time=1,
                in_full=1,
                with_delivery=False,
                ghost_delivery=rng.random() < 0.5,
                round_amount=rng.random() < 0.3,
                paid=False,
                noise=0.0,
            )
    else:  # inflation before a large request
        factor = rng.uniform(3.0, 6.0)
        months = {(begin + timedelta(days=d)).month - 1 for d in range(window + 12)}
        season = sum(seller.shape[m] for m in months) / len(months)
        count = max(5, round(mean_monthly * season * (factor - 1) * window / 30))
        new_buyers = rng.sample(buyer_ids, min(rng.randrange(0, 6), len(buyer_ids)))
        rounded = rng.random() < 0.5
        for _ in range(count):
            day = begin + timedelta(days=rng.randrange(window))
            pool = seller.buyers + new_buyers
            buyer = rng.choice(pool)
            builder.trade(
                seller,
                buyer,
                day,
                on_time=seller.on_time,
                in_full=seller.in_full,
                with_delivery=rng.random() < 0.7,
                round_amount=rounded,
                paid=False,
                noise=0.0,
            )
    return seller


def _validate(economy: Economy) -> None:
    """Parse every record like the registry does; read amounts back from it."""
    amounts: dict[str, tuple[int, float, str, str]] = {}
    for record_id, raw in economy.records:
        data = record_to_canonical_dict(parse_record(raw))
        amounts[record_id] = (
            int(data.get("total_minor", 0)),
            quantity_of(data),
            party_key(data, "seller"),
            party_key(data, "buyer"),
        )
    facts = economy.facts
    priced: list[Order | InvoiceFact] = [*facts.orders, *facts.invoices]
    for fact in priced:
        total, _, seller, buyer = amounts[fact.id]
        if (total, seller, buyer) != (fact.amount_minor, fact.seller, fact.buyer):
            raise AssertionError(f"record {fact.id} does not match its fact")
