"""``flopaudit check``: the exit-code matrix, every output format, and the JSON contract (results.md)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import run_cli

LLAMA = "examples/llama-3.1-405b.yaml"
MODEL_A = "examples/eu-guidelines-model-a.yaml"


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_exit_0_below_every_policy() -> None:
    # Model A: 6 x 3.8e9 x 3.3e12 = 7.5e22 < 1e23 (EU indicative) and < 1e25.
    proc = run_cli("check", MODEL_A)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS: no policy in force is crossed" in proc.stdout


def test_exit_1_above_a_policy_in_force() -> None:
    proc = run_cli("check", LLAMA)
    assert proc.returncode == 1
    assert "FAIL: crossed: eu-ai-act-systemic-risk" in proc.stdout
    assert "ABOVE" in proc.stdout  # verdict in words, not colour alone


def test_policy_not_in_force_never_gates(tmp_path: Path) -> None:
    # 2e26 declared: above EO 14110's 1e26, which was revoked on 2025-01-20.
    cfg = write(tmp_path, "model: {name: big}\ntraining: [{name: p, kind: pretraining, flop: 2e26}]\n"
                          "policies: [us-eo-14110]\n")
    assert run_cli("check", cfg, "--as-of", "2026-11-27").returncode == 0
    assert run_cli("check", cfg, "--as-of", "2024-06-01").returncode == 1


def test_indeterminate_fails_by_default_and_fail_on_changes_it(tmp_path: Path) -> None:
    # 8e24..1.2e25 straddles the EU's 1e25.
    cfg = write(tmp_path, "model: {name: near}\ntraining: [{name: p, kind: pretraining, flop: 8e24..1.2e25}]\n"
                          "policies: [eu-ai-act-systemic-risk]\nas_of: 2026-11-27\n")
    proc = run_cli("check", cfg)
    assert proc.returncode == 1
    assert "UNDECIDED" in proc.stdout and "straddles" in proc.stdout
    assert run_cli("check", cfg, "--fail-on", "above").returncode == 0
    assert run_cli("check", cfg, "--fail-on", "never").returncode == 0


def test_fail_on_never_passes_a_crossed_gate() -> None:
    assert run_cli("check", LLAMA, "--fail-on", "never").returncode == 0


def test_several_configs_worst_exit_code_and_json_list() -> None:
    proc = run_cli("check", MODEL_A, LLAMA, "--format", "json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert [d["config"] for d in data] == [MODEL_A, LLAMA]
    assert [d["exit_code"] for d in data] == [0, 1]


def test_json_has_every_key_of_the_contract() -> None:
    proc = run_cli("check", LLAMA, "--format", "json")
    data = json.loads(proc.stdout)
    assert {"schema_version", "flopaudit_version", "config", "model", "stages", "total_flop", "checks",
            "exit_code"} <= set(data)
    assert data["schema_version"] == 1 and data["exit_code"] == 1 == proc.returncode
    assert {"name", "parameters", "active_parameters"} <= set(data["model"])
    stage = data["stages"][0]
    assert {"name", "kind", "method", "flop", "estimates", "warnings"} <= set(stage)
    assert set(stage["flop"]) == {"low", "central", "high"}
    assert {"method", "flop", "assumptions"} <= set(stage["estimates"][0])
    check = next(c for c in data["checks"] if c["policy"] == "eu-ai-act-systemic-risk")
    assert {"policy", "name", "status", "gates", "metric", "threshold", "comparison", "counted_flop", "verdict",
            "obligations"} <= set(check)
    assert (check["status"], check["gates"], check["verdict"], check["comparison"]) == ("in-force", True, "above", "gt")
    assert check["threshold"] == 1e25 and check["metric"] == "cumulative_training_flop"
    assert any("14 days" in o for o in check["obligations"])
    # total_flop is the sum over every stage
    assert data["total_flop"]["central"] == pytest.approx(sum(s["flop"]["central"] for s in data["stages"]))


def test_json_is_deterministic() -> None:
    assert run_cli("check", LLAMA, "--format", "json").stdout == run_cli("check", LLAMA, "--format", "json").stdout


def test_output_file_and_markdown(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "result.md"
    proc = run_cli("check", LLAMA, "--format", "markdown", "--output", str(out))
    assert proc.returncode == 1 and proc.stdout == ""
    text = out.read_text()
    assert "| eu-ai-act-systemic-risk |" not in text  # ids are links to the primary source
    assert "[eu-ai-act-systemic-risk](http://data.europa.eu/eli/reg/2024/1689/oj)" in text
    assert "**ABOVE**" in text


def test_github_annotations_point_at_the_config() -> None:
    proc = run_cli("check", LLAMA, "--format", "github")
    first = proc.stdout.splitlines()[0]
    assert first.startswith(f"::error file={LLAMA},line=")
    assert "title=eu-ai-act-systemic-risk%3A" in first


def test_sarif_is_valid_2_1_0() -> None:
    proc = run_cli("check", LLAMA, "--format", "sarif")
    log = json.loads(proc.stdout)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert "eu-ai-act-systemic-risk" in rule_ids
    eu = next(r for r in run["results"] if r["ruleId"] == "eu-ai-act-systemic-risk")
    assert eu["level"] == "error"
    assert eu["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == LLAMA
    sb53 = next(r for r in run["results"] if r["ruleId"] == "us-ca-sb53")
    assert (sb53["level"], sb53["kind"]) == ("none", "pass")


def test_junit_counts_failures_and_skips() -> None:
    proc = run_cli("check", LLAMA, "--format", "junit")
    suite = ET.fromstring(proc.stdout).find("testsuite")
    assert suite is not None
    failed = {c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None}
    # Crossed and in force on the config's as_of (2026-11-27): the EU systemic-risk and GPAI rules; the GPAI
    # rule is the Guidelines' indicative criterion (guidance, severity warning), so only the first fails.
    assert failed == {"eu-ai-act-systemic-risk"}
    assert suite.get("failures") == "1"
    gpai = next(c for c in suite.iter("testcase") if c.get("name") == "eu-gpai-indicative")
    assert (gpai.findtext("system-out") or "").startswith("severity warning; counted 4.")


def test_policy_option_takes_ids_and_files(tmp_path: Path) -> None:
    proc = run_cli("check", LLAMA, "--policy", "us-ca-sb53", "--format", "json")
    assert [c["policy"] for c in json.loads(proc.stdout)["checks"]] == ["us-ca-sb53"]
    assert proc.returncode == 0
    own = Path("policies/eu-ai-act-systemic-risk.yaml").read_text().replace(
        "id: eu-ai-act-systemic-risk", "id: acme-5e25").replace("1.0e+25", "5.0e+25")
    path = write(tmp_path, own, "acme-5e25.yaml")
    proc = run_cli("check", LLAMA, "--policy", path, "--format", "json")
    assert json.loads(proc.stdout)["checks"][0]["policy"] == "acme-5e25"
    assert proc.returncode == 0  # 4.1e25 < 5e25
    bad = run_cli("check", LLAMA, "--policy", "eu-ai-act")
    assert bad.returncode == 2 and "unknown policy 'eu-ai-act'" in bad.stderr


def test_method_option(tmp_path: Path) -> None:
    data = json.loads(run_cli("check", LLAMA, "--method", "6nd", "--format", "json").stdout)
    assert data["stages"][0]["method"] == "6nd"
    data = json.loads(run_cli("check", MODEL_A, "--method", "hardware", "--format", "json").stdout)
    assert data["stages"][0]["method"] == "6nd"
    assert "method 'hardware' is not available" in data["stages"][0]["warnings"][0]


def test_bad_as_of_is_a_usage_error() -> None:
    proc = run_cli("check", LLAMA, "--as-of", "yesterday")
    assert proc.returncode == 2 and "not a date" in proc.stderr


def test_policies_list_and_show() -> None:
    proc = run_cli("policies", "--as-of", "2026-11-27", "--format", "json")
    rows = {r["id"]: r for r in json.loads(proc.stdout)["policies"]}
    assert rows["us-eo-14110"]["status"] == "revoked"
    assert rows["us-ny-raise"]["status"] == "not-yet-effective"
    show = run_cli("policies", "show", "eu-ai-act-systemic-risk")
    assert show.returncode == 0 and "Art. 51(2)" in show.stdout
    assert run_cli("policies", "show", "nope").returncode == 2


def test_schema_command_validates_examples() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml
    schema = json.loads(run_cli("schema", "config").stdout)
    for path in sorted(Path("examples").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        data = json.loads(json.dumps(data, default=str))
        jsonschema.validate(data, schema)
    policy_schema = json.loads(run_cli("schema", "policy").stdout)
    for path in sorted(Path("policies").glob("*.yaml")):
        jsonschema.validate(json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str)), policy_schema)


def test_internal_error_exits_2_without_traceback(tmp_path: Path) -> None:
    # Writing the output into a path whose parent is a file fails: a clean exit 2, no traceback.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_cli("check", LLAMA, "--output", str(blocker / "out.json"), "--format", "json")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_cli_method_choices_follow_the_method_registry() -> None:
    from flopaudit.cli._options import METHODS
    from flopaudit.estimate.methods import METHOD_ORDER
    assert METHODS == METHOD_ORDER
