"""Judge one policy against an estimated config: above / below / indeterminate / not-applicable.

Spec (results.md, "Verdicts"): with threshold T and comparison ``gt``, ``above`` when the counted
band's low end is > T, ``below`` when its high end is <= T, ``indeterminate`` when the band
straddles T; ``not-applicable`` when a non-compute condition rules the policy out. A policy is
crossed when any of its rules is. Conditions whose facts the config does not give are unknown:
they never turn a verdict into a pass.

Estimates that disagree (README, "Exit codes"): besides the stages' figures, a rule compares the
spread of every available estimate of the counted stages (per stage its lowest low and highest
high, added up). A ``below`` that the spread contradicts (another estimate reaches the threshold)
is ``indeterminate``, naming the methods and their figures; an ``above`` stays ``above`` with the
disagreement among its reasons, since a lower estimate must never turn a crossing into a pass
(under ``--fail-on above`` an ``indeterminate`` passes). With ``--method NAME`` a stage whose figure
comes from that method adds only its figure: the chosen method decides, and says so.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from fractions import Fraction

from flopaudit.config.models import Config
from flopaudit.config.quantity import Quantity, format_number
from flopaudit.estimate.band import Band
from flopaudit.estimate.stage import StageResult
from flopaudit.policy.models import Condition, Policy, Rule
from flopaudit.policy.status import status_on
from flopaudit.policy.waivers import Waiver

VERDICTS = ("above", "below", "indeterminate", "not-applicable")


@dataclass(frozen=True)
class Threshold:
    """A bound as a band (a relative bound inherits the base model's uncertainty) and its comparison."""

    low: float
    high: float
    comparison: str

    @property
    def central(self) -> float:
        """Midpoint of the bound."""
        return (self.low + self.high) / 2

    def compare(self, value: Band) -> str:
        """above / below / indeterminate for a counted band."""
        if self.comparison == "gt":
            if value.low > self.high:
                return "above"
            if value.high <= self.low:
                return "below"
        else:
            if value.low >= self.high:
                return "above"
            if value.high < self.low:
                return "below"
        return "indeterminate"

    def describe(self) -> str:
        """``> 1.000e25`` style text."""
        op = ">" if self.comparison == "gt" else ">="
        bound = format_number(self.low) if self.low == self.high else \
            f"{format_number(self.low)}..{format_number(self.high)}"
        return f"{op} {bound}"


@dataclass
class RuleCheck:
    """The verdict of one rule, with what decided it."""

    rule: Rule
    verdict: str
    counted: Band | None
    threshold: Threshold | None
    conditions: list[tuple[str, bool | None]]
    reasons: list[str] = field(default_factory=list)
    #: The estimates of the counted stages disagree on the side of the threshold ("" when they agree).
    disagreement: str = ""


@dataclass
class PolicyCheck:
    """The verdict of one policy for one config."""

    policy: Policy
    status: str
    gates: bool
    verdict: str
    deciding: RuleCheck
    rules: list[RuleCheck]
    counted_flop: Band
    counted_stages: list[str]
    excluded_stages: list[str]
    obligations: list[str]
    obligation_ids: list[str]
    reasons: list[str]
    #: ``error`` (a crossing fails the gate) or ``warning`` (shown, exit 0); see :mod:`flopaudit.policy.severity`.
    severity: str = "error"
    #: Where the severity came from: ``policy file`` (its ``severity:``), ``default`` or ``project settings FILE``.
    severity_source: str = "default"
    #: The waiver that waives this check (it then does not gate), see :mod:`flopaudit.policy.waivers`.
    waiver: Waiver | None = None
    #: A waiver for this check that had expired on the as-of date (it does not waive).
    expired_waiver: Waiver | None = None

    @property
    def in_force(self) -> bool:
        """Whether the policy is in force on the as-of date (only such policies can gate)."""
        return self.status == "in-force"

    @property
    def margin(self) -> float | None:
        """counted / threshold (central values): > 1 means over."""
        t, c = self.deciding.threshold, self.deciding.counted
        return c.central / t.central if t and c and t.central else None

    @property
    def doublings(self) -> float | None:
        """log2 of the margin: how many doublings over (+) or under (-) the threshold."""
        m = self.margin
        return math.log2(m) if m else None


def _counted_stages(policy: Policy, stages: list[StageResult],
                    kinds: list[str] | None) -> tuple[list[StageResult], list[str]]:
    """The stages the policy's accounting counts (or ``kinds``), and the names of the others."""
    acc = policy.accounting
    counts = acc.counts if kinds is None else kinds
    counted: list[StageResult] = []
    excluded: list[str] = []
    for r in stages:
        s = r.stage
        if s.kind not in counts or (s.kind == "synthetic-data" and s.public
                                        and acc.excluded("public-synthetic-data")):
            excluded.append(s.name)
        else:
            counted.append(r)
    return counted, excluded


def counted_flop(policy: Policy, stages: list[StageResult],
                 kinds: list[str] | None = None) -> tuple[Band, list[str], list[str]]:
    """Sum of the stages the policy's accounting counts (or of ``kinds``); names of counted and excluded stages."""
    counted, excluded = _counted_stages(policy, stages, kinds)
    total = Band.exact(0.0)
    for r in counted:
        total = total + r.flop
        if r.recomputation_flop is not None and not policy.accounting.excluded("activation-recomputation"):
            total = total + r.recomputation_flop
    return total, [r.stage.name for r in counted], excluded


@dataclass(frozen=True)
class Spread:
    """The counted stages of a rule, to add up every available estimate of each, not only its figure."""

    stages: tuple[StageResult, ...]
    recomputation: bool

    def band(self, selected: str | None = None) -> Band:
        """Per stage the lowest low and highest high of its estimates, added up.

        A stage whose figure comes from ``selected`` (``--method``) adds only its figure.
        """
        total = Band.exact(0.0)
        for r in self.stages:
            if selected is not None and r.method == selected:
                extra = r.recomputation_flop if self.recomputation else None
                total = total + (r.flop + extra if extra is not None else r.flop)
            else:
                total = total + r.spread(recomputation=self.recomputation)
        return total

    def describe(self, threshold: "Threshold") -> str:
        """``methods disagree on the side of > 1e25: stage p transformer 7.2e24, hardware 1.02e25..1.31e25``."""
        parts = [f"stage {r.stage.name} " + ", ".join(f"{e.method} {_band_text(e.flop)}" for e in r.estimates)
                 for r in self.stages if len(r.estimates) > 1]
        total = self.band()
        return (f"methods disagree on the side of {threshold.describe()}: {'; '.join(parts)} "
                f"(all estimates together: {_band_text(total)})")


def counted_spread(policy: Policy, stages: list[StageResult], kinds: list[str] | None = None) -> Spread:
    """The :class:`Spread` of the stages the policy's accounting counts (or of ``kinds``)."""
    counted, _ = _counted_stages(policy, stages, kinds)
    return Spread(tuple(counted), not policy.accounting.excluded("activation-recomputation"))


def _band_text(b: Band) -> str:
    return format_number(b.low) if b.is_exact else f"{format_number(b.low)}..{format_number(b.high)}"


def cluster_peak(stages: list[StageResult]) -> Band | None:
    """Largest devices x peak FLOP/s over the stages that give a device count."""
    best: Band | None = None
    for r in stages:
        hw = r.stage.hardware
        if hw is None or hw.count is None:
            continue
        peak = Band.of(hw.count) * Band.of(hw.peak())
        if best is None or peak.central > best.central:
            best = peak
    return best


def _compare_money(value: Quantity | None, cond: Condition) -> bool | None:
    if value is None:
        return None
    assert cond.value is not None and cond.comparison is not None
    verdict = Threshold(cond.value, cond.value, cond.comparison).compare(Band.of(value))
    return {"above": True, "below": False}.get(verdict)


def evaluate_condition(cond: Condition, config: Config) -> tuple[str, bool | None]:
    """A readable description of the condition and whether it holds (None: unknown)."""
    model, base, org = config.model, config.base_model, config.organization
    if cond.kind == "modality":
        wanted = cond.any_of or []
        return (f"modality is one of {', '.join(wanted)}", any(m in wanted for m in model.modality))
    if cond.kind == "biological_data":
        return ("trained on biological sequence data (modality includes biology)", "biology" in model.modality)
    if cond.kind in ("annual_revenue_usd", "compute_cost_usd"):
        op = ">" if cond.comparison == "gt" else ">="
        label = "annual revenue" if cond.kind == "annual_revenue_usd" else "compute cost"
        value = getattr(org, cond.kind, None) if org else None
        return (f"{label} {op} ${format_number(cond.value or 0)}", _compare_money(value, cond))
    if cond.kind == "base_model":
        return ("modifies a base model (base_model given)", base is not None)
    risk = None if base is not None and base.systemic_risk is None else bool(base and base.systemic_risk)
    if cond.kind == "base_systemic_risk":
        return ("base model has systemic risk", risk)
    return ("base model has no systemic risk", None if risk is None else bool(base) and not risk)


def _metric_value(rule: Rule, stages: list[StageResult], counted: Band) -> Band | None:
    if rule.metric == "cluster_peak_flops":
        return cluster_peak(stages)
    return counted


class _Undecidable(Exception):
    """The bound of a relative rule cannot be known from the config."""


def _threshold(rule: Rule, config: Config) -> tuple[Threshold | None, str]:
    """The rule's bound; None when there is no base model; _Undecidable when it cannot be known."""
    if rule.threshold is not None:
        return Threshold(rule.threshold, rule.threshold, rule.comparison), ""
    base = config.base_model
    if base is None:
        return None, "no base_model in the config"
    if base.training_flop is not None:
        # Exact ratio (1/3 stays 1/3): 3e25 x 0.3333333333333333 would be 9.999999999999999e24.
        ratio = Fraction(rule.relative_to_base or 0.0).limit_denominator(10**6)
        q = base.training_flop
        return (Threshold(q.low * ratio.numerator / ratio.denominator,
                          q.high * ratio.numerator / ratio.denominator, rule.comparison),
                f"{ratio} x base model compute {q}")
    fallbacks = {fb.when: fb.threshold for fb in rule.fallback}
    wants = ["base_systemic_risk", "no_base_systemic_risk"] if base.systemic_risk is None else \
        ["base_systemic_risk" if base.systemic_risk else "no_base_systemic_risk"]
    if not all(w in fallbacks for w in wants):
        raise _Undecidable("base model compute unknown and no fallback of this policy fits the base model"
                           + (" (systemic_risk not given)" if base.systemic_risk is None else ""))
    values = [fallbacks[w] for w in wants]
    if len(values) > 1:
        note = ("base model compute unknown and whether it has systemic risk not given: "
                "the bound is one of the fallbacks")
    else:
        note = (f"base model compute unknown: fallback for a base {'with' if base.systemic_risk else 'without'} "
                "systemic risk")
    return Threshold(min(values), max(values), rule.comparison), note


def judge_rule(rule: Rule, config: Config, stages: list[StageResult], counted: Band,
               spread: Spread | None = None, selected: str | None = None) -> RuleCheck:
    """Verdict of one rule; ``spread``: every estimate of the counted stages; ``selected``: the ``--method``."""
    conditions = [evaluate_condition(c, config) for c in rule.conditions]
    if any(ok is False for _, ok in conditions):
        failed = [d for d, ok in conditions if ok is False]
        return RuleCheck(rule, "not-applicable", None, None, conditions, [f"condition not met: {d}" for d in failed])
    try:
        threshold, note = _threshold(rule, config)
    except _Undecidable as why:
        return RuleCheck(rule, "indeterminate", None, None, conditions, [str(why)])
    reasons = [note] if note else []
    if threshold is None:
        return RuleCheck(rule, "not-applicable", None, None, conditions, reasons)
    value = _metric_value(rule, stages, counted)
    if value is None:
        return RuleCheck(rule, "indeterminate", None, threshold, conditions,
                         reasons + ["no stage gives hardware with a device count"])
    verdict = threshold.compare(value)
    if verdict == "indeterminate":
        reasons.append(f"the band {format_number(value.low)}..{format_number(value.high)} straddles "
                       f"the threshold {threshold.describe()}")
    disagreement = ""
    if spread is not None and rule.metric != "cluster_peak_flops" and verdict != "indeterminate" \
            and threshold.compare(spread.band()) != verdict:
        disagreement = spread.describe(threshold)
        decides = threshold.compare(spread.band(selected))
        if decides == verdict:
            reasons.append(f"{disagreement}; only the {selected} estimate decides (--method {selected})")
        elif verdict == "below":
            verdict = "indeterminate"
            reasons.append(disagreement)
        else:
            reasons.append(f"{disagreement}; the stages' figures are above it, and a lower estimate never "
                           "turns a crossing into a pass")
    if verdict != "below":
        unknown = [d for d, ok in conditions if ok is None]
        if unknown:
            verdict = "indeterminate"
            reasons += [f"unknown: {d} (not given in the config)" for d in unknown]
    return RuleCheck(rule, verdict, value, threshold, conditions, reasons, disagreement)


def _combine(checks: list[RuleCheck]) -> RuleCheck:
    """The rule that decides the policy: any above, else any indeterminate, else below, else n/a."""
    for verdict in ("above", "indeterminate", "below"):
        hits = [c for c in checks if c.verdict == verdict]
        if hits:
            # Of several, the one closest to (or farthest over) its threshold explains the verdict best.
            return max(hits, key=lambda c: (c.counted.central / c.threshold.central)
                       if c.counted and c.threshold else 0.0)
    return checks[0]


def _obligations(policy: Policy, config: Config, verdict: str) -> tuple[list[str], list[str]]:
    """Full texts and short ``id (deadline)`` labels of the obligations the verdict triggers."""
    if verdict not in ("above", "indeterminate"):
        return [], []
    out, ids = [], []
    for ob in policy.obligations:
        conds = [evaluate_condition(c, config) for c in ob.applies_if]
        if any(ok is False for _, ok in conds):
            continue
        text = ob.summary
        deadline = f"within {ob.deadline_days} days" if ob.deadline_days else \
            f"within {ob.deadline_hours} hours" if ob.deadline_hours else ""
        if deadline:
            text += f" [{deadline}]"
        ids.append(f"{ob.id} ({deadline})" if deadline else ob.id)
        unknown = [d for d, ok in conds if ok is None]
        if unknown:
            text += f" (only if {'; '.join(unknown)}: not given)"
        if verdict == "indeterminate":
            text = "may apply: " + text
        out.append(f"{text} ({ob.citation})")
    return out, ids


def judge(policy: Policy, config: Config, stages: list[StageResult], as_of: dt.date,
          method: str | None = None, severity: tuple[str, str] | None = None) -> PolicyCheck:
    """The verdict of ``policy`` for an estimated config on ``as_of``; ``method``: the one ``--method`` named.

    ``severity`` is ``(level, source)`` from project settings; else the policy's own. The check
    gates when the policy is in force and its severity is ``error`` (a waiver may lift that later).
    """
    status = status_on(policy, as_of)
    counted, counted_names, excluded_names = counted_flop(policy, stages)
    rule_checks = [judge_rule(rule, config, stages,
                              counted if rule.counts is None else counted_flop(policy, stages, rule.counts)[0],
                              counted_spread(policy, stages, rule.counts), method)
                   for rule in policy.rules]
    deciding = _combine(rule_checks)
    reasons = list(deciding.reasons)
    t, value = deciding.threshold, deciding.counted
    if policy.tolerance and t and value and deciding.verdict in ("above", "below") \
            and abs(value.central / t.central - 1) <= policy.tolerance:
        reasons.append(f"the figure is within the policy's {policy.tolerance:.0%} accuracy margin of the "
                       f"threshold: a different estimation method could change the verdict")
    if status != "in-force":
        reasons.append(f"{status.replace('-', ' ')} as of {as_of.isoformat()}: judged but never gates")
    obligations, obligation_ids = _obligations(policy, config, deciding.verdict)
    level, source = severity or (policy.default_severity, "policy file" if policy.severity else "default")
    return PolicyCheck(policy, status, status == "in-force" and level == "error", deciding.verdict, deciding,
                       rule_checks, counted, counted_names, excluded_names, obligations, obligation_ids, reasons,
                       level, source)
