"""Every example config loads, is estimated and judged as its README says."""

from __future__ import annotations

from pathlib import Path

import pytest

from flopaudit.audit import audit_file
from tests.conftest import EXAMPLES

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))

# (example, policy, verdict) the examples exist to demonstrate
EXPECTED = [
    ("llama-3.1-405b", "eu-ai-act-systemic-risk", "above"),
    ("llama-3.1-405b", "us-ca-sb53", "below"),
    ("deepseek-v3", "eu-ai-act-systemic-risk", "below"),
    ("llama-4-scout-measured", "eu-ai-act-systemic-risk", "below"),
    ("downstream-finetune", "eu-downstream-modifier", "above"),
    ("pipeline-synthetic-rl", "eu-ai-act-systemic-risk", "above"),
    ("protein-model", "us-eo-14110-bio", "above"),
    ("eu-guidelines-model-a", "eu-gpai-indicative", "below"),
    ("eu-guidelines-model-h", "eu-gpai-indicative", "above"),
]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_example_audits(path: Path) -> None:
    result = audit_file(path)
    assert result.stages and result.checks
    assert all(s.flop.low <= s.flop.central <= s.flop.high for s in result.stages)
    assert result.exit_code in (0, 1)


@pytest.mark.parametrize(("example", "policy", "verdict"), EXPECTED)
def test_example_verdicts(example: str, policy: str, verdict: str) -> None:
    result = audit_file(EXAMPLES / f"{example}.yaml")
    check = next(c for c in result.checks if c.policy.id == policy)
    assert check.verdict == verdict, check.reasons


def test_pipeline_accounting_excludes_reward_model_and_evaluation() -> None:
    result = audit_file(EXAMPLES / "pipeline-synthetic-rl.yaml")
    eu = next(c for c in result.checks if c.policy.id == "eu-ai-act-systemic-risk")
    kinds = {s.stage.name: s.stage.kind for s in result.stages}
    assert {kinds[n] for n in eu.excluded_stages} == {"reward-model", "evaluation"}
    assert eu.counted_flop.central < result.total_flop.central


def test_eu_worked_examples_reproduce_to_two_significant_figures() -> None:
    # Model A: 6 x 3.8e9 x 3.3e12 = 7.524e22 -> "7.5e22"; Model H: 370,000 x 3600 x 989e12 x 0.5 = 6.587e23 -> "6.6e23"
    a = audit_file(EXAMPLES / "eu-guidelines-model-a.yaml").total_flop.central
    h = audit_file(EXAMPLES / "eu-guidelines-model-h.yaml").total_flop.central
    assert (f"{a:.1e}", f"{h:.1e}") == ("7.5e+22", "6.6e+23")
