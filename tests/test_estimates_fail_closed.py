"""Issue 7, items 4, 5 and 7: estimates that disagree, estimates that cannot be computed, implausible inputs.

Every case is a real YAML config through the real CLI (``run_cli``), except where the CLI can no
longer reach the code path (a non-finite estimate behind the schema's bounds).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from flopaudit.audit import audit, audit_file
from flopaudit.config.loader import LoadedConfig, load_config
from flopaudit.config.quantity import Quantity, format_ratio
from flopaudit.errors import ConfigError
from flopaudit.sensitivity import analyse
from tests.conftest import EXAMPLES, run_cli

DENSE_70B = """\
model:
  name: dense-70b
  parameters: 70B
  architecture: {layers: 80, d_model: 8192, heads: 64, kv_heads: 8, d_ff: 28672, vocab: 128256, context: 8192}
training:
  - name: pretraining
    kind: pretraining
    tokens: 15T
    hardware: {accelerator: H100-SXM, count: 8192, hours: 1000, utilization: 0.35..0.45}
policies: [eu-ai-act-systemic-risk, us-eo-14110-cluster]
as_of: 2026-11-27
"""

MOE_8X22B_FP8 = """\
model:
  name: moe-8x22b
  parameters: 141B
  active_parameters: 39B
  architecture: {layers: 56, d_model: 6144, heads: 48, kv_heads: 8, d_ff: 16384, vocab: 32768, context: 4096,
                 experts: 8, experts_per_token: 2}
training:
  - name: pretraining
    kind: pretraining
    tokens: 12.8T
    hardware: {accelerator: H100-SXM, precision: fp8, count: 6144, hours: 1000, utilization: 0.3..0.4}
