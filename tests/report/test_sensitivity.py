"""Sensitivity: each scenario is the real audit of a modified config, and finds the verdicts that flip."""

from __future__ import annotations

from pathlib import Path

import pytest

from flopaudit.audit import audit_file
from flopaudit.sensitivity import analyse

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def flips(path: str, **kwargs: object) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    sens = analyse(audit_file(EXAMPLES / path, **kwargs))
    return {(o.scenario.assumption, o.scenario.variant): [(f.policy, f.before, f.after) for f in o.flips]
            for o in sens.outcomes}


def test_utilisation_decides_the_near_threshold_verdict() -> None:
    result = audit_file(EXAMPLES / "near-threshold.yaml")
    sens = analyse(result)
    by_variant = {o.scenario.variant: o for o in sens.outcomes}
    low, high = by_variant["low end: 0.3"], by_variant["high end: 0.45"]
    # 8192 x 900 h x 3600 s x 989.4e12 x 0.30 = 7.878e24; x 0.45 = 1.182e25
    assert low.total.central == pytest.approx(7.878e24, rel=1e-3)
    assert high.total.central == pytest.approx(1.1817e25, rel=1e-3)
    assert ("eu-ai-act-systemic-risk", "indeterminate", "below") in [(f.policy, f.before, f.after) for f in low.flips]
    assert ("eu-ai-act-systemic-risk", "indeterminate", "above") in [(f.policy, f.before, f.after) for f in high.flips]
    [b] = sens.break_evens
    # 1e25 / (8192 x 900 x 3600 x 989.4e12) = 0.3808
    assert b.policy == "eu-ai-act-systemic-risk" and b.utilization == pytest.approx(0.3808, abs=1e-3)


def test_counting_every_expert_puts_deepseek_above_the_eu_threshold() -> None:
    out = flips("deepseek-v3.yaml")
    moe = next(v for (a, _), v in out.items() if a.startswith("Mixture of experts"))
    assert ("eu-ai-act-systemic-risk", "below", "above") in moe


def test_public_synthetic_data_drops_the_pipeline_below_the_eu_threshold() -> None:
    out = flips("pipeline-synthetic-rl.yaml")
    public = next(v for (a, var), v in out.items() if a.startswith("Synthetic data") and "public: true" in var)
    assert public == [("eu-ai-act-systemic-risk", "above", "below")]


def test_attention_and_method_scenarios_leave_llama_above() -> None:
    out = flips("llama-3.1-405b.yaml")
    assert ("Attention convention (full)", "causal attention") in out
    assert all(not v for v in out.values()), "no assumption flips Llama 3.1 405B's verdicts"


def test_base_model_scenario_adds_its_compute() -> None:
    result = audit_file(EXAMPLES / "downstream-finetune.yaml")
    out = next(o for o in analyse(result).outcomes if o.scenario.assumption.startswith("Training compute of the base"))
    assert out.total.central == pytest.approx(result.total_flop.central + 3.8e25, rel=1e-9)


def test_named_method_is_kept_in_every_scenario() -> None:
    result = audit_file(EXAMPLES / "llama-3.1-405b.yaml", method="hardware")
    assert result.method == "hardware"
    sens = analyse(result)
    assert sens.method == "hardware"
    assert not any(o.scenario.variant.startswith("hardware") for o in sens.outcomes)
    # The attention scenario changes nothing when the figure is hardware-based.
    assert not any(o.scenario.assumption.startswith("Attention") for o in sens.outcomes)


def test_scenarios_never_touch_the_original() -> None:
    result = audit_file(EXAMPLES / "near-threshold.yaml")
    before = result.config.model_dump()
    verdicts = [c.verdict for c in result.checks]
    analyse(result)
    assert result.config.model_dump() == before and [c.verdict for c in result.checks] == verdicts


def test_every_scenario_of_the_pipeline_is_a_real_audit() -> None:
    # Dropping the RL rollouts must re-run as a plain fine-tuning stage, not fail for want of generated_tokens.
    sens = analyse(audit_file(EXAMPLES / "pipeline-synthetic-rl.yaml"))
    assert [o.error for o in sens.outcomes if o.error] == []
    rollouts = next(o for o in sens.outcomes if o.scenario.assumption.startswith("Rollout generation"))
    base = audit_file(EXAMPLES / "pipeline-synthetic-rl.yaml")
    rl = next(s for s in base.stages if s.stage.kind == "reinforcement-learning")
    # total without the rollouts = base total - the RL stage's generation part
    assert rollouts.total.central == pytest.approx(base.total_flop.central - rl.chosen.parts["generation"].central)
