"""The report's one-page summary: the binding answer first, headroom to each threshold, what-if thresholds.

Policies are ordered by legal weight: a binding threshold in force (severity ``error``; a waiver
only acknowledges it) first, then in-force guidance (severity ``warning``), then policies not in force.
Headroom says, for a threshold not yet crossed, how much more training would cross it (in tokens at
the largest counted stage's FLOP per token, or in days at its stated hardware); for one crossed, how
far above it the model is. The what-if table judges the counted compute of the leading FLOP policy
against fixed alternative thresholds and against that policy's threshold adjusted for algorithmic
progress at the published rate (:mod:`flopaudit.context.applied`, research note A-1: Ho et al. 2024).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flopaudit.context.applied import FLOP_METRICS, AppliedContext
from flopaudit.errors import FlopauditError
from flopaudit.estimate.band import Band
from flopaudit.estimate.stage import StageResult
from flopaudit.policy.judge import PolicyCheck, Threshold
from flopaudit.render import common as c
from flopaudit.sensitivity import Outcome, Sensitivity

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult

WHAT_IF_THRESHOLDS = (1e24, 1e25, 1e26, 1e27)
SECONDS_PER_DAY = 86_400
VERDICT_ORDER = {"above": 0, "indeterminate": 1, "below": 2, "not-applicable": 3}
#: Names of the legal weights 0, 1, 2 (:func:`legal_weight`).
WEIGHT_TEXT = ("binding", "guidance", "not in force")


def legal_weight(check: PolicyCheck) -> int:
    """0 binding (in force, severity error; a waiver changes the gate, not the law), 1 guidance, 2 not in force."""
    if not check.in_force:
        return 2
    return 0 if check.severity == "error" else 1


def by_legal_weight(checks: list[PolicyCheck]) -> list[PolicyCheck]:
    """The checks, binding first, then guidance, then not in force; crossed before undecided before below,
    and within each, the largest counted ÷ threshold (the nearest threshold, when below) first."""
    return sorted(checks, key=lambda k: (legal_weight(k), VERDICT_ORDER[k.verdict], -(k.margin or 0.0)))


def times(m: float) -> str:
    """A ratio for prose: ``4.1`` / ``1.02`` / ``17`` / ``1,667`` / ``1.7e+05`` (3 significant figures below 10)."""
    if m < 10:
        return f"{m:.3g}"
    return f"{m:,.0f}" if m < 1e5 else f"{m:.2g}"


def first_sentence(text: str) -> str:
    """The text up to and including its first full stop followed by a space (all of it when none)."""
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text.rstrip()


def _deadline(check: PolicyCheck) -> tuple[str, str]:
    """(summary of the first obligation with a deadline, else the first; its deadline text)."""
    by_id = {o.id: o for o in check.policy.obligations}
    obs = [by_id[i.split(" (")[0]] for i in check.obligation_ids if i.split(" (")[0] in by_id]
    if not obs:
        return "", ""
    ob = next((o for o in obs if o.deadline_days or o.deadline_hours), obs[0])
    when = (f"within {ob.deadline_days} days" if ob.deadline_days else
            f"within {ob.deadline_hours} hours" if ob.deadline_hours else "")
    return first_sentence(ob.summary), when


def answer(result: "AuditResult") -> str:
    """The one sentence a reader needs: the weightiest crossed (or nearest) policy, its margin and duty."""
    ordered = [k for k in by_legal_weight(result.checks) if k.verdict != "not-applicable"]
    if not ordered:
        return "No policy applies to this model."
    k = ordered[0]
    name = k.policy.short_name
    kind = WEIGHT_TEXT[legal_weight(k)] + (f", waived until {k.waiver.expires.isoformat()}" if k.waiver else "")
    if k.verdict == "above":
        ratio = f" by {times(k.margin)}x" if k.margin else ""
        duty, when = _deadline(k)
        duty = duty[:1].lower() + duty[1:]
        tail = f": {duty.rstrip('.')} ({when})." if duty and when else f": {duty}" if duty else "."
        return f"Above {name} ({kind}, {c.threshold(k)}){ratio}{tail}"
    if k.verdict == "indeterminate":
        return (f"Undecided against {name} ({kind}, {c.threshold(k)}): the estimate's band "
                f"{c.compared(k)} straddles the threshold; section 4 says what decides it.")
    ratio = f" by {times(1 / k.margin)}x" if k.margin else ""
    return f"Below {name} ({kind}, {c.threshold(k)}){ratio}, the weightiest policy judged; no obligation is triggered."


def fmt_count(x: float) -> str:
    """A count in short form: ``1.7e15`` / ``166 trillion`` / ``6.7 billion`` / ``5 million`` / ``12,000``."""
    if x >= 1e15:
        return c.flop(x)
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if x >= size:
            return f"{x / size:.2g} {word}" if x / size < 10 else f"{x / size:,.0f} {word}"
    return f"{x:,.0f}"


def flop_per_token(stage: StageResult) -> float | None:
    """Central FLOP per processed token of a stage (its FLOP ÷ its tokens), None without tokens."""
    tokens = stage.stage.processed_tokens
    if tokens is None or not tokens.central:
        return None
    return stage.flop.central / tokens.central


def cluster_rate(stage: StageResult) -> float | None:
    """Central sustained FLOP/s of a stage's stated hardware: devices x peak x utilisation; None if unstated."""
    hw = stage.stage.hardware
    if hw is None or hw.count is None or hw.utilization is None:
        return None
    try:
        peak = hw.peak().central
    except FlopauditError:  # an unknown accelerator leaves the rate unknown, never zero
        return None
    return hw.count.central * peak * hw.utilization.central


