"""Seasonal baselines: what a seller's volume and fulfilment should look like now.

Invariants:
    * A seasonal index is twelve monthly factors (January first) averaging 1.0.
    * A seller's own index comes from its complete calendar months before the
      recent window (so a spike never becomes its own baseline): each month's
      volume over the mean monthly volume, averaged per calendar month. It weighs
      ``months / own_season_full_months`` (capped at 1) once the seller has
      ``own_season_min_months`` complete months, and nothing before; the rest of the
      weight goes to the industry's index (flat when the industry is unknown).
    * The level is the deseasonalised mean monthly volume over the twelve complete
      months before the recent window; the expected volume of any span of days is
      the level times the index of each day's month, summed per day / 30.44.
    * Fulfilment drift compares the on-time and in-full rates of the last
      ``drift_window_days`` with the seller's own baseline: the mean of its rate in
      the year before the window and, when it has enough deliveries, its rate in the
      same window a year earlier (the seasonal part). A drop counts when it is at
      least ``drift_drop`` and ``drift_surprise`` standard errors of the difference
      of two proportions (recent against baseline), so a handful of late
      deliveries in a quiet month is not a drift.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from registry.credit.facts import InvoiceFact, Ledger, SellerBook
from registry.credit.model import Figure, SeasonView, Severity, Signal, SignalCode
from registry.credit.profile import FulfilmentLog
from registry.credit.thresholds import Thresholds

FLAT: tuple[float, ...] = (1.0,) * 12
DAYS_PER_MONTH = 30.44
MIN_FACTOR = 0.05
"""No month is expected to be emptier than this (a seller idle in one month of its
first year must not make that month's volume a division by zero later)."""

INDUSTRY_PATTERNS: dict[str, tuple[float, ...]] = {
    # Built-in shapes, used when the portfolio holds too few sellers of an industry
    # to measure its pattern (docs/credit.md).
    "harvest": (0.5, 0.5, 0.6, 0.7, 0.8, 0.9, 1.2, 2.0, 2.2, 1.6, 0.6, 0.4),
    "holiday_retail": (0.6, 0.6, 0.7, 0.8, 0.8, 0.8, 0.8, 0.9, 1.0, 1.3, 2.0, 1.7),
}


def normalised(index: Sequence[float]) -> tuple[float, ...]:
    """Scale twelve factors to average 1.0 (a flat index when they sum to 0)."""
    mean = sum(index) / 12
    if mean <= 0:
        return FLAT
    return tuple(max(MIN_FACTOR, value / mean) for value in index)


def month_key(day: date) -> int:
    """Months since year 0: consecutive calendar months differ by one."""
    return day.year * 12 + day.month - 1


def monthly_volumes(invoices: Sequence[InvoiceFact]) -> dict[int, int]:
    """Invoiced minor units per calendar month (by :func:`month_key`)."""
    volumes: dict[int, int] = defaultdict(int)
    for invoice in invoices:
        volumes[month_key(invoice.issued_on)] += invoice.amount_minor
    return volumes


def complete_months(book: SellerBook, before: date) -> list[int]:
    """The calendar months from the seller's first invoice to the month before
    ``before``'s month (only whole months of history)."""
    if not book.invoices:
        return []
    first = month_key(book.invoices[0].issued_on)
    # the first month is partial unless it starts on day 1
    if book.invoices[0].issued_on.day > 1:
        first += 1
    return list(range(first, month_key(before)))


def own_index(
    volumes: Mapping[int, int], months: Sequence[int]
) -> tuple[tuple[float, ...], tuple[int, ...]] | None:
    """The seller's own monthly pattern from ``months`` and the number of times each
    calendar month was seen (None: no volume at all)."""
    if not months:
        return None
    mean = sum(volumes.get(m, 0) for m in months) / len(months)
    if mean <= 0:
        return None
    sums = [0.0] * 12
    counts = [0] * 12
    for m in months:
        sums[m % 12] += volumes.get(m, 0) / mean
        counts[m % 12] += 1
    factors = [sums[i] / counts[i] if counts[i] else -1.0 for i in range(12)]
    known = [f for f in factors if f >= 0]
    fill = sum(known) / len(known) if known else 1.0
    filled = [f if f >= 0 else fill for f in factors]
    # NOTE: seasons are smooth (a harvest spans months): a 1-4-1 average over
    # neighbouring months damps the noise of one month's volume without moving or
    # flattening a peak of two or three months.
    smooth = [
        (filled[i - 1] + 4 * filled[i] + filled[(i + 1) % 12]) / 6 for i in range(12)
    ]
    return normalised(smooth), tuple(counts)


def blended_index(
    own: tuple[tuple[float, ...], tuple[int, ...]] | None,
    industry: tuple[float, ...],
    months: int,
    thresholds: Thresholds,
) -> tuple[tuple[float, ...], float]:
    """The index to use and the weight of the seller's own pattern in it.

    Each month's own factor is shrunk towards the industry's by the number of
    years it was seen, n / (n + 1): one year of history is half evidence.
    """
    if own is None or months < thresholds.own_season_min_months:
        return industry, 0.0
    factors, counts = own
    weight = min(1.0, months / thresholds.own_season_full_months)
    mixed = [
        i + (o - i) * weight * n / (n + 1)
        for o, i, n in zip(factors, industry, counts, strict=True)
    ]
    return normalised(mixed), weight


def expected_volume(
    index: Sequence[float], level: float, start: date, days: int
) -> float:
    """Expected invoiced minor units over ``days`` days from ``start``."""
    total = 0.0
    for offset in range(days):
        total += index[(start + timedelta(days=offset)).month - 1]
    return level * total / DAYS_PER_MONTH


def season_view(
    ledger: Ledger,
    seller: str,
    industry_index: tuple[float, ...],
    thresholds: Thresholds,
) -> SeasonView:
    """The seller's seasonal expectation for the recent window ending ``as_of``."""
    book = ledger.book(seller)
    as_of = ledger.as_of
    window = thresholds.velocity_window_days
    window_start = as_of - timedelta(days=window - 1)
    volumes = monthly_volumes(book.invoices)
    history = complete_months(book, window_start)
    index, weight = blended_index(
        own_index(volumes, history), industry_index, len(history), thresholds
    )
    level_months = history[-12:]
    deseasonalised = [volumes.get(m, 0) / index[m % 12] for m in level_months]
    level = sum(deseasonalised) / len(deseasonalised) if deseasonalised else 0.0
    volatility = _volatility(deseasonalised, level)
    recent = sum(i.amount_minor for i in book.invoices if i.issued_on >= window_start)
    expected = expected_volume(index, level, window_start, window)
    source = (
        f"{weight:.0%} its own pattern over {len(history)} months, "
        f"{1 - weight:.0%} its industry's"
    )
    return SeasonView(
        index=index,
        own_weight=weight,
        level_minor=round(level),
        expected_minor=round(expected),
        recent_minor=recent,
        volatility=volatility,
        explanation=(
            f"seasonal index for {as_of:%B} is {index[as_of.month - 1]:.2f} "
            f"({source}); expected {round(expected)} minor units invoiced in the "
            f"last {window} days, invoiced {recent}"
        ),
    )


def _volatility(deseasonalised: Sequence[float], level: float) -> float:
    """Spread of monthly volume around the level (coefficient of variation)."""
    if len(deseasonalised) < 2 or level <= 0:
        return 1.0
    mean_square = sum((v / level - 1) ** 2 for v in deseasonalised)
    return math.sqrt(mean_square / (len(deseasonalised) - 1))


def history_months(book: SellerBook, thresholds: Thresholds, as_of: date) -> int:
    """Complete months of history before the recent window."""
    start = as_of - timedelta(days=thresholds.velocity_window_days - 1)
    return len(complete_months(book, start))


def fulfilment_drift(
    ledger: Ledger, seller: str, log: FulfilmentLog, thresholds: Thresholds
) -> tuple[Signal | None, float]:
    """A warning when recent fulfilment fell below the seller's seasonal baseline.

    Returns:
        The warning (or None) and the largest drop in rate found (0 when none).
    """
    as_of = ledger.as_of
    window = timedelta(days=thresholds.drift_window_days)
    year = timedelta(days=365)
    worst: tuple[float, str, Figure] | None = None
    rates = (("on-time delivery", log.on_time_rate), ("in-full", log.in_full_share))
    for name, rate in rates:
        recent = rate(as_of - window, as_of)
        if recent.value is None or recent.count < thresholds.drift_min_deliveries:
            continue
        long_run = rate(as_of - window - year, as_of - window)
        if long_run.value is None or long_run.count < thresholds.drift_min_deliveries:
            continue
        baseline, base_count = long_run.value, long_run.count
        last_year = rate(as_of - window - year, as_of - year)
        seasonal = ""
        if (
            last_year.value is not None
            and last_year.count >= thresholds.drift_min_deliveries
        ):
            baseline = (long_run.value + last_year.value) / 2
            base_count = min(long_run.count, 2 * last_year.count)
            seasonal = f" (same season last year {last_year.value:.0%})"
        drop = baseline - recent.value
        # two-proportion standard error: the baseline is an estimate too
        pooled = (baseline * base_count + recent.value * recent.count) / (
            base_count + recent.count
        )
        variance = max(pooled * (1 - pooled), 0.05)
        spread = math.sqrt(variance * (1 / recent.count + 1 / base_count))
        if drop < thresholds.drift_drop or drop / spread < thresholds.drift_surprise:
            continue
        if worst is None or drop > worst[0]:
            message = (
                f"{name} rate fell to {recent.value:.0%} over the last "
                f"{thresholds.drift_window_days} days against a seasonal baseline of "
                f"{baseline:.0%}{seasonal}"
            )
            worst = (drop, message, recent)
    if worst is None:
        return None, 0.0
    drop, message, recent = worst
    signal = Signal(
        SignalCode.FULFILMENT_DRIFT,
        Severity.WARNING,
        message + "; the limit is lowered early",
        recent.record_ids,
        (seller,),
        fraud=False,
    )
    return signal, drop
