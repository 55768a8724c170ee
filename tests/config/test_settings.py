"""Issue 10 item 2: project settings keys policy-paths, format, outputs, required-version; --show-settings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flopaudit import __version__
from tests.conftest import ROOT, run_cli

ACME = ROOT / "tests" / "data" / "acme-internal-policy.yaml"
# 6 x 70e9 parameters x 3e12 tokens = 1.26e24 FLOP: above ACME's 1e24 and the EU GPAI 1e23, below the EU's 1e25.
# BINDING: 30T tokens, 6 x 70e9 x 30e12 = 1.26e25 FLOP, above the EU AI Act's binding 1e25 (exit 1).
CONFIG = """\
model:
  name: Seventy
  parameters: 70B
as_of: 2026-11-27
training:
  - name: pretraining
    kind: pretraining
    tokens: 3T
"""

BINDING = CONFIG.replace("tokens: 3T", "tokens: 30T")


def repo_with(tmp_path: Path, pyproject: str, config: str = CONFIG) -> tuple[Path, str]:
    """A repository with ACME's policy under compliance/, the settings in pyproject.toml, a config in team/."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "compliance" / "policies").mkdir(parents=True)
    shutil.copy(ACME, repo / "compliance" / "policies" / "acme-internal.yaml")
    (repo / "pyproject.toml").write_text(pyproject)
    (repo / "team").mkdir()
    (repo / "team" / "c.yaml").write_text(config)
    return repo, str(repo / "team" / "c.yaml")


