"""The efficiency catalogue applied to one audited config: what it declares, and what that means.

One row per catalogue category, always present: either the figure computed from what the config
declares (inference per year, generator and teacher compute, post-training share, low precision,
mixture of experts), or a plain statement that the config declares nothing of the kind. The
effective-compute table compounds one factor (algorithmic progress, A-1) from the date each
threshold was enacted to the date of the run. None of it changes a verdict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flopaudit.config.quantity import format_number
from flopaudit.context.efficiency import DAYS_PER_YEAR, Catalogue, Category, Factor, catalogue
from flopaudit.context.inference import (GenerationCompute, InferenceCompute, deployment_compute,
                                         generation_compute, teacher_exclusions)
from flopaudit.context.reference import reference_models
from flopaudit.estimate import accelerators
from flopaudit.estimate.band import Band
from flopaudit.render.common import band as band_text
from flopaudit.render.common import flop

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult

POST_TRAINING_KINDS = ("fine-tuning", "reinforcement-learning", "reward-model")
FLOP_METRICS = ("cumulative_training_flop", "training_flop", "modification_flop")


@dataclass(frozen=True)
class Applied:
    """One category: what the config declares about it, figures computed here, the published factors."""

    category: Category
    declared: str
    figures: list[str]
    factors: list[Factor]


@dataclass(frozen=True)
class RunDate:
    """The date whose algorithms the run is assumed to use, and where it comes from."""

    date: dt.date
    source: str


@dataclass(frozen=True)
class EffectiveRow:
    """Algorithmic progress from the date a threshold was enacted to the date of the run."""

    reference: dt.date
    policies: list[str]
    threshold: float
    counted: float
    years: float
    multiplier: Band
    effective: Band
    equivalent_threshold: Band


@dataclass(frozen=True)
class AppliedContext:
    """Everything the 'what compute does not capture' section shows for one config."""

    rows: list[Applied]
    inference: InferenceCompute | None
    generation: list[GenerationCompute]
    teacher_excluded_by: list[str]
    effective: list[EffectiveRow]
    yearly: Band
    run: RunDate


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def run_date(result: "AuditResult") -> RunDate:
    """The catalogue's publication date of a model of the same name, else the as-of date.

    A config has no training date; publication follows training, so for a published model its
    date is the better proxy. For anything else the run is assumed to happen on the as-of date.
    """
    name = _key(result.config.model.name)
    match = next((m for m in reference_models() if _key(m.name) == name), None)
    if match is not None:
        return RunDate(match.published, f"publication date of {match.name} in the model catalogue")
    return RunDate(result.as_of, "the as-of date (the config gives no training date)")


def effective_rows(result: "AuditResult", cat: Catalogue, run: RunDate) -> list[EffectiveRow]:
    """One row per (enactment date, threshold, counted figure) of the FLOP thresholds judged."""
    groups: dict[tuple[dt.date, float, float], list[str]] = {}
    for c in result.checks:
        t, counted, enacted = c.deciding.threshold, c.deciding.counted, c.policy.lifecycle.enacted
        if (c.verdict == "not-applicable" or c.deciding.rule.metric not in FLOP_METRICS or t is None
                or t.low != t.high or counted is None or enacted is None or enacted >= result.as_of):
            continue
        groups.setdefault((enacted, t.low, counted.central), []).append(c.policy.short_name)
    rows = []
    for (enacted, threshold, counted), names in sorted(groups.items()):
        m = cat.progress_multiplier(enacted, run.date)
        rows.append(EffectiveRow(enacted, names, threshold, counted, (run.date - enacted).days / DAYS_PER_YEAR, m,
                                 m * counted, Band(threshold / m.high, threshold / m.central, threshold / m.low)))
    return rows


def _post_training(result: "AuditResult") -> tuple[str, list[str]]:
    stages = [r for r in result.stages if r.stage.kind in POST_TRAINING_KINDS]
    if not stages:
        return "No fine-tuning, reinforcement-learning or reward-model stage declared.", []
    total = Band.total(r.flop for r in stages)
    share = total.central / result.total_flop.central if result.total_flop.central else 0.0
    names = ", ".join(f"'{r.stage.name}'" for r in stages)
    return (f"Post-training stages {names}.",
            [f"{band_text(total)} FLOP, {share:.2%} of the total compute of this config."])


def _generation(result: "AuditResult", gens: list[GenerationCompute], teacher: list[str]) -> tuple[str, list[str]]:
    if not gens:
        return "No synthetic-data, distillation or reinforcement-learning generation declared.", []
    figures = []
    for g in gens:
        counted = ", ".join(g.counted_by) or "none"
        excluded = ", ".join(g.excluded_by) or "none"
        figures.append(f"Stage '{g.stage}' ({g.kind}): generator {g.generator}, {band_text(g.flop)} FLOP "
                       f"of forward passes ({g.method}); counted by {counted}; not counted by {excluded}.")
    figures.append("The generator's or teacher's own training compute is not in the config"
                   + (f"; the accounting of {', '.join(teacher)} leaves it out." if teacher else "."))
    return f"{len(gens)} stage(s) generate data or rollouts with a model.", figures


def _inference(inf: InferenceCompute | None) -> tuple[str, list[str]]:
    if inf is None:
        return "No deployment block: inference compute is not estimated.", []
    if inf.flop is None:
        return f"Deployment: {inf.inputs}.", [f"Not computed: {inf.reason}."]
    ratio = inf.ratio
    ratio_text = f"{ratio.central:.3g}x" if ratio else "-"
    return (f"Deployment: {inf.inputs}.",
            [f"{band_text(inf.flop)} FLOP of inference over {inf.days:g} days, {ratio_text} the training "
             f"compute ({flop(inf.training.central)}). No threshold counts it."])


def _precision(result: "AuditResult") -> tuple[str, list[str]]:
    figures = []
    for r in result.stages:
        hw = r.stage.hardware
        if hw is None or hw.precision_used() not in ("fp8", "int8"):
            continue
        text = (f"Stage '{r.stage.name}' runs at {hw.precision_used()} "
                f"(peak {flop(hw.peak().central)} FLOP/s per device)")
        if hw.accelerator and hw.peak_flops is None:
            acc = accelerators.resolve(hw.accelerator)
            if "bf16" in acc.peak_flops:
                text += f", {hw.peak().central / acc.peak_flops['bf16']:.3g}x its bf16 peak"
        figures.append(text + "; every operation counts the same whatever its precision (EU Guidelines Annex A.2).")
    if not figures:
        return "No stage declares fp8 or int8 hardware.", []
    return f"{len(figures)} stage(s) at low precision.", figures


def _moe(result: "AuditResult", all_parameters: Band | None) -> tuple[str, list[str]]:
    total, active = result.parameters()
    arch = result.config.model.architecture
    if not (arch is not None and arch.experts) and not (total and active and active < total):
        return "Dense model: every parameter is used on every token.", []
    declared = (f"{format_number(total) if total else '-'} total, "
                f"{format_number(active) if active else '-'} active parameters")
    figures = []
    if total and active:
        figures.append(f"Counting all parameters instead of the active ones multiplies 6ND by {total / active:.3g}.")
    if all_parameters is not None:
        figures.append(f"Re-audited with every expert on every token: {band_text(all_parameters)} FLOP in total, "
                       f"against {band_text(result.total_flop)} counted (see the sensitivity table).")
    return f"Mixture of experts: {declared}.", figures


def apply(result: "AuditResult", all_parameters: Band | None = None) -> AppliedContext:
    """The catalogue applied to ``result``; ``all_parameters``: total compute re-audited counting every expert."""
    cat = catalogue()
    inf = deployment_compute(result)
    gens = generation_compute(result)
    teacher = teacher_exclusions(result)
    run = run_date(result)
    effective = effective_rows(result, cat, run)
    yearly = cat.yearly_multiplier()
    progress = ([f"Compute for the same pre-training performance halves every "
                 f"{cat.algorithmic_progress.halving_months.central:g} months "
                 f"({yearly.low:.3g}x to {yearly.high:.3g}x a year); the effective-compute table compounds it "
                 f"from the date each threshold was enacted to the run's date."] if effective else [])
    parts = {
        "post-training": _post_training(result),
        "algorithmic-progress": (f"Run dated {run.date.isoformat()}: {run.source}.", progress),
        "data-pruning": ("A config cannot declare data quality; the published range is context only.", []),
        "distillation": _generation(result, gens, teacher),
        "inference-time": _inference(inf),
        "quantization": _precision(result),
        "mixture-of-experts": _moe(result, all_parameters),
    }
    rows = [Applied(c, *parts.get(c.id, ("", [])), factors) for c, factors in cat.by_category()]
    return AppliedContext(rows, inf, gens, teacher, effective, yearly, run)