policies: [eu-ai-act-systemic-risk]
as_of: 2026-11-27
"""


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def check_json(*args: str) -> tuple[int, dict]:
    proc = run_cli("check", *args, "--format", "json")
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def eu(data: dict) -> dict:
    return next(c for c in data["checks"] if c["policy"] == "eu-ai-act-systemic-risk")


# --- item 4: methods that disagree across a threshold ---------------------------------------------


def test_item4_dense_70b_whose_hardware_estimate_is_above_1e25_is_undecided(tmp_path: Path) -> None:
    cfg = write(tmp_path, DENSE_70B)
    code, data = check_json(cfg)
    stage = data["stages"][0]
    by_method = {e["method"]: e["flop"] for e in stage["estimates"]}
    # transformer (the stage's figure): 6 x (70.55B - 1.05B input embedding) x 15T = 6.255e24 for the matmuls,
    # plus attention 3 x 4 x 80 layers x 8192 x 8192 x 15T = 0.966e24: 7.222e24 < 1e25.
    assert stage["method"] == "transformer" and stage["flop"]["central"] == pytest.approx(7.222e24, rel=1e-3)
    # hardware: 8192 x 1000 h x 3600 s x 989.4e12 x 0.35 = 1.0212e25; x 0.45 = 1.3130e25: wholly above 1e25.
    assert by_method["hardware"]["low"] == pytest.approx(1.0212e25, rel=1e-3)
    assert by_method["hardware"]["high"] == pytest.approx(1.3130e25, rel=1e-3)
    check = eu(data)
    assert check["verdict"] == "indeterminate" and code == 1 == data["exit_code"]
    why = " ".join(check["reasons"])
    assert "methods disagree on the side of > 1.000e25: stage pretraining transformer 7.222e24" in why
    assert "hardware 1.021e25..1.313e25" in why
    # The cluster metric does not add up estimates: 8192 x 989.4e12 = 8.1e18 FLOP/s <= 1e20 stays below.
    cluster = next(c for c in data["checks"] if c["policy"] == "us-eo-14110-cluster")
    assert cluster["verdict"] == "below" and not any("disagree" in r for r in cluster["reasons"])


def test_item4_every_format_shows_the_disagreement(tmp_path: Path) -> None:
    cfg = write(tmp_path, DENSE_70B)
    report = tmp_path / "r.html"
    text = run_cli("check", cfg, "--report", str(report))
    assert text.returncode == 1
    assert "UNDECIDED" in text.stdout and "methods disagree on the side of > 1.000e25" in text.stdout
    assert "methods disagree on the side of" in report.read_text()
    for fmt in ("markdown", "github", "sarif", "junit"):
        proc = run_cli("check", cfg, "--format", fmt)
        assert proc.returncode == 1, fmt
        assert "methods disagree on the side of" in proc.stdout, fmt


def test_item4_moe_8x22b_in_fp8_is_undecided(tmp_path: Path) -> None:
    code, data = check_json(write(tmp_path, MOE_8X22B_FP8))
    stage = data["stages"][0]
    hardware = next(e["flop"] for e in stage["estimates"] if e["method"] == "hardware")
    # transformer: top-2 of 8 experts, about 6 x 39B x 12.8T = 3.0e24 plus attention: below 1e25.
    assert stage["method"] == "transformer" and stage["flop"]["high"] < 1e25
    # hardware in fp8: 6144 x 1000 h x 3600 s x 1979e12 x 0.3 = 1.313e25 (x 0.4 = 1.751e25): above 1e25.
    assert hardware["low"] == pytest.approx(1.313e25, rel=1e-3)
    assert eu(data)["verdict"] == "indeterminate" and code == 1


def test_item4_method_option_lets_one_method_decide_and_says_so(tmp_path: Path) -> None:
    cfg = write(tmp_path, DENSE_70B)
    code, data = check_json(cfg, "--method", "transformer")
    assert eu(data)["verdict"] == "below" and code == 0
    assert any("only the transformer estimate decides (--method transformer)" in r for r in eu(data)["reasons"])
    [notice] = [n for n in data["notices"] if n["code"] == "method-selected"]
    assert notice["message"].startswith("--method transformer: only the transformer estimate decides stage pretraining")
    assert "hardware 1.167e25" in notice["message"]  # central: (1.0212e25 + 1.3130e25) / 2
    assert "disagree with it on the side of the threshold of eu-ai-act-systemic-risk (> 1.000e25)" in notice["message"]
    code, data = check_json(cfg, "--method", "hardware")
    assert eu(data)["verdict"] == "above" and code == 1
    assert [n["code"] for n in data["notices"]].count("method-selected") == 1


def test_item4_a_lower_estimate_never_turns_a_crossing_into_a_pass(tmp_path: Path) -> None:
    # Declared 5e24 beside hardware 1.021e25..1.313e25 (the dense 70B run, hardware only): the
    # hardware figure is above 1e25; the declared one may not make it undecided, which
    # --fail-on above would pass.
    cfg = write(tmp_path, """\
model: {name: hw-only}
training:
  - name: pretraining
    kind: pretraining
    hardware: {accelerator: H100-SXM, count: 8192, hours: 1000, utilization: 0.35..0.45}
    flop: 5e24
policies: [eu-ai-act-systemic-risk]
as_of: 2026-11-27
""")
    code, data = check_json(cfg, "--fail-on", "above")
    assert eu(data)["verdict"] == "above" and code == 1
    assert any("a lower estimate never turns a crossing into a pass" in r for r in eu(data)["reasons"])


def test_item4_relative_threshold_is_judged_the_same_way(tmp_path: Path) -> None:
    # One third of the base's 3e25 is 1e25. 6nd: 6 x 70B x 20T = 8.4e24 (below); hardware as the
    # dense 70B run: 1.021e25..1.313e25 (above): the estimates disagree.
    cfg = write(tmp_path, """\
model: {name: ft, parameters: 70B}
base_model: {name: base, training_flop: 3e25, systemic_risk: true}
training:
  - name: ft
    kind: fine-tuning
    tokens: 20T
    hardware: {accelerator: H100-SXM, count: 8192, hours: 1000, utilization: 0.35..0.45}
