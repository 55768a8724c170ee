"""Waivers (issue 10, item 1) and severity (item 7): expiry against the as-of date, settings-level
waivers and severity overrides, unknown ids, and exit codes that stay those of results.md.

Every config here declares 2e25 FLOP of text pretraining: above the EU AI Act's 1e25 (binding, error)
and the Guidelines' indicative 1e23 (guidance, warning), below SB 53's 1e26.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli

BASE = ("model: {name: m, modality: [text]}\n"
        "training: [{name: p, kind: pretraining, flop: 2e25}]\n"
        "policies: [eu-ai-act-systemic-risk, eu-gpai-indicative, us-ca-sb53]\n"
        "as_of: 2026-11-27\n")
WAIVER = ("waivers:\n"
          "  - policy: eu-ai-act-systemic-risk\n"
          "    reason: Notified the AI Office\n"
          "    expires: 2027-06-30\n")


def repo(tmp_path: Path, config: str, settings: tuple[str, str] | None = None) -> str:
    """A repository (a .git folder) holding c.yaml and, if given, a settings file (name, text)."""
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "c.yaml").write_text(config)
    if settings is not None:
        (tmp_path / settings[0]).write_text(settings[1])
    return str(tmp_path / "c.yaml")


def check_json(cfg: str, *args: str) -> tuple[dict, int]:
    proc = run_cli("check", cfg, "--format", "json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout), proc.returncode


def by_policy(data: dict) -> dict[str, dict]:
    return {c["policy"]: c for c in data["checks"]}


def test_waiver_applies_through_its_expiry_day_and_as_of_after_it_rearms_the_gate(tmp_path: Path) -> None:
    cfg = repo(tmp_path, BASE + WAIVER)
    # Without --as-of the config's 2026-11-27 is before 2027-06-30: waived, exit 0.
    data, code = check_json(cfg)
    assert code == 0 == data["exit_code"]
    # The expiry day itself still waives (the waiver applies up to and including it).
    data, code = check_json(cfg, "--as-of", "2027-06-30")
    assert code == 0 and by_policy(data)["eu-ai-act-systemic-risk"]["waiver"]["expires"] == "2027-06-30"
    # One day later it has expired: the crossing gates again (exit 1) and the notice says when.
    data, code = check_json(cfg, "--as-of", "2027-07-01")
    eu = by_policy(data)["eu-ai-act-systemic-risk"]
    assert code == 1 and (eu["gates"], eu["waiver"], eu["waiver_expired"]["expires"]) == (True, None, "2027-06-30")
    expired = [n for n in data["notices"] if n["code"] == "waiver-expired"]
    assert len(expired) == 1 and "expired on 2027-06-30 (as of 2027-07-01)" in expired[0]["message"]
    assert (expired[0]["file"], expired[0]["line"]) == (cfg, 6)  # the entry "- policy: ..." is line 6


def test_a_waiver_never_hides_a_config_that_cannot_be_judged(tmp_path: Path) -> None:
    # A waiver for every policy, and a stage kind that does not exist: still exit 2.
    cfg = repo(tmp_path, BASE.replace("kind: pretraining", "kind: pretrainig") + WAIVER)
    proc = run_cli("check", cfg, "--format", "json")
    assert proc.returncode == 2 and proc.stdout == ""


def test_a_waiver_missing_expires_is_an_error_at_its_line(tmp_path: Path) -> None:
    cfg = repo(tmp_path, BASE + WAIVER.replace("    expires: 2027-06-30\n", ""))
    proc = run_cli("check", cfg)
    assert proc.returncode == 2
    assert f"{cfg}:6:" in proc.stderr and "missing required key 'expires'" in proc.stderr


def test_two_waivers_for_one_policy_are_refused(tmp_path: Path) -> None:
    cfg = repo(tmp_path, BASE + WAIVER + WAIVER.removeprefix("waivers:\n"))
    proc = run_cli("check", cfg)
    # The second entry's policy key is line 9 (lines 5-8: the first waiver).
    assert proc.returncode == 2 and f"{cfg}:9:" in proc.stderr and "a second waiver" in proc.stderr


def test_waiver_for_a_policy_not_judged_is_a_notice(tmp_path: Path) -> None:
    cfg = repo(tmp_path, BASE + WAIVER.replace("eu-ai-act-systemic-risk", "us-ny-raise"))
    data, code = check_json(cfg)
    # us-ny-raise is built in but not in the config's policies: the EU crossing still fails.
    assert code == 1
    unmatched = [n for n in data["notices"] if n["code"] == "waiver-unmatched"]
    assert len(unmatched) == 1 and "us-ny-raise" in unmatched[0]["message"]
    assert "not judged for this config" in unmatched[0]["message"] and unmatched[0]["line"] == 6


def test_settings_waivers_from_pyproject_with_their_lines(tmp_path: Path) -> None:
    toml = ('[tool.flopaudit]\nfail-on = "indeterminate"\n\n'
            '[[tool.flopaudit.waivers]]\npolicy = "eu-ai-act-systemic-risk"\nreason = "Notified"\n'
            'reference = "AIO-1"\nexpires = 2027-06-30\n')
    cfg = repo(tmp_path, BASE, ("pyproject.toml", toml))
    data, code = check_json(cfg)
    eu = by_policy(data)["eu-ai-act-systemic-risk"]
    # The [[tool.flopaudit.waivers]] header is line 4.
    assert code == 0 and eu["waiver"]["file"] == str(tmp_path / "pyproject.toml") and eu["waiver"]["line"] == 4
    assert eu["waiver"]["reference"] == "AIO-1"


def test_the_configs_waiver_wins_over_the_settings_one(tmp_path: Path) -> None:
    yaml = "waivers:\n  - {policy: eu-ai-act-systemic-risk, reason: old, expires: 2026-01-31}\n"
    cfg = repo(tmp_path, BASE + WAIVER, (".flopaudit.yaml", yaml))
    data, code = check_json(cfg)
    assert code == 0 and by_policy(data)["eu-ai-act-systemic-risk"]["waiver"]["reason"] == "Notified the AI Office"
    unused = [n for n in data["notices"] if n["code"] == "waiver-unmatched"]
    assert len(unused) == 1 and unused[0]["file"] == str(tmp_path / ".flopaudit.yaml") and unused[0]["line"] == 2


def test_settings_waiver_with_a_bad_date_is_an_error_at_its_line(tmp_path: Path) -> None:
    yaml = "fail-on: above\nwaivers:\n  - policy: eu-ai-act-systemic-risk\n    reason: r\n    expires: soon\n"
    cfg = repo(tmp_path, BASE, (".flopaudit.yaml", yaml))
    proc = run_cli("check", cfg)
    assert proc.returncode == 2 and ".flopaudit.yaml:3" in proc.stderr and "waivers[0].expires" in proc.stderr


def test_settings_raise_and_lower_severity(tmp_path: Path) -> None:
    yaml = "severity:\n  eu-gpai-indicative: error\n  eu-ai-act-systemic-risk: warning\n"
    cfg = repo(tmp_path, BASE, (".flopaudit.yaml", yaml))
    data, code = check_json(cfg)
    checks = by_policy(data)
    settings = f"project settings {tmp_path / '.flopaudit.yaml'}"
    # Raised: the indicative criterion now fails the gate (exit 1); lowered: the Act's crossing does not.
    assert code == 1
    assert (checks["eu-gpai-indicative"]["severity"], checks["eu-gpai-indicative"]["gates"]) == ("error", True)
    assert (checks["eu-ai-act-systemic-risk"]["severity"], checks["eu-ai-act-systemic-risk"]["gates"]) == ("warning",
                                                                                                         False)
    assert checks["eu-ai-act-systemic-risk"]["severity_source"] == settings
    lowered = [n for n in data["notices"] if n["code"] == "severity-lowered"]
    assert [(n["policy"], n["line"]) for n in lowered] == [("eu-ai-act-systemic-risk", 3)]
    github = run_cli("check", cfg, "--format", "github").stdout
    assert "::warning file=" + cfg + ",line=1,title=eu-ai-act-systemic-risk%3A" in github
    assert "::error file=" + cfg + ",line=1,title=eu-gpai-indicative%3A" in github


def test_severity_for_an_unknown_policy_is_a_settings_error(tmp_path: Path) -> None:
    toml = '[tool.flopaudit]\nseverity = {eu-gpai-indicativ = "error"}\n'
    cfg = repo(tmp_path, BASE, ("pyproject.toml", toml))
    proc = run_cli("check", cfg)
    assert proc.returncode == 2 and "pyproject.toml:2" in proc.stderr
    assert "did you mean 'eu-gpai-indicative'?" in proc.stderr


def test_severity_value_must_be_error_or_warning(tmp_path: Path) -> None:
    cfg = repo(tmp_path, BASE, (".flopaudit.yaml", "severity:\n  eu-gpai-indicative: warn\n"))
    proc = run_cli("check", cfg)
    assert proc.returncode == 2 and ".flopaudit.yaml:2" in proc.stderr and "'warn' is not one of error, warning" \
        in proc.stderr


def test_policy_file_severity_overrides_the_default(tmp_path: Path) -> None:
    # A copy of the EU indicative criterion that says severity: error gates (exit 1), guidance or not.
    own = Path("policies/eu-gpai-indicative.yaml").read_text().replace(
        "id: eu-gpai-indicative", "id: acme-indicative").replace("severity: warning", "severity: error")
    (tmp_path / "acme.yaml").write_text(own)
    cfg = repo(tmp_path, BASE.replace("policies: [eu-ai-act-systemic-risk, eu-gpai-indicative, us-ca-sb53]\n", ""))
    data, code = check_json(cfg, "--policy", str(tmp_path / "acme.yaml"))
    assert code == 1 and (data["checks"][0]["severity"], data["checks"][0]["severity_source"]) == ("error",
                                                                                                   "policy file")


def test_guidance_without_severity_defaults_to_warning(tmp_path: Path) -> None:
    # The same copy without the key: instrument.kind guidance gives warning, so 2e25 > 1e23 exits 0.
    own = Path("policies/eu-gpai-indicative.yaml").read_text().replace(
        "id: eu-gpai-indicative", "id: acme-indicative").replace("severity: warning\n", "")
    (tmp_path / "acme.yaml").write_text(own)
    cfg = repo(tmp_path, BASE.replace("policies: [eu-ai-act-systemic-risk, eu-gpai-indicative, us-ca-sb53]\n", ""))
    data, code = check_json(cfg, "--policy", str(tmp_path / "acme.yaml"))
    assert code == 0 and (data["checks"][0]["verdict"], data["checks"][0]["severity"],
                          data["checks"][0]["severity_source"]) == ("above", "warning", "default")


def test_settings_can_forbid_a_config_its_own_waivers(tmp_path: Path) -> None:
    # lock = ["waivers"]: only the repository's settings may acknowledge a crossing
    settings = (".flopaudit.yaml", "lock: [waivers]\n")
    done = run_cli("check", repo(tmp_path, BASE + WAIVER, settings))
    assert done.returncode == 2
    assert "locked by the project settings" in done.stderr and "'waivers'" in done.stderr
    # the same waiver in the settings themselves is allowed
    (tmp_path / ".flopaudit.yaml").write_text("lock: [waivers]\n" + WAIVER)
    (tmp_path / "c.yaml").write_text(BASE)
    data, code = check_json(str(tmp_path / "c.yaml"))
    assert code == 0 and by_policy(data)["eu-ai-act-systemic-risk"]["waiver"] is not None
