"""Pure formulas of the ledger's projection: final compute, steps and dates until a threshold.

Every function works on plain numbers and datetimes; the tracker and :func:`read_ledger` feed
them the ledger's cumulative total, its step count and its mean wall seconds per step.
"""

from __future__ import annotations

import datetime as dt
import math


def projected_total(total_flop: float, steps_done: int, planned_steps: int) -> float:
    """Cumulative FLOP after ``planned_steps``, assuming the mean FLOP per step so far (no fewer than done)."""
    if steps_done <= 0:
        raise ValueError("a projection needs at least one recorded step")
    remaining = max(planned_steps - steps_done, 0)
    return total_flop + total_flop / steps_done * remaining


def steps_until(threshold: float, total_flop: float, flop_per_step: float, *, strict: bool) -> int | None:
    """Further steps until the total passes ``threshold`` (``>`` when ``strict``, else ``>=``); 0 if it has; None at 0 FLOP/step."""
    passed = total_flop > threshold if strict else total_flop >= threshold
    if passed:
        return 0
    if flop_per_step <= 0:
        return None
    gap = (threshold - total_flop) / flop_per_step
    # strict: the first whole step count k with total + k * fps > threshold
    return math.floor(gap) + 1 if strict else math.ceil(gap)


def time_after_steps(now: dt.datetime, steps: int, seconds_per_step: float) -> dt.datetime | None:
    """Wall-clock time ``steps`` steps after ``now`` at ``seconds_per_step`` each (None past year 9999)."""
    try:
        return now + dt.timedelta(seconds=steps * seconds_per_step)
    except OverflowError:
        return None


def deadline(crossing: dt.datetime, *, days: int | None = None, hours: int | None = None) -> dt.datetime | None:
    """An obligation's deadline: ``days`` and/or ``hours`` after the crossing (None with neither, or past year 9999)."""
    if days is None and hours is None:
        return None
    try:
        return crossing + dt.timedelta(days=days or 0, hours=hours or 0)
    except OverflowError:
        return None