policies: [eu-downstream-modifier]
as_of: 2026-11-27
""")
    code, data = check_json(cfg)
    [check] = data["checks"]
    assert data["stages"][0]["flop"]["central"] == pytest.approx(8.4e24)
    # The downstream-modifier criterion is guidance (severity warning): the undecided verdict is shown,
    # exit 0; the same verdict under a binding policy fails (the tests above).
    assert check["verdict"] == "indeterminate" and check["severity"] == "warning" and code == 0
    assert any(r.startswith("methods disagree on the side of > 1.000e25") for r in check["reasons"])


def test_item4_sensitivity_names_the_method_that_decides(tmp_path: Path) -> None:
    result = audit_file(write(tmp_path, DENSE_70B))
    sens = analyse(result)
    deciding = {(o.scenario.variant, f.after) for o, f in sens.deciding("eu-ai-act-systemic-risk")}
    # hardware alone: 1.021e25..1.313e25 > 1e25; transformer alone: 7.222e24 <= 1e25.
    assert ("hardware wherever a stage allows it", "above") in deciding
    assert ("transformer wherever a stage allows it", "below") in deciding  # the stage's own figure, alone
    assert ("6nd wherever a stage allows it", "below") in deciding  # 6 x 70B x 15T = 6.3e24


# --- item 5: estimates that cannot be computed ------------------------------------------------------


def test_item5_overflowing_parameters_are_an_error_not_the_declared_figure(tmp_path: Path) -> None:
    cfg = write(tmp_path, "model: {name: o, parameters: 1e160}\n"
                          "training: [{name: p, kind: pretraining, tokens: 1e160, flop: 1e10}]\n")
    proc = run_cli("check", cfg)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(f"flopaudit: error: {cfg}:1:"), proc.stderr
    assert "model.parameters: must be at most 1e15" in proc.stderr


def test_item5_sequence_length_1e308_is_an_error_at_its_line(tmp_path: Path) -> None:
    cfg = write(tmp_path, "model:\n  name: s\n  architecture: {layers: 2, d_model: 64, heads: 4, vocab: 100}\n"
                          "training:\n  - {name: p, kind: pretraining, tokens: 1B, sequence_length: 1e308}\n")
    proc = run_cli("check", cfg)
    assert proc.returncode == 2 and "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"flopaudit: error: {cfg}:5:"), proc.stderr
    assert "training[0].sequence_length: must be at most 1e8" in proc.stderr


BOUNDS = [  # (YAML of the field's mapping, line, field path, bound)
    ("model: {name: m, parameters: 2e15}", 1, "model.parameters", "1e15"),
    ("model: {name: m, parameters: 7B, active_parameters: 2e15}", 1, "model.active_parameters", "1e15"),
    ("training: [{name: p, kind: pretraining, tokens: 2e17}]", 2, "training[0].tokens", "1e17"),
    ("training: [{name: p, kind: pretraining, tokens: 1T, epochs: 20000}]", 2, "training[0].epochs", "1e4"),
    ("training: [{name: p, kind: pretraining, flop: 2e35}]", 2, "training[0].flop", "1e35"),
    ("training: [{name: p, kind: pretraining, samples: 1e15, tokens_per_sample: 1000}]", 2,
     "training[0].samples", "1e17"),
    ("training: [{name: p, kind: pretraining, hardware: {peak_flops: 2e18, count: 8, hours: 1}}]", 2,
     "training[0].hardware.peak_flops", "1e18"),
    ("training: [{name: p, kind: pretraining, hardware: {accelerator: H100, count: 2e8, hours: 1}}]", 2,
     "training[0].hardware.count", "1e8"),
    ("training: [{name: p, kind: pretraining, hardware: {accelerator: H100, count: 8, hours: 2e6}}]", 2,
     "training[0].hardware.hours", "1e6"),
    ("training: [{name: p, kind: pretraining, hardware: {accelerator: H100, device_hours: 2e14}}]", 2,
     "training[0].hardware.device_hours", "1e14"),
    ("organization: {annual_revenue_usd: $2e15}", 3, "organization.annual_revenue_usd", "1e15"),
]


@pytest.mark.parametrize(("yaml", "line", "field", "bound"), BOUNDS, ids=[b[2] for b in BOUNDS])
def test_item5_each_bound_is_an_error_at_the_fields_line(tmp_path: Path, yaml: str, line: int, field: str,
                                                         bound: str) -> None:
    parts = {"model": "model: {name: m, parameters: 7B}", "training": "training: [{name: p, kind: pretraining, "
             "tokens: 1T}]"}
    parts[yaml.split(":")[0]] = yaml
    text = "\n".join([parts.pop("model"), parts.pop("training"), *parts.values()]) + "\n"
    proc = run_cli("check", write(tmp_path, text))
    assert proc.returncode == 2, proc.stdout
    assert re.match(rf"flopaudit: error: .*c\.yaml:{line}:\d+: {re.escape(field)}: .*at most {bound}", proc.stderr), \
        proc.stderr


def test_item5_values_at_the_bound_are_accepted(tmp_path: Path) -> None:
    # 1e15 parameters x 1e17 tokens x 6 = 6e32 FLOP: finite, and far above every threshold.
    cfg = write(tmp_path, "model: {name: m, parameters: 1e15}\ntraining: [{name: p, kind: pretraining, "
                          "tokens: 1e17, sequence_length: 1e8}]\npolicies: [eu-ai-act-systemic-risk]\n")
    code, data = check_json(cfg)
    assert data["stages"][0]["flop"]["central"] == pytest.approx(6e32) and code == 1


def test_item5_json_schema_carries_the_bounds() -> None:
    schema = json.loads(run_cli("schema", "config").stdout)
    defs = schema["$defs"]

    def maximum(model: str, key: str) -> float:
        branches = defs[model]["properties"][key]["anyOf"]
        nested = [b for outer in branches for b in outer.get("anyOf", [outer])]
        return next(b["maximum"] for b in nested if b.get("type") in ("number", "integer"))

    assert maximum("ModelInfo", "parameters") == 1e15
    assert maximum("Stage", "tokens") == 1e17
    assert maximum("Stage", "sequence_length") == 1e8
    assert maximum("Stage", "flop") == 1e35
    assert maximum("Hardware", "count") == 1e8
    assert maximum("Hardware", "peak_flops") == 1e18
    assert maximum("Stage", "epochs") == 1e4


def test_item5_an_estimate_that_is_not_finite_is_an_input_error_at_the_stage(tmp_path: Path) -> None:
    # The bounds keep every YAML input finite; a config built in Python (as the sensitivity analysis
    # builds its scenarios, with model_copy) can still give 6 x 1e300 x 1e300 = inf: never skipped.
    loaded = load_config(write(tmp_path, "model: {name: m, parameters: 7B}\n"
                                         "training: [{name: p, kind: pretraining, tokens: 1T, flop: 1e10}]\n"))
    config = loaded.config
    model = config.model.model_copy(update={"parameters": Quantity.exact(1e300)})
    stage = config.training[0].model_copy(update={"tokens": Quantity.exact(1e300)})
    huge = LoadedConfig(config.model_copy(update={"model": model, "training": [stage]}), loaded.document)
    with pytest.raises(ConfigError) as err:
        audit(huge)
    assert err.value.line == 2 and "the 6nd estimate is not a finite number" in err.value.message


# --- item 7: implausible inputs -----------------------------------------------------------------


IMPLAUSIBLE = """\
model:
  name: implausible-405b
  active_parameters: 1
  architecture: {layers: 126, d_model: 16384, heads: 128, kv_heads: 8, d_ff: 53248, vocab: 128256, context: 8192}
