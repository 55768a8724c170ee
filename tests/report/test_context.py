"""Context catalogues and what compute does not capture: data files valid, arithmetic right, verdicts untouched."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flopaudit.audit import audit_file
from flopaudit.context.applied import apply, run_date
from flopaudit.context.efficiency import catalogue
from flopaudit.context.inference import deployment_compute, generation_compute
from flopaudit.context.reference import reference_models

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CATEGORIES = {"post-training", "algorithmic-progress", "data-pruning", "distillation", "inference-time",
              "quantization", "mixture-of-experts"}


def test_reference_catalogue_is_sourced_and_sorted() -> None:
    models = reference_models()
    assert len(models) >= 10
    assert [m.flop for m in models] == sorted(m.flop for m in models)
    for m in models:
        assert all(s.url.startswith("https://") for s in m.sources), m.id
    llama = next(m for m in models if m.id == "llama-3.1-405b")
    assert llama.flop == 3.8e25 and llama.basis == "reported"
    gpt4 = next(m for m in models if m.id == "gpt-4")
    assert gpt4.basis == "estimate" and gpt4.estimator == "Epoch AI" and gpt4.low < gpt4.flop < gpt4.high


def test_efficiency_catalogue_covers_every_category_the_issue_names() -> None:
    cat = catalogue()
    assert {c.id for c in cat.categories} == CATEGORIES
    for c, factors in cat.by_category():
        assert factors, c.id
        for f in factors:
            assert f.source.url.startswith("https://") and f.unit and f.applies_to, f.id


def test_yearly_progress_from_halving_time() -> None:
    m = catalogue().yearly_multiplier()
    # 2^(12/14), 2^(12/8), 2^(12/5)
    assert (m.low, m.central, m.high) == pytest.approx((1.811, 2.828, 5.278), abs=1e-3)
    back = catalogue().progress_multiplier(dt.date(2026, 1, 1), dt.date(2025, 1, 1))
    assert back.low <= back.central <= back.high < 1


def test_inference_per_year() -> None:
    inf = deployment_compute(audit_file(EXAMPLES / "near-threshold.yaml"))
    assert inf.flop.central == pytest.approx(2 * 70e9 * 2000 * 20e6 * 365)
    assert inf.ratio.central == pytest.approx(inf.flop.central / 9.8486e24, rel=1e-3)
    assert deployment_compute(audit_file(EXAMPLES / "gpt-3.yaml")) is None


def test_generator_compute_and_who_counts_it() -> None:
    gens = {g.stage: g for g in generation_compute(audit_file(EXAMPLES / "pipeline-synthetic-rl.yaml"))}
    assert gens["synthetic-data"].flop.central == pytest.approx(2 * 405e9 * 2e12)
    assert "eu-ai-act-systemic-risk" in gens["synthetic-data"].counted_by
    assert "us-ca-sb53" in gens["synthetic-data"].excluded_by
    assert gens["rl"].flop.central == pytest.approx(2 * 70e9 * 500e9)


def test_run_date_and_effective_compute() -> None:
    llama = audit_file(EXAMPLES / "llama-3.1-405b.yaml")
    assert run_date(llama).date == dt.date(2024, 7, 23)  # the catalogue's publication date
    near = audit_file(EXAMPLES / "near-threshold.yaml")
    assert run_date(near).date == near.as_of
    ctx = apply(near)
    eu = next(e for e in ctx.effective if "EU AI Act 1e25" in e.policies)
    years = (near.as_of - dt.date(2024, 6, 13)).days / 365.25
    assert eu.multiplier.central == pytest.approx(2 ** (12 / 8 * years))
    assert eu.effective.central == pytest.approx(eu.counted * eu.multiplier.central)
    assert eu.equivalent_threshold.high == pytest.approx(1e25 / eu.multiplier.low)


def test_context_never_changes_a_verdict() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        if "measured" in path.name:
            continue  # needs torch; covered by the sample-report tests
        result = audit_file(path)
        before = [(c.policy.id, c.verdict) for c in result.checks]
        apply(result)
        assert [(c.policy.id, c.verdict) for c in result.checks] == before


def test_every_category_is_applied_to_a_config() -> None:
    rows = apply(audit_file(EXAMPLES / "deepseek-v3.yaml")).rows
    assert {r.category.id for r in rows} == CATEGORIES
    by = {r.category.id: r for r in rows}
    assert "671B total, 37B active" in by["mixture-of-experts"].declared
    assert "18.1" in by["mixture-of-experts"].figures[0]
    assert any("fp8" in f and "2x its bf16 peak" in f for f in by["quantization"].figures)


def test_inference_compute_carries_the_parameter_range(tmp_path: Path) -> None:
    from flopaudit.context.inference import deployment_compute
    cfg = tmp_path / "range.yaml"
    cfg.write_text("""
model: {name: m, parameters: 40B..100B}
training: [{name: p, kind: pretraining, tokens: 1T}]
deployment: {requests_per_day: 1M, tokens_per_request: 1000, days: 300..400}
""")
    inf = deployment_compute(audit_file(cfg))
    # 2 x 40e9 x 1e6 x 1000 x 300 = 2.4e22 .. 2 x 100e9 x 1e6 x 1000 x 400 = 8.0e22
    assert (inf.flop.low, inf.flop.high) == (pytest.approx(2.4e22), pytest.approx(8.0e22))
