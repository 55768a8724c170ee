"""Compute a config declares outside the training count: deployment, generators and teachers.

Inference per year: 2 x active parameters x tokens per request x samples per request x requests per
day x days (a forward pass costs about 2 FLOP per parameter per token; attention and the KV cache
are ignored). Generator and teacher compute: the generation part of a stage's estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flopaudit.config.kinds import GENERATION_KINDS
from flopaudit.config.quantity import format_number
from flopaudit.estimate.band import Band

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult

INFERENCE_FORMULA = ("2 x active parameters x tokens per request x samples per request x requests per day x days "
                     "(forward passes only; attention and the KV cache ignored)")


@dataclass(frozen=True)
class InferenceCompute:
    """Inference compute of the config's ``deployment`` block, or why it cannot be computed."""

    flop: Band | None
    days: float
    inputs: str
    training: Band
    reason: str = ""

    @property
    def ratio(self) -> Band | None:
        """Inference over training compute (low with low, high with high)."""
        if self.flop is None or not self.training.central:
            return None
        t = self.training
        return Band(self.flop.low / t.high if t.high else 0.0, self.flop.central / t.central,
                    self.flop.high / t.low if t.low else float("inf"))


@dataclass(frozen=True)
class GenerationCompute:
    """The forward passes of a generator or teacher inside one stage."""

    stage: str
    kind: str
    flop: Band
    generator: str
    method: str
    counted_by: list[str]
    excluded_by: list[str]
    public: bool


def deployment_compute(result: "AuditResult") -> InferenceCompute | None:
    """Inference compute over the deployment period, or None when the config declares no deployment."""
    dep = result.config.deployment
    if dep is None:
        return None
    _, active = result.parameters()
    inputs = (f"{dep.requests_per_day} requests/day x {dep.tokens_per_request} tokens x "
              f"{dep.samples_per_request} samples x {dep.days} days")
    if active is None:
        return InferenceCompute(None, dep.days.central, inputs, result.total_flop,
                                "the config gives no parameter count (model.parameters or architecture)")
    model = result.config.model
    # 2 FLOP per active parameter per token, with the parameter range when the config gives one.
    per_token = Band.of(model.active) * 2.0 if model.active is not None else Band.exact(2.0 * active)
    tokens = (Band.of(dep.requests_per_day) * Band.of(dep.tokens_per_request)
              * Band.of(dep.samples_per_request) * Band.of(dep.days))
    return InferenceCompute(per_token * tokens, dep.days.central,
                            f"{inputs}; {format_number(active)} active parameters", result.total_flop)


def generation_compute(result: "AuditResult") -> list[GenerationCompute]:
    """Generator and teacher forward passes of every generation stage (synthetic data, distillation, RL)."""
    out = []
    for r in result.stages:
        stage = r.stage
        if stage.kind not in GENERATION_KINDS:
            continue
        source = next((e for e in [r.chosen, *r.cross_checks] if "generation" in e.parts), None)
        if source is None:
            continue
        gen = stage.generator_parameters
        generator = f"{format_number(gen.central)} active parameters" if gen else "this model"
        counted = [c.policy.id for c in result.checks if stage.name in c.counted_stages]
        excluded = [c.policy.id for c in result.checks if stage.name in c.excluded_stages]
        out.append(GenerationCompute(stage.name, stage.kind, source.parts["generation"], generator,
                                     source.method, counted, excluded, stage.public))
    return out


def teacher_exclusions(result: "AuditResult") -> list[str]:
    """Policies whose accounting leaves out the teacher's (or generator's) own training."""
    return [c.policy.id for c in result.checks if c.policy.accounting.excluded("teacher-training")]