training:
  - name: pretraining
    kind: pretraining
    tokens: 15.6T
    epochs: 1e-9
    hardware: {accelerator: H100-SXM, count: 16384, device_hours: 30.84M, utilization: 1e-9}
    flop: 3.8e-2
policies: [eu-ai-act-systemic-risk]
as_of: 2026-11-27
"""


def test_item7_implausible_inputs_are_notices_at_their_lines(tmp_path: Path) -> None:
    cfg = write(tmp_path, IMPLAUSIBLE)
    _, data = check_json(cfg)
    found = {n["line"]: n["message"] for n in data["notices"] if n["code"] == "implausible-input"}
    assert set(found) == {3, 9, 10, 11}, found
    # The architecture's active parameters: 405.8B (as for Llama 3.1 405B); 405.8e9 / 1 = 4.1e11.
    assert "active_parameters 1 differs from the 405.8B active parameters the architecture implies by " \
           "a factor of 4.1e11 (lower)" in found[3]
    assert "epochs 1e-09 is below the plausible 0.01..1,000" in found[9]
    assert "utilization 1e-09 is below the plausible 0.05..0.75" in found[10]
    assert "the declared flop 0.038 differs from the nearest other estimate" in found[11]
    text = run_cli("check", cfg).stdout
    assert f"{cfg}:10:" in text and "utilization 1e-09" in text


@pytest.mark.parametrize(("stage", "line_key", "fragment"), [
    ("{name: p, kind: pretraining, tokens: 1T, hardware: {accelerator: H100, count: 8, hours: 10, "
     "utilization: 0.9}}", "utilization", "utilization 0.9 is above the plausible 0.05..0.75"),
    ("{name: p, kind: pretraining, tokens: 1T, epochs: 5000}", "epochs", "epochs 5K is above"),
    # 1K tokens / 7B parameters = 1.43e-7 tokens per parameter
    ("{name: p, kind: pretraining, tokens: 1K}", "tokens", "1.43e-07 tokens per active parameter"),
])
def test_item7_each_plausibility_bound(tmp_path: Path, stage: str, line_key: str, fragment: str) -> None:
    cfg = write(tmp_path, f"model: {{name: m, parameters: 7B}}\ntraining: [{stage}]\n")
    _, data = check_json(cfg)
    [notice] = [n for n in data["notices"] if n["code"] == "implausible-input"]
    assert notice["line"] == 2 and fragment in notice["message"], notice


def test_item7_active_share_far_below_any_moe(tmp_path: Path) -> None:
    # 1B / 1T = 0.001 of the weights per token: below 1%. Column 34: where active_parameters starts.
    cfg = write(tmp_path, "model: {name: m, parameters: 1T, active_parameters: 1B}\n"
                          "training: [{name: p, kind: pretraining, tokens: 10T}]\n")
    _, data = check_json(cfg)
    [notice] = [n for n in data["notices"] if n["code"] == "implausible-input"]
    assert (notice["line"], notice["column"]) == (1, 34) and "are 0.001 of parameters" in notice["message"]


def test_item7_warnings_print_sane_magnitudes(tmp_path: Path) -> None:
    # 6nd: 6 x 405B x 15.6T = 3.791e25; declared 1: a factor of 3.8e25 lower, not "-100%" and not a
    # percent with 27 digits.
    cfg = write(tmp_path, "model: {name: m, parameters: 405B}\n"
                          "training: [{name: p, kind: pretraining, tokens: 15.6T, flop: 1}]\n")
    proc = run_cli("check", cfg, "--format", "json")
    data = json.loads(proc.stdout)
    [warning] = data["stages"][0]["warnings"]
    assert "cross-check declared (1) differs from 6nd (3.791e25) by a factor of 3.8e25 (lower)" in warning
    assert not re.search(r"\d{4,}%", proc.stdout + run_cli("check", cfg).stdout)


def test_item7_format_ratio() -> None:
    # 1.167e25 / 7.222e24 = 1.616 -> +62%; 0.62 -> -38%; 5.09 -> 5.1x; 1 / 0.0813 = 12.3 -> 12x;
    # 4.1e27 -> 4.1e27x
    assert [format_ratio(r) for r in (1.167e25 / 7.222e24, 0.62, 5.09, 0.0813, 4.1e27)] == [
        "+62%", "-38%", "a factor of 5.1 (higher)", "a factor of 12 (lower)", "a factor of 4.1e27 (higher)"]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_item7_published_examples_are_plausible(path: Path) -> None:
    result = audit_file(path)
    assert [n.message for n in result.notices if n.code == "implausible-input"] == []