def checked(*args: str) -> tuple[int, dict]:
    proc = run_cli("check", *args, "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_policy_paths_are_judged_besides_the_built_ins(tmp_path: Path) -> None:
    _, cfg = repo_with(tmp_path, '[tool.flopaudit]\npolicy-paths = ["compliance/policies"]\n')
    code, data = checked(cfg)
    verdicts = {c["policy"]: c["verdict"] for c in data["checks"]}
    # Every built-in (the files of policies/, in file-name order) plus ACME's own policy, judged last.
    builtins = [p.stem for p in sorted((ROOT / "policies").glob("*.yaml"))]
    assert list(verdicts) == builtins + ["acme-internal"]
    assert verdicts["acme-internal"] == "above" and verdicts["eu-ai-act-systemic-risk"] == "below"
    assert code == 1


def test_settings_policies_may_name_the_organisation_policies_by_id(tmp_path: Path) -> None:
    _, cfg = repo_with(tmp_path, '[tool.flopaudit]\npolicy-paths = ["compliance/policies/acme-internal.yaml"]\n'
                                 'policies = ["acme-internal", "eu-ai-act-systemic-risk"]\n')
    code, data = checked(cfg)
    assert [c["policy"] for c in data["checks"]] == ["acme-internal", "eu-ai-act-systemic-risk"]
    assert code == 1  # ACME: 1.26e24 > 1e24
    # --policy names exactly what to judge: the organisation's policy is then judged only if named.
    code, data = checked(cfg, "--policy", "eu-ai-act-systemic-risk")
    assert [c["policy"] for c in data["checks"]] == ["eu-ai-act-systemic-risk"] and code == 0
    code, data = checked(cfg, "--policy", "acme-internal")
    assert [c["policy"] for c in data["checks"]] == ["acme-internal"] and code == 1


def test_a_config_list_may_name_the_organisation_policy(tmp_path: Path) -> None:
    _, cfg = repo_with(tmp_path, '[tool.flopaudit]\npolicy-paths = ["compliance/policies"]\n',
                       CONFIG.replace("as_of:", "policies: [acme-internal]\nas_of:"))
    code, data = checked(cfg)
    assert [c["policy"] for c in data["checks"]] == ["acme-internal"] and code == 1


def test_a_policy_file_in_settings_policies_is_relative_to_the_settings_file(tmp_path: Path) -> None:
    repo, cfg = repo_with(tmp_path, '[tool.flopaudit]\npolicies = ["compliance/policies/acme-internal.yaml"]\n')
    # Run from elsewhere: the path is the settings file's, not the working directory's.
    proc = run_cli("check", cfg, "--format", "json", cwd=tmp_path)
    assert [c["policy"] for c in json.loads(proc.stdout)["checks"]] == ["acme-internal"]


@pytest.mark.parametrize(("line2", "message"), [
    ('policy-paths = ["../outside"]', "policy-paths: '../outside' is outside the repository"),
    ('policy-paths = ["compliance/nope"]', "policy-paths: 'compliance/nope' not found"),
    ('outputs = ["sarif"]', "outputs: 'sarif' is not FORMAT=FILE with FORMAT one of text, json"),
    ('outputs = ["srif=fa.sarif"]', "outputs: 'srif=fa.sarif' is not FORMAT=FILE with FORMAT one of text, json, "
                                    "markdown, github, sarif, junit (did you mean 'sarif'?)"),
    ('outputs = ["sarif=../../fa.sarif"]', "outputs: '../../fa.sarif' is outside the repository"),
    ('format = "githb"', "format: 'githb' is not one of text, json, markdown, github, sarif, junit "
                         "(did you mean 'github'?)"),
    ('required-version = "at least 0.1"', "required-version: 'at least 0.1' is not a version specifier"),
    ('required-version = ">=99"', f"required-version: these settings require flopaudit >=99; this is "
                                  f"flopaudit {__version__}"),
    ('policy-path = ["x"]', "unknown setting 'policy-path' (did you mean 'policy-paths'?)"),
])
def test_bad_settings_exit_2_at_their_line(tmp_path: Path, line2: str, message: str) -> None:
    (tmp_path / "outside").mkdir()
    repo, cfg = repo_with(tmp_path, f"[tool.flopaudit]\n{line2}\n")
    proc = run_cli("check", cfg)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # The key is on line 2 of pyproject.toml.
    assert proc.stderr.startswith(f"flopaudit: error: {repo / 'pyproject.toml'}:2: {message}"), proc.stderr


def test_required_version_met_passes_and_show_settings_checks_it_too(tmp_path: Path) -> None:
    repo, cfg = repo_with(tmp_path, '[tool.flopaudit]\nrequired-version = ">=0.1,<1"\n', BINDING)
    assert run_cli("check", cfg).returncode == 1  # 0.1.0 meets it; the config then crosses (1.26e25 > 1e25)
    (repo / "pyproject.toml").write_text('[tool.flopaudit]\nrequired-version = "<0.1"\n')
    proc = run_cli("check", cfg, "--show-settings")
    assert proc.returncode == 2 and "require flopaudit <0.1" in proc.stderr


def test_outputs_from_settings_are_written_relative_to_the_settings_file(tmp_path: Path) -> None:
    repo, cfg = repo_with(tmp_path, '[tool.flopaudit]\nformat = "github"\n'
                                    'outputs = ["sarif=out/fa.sarif", "markdown=out/summary.md"]\n', BINDING)
    proc = run_cli("check", cfg, cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.startswith("::error file=")  # format = "github" on stdout
    sarif = json.loads((repo / "out" / "fa.sarif").read_text())
    assert sarif["runs"][0]["invocations"][0]["exitCode"] == 1
    assert (repo / "out" / "summary.md").read_text().startswith("# flopaudit")
    # A flag replaces them: --output FORMAT=FILE on the command line, --format for stdout.
    (repo / "out" / "fa.sarif").unlink()
    proc = run_cli("check", cfg, "--format", "json", "--output", f"junit={tmp_path / 'j.xml'}", cwd=tmp_path)
    assert json.loads(proc.stdout)["exit_code"] == 1
    assert (tmp_path / "j.xml").read_text().startswith("<?xml")
    assert not (repo / "out" / "fa.sarif").exists()


def test_show_settings_names_where_each_value_came_from(tmp_path: Path) -> None:
    repo, cfg = repo_with(tmp_path, '[project]\nname = "x"\n\n[tool.flopaudit]\nfail-on = "above"\n'
                                    'policy-paths = ["compliance/policies"]\noutputs = [\n  "sarif=fa.sarif",\n]\n')
    proc = run_cli("check", cfg, "--show-settings", "--as-of", "2026-01-02", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    settings = repo / "pyproject.toml"
    # fail-on is line 5 of pyproject.toml, policy-paths line 6, outputs line 7 (its list runs on to line 9).
    assert proc.stdout == (
        f"settings for {cfg}: from {settings}\n"
        "  lock                = nothing  (default)\n"
        "  policies            = the config's policies, else every built-in  (default)\n"
        f"  policy-paths        = {repo / 'compliance' / 'policies'}  ({settings}:6)\n"
        "  as-of               = 2026-01-02  (flag --as-of)\n"
        f"  fail-on             = above  ({settings}:5)\n"
        "  method              = the first available, per stage  (default)\n"
        "  format              = json  (flag --format)\n"
        f"  outputs             = sarif={repo / 'fa.sarif'}  ({settings}:7)\n"
        "  required-version    = any  (default)\n"
        "  allow-code          = false  (default)\n"
        "  allow-outside-paths = false  (default)\n"
        "  waivers             = none  (default)\n"
        "  severity            = none  (default)\n")
    assert not (repo / "fa.sarif").exists()  # nothing was checked or written


def test_show_settings_without_a_settings_file(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "c.yaml").write_text(CONFIG)
    proc = run_cli("check", str(tmp_path / "c.yaml"), "--show-settings", "--policy", "us-ca-sb53")
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[:3] == [
        f"settings for {tmp_path / 'c.yaml'}: no settings file (defaults)",
        "  lock                = nothing  (default)",
        "  policies            = us-ca-sb53  (flag --policy)"]


def test_an_organisation_override_takes_the_built_ins_place_with_a_notice(tmp_path: Path) -> None:
    repo, cfg = repo_with(tmp_path, '[tool.flopaudit]\npolicy-paths = ["compliance/policies"]\n')
    eu = (ROOT / "policies" / "eu-ai-act-systemic-risk.yaml").read_text()
    lenient = eu.replace("id: eu-ai-act-systemic-risk", "id: acme-eu").replace("threshold: 1.0e+25", "threshold: 1.0e+30")
    assert lenient != eu
    path = repo / "compliance" / "policies" / "acme-eu.yaml"
    path.write_text(lenient + "overrides: eu-ai-act-systemic-risk\n")
    _, data = checked(cfg)
    ids = [c["policy"] for c in data["checks"]]
    # acme-eu stands where the built-in EU policy stood (first, by file name); ACME's own policy comes last.
    assert ids[0] == "acme-eu" and "eu-ai-act-systemic-risk" not in ids and ids[-1] == "acme-internal"
    override = next(n for n in data["notices"] if n["code"] == "policy-override")
    assert override["message"] == (f"policy 'acme-eu' from {path} overrides the built-in 'eu-ai-act-systemic-risk' "
                                   "(> 1.000e25 replaced by > 1.000e30)")


def test_two_organisation_files_with_one_id_are_refused(tmp_path: Path) -> None:
    (tmp_path / "repo" / "more").mkdir(parents=True)
    shutil.copy(ACME, tmp_path / "repo" / "more" / "acme-copy.yaml")
    _, cfg = repo_with(tmp_path, '[tool.flopaudit]\npolicy-paths = ["compliance/policies", "more"]\n')
    proc = run_cli("check", cfg)
    assert proc.returncode == 2
    assert "policy id 'acme-internal' is defined twice" in proc.stderr


def test_required_version_is_checked_before_unknown_keys(tmp_path: Path) -> None:
    # Settings written for a later flopaudit: the reader is told to upgrade, not that a key is unknown.
    repo, cfg = repo_with(tmp_path, '[tool.flopaudit]\nfuture-key = 1\nrequired-version = ">=2"\n')
    proc = run_cli("check", cfg)
    assert proc.returncode == 2
    # required-version is line 3 of pyproject.toml.
    assert proc.stderr.startswith(f"flopaudit: error: {repo / 'pyproject.toml'}:3: required-version: these "
                                  f"settings require flopaudit >=2; this is flopaudit {__version__}")


def test_the_same_keys_in_a_flopaudit_yaml(tmp_path: Path) -> None:
    repo, cfg = repo_with(tmp_path, "")  # an empty pyproject.toml: no [tool.flopaudit], so it is skipped
    (repo / "team" / ".flopaudit.yaml").write_text(
        "# team settings\npolicy-paths: [../compliance/policies]\nrequired-version: '>=0.1'\n"
        "outputs:\n  - markdown=summary.md\n")
    proc = run_cli("check", cfg, "--show-settings")
    settings = repo / "team" / ".flopaudit.yaml"
    # policy-paths is line 2, required-version line 3, outputs line 4; paths relative to team/.
    assert f"  policy-paths        = {repo / 'compliance' / 'policies'}  ({settings}:2)" in proc.stdout
    assert f"  required-version    = >=0.1  ({settings}:3)" in proc.stdout
    assert f"  outputs             = markdown={repo / 'team' / 'summary.md'}  ({settings}:4)" in proc.stdout
    (repo / "team" / ".flopaudit.yaml").write_text("fail-on: above\noutputs: [sarif]\n")
    proc = run_cli("check", cfg)
    assert proc.returncode == 2 and proc.stderr.startswith(f"flopaudit: error: {settings}:2: outputs: 'sarif' is not")
