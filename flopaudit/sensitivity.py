"""Which assumption would flip which verdict.

Every scenario is a modified copy of the config (pydantic ``model_copy``) run through the real
audit again, with the same policies, as-of date and estimation method; nothing is extrapolated.
Scenarios cover the assumptions the issue names: the utilisation range of hardware-based stages,
causal against full attention, active against total parameters of a mixture of experts, whether
generator, teacher and synthetic-data compute is counted, the base model's compute, and the
estimation method. For a verdict that a utilisation range leaves undecided, the break-even
utilisation is found by bisection, each step a real audit.

Each scenario re-runs the whole audit, so scenarios made one per stage (utilisation, generation)
are made for the :data:`STAGE_LIMIT` stages that matter most only: otherwise a config with
thousands of stages would run thousands of audits of thousands of stages. The stages left out
are named in :attr:`Sensitivity.not_varied`, and the report says so.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from flopaudit.audit import AuditResult, audit
from flopaudit.config.loader import LoadedConfig
from flopaudit.config.models import Config, Stage
from flopaudit.config.quantity import Quantity
from flopaudit.errors import FlopauditError
from flopaudit.estimate.band import Band
from flopaudit.estimate.methods import DEFAULT_UTILIZATION, METHOD_ORDER

#: Bisection steps for a break-even utilisation (range / 2^14: finer than any published MFU).
BISECTION_STEPS = 14
#: Most stages given per-stage scenarios of one topic; the analysis grows linearly with the stages.
STAGE_LIMIT = 8


@dataclass(frozen=True)
class Scenario:
    """One changed assumption: a modified config and the method to estimate it with."""

    assumption: str
    variant: str
    config: Config
    method: str | None
    #: (stage index, utilisation) for a scenario that pins one stage's utilisation.
    pinned: tuple[int, float] | None = None
    #: Which generator made it: utilisation, attention, moe, generation, base-model or method.
    topic: str = ""


@dataclass(frozen=True)
class Flip:
    """A policy whose verdict differs from the baseline's under a scenario."""

    policy: str
    before: str
    after: str
    compared: Band | None


@dataclass
class Outcome:
    """A scenario's re-run audit and the verdicts it changes."""

    scenario: Scenario
    result: AuditResult | None
    flips: list[Flip]
    error: str = ""

    @property
    def total(self) -> Band | None:
        """Total compute under the scenario."""
        return self.result.total_flop if self.result else None


@dataclass(frozen=True)
class BreakEven:
    """The utilisation of one stage at which a policy's verdict turns from ``below`` to ``above``."""

    policy: str
    stage: str
    utilization: float
    low: float
    high: float


@dataclass
class Sensitivity:
    """Every scenario's outcome for one audited config."""

    method: str | None
    outcomes: list[Outcome]
    break_evens: list[BreakEven] = field(default_factory=list)
    #: What the :data:`STAGE_LIMIT` left out, one sentence per topic.
    not_varied: list[str] = field(default_factory=list)

    def deciding(self, policy: str) -> list[tuple[Outcome, Flip]]:
        """Scenarios that turn an undecided verdict of ``policy`` into a decided one."""
        return [(o, f) for o in self.outcomes for f in o.flips
                if f.policy == policy and f.before == "indeterminate" and f.after in ("above", "below")]


def rerun(base: AuditResult, config: Config, method: str | None) -> AuditResult:
    """The real audit of ``config``, judged against the same policies on the same date as ``base``."""
    loaded = LoadedConfig(config, base.loaded.document)
    return audit(loaded, policies=[c.policy for c in base.checks], as_of=base.as_of, method=method,
                 fail_on=base.fail_on)


def _with_stage(config: Config, index: int, **update: object) -> Config:
    stages = list(config.training)
    stages[index] = stages[index].model_copy(update=update)
    return config.model_copy(update={"training": stages})


def _utilisation_stages(result: AuditResult) -> list[int]:
    """Stages estimated from hardware whose utilisation is a range."""
    out = []
    for i, r in enumerate(result.stages):
        hw = r.stage.hardware
        if hw is not None and r.method == "hardware" and (hw.utilization or DEFAULT_UTILIZATION).is_range:
            out.append(i)
    return out


