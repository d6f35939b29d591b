"""The data-credit part of ``receivables demo``: a fraud ring declined, an honest
harvest seller approved at its peak, each with the engine's own reasons.

The story generates a small seeded economy (:mod:`registry.credit.synthetic`),
scores it as of a harvest-peak day, and only then uses the generator's labels to
choose whom to show: the scorer never sees them.
"""

from __future__ import annotations

from datetime import date

from registry.credit.model import Band, Reason, Signal
from registry.credit.scoring import Portfolio, SellerAssessment
from registry.credit.synthetic import SellerLabel, generate_economy

PEAK_DAY = date(2026, 10, 15)


def _money(minor: int) -> str:
    return f"{minor / 100:,.2f} EUR"


def _reasons(items: list[Reason] | list[Signal], limit: int) -> list[str]:
    lines = []
    for item in items[:limit]:
        code = item.code if isinstance(item.code, str) else item.code.value
        text = item.message if isinstance(item, Reason) else item.reason
        cited = (
            f" [{len(item.record_ids)} records, e.g. {item.record_ids[0]}]"
            if (item.record_ids)
            else ""
        )
        lines.append(f"      - {code}: {text}{cited}")
    return lines


def _headline(who: str, found: SellerAssessment) -> str:
    decision = found.decision
    return (
        f"  {who} {found.seller}: {decision.band.value.upper()}, grade "
        f"{decision.grade}, limit {_money(decision.limit_minor)}"
    )


def story(seed: int = 3, sellers: int = 120, as_of: date = PEAK_DAY) -> list[str]:
    """Printable lines of the story.

    Args:
        seed: the economy's seed.
        sellers: how many sellers to generate (fewer is faster).
        as_of: the scoring day (15 October: the harvest peak).

    Returns:
        Lines to print, without trailing newlines.
    """
    economy = generate_economy(seed, as_of, sellers=sellers, buyers=sellers * 2 // 5)
    portfolio = Portfolio(economy.facts, as_of)
    lines = [
        f"Data credit: {len(economy.labels)} generated sellers, scored as of "
        f"{as_of:%d %B %Y} (harvest peak), without their labels",
    ]
    ring = sorted(s for s, label in economy.labels.items() if label.fraud == "ring")
    if ring:
        first = portfolio.assess(ring[0])
        members = next(
            (s.party_ids for s in first.signals if s.code.value == "circular_trade"),
            tuple(ring),
        )
        lines.append(
            f"  A fraud ring ({', '.join(members)}), found in the trade graph:"
        )
        lines.append(_headline("ring member", first))
        lines += _reasons([r for r in first.decision.reasons if r.code != "season"], 3)
    honest = _peak_seller(portfolio, economy.labels)
    if honest is not None:
        season = honest.season
        lines.append(
            f"  An honest harvest seller at its peak, invoicing "
            f"{_money(season.recent_minor)} in 45 days against a level of "
            f"{_money(season.level_minor)} a month:"
        )
        lines.append(_headline("seller", honest))
        wanted = ("band_approve", "season", "limit", "grade")
        lines += _reasons([r for r in honest.decision.reasons if r.code in wanted], 4)
        invoice = max(
            (
                i
                for i in portfolio.ledger.book(honest.seller).invoices
                if i.due_on > as_of and portfolio.ledger.paid_on(i.id) is None
            ),
            key=lambda i: i.issued_on,
            default=None,
        )
        if invoice is not None:
            claim = portfolio.assess_claim(invoice.id, assessment=honest)
            lines.append(
                f"  Its invoice {invoice.id} ({_money(invoice.amount_minor)}, due "
                f"{invoice.due_on}): {claim.band.value}, grade {claim.grade}, "
                f"discount rate {claim.discount_rate_bps / 100:.2f}% a year"
            )
    return lines


def _peak_seller(
    portfolio: Portfolio, labels: dict[str, SellerLabel]
) -> SellerAssessment | None:
    best: SellerAssessment | None = None
    for seller, label in sorted(labels.items()):
        if label.fraud or label.industry != "harvest" or label.young:
            continue
        found = portfolio.assess(seller)
        peak = found.season.index[portfolio.as_of.month - 1]
        if found.decision.band is not Band.APPROVE or peak < 1.5:
            continue
        if best is None or peak > best.season.index[portfolio.as_of.month - 1]:
            best = found
    return best


def main() -> None:
    """Print the story (``python -m registry.credit.demo``)."""
    print("\n".join(story()))


if __name__ == "__main__":
    main()
