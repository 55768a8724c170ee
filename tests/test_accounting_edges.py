"""Edge cases where a naive implementation would turn a crossing into a silent pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flopaudit.audit import audit
from flopaudit.config.loader import load_config_text
from tests.conftest import run_cli


def _audit(text: str, **kwargs):  # noqa: ANN202
    return audit(load_config_text(text), **kwargs)


def test_merge_costs_source_flop_not_the_merge_jobs_hours() -> None:
    # 8 H100 x 2 h of merging would be ~2e19; the merged weights' training compute is 2e25.
    r = _audit("""
model: {name: merged, parameters: 70B}
training:
  - {name: m, kind: merge, source_flop: 2e25, hardware: {accelerator: H100, count: 8, hours: 2}}
policies: [eu-ai-act-systemic-risk]
as_of: 2026-11-27
""")
    assert r.stages[0].method == "declared" and r.stages[0].flop.central == 2e25
    assert r.checks[0].verdict == "above"
    assert "merge costs the training compute of its sources" in r.stages[0].unavailable["hardware"]


def test_modifier_exactly_one_third_of_base_is_not_above() -> None:
    # 1/3 x 3e25 = 1e25 exactly; "greater than a third" (gt) -> below. A float 0.333... would give
    # 9.999999999999999e24 and a false "above".
    r = _audit("""
model: {name: ft, parameters: 70B}
base_model: {name: base, training_flop: 3e25, systemic_risk: true}
training: [{name: ft, kind: fine-tuning, flop: 1e25}]
policies: [eu-downstream-modifier]
as_of: 2026-11-27
""")
    assert r.checks[0].deciding.threshold.low == 1e25
    assert r.checks[0].verdict == "below"


def test_custom_relative_policy_with_one_fallback_is_undecided_when_base_status_unknown(tmp_path: Path) -> None:
    text = Path("policies/eu-downstream-modifier.yaml").read_text()
    start = text.index("    fallback:")
    end = text.index("      - when: no_base_systemic_risk")
    one = tmp_path / "one-fallback.yaml"
    # keep only the no_base_systemic_risk fallback (1e23/3), under another id
    one.write_text((text[:start] + "    fallback:\n" + text[end:]).replace("id: eu-downstream-modifier",
                                                                          "id: one-fallback"))
    r = _audit("""
model: {name: ft, parameters: 70B}
base_model: {name: base, training_flop: unknown}
training: [{name: ft, kind: fine-tuning, flop: 5e24}]
as_of: 2026-11-27
""", policies=[str(one)])
    assert r.checks[0].verdict == "indeterminate"
    assert "no fallback of this policy fits" in r.checks[0].reasons[0]


def test_configured_method_that_cannot_run_is_a_warning() -> None:
    # architecture given but no sequence length anywhere: the transformer formula cannot run.
    r = _audit("""
model:
  name: m
  parameters: 1B
  architecture: {layers: 2, d_model: 64, heads: 4, vocab: 100}
training: [{name: p, kind: pretraining, tokens: 1B}]
""")
    assert r.stages[0].method == "6nd"
    assert any(w.startswith("transformer not used for this stage: needs sequence_length") for w in r.stages[0].warnings)


@pytest.mark.parametrize(("fmt", "needle"), [("github", "attention: causal"), ("sarif", "attention: causal"),
                                             ("junit", 'name="attention" value="causal"'),
                                             ("markdown", "attention: causal"), ("text", "attention: causal")])
def test_every_output_states_the_attention_convention(tmp_path: Path, fmt: str, needle: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {name: m, parameters: 1B}\ntraining: [{name: p, kind: pretraining, tokens: 1B}]\n"
                   "counting: {attention: causal}\nas_of: 2026-11-27\n")
    assert needle in run_cli("check", str(cfg), "--format", fmt).stdout


def test_json_states_the_convention(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {name: m, parameters: 1B}\ntraining: [{name: p, kind: pretraining, tokens: 1B}]\n")
    data = json.loads(run_cli("check", str(cfg), "--format", "json").stdout)
    assert data["convention"]["flop_per_multiply_add"] == 2 and data["convention"]["attention"] == "full"


def test_schema_accepts_what_the_loader_accepts() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(run_cli("schema", "config").stdout)
    doc = {"model": {"name": "m"}, "base_model": {"name": "b", "training_flop": "unknown"},
           "training": [{"name": "p", "kind": "pretraining",
                         "hardware": {"accelerator": "H100", "count": 8, "hours": 1, "utilization": "0.4"}}]}
    jsonschema.validate(doc, schema)
    load_config_text(json.dumps(doc))
