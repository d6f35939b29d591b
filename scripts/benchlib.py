"""Small helpers shared by the benchmark scripts: timing, medians, the results file.

Each benchmark owns one section of docs/benchmarks.md, between
``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->``, and rewrites only that section,
so the scripts of different parts of the product can record side by side.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = (
    "# Benchmarks\n\n"
    "Figures measured by the scripts in `scripts/`; each section says the command that "
    "produced it. Medians of repeated runs; the machine is named in each section.\n"
)


def median_rate(work: Callable[[], int], repeats: int) -> float:
    """Run ``work`` (returning how many items it did); the median items/s."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        items = work()
        rates.append(items / (time.perf_counter() - start))
    return statistics.median(rates)


def calibration() -> float:
    """Keccak-256 hashes of 64 bytes per second on one core, right now.

    The machines these figures come from are shared virtual machines whose speed
    was seen to drift by 1.6x within an hour; quoting this reference beside every
    result lets a reader compare runs made at different times.
    """
    from registry.hashing import keccak256

    data = os.urandom(64)

    def work() -> int:
        for _ in range(100_000):
            keccak256(data)
        return 100_000

    return median_rate(work, 5)


def machine() -> str:
    """One line naming the machine the figures were measured on, with its speed."""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, "
        f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"speed reference {calibration() / 1e6:.2f}M keccak256/s on one core"
    )


def record_section(name: str, body: str) -> None:
    """Replace (or append) the section ``name`` of docs/benchmarks.md with ``body``."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