@dataclass(frozen=True)
class Headroom:
    """How far one FLOP threshold is: the gap, and what it means in tokens or days of training."""

    policy: str
    weight: str
    threshold: str
    verdict: str
    text: str


def headroom_text(threshold: float, counted: Band, per_token: float | None, rate: float | None) -> str:
    """``+2.3e24 FLOP to go: about 5.5 trillion more tokens, or 9.1 days at the stated hardware`` / ``4.1x above``."""
    if counted.low > threshold:
        return f"{counted.central / threshold:.3g}x above (crossed by {c.flop(counted.central - threshold)} FLOP)"
    gap = threshold - counted.central
    if gap <= 0:
        return (f"central value {counted.central / threshold:.3g}x the threshold; the band "
                f"{c.band(counted)} straddles it")
    parts = []
    if per_token:
        parts.append(f"about {fmt_count(gap / per_token)} more tokens")
    if rate:
        days = gap / rate / SECONDS_PER_DAY
        parts.append(f"{days:.2g} more days at the stated hardware" if days < 10 else
                     f"{days:,.0f} more days at the stated hardware")
    how = (": " + ", or ".join(parts)) if parts else ""
    straddle = " (the band reaches it)" if counted.high > threshold else ""
    return f"{c.flop(gap)} FLOP to go{straddle}{how}"


def _largest_counted(result: "AuditResult", check: PolicyCheck) -> StageResult | None:
    counted = [s for s in result.stages if s.stage.name in check.counted_stages]
    return max(counted, key=lambda s: s.flop.central) if counted else None


def headrooms(result: "AuditResult") -> list[Headroom]:
    """One row per FLOP threshold judged (by legal weight): the gap to it in FLOP, tokens and days."""
    rows = []
    for k in by_legal_weight(result.checks):
        t, counted = k.deciding.threshold, k.deciding.counted
        if (k.verdict == "not-applicable" or t is None or counted is None or t.low != t.high
                or k.deciding.rule.metric not in FLOP_METRICS):
            continue
        stage = _largest_counted(result, k)
        per_token = flop_per_token(stage) if stage else None
        rate = cluster_rate(stage) if stage else None
        rows.append(Headroom(k.policy.short_name, WEIGHT_TEXT[legal_weight(k)], c.threshold(k), k.verdict,
                             headroom_text(t.low, counted, per_token, rate)))
    return rows