def _generation_stages(result: AuditResult) -> list[int]:
    """Stages whose generated (or teacher) compute a scenario can leave out or make public."""
    return [i for i, s in enumerate(result.config.training)
            if s.kind in ("synthetic-data", "distillation")
            or (s.kind == "reinforcement-learning" and s.generated_tokens is not None)]


def _widest(result: AuditResult, indices: list[int]) -> list[int]:
    """The :data:`STAGE_LIMIT` of ``indices`` with the widest FLOP band (then the largest), in config order."""
    if len(indices) <= STAGE_LIMIT:
        return indices
    flop = [result.stages[i].flop for i in indices]
    order = sorted(range(len(indices)), key=lambda k: (flop[k].high - flop[k].low, flop[k].central, -k),
                   reverse=True)
    return sorted(indices[k] for k in order[:STAGE_LIMIT])


def _utilisation(result: AuditResult, method: str | None) -> Iterator[Scenario]:
    for i in _widest(result, _utilisation_stages(result)):
        r = result.stages[i]
        hw = r.stage.hardware
        assert hw is not None
        u = hw.utilization or DEFAULT_UTILIZATION
        for end, value in (("low end", u.low), ("high end", u.high)):
            pinned = hw.model_copy(update={"utilization": Quantity.exact(value)})
            yield Scenario(f"Utilisation of stage '{r.stage.name}' ({u})", f"{end}: {value:g}",
                           _with_stage(result.config, i, hardware=pinned), method, (i, value), "utilisation")


def _attention(result: AuditResult, method: str | None) -> Iterator[Scenario]:
    if not any(r.method in ("transformer", "measured") for r in result.stages):
        return
    other = "causal" if result.attention == "full" else "full"
    config = result.config
    counting = config.counting.model_copy(update={"attention": other})
    yield Scenario(f"Attention convention ({result.attention})", f"{other} attention",
                   config.model_copy(update={"counting": counting}), method, topic="attention")


def _moe(result: AuditResult, method: str | None) -> Iterator[Scenario]:
    model = result.config.model
    arch = model.architecture
    total, active = result.parameters()
    if not (arch is not None and arch.experts) and not (total and active and active < total):
        return
    update: dict[str, object] = {"active_parameters": None}
    if arch is not None and arch.experts:
        update["architecture"] = arch.model_copy(update={"experts_per_token": arch.experts})
    config = result.config.model_copy(update={"model": model.model_copy(update=update)})
    yield Scenario("Mixture of experts: parameters counted per token (active)",
                   "all parameters: every expert on every token", config, method, topic="moe")


def _generation(result: AuditResult, method: str | None) -> Iterator[Scenario]:
    config = result.config
    for i in _widest(result, _generation_stages(result)):
        s = config.training[i]
        if s.kind == "synthetic-data":
            variant = "not public (public: false)" if s.public else "publicly accessible (public: true)"
            yield Scenario(f"Synthetic data of stage '{s.name}' ({'public' if s.public else 'not public'})",
                           variant, _with_stage(config, i, public=not s.public), method, topic="generation")
        elif s.kind == "distillation":
            yield Scenario(f"Teacher forward passes of stage '{s.name}' (counted)",
                           "not counted: student training passes only",
                           _with_stage(config, i, kind="fine-tuning", generator_parameters=None), method,
                           topic="generation")
        elif s.kind == "reinforcement-learning" and s.generated_tokens is not None:
            yield Scenario(f"Rollout generation of stage '{s.name}' (counted)",
                           "not counted: policy training passes only",
                           _with_stage(config, i, kind="fine-tuning", generator_parameters=None,
                                       generated_tokens=None), method, topic="generation")


def _base_model(result: AuditResult, method: str | None) -> Iterator[Scenario]:
    config = result.config
    base = config.base_model
    if base is None or base.training_flop is None:
        return
    names = {s.name for s in config.training}
    name = next(n for n in ("base-model-training", *(f"base-model-training-{k}" for k in range(2, 99)))
                if n not in names)
    stage = Stage(name=name, kind="merge", source_flop=base.training_flop, sources=[base.name])
    yield Scenario(f"Training compute of the base model '{base.name}' (not counted)",
                   f"counted as a stage ({base.training_flop} FLOP), as for a developer modifying its own model",
                   config.model_copy(update={"training": [stage, *config.training]}), method, topic="base-model")


