"""The projection's pure formulas, with hand-derived numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from flopaudit.ledger import projection

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def test_projected_total() -> None:
    # 3 steps, 300 FLOP: 100 per step; 10 planned -> 300 + 7 * 100 = 1000
    assert projection.projected_total(300, 3, 10) == 1000
    # past the plan: nothing more is projected
    assert projection.projected_total(300, 3, 2) == 300
    with pytest.raises(ValueError):
        projection.projected_total(0, 0, 10)


def test_steps_until_a_threshold() -> None:
    # gt 1000 from 300 at 100/step: 300 + 8 * 100 = 1100 > 1000, while 7 steps reach only 1000
    assert projection.steps_until(1000, 300, 100, strict=True) == 8
    # gte 1000: 7 steps reach exactly 1000
    assert projection.steps_until(1000, 300, 100, strict=False) == 7
    # gt 1050: 300 + 8 * 100 = 1100 > 1050 (7 steps: 1000)
    assert projection.steps_until(1050, 300, 100, strict=True) == 8
    assert projection.steps_until(1000, 1000, 100, strict=False) == 0
    assert projection.steps_until(1000, 1000, 100, strict=True) == 1
    assert projection.steps_until(1000, 300, 0, strict=True) is None


def test_dates() -> None:
    # 8 steps of 1.5 s = 12 s
    assert projection.time_after_steps(T0, 8, 1.5) == T0 + dt.timedelta(seconds=12)
    assert projection.deadline(T0, days=14) == dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.timezone.utc)
    assert projection.deadline(T0, hours=24) == dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc)
    assert projection.deadline(T0) is None
    # 1e12 s is about 31,700 years: past datetime's year 9999
    assert projection.time_after_steps(T0, 10**12, 1.0) is None