def verdict_at(threshold: float, counted: Band) -> str:
    """``above`` when the whole band exceeds the threshold, ``below`` when none of it does, else undecided."""
    return Threshold(threshold, threshold, "gt").compare(counted)


@dataclass(frozen=True)
class WhatIf:
    """The verdict of the counted compute under one alternative threshold."""

    label: str
    threshold: float
    verdict: str
    margin: str
    note: str


def what_if(result: "AuditResult", context: AppliedContext) -> tuple[str, list[WhatIf]]:
    """(what is counted, rows): 1e24..1e27 and the lead threshold adjusted for algorithmic progress."""
    lead = next((k for k in by_legal_weight(result.checks) if k.verdict != "not-applicable"
                 and k.deciding.rule.metric in FLOP_METRICS and k.deciding.counted is not None), None)
    counted = lead.deciding.counted if lead is not None else result.total_flop
    basis = (f"counted as {lead.policy.short_name} counts it" if lead is not None else "total of all stages")
    rows = []
    for t in WHAT_IF_THRESHOLDS:
        v = verdict_at(t, counted)
        rows.append(WhatIf(f"{c.flop(t)} FLOP", t, v, _ratio(counted.central, t), "fixed alternative"))
    eff = next((e for e in context.effective if lead is not None and lead.policy.short_name in e.policies), None)
    if eff is not None:
        t = eff.equivalent_threshold.central
        rows.append(WhatIf(f"{c.flop(eff.threshold)} adjusted to {c.flop(t)} FLOP", t, verdict_at(t, counted),
                           _ratio(counted.central, t),
                           f"{', '.join(eff.policies)} threshold of {eff.reference.isoformat()} in FLOP of "
                           f"{context.run.date.isoformat()} ({eff.years:.1f} years of algorithmic progress, "
                           f"÷{eff.multiplier.central:.3g}, range {c.flop(eff.equivalent_threshold.low)}.."
                           f"{c.flop(eff.equivalent_threshold.high)})"))
    return f"{c.band(counted)} FLOP, {basis}", rows


def _ratio(value: float, threshold: float) -> str:
    """``4.1x over`` / ``17x under`` / ``1,667x under``."""
    m = value / threshold
    return f"{times(m)}x over" if m >= 1 else f"{times(1 / m)}x under"


def biggest_uncertainty(result: "AuditResult", sens: Sensitivity) -> str:
    """The assumption whose variants (each a re-run audit) move the total most, else the band's width."""
    base = result.total_flop.central
    groups: dict[str, list[Outcome]] = {}
    for o in sens.outcomes:
        if o.total is not None and o.total.central > 0 and base > 0:
            groups.setdefault(o.scenario.assumption, []).append(o)

    def shift(outcomes: list[Outcome]) -> float:
        return max(abs(math.log(o.total.central / base)) for o in outcomes if o.total is not None)

    if groups:
        assumption, outcomes = max(groups.items(), key=lambda g: shift(g[1]))
        if shift(outcomes) > 0:
            flipped = sorted({f.policy for o in outcomes for f in o.flips})
            flips = f"; flips {', '.join(flipped)}" if flipped else "; flips no verdict"
            totals = sorted(o.total.central for o in outcomes if o.total is not None)
            if len(outcomes) == 1:
                o = outcomes[0]
                return (f"{assumption} → {o.scenario.variant}: total {c.flop(totals[0])} "
                        f"({totals[0] / base:.3g}x the baseline){flips}")
            return (f"{assumption}: total {c.flop(totals[0])}..{c.flop(totals[-1])} over its {len(outcomes)} "
                    f"variants ({totals[0] / base:.3g}x..{totals[-1] / base:.3g}x the baseline){flips}")
    b = result.total_flop
    if b.is_exact:
        return "none stated: every input is a single value (the estimate still carries its method's error)"
    return f"the inputs' ranges: total {c.flop(b.low)}..{c.flop(b.high)} ({b.high / b.low:.3g}x wide)"