def _methods(result: AuditResult, method: str | None) -> Iterator[Scenario]:
    # Estimates that disagree across a threshold leave a verdict undecided; letting the stages' own
    # method decide alone (as --method does) can then decide it too.
    disagree = any(rc.disagreement for c in result.checks for rc in c.rules)
    for m in METHOD_ORDER:
        if m == method or not any(m in {e.method for e in r.estimates} for r in result.stages) or (
                not disagree and all(r.method == m or m not in {e.method for e in r.estimates}
                                     for r in result.stages)):
            continue
        yield Scenario(f"Estimation method ({method or 'first available per stage'})",
                       f"{m} wherever a stage allows it", result.config, m, topic="method")


#: Scenario generators, in the order the report lists them.
GENERATORS: tuple[Callable[[AuditResult, str | None], Iterator[Scenario]], ...] = (
    _utilisation, _attention, _moe, _generation, _base_model, _methods)


def _outcome(base: AuditResult, scenario: Scenario) -> Outcome:
    try:
        fresh = rerun(base, scenario.config, scenario.method)
    except FlopauditError as exc:
        # The modified config is flopaudit's own, not a file the user wrote: no file:line to point at.
        return Outcome(scenario, None, [], error=exc.message)
    flips = [Flip(b.policy.id, b.verdict, a.verdict, a.deciding.counted)
             for b, a in zip(base.checks, fresh.checks, strict=True) if a.verdict != b.verdict]
    return Outcome(scenario, fresh, flips)


def _verdict_at(base: AuditResult, stage_index: int, utilization: float, method: str | None, k: int) -> str:
    hw = base.config.training[stage_index].hardware
    assert hw is not None
    pinned = hw.model_copy(update={"utilization": Quantity.exact(utilization)})
    return rerun(base, _with_stage(base.config, stage_index, hardware=pinned), method).checks[k].verdict


def _break_evens(base: AuditResult, outcomes: list[Outcome]) -> list[BreakEven]:
    """For each undecided policy that a stage's utilisation range decides: bisect where it turns above."""
    out = []
    pinned = [o for o in outcomes if o.scenario.pinned is not None and o.result is not None]
    for low, high in itertools.pairwise(pinned):
        (i, lo), (j, hi) = low.scenario.pinned, high.scenario.pinned  # type: ignore[misc]
        if i != j:
            continue
        assert low.result is not None and high.result is not None
        for k, check in enumerate(base.checks):
            at_low, at_high = low.result.checks[k].verdict, high.result.checks[k].verdict
            if not (check.verdict == "indeterminate" and at_low == "below" and at_high == "above"):
                continue
            a, b = lo, hi
            for _ in range(BISECTION_STEPS):
                mid = (a + b) / 2
                if _verdict_at(base, i, mid, low.scenario.method, k) == "above":
                    b = mid
                else:
                    a = mid
            out.append(BreakEven(check.policy.id, base.config.training[i].name, (a + b) / 2, lo, hi))
    return out


def not_varied(result: AuditResult) -> list[str]:
    """One sentence per topic whose per-stage scenarios the :data:`STAGE_LIMIT` cut short."""
    out = []
    for what, indices, rest in (
            ("stages estimated from hardware with a utilisation range", _utilisation_stages(result),
             "the total's band still spans every stage's utilisation range"),
            ("stages with generated or teacher compute", _generation_stages(result),
             "whether the others' generated compute counts is not varied")):
        if len(indices) > STAGE_LIMIT:
            out.append(f"Only {STAGE_LIMIT} of the {len(indices):,} {what} are varied one by one (those with the "
                       f"widest FLOP bands, then the largest); {rest}.")
    return out


def analyse(result: AuditResult) -> Sensitivity:
    """Run every scenario for one audited config."""
    method = result.method  # the --method of the baseline (None: first available per stage)
    outcomes = [_outcome(result, s) for gen in GENERATORS for s in gen(result, method)]
    return Sensitivity(method, outcomes, _break_evens(result, outcomes), not_varied(result))

