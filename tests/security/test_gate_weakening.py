"""Issue 7, items 6 and 8: a config (or a policy file) that narrows its own gate says so in every output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.security.outputs import assert_everywhere, every_output

EU = ROOT / "policies" / "eu-ai-act-systemic-risk.yaml"

WEAK = """\
model:
  name: Weak
  parameters: 70B
policies: [us-ca-sb53]
as_of: 2020-01-01
training:
  - name: pretraining
    kind: pretraining
    tokens: 1T
  - name: eval
    kind: evaluation
    flop: 4.1e25
"""


def write(folder: Path, text: str, name: str = "c.yaml") -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_item6_excluded_policies_as_of_and_uncounted_stages_are_in_every_output(tmp_path: Path) -> None:
    # The config judges only SB 53, on a date before it was in force: the gate passes (exit 0),
    # and every output must say how it was narrowed.
    outputs = every_output(write(tmp_path, WEAK), tmp_path)
    assert_everywhere(outputs, "built-in policies NOT judged: eu-ai-act-systemic-risk",
                      "the config sets as_of: 2020-01-01, not today")
    data = json.loads(outputs["json"])
    assert data["exit_code"] == 0
    codes = [n["code"] for n in data["notices"]]
    assert codes == ["policies-excluded", "as-of", "stage-not-counted"]
    # Each notice points at the line that made it: policies is line 4, as_of line 5, the eval stage's kind 11.
    assert [n["line"] for n in data["notices"]] == [4, 5, 11]


def test_item6_a_stage_a_policy_does_not_count_is_named_with_its_flop_and_citation(tmp_path: Path) -> None:
    # 4.1e25 FLOP of 'evaluation' would cross the EU's 1e25 if counted; the EU accounting excludes it
    # (Guidelines Annex A.1). The verdict stays below (7e22 + 0 counted), but no output may hide the stage.
    text = WEAK.replace("policies: [us-ca-sb53]\nas_of: 2020-01-01\n", "as_of: 2026-11-27\n")
    outputs = every_output(write(tmp_path, text), tmp_path, "--policy", "eu-ai-act-systemic-risk")
    assert_everywhere(outputs, "stage 'eval' (evaluation, 4.100e25 FLOP) is NOT counted by "
                               "eu-ai-act-systemic-risk: its accounting excludes evaluation, Guidelines Annex A.1")
    data = json.loads(outputs["json"])
    assert data["checks"][0]["verdict"] == "below"
    stage_notice = next(n for n in data["notices"] if n["code"] == "stage-not-counted")
    assert stage_notice["line"] == 10  # the eval stage's kind: line (one line fewer than WEAK)


def test_item6_as_of_from_the_command_is_a_notice_too(tmp_path: Path) -> None:
    proc = run_cli("check", "examples/eu-guidelines-model-a.yaml", "--as-of", "2025-01-01", "--format", "json")
    notices = json.loads(proc.stdout)["notices"]
    assert any(n["code"] == "as-of" and "(--as-of)" in n["message"] for n in notices)


def test_item6_no_notice_when_nothing_is_narrowed(tmp_path: Path) -> None:
    cfg = write(tmp_path, WEAK.replace("policies: [us-ca-sb53]\nas_of: 2020-01-01\n", "")
                .replace("  - name: eval\n    kind: evaluation\n    flop: 4.1e25\n", ""))
    data = json.loads(run_cli("check", cfg, "--format", "json").stdout)
    assert data["notices"] == []


def _repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_item6_lock_policies_and_as_of_in_pyproject(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.flopaudit]\nlock = ["policies", "as-of"]\n')
    cfg = write(repo / "configs", WEAK)
    proc = run_cli("check", cfg)
    assert proc.returncode == 2
    # policies: is line 4 of the config, column 1.
    assert proc.stderr.strip() == (f"flopaudit: error: {cfg}:4:1: policies: locked by the project settings "
                                   f"({repo / 'pyproject.toml'}): a config may not set 'policies'; remove it "
                                   "(the settings decide policies)")
    proc = run_cli("check", write(repo / "configs", WEAK.replace("policies: [us-ca-sb53]\n", ""), "b.yaml"))
    assert proc.returncode == 2 and ":4:1: as_of: locked by the project settings" in proc.stderr


def test_item6_settings_closest_file_wins_and_flags_override(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "pyproject.toml").write_text('[tool.flopaudit]\nlock = ["policies"]\n')
    (repo / "team").mkdir()
    (repo / "team" / ".flopaudit.yaml").write_text("fail-on: never\n")
    # Llama 3.1 405B crosses the EU threshold: fail-on never (closest settings) passes the gate, the
    # root's lock does not apply (closest wins), and --fail-on above on the command line fails it again.
    cfg = write(repo / "team", (ROOT / "examples" / "llama-3.1-405b.yaml").read_text())
    assert run_cli("check", cfg).returncode == 0
    assert run_cli("check", cfg, "--fail-on", "above").returncode == 1


def test_item6_policies_and_as_of_from_settings_are_notices(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / ".flopaudit.yaml").write_text("policies: [us-ca-sb53]\nas-of: '2025-06-01'\n")
    cfg = write(repo, WEAK.replace("policies: [us-ca-sb53]\nas_of: 2020-01-01\n", ""))
    data = json.loads(run_cli("check", cfg, "--format", "json").stdout)
    settings = repo / ".flopaudit.yaml"
    assert [n["message"] for n in data["notices"][:2]] == [
        f"project settings {settings} judges only us-ca-sb53; built-in policies NOT judged: "
        "eu-ai-act-systemic-risk, eu-downstream-modifier, eu-gpai-indicative, kr-ai-basic-act, us-ca-sb1047, "
        "us-eo-14110-bio, us-eo-14110-cluster, us-eo-14110, us-ny-raise",
        f"policies judged as of 2025-06-01 (project settings {settings}), not today: whether each policy is in "
        "force, and so gates, is decided for that date"]
    # The same choice made on the command line is the operator's: no policies notice.
    data = json.loads(run_cli("check", cfg, "--format", "json", "--policy", "us-ca-sb53").stdout)
    assert "policies-excluded" not in [n["code"] for n in data["notices"]]


@pytest.mark.parametrize(("settings", "line", "message"), [
    ("[tool.flopaudit]\nfail-on = 'above'\nlocks = ['policies']\n", 3, "unknown setting 'locks' (did you mean 'lock'?)"),
    ("[tool.flopaudit]\nlock = ['as_of']\n", 2, "lock: 'as_of' cannot be locked (did you mean 'as-of'?)"),
    ("[tool.flopaudit]\nallow-code = 'yes'\n", 2, "allow-code: expected true or false, got 'yes'"),
])
def test_item6_bad_settings_are_errors_at_their_line(tmp_path: Path, settings: str, line: int, message: str) -> None:
    repo = _repo(tmp_path)
    (repo / "pyproject.toml").write_text(settings)
    proc = run_cli("check", write(repo, WEAK))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith(f"flopaudit: error: {repo / 'pyproject.toml'}:{line}: {message}")


def _override(tmp_path: Path, *, overrides: str | None, policy_id: str = "eu-ai-act-systemic-risk") -> str:
    text = EU.read_text().replace("threshold: 1.0e+25", "threshold: 1.0e+30")
    text = text.replace("id: eu-ai-act-systemic-risk", f"id: {policy_id}")
    if overrides:
        text += f"overrides: {overrides}\n"
    return write(tmp_path, text, "lenient.yaml")


def test_item8_a_policy_file_reusing_a_built_in_id_is_refused(tmp_path: Path) -> None:
    path = _override(tmp_path, overrides=None)
    proc = run_cli("check", "examples/llama-3.1-405b.yaml", "--policy", path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # id: is on line 4 of the file (two comment lines, then schema_version on line 3).
    assert f"{path}:4:" in proc.stderr
    assert "'overrides: eu-ai-act-systemic-risk'" in proc.stderr


def test_item8_an_override_is_named_in_every_output(tmp_path: Path) -> None:
    path = _override(tmp_path, overrides="eu-ai-act-systemic-risk")
    outputs = every_output("examples/llama-3.1-405b.yaml", tmp_path, "--policy", path)
    assert_everywhere(outputs, "overrides the built-in 'eu-ai-act-systemic-risk' (> 1.000e25 replaced by > 1.000e30)")
    data = json.loads(outputs["json"])
    assert data["checks"][0]["overrides"] == "eu-ai-act-systemic-risk"
    assert data["checks"][0]["policy_file"] == path
    assert data["exit_code"] == 0  # 3.8e25 is below the override's 1e30


def test_item8_override_must_name_a_built_in_and_cannot_sit_beside_it(tmp_path: Path) -> None:
    proc = run_cli("check", "examples/llama-3.1-405b.yaml", "--policy",
                   _override(tmp_path, overrides="eu-ai-act-sytemic-risk", policy_id="acme"))
    assert proc.returncode == 2 and "did you mean 'eu-ai-act-systemic-risk'" in proc.stderr
    path = _override(tmp_path, overrides="eu-ai-act-systemic-risk", policy_id="acme")
    proc = run_cli("check", "examples/llama-3.1-405b.yaml", "--policy", "eu-ai-act-systemic-risk", "--policy", path)
    assert proc.returncode == 2 and "two policies stand for 'eu-ai-act-systemic-risk'" in proc.stderr


def test_item8_the_built_in_file_by_path_is_the_built_in_policy() -> None:
    proc = run_cli("check", "examples/llama-3.1-405b.yaml", "--policy", str(EU), "--format", "json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["notices"][-1]["code"] != "policy-override"
