"""``receivables demo`` tells two stories: the core one, then through the service."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main

pytestmark = pytest.mark.integration


def test_demo_runs_both_stories_with_every_step_as_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path)]) == 0

    out = capsys.readouterr().out
    assert "UNEXPECTED" not in out
    assert "409: Already financed" in out
    assert "409: Document already registered" in out
    assert out.count("(rejected)") == 2
    assert "claim closed" in out
    assert "DECLINE" in out  # the fraud ring
    assert "APPROVE" in out  # the harvest seller at its peak
