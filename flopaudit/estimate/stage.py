"""Estimate one stage by every method its fields allow, pick the figure, cross-check the rest."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flopaudit.config.kinds import TRAINING_KINDS
from flopaudit.config.models import Stage
from flopaudit.config.quantity import format_number, format_ratio
from flopaudit.errors import ConfigError
from flopaudit.estimate.band import Band
from flopaudit.estimate.methods import METHOD_ORDER, METHODS, Context, Estimate, Unavailable

#: A cross-check farther than this from the stage's figure is a warning (EU Guidelines Annex A.2).
CROSS_CHECK_MARGIN = 0.30


@dataclass
class StageResult:
    """Every estimate of one stage, the one chosen as its figure, and the warnings."""

    stage: Stage
    method: str
    flop: Band
    estimates: list[Estimate]
    unavailable: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    #: Extra forward passes of activation recomputation (executed, not model FLOP); None when off.
    recomputation_flop: Band | None = None

    @property
    def chosen(self) -> Estimate:
        """The estimate the stage's figure comes from."""
        return next(e for e in self.estimates if e.method == self.method)

    @property
    def cross_checks(self) -> list[Estimate]:
        """The other estimates."""
        return [e for e in self.estimates if e.method != self.method]

    def spread(self, *, recomputation: bool) -> Band:
        """Lowest low and highest high over every estimate (each with its own recomputation when counted)."""
        bands = [e.flop + r if recomputation and (r := _recomputation(self.stage, e)) is not None else e.flop
                 for e in self.estimates]
        chosen = self.flop + self.recomputation_flop if recomputation and self.recomputation_flop else self.flop
        return Band(min(b.low for b in bands), chosen.central, max(b.high for b in bands))


def _recomputation(stage: Stage, estimate: Estimate) -> Band | None:
    """Extra forward passes of full activation recomputation for ``estimate``; None when off."""
    if not (stage.recomputation and stage.kind in TRAINING_KINDS and "training" in estimate.parts):
        return None
    # Full activation recomputation re-runs one forward pass: 1/3 of forward + backward.
    return estimate.parts["training"] * (1 / 3)


def available_estimates(stage: Stage, ctx: Context) -> tuple[list[Estimate], dict[str, str]]:
    """Run every method; return the estimates made and, per method that could not, the reason.

    A method that lacks an input is unavailable; one whose inputs give a figure that is not a finite
    number is a :class:`ConfigError`: skipping it would let a smaller estimate decide instead.
    """
    made: list[Estimate] = []
    missing: dict[str, str] = {}
    for name in METHOD_ORDER:
        try:
            estimate = METHODS[name](stage, ctx)
        except Unavailable as why:
            missing[name] = str(why)
            continue
        if not all(math.isfinite(x) for x in (estimate.flop.low, estimate.flop.central, estimate.flop.high)):
            raise ConfigError(f"the {name} estimate is not a finite number (it overflows): check the "
                              "magnitudes of this stage's inputs")
        made.append(estimate)
    return made, missing


def _configured_but_unused(stage: Stage, ctx: Context, missing: dict[str, str]) -> list[str]:
    """Warnings for methods whose source the config gives but that could not run for this stage."""
    configured = {"measured": ctx.measured_per_token is not None,
                  "transformer": ctx.model.architecture is not None,
                  "hardware": stage.hardware is not None}
    return [f"{name} not used for this stage: {missing[name]}" for name, given in configured.items()
            if given and name in missing and stage.kind != "merge"]


def estimate_stage(stage: Stage, ctx: Context, method: str | None = None) -> StageResult:
    """The stage's figure: the first available method in preference order, or ``method`` if it applies."""
    made, missing = available_estimates(stage, ctx)
    if not made:
        raise Unavailable("nothing to estimate from: " + "; ".join(f"{k} {v}" for k, v in missing.items()))
    warnings: list[str] = _configured_but_unused(stage, ctx, missing)
    by_name = {e.method: e for e in made}
    if method is not None and method not in by_name:
        warnings.append(f"method '{method}' is not available for this stage ({missing.get(method)}); "
                        f"used '{made[0].method}'")
    chosen = by_name.get(method or "", made[0])
    for other in made:
        if other is chosen or chosen.flop.central == 0:
            continue
        ratio = other.flop.central / chosen.flop.central
        if abs(ratio - 1) > CROSS_CHECK_MARGIN:
            warnings.append(
                f"cross-check {other.method} ({format_number(other.flop.central)}) differs from "
                f"{chosen.method} ({format_number(chosen.flop.central)}) by {format_ratio(ratio)}, more than "
                f"the {CROSS_CHECK_MARGIN:.0%} accuracy margin of the EU Guidelines (Annex A.2)")
    for e in made:
        warnings += [w for w in e.warnings if w not in warnings]
    return StageResult(stage, chosen.method, chosen.flop, made, missing, warnings,
                       _recomputation(stage, chosen))
