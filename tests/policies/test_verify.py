"""``flopaudit policies verify``: an organisation's policy files in a temporary folder, and ``policies/``.

Exit codes as for ``check``: 0 every file valid and every fixture right, 1 a fixture got another
verdict, 2 a file is invalid (or a fixture cannot be judged). Each policy file here is written by
the test; the numbers in the fixtures are derived in the comment above each case.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from flopaudit.policy.loader import builtin_policies
from flopaudit.policy.verify import verify_paths
from tests.conftest import ROOT, run_cli

# An organisation's own rule: more than 3e24 FLOP of training. Its fixtures: 5e24 > 3e24 (above),
# 1e24 <= 3e24 (below), exactly 3e24 is not "more than" (below).
ACME = """\
schema_version: 1
id: acme-review
version: "2026-01-15"
name: "ACME: internal review above 3e24 FLOP"
short_name: "ACME 3e24"
jurisdiction: {code: ACME, name: ACME Corp.}
instrument: {kind: organisation, title: "ACME Responsible Scaling Policy", identifier: "RSP v2", binding: true}
citations:
  - {label: "ACME RSP v2", url: "https://intranet.example/rsp", locator: "§3", primary: true, verified: true}
lifecycle: {enacted: 2026-01-15, effective: 2026-02-01}
rules:
  - {id: big-run, description: "More than 3e24 FLOP.", metric: cumulative_training_flop, threshold: 3.0e+24,
     comparison: gt, citation: "RSP §3.1"}
accounting: {counts: [pretraining, fine-tuning]}
obligations:
  - {id: review, summary: "Safety board review.", deadline_days: 7, citation: "RSP §4"}
tests:
  - name: big
    config: {model: {name: big, parameters: 30B}, training: [{name: p, kind: pretraining, flop: 5e24}]}
    verdict: above
  - name: small
    config: {model: {name: small, parameters: 7B}, training: [{name: p, kind: pretraining, flop: 1e24}]}
    verdict: below
  - name: boundary
    config: {model: {name: edge, parameters: 20B}, training: [{name: p, kind: pretraining, flop: 3e24}]}
    verdict: below
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_builtin_policies_verify_with_their_fixtures() -> None:
    # Fixtures per file (tests: in policies/*.yaml): eu-ai-act 5, eu-downstream 4, eu-gpai 4,
    # kr-ai-basic-act 5, sb1047 4, sb53 4, eo-bio 4, eo-cluster 3, eo 3, ny-raise 5 = 41.
    proc = run_cli("policies", "verify", "policies/")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"PASS: {len(builtin_policies())} policy file(s), 0 invalid; 41 fixture(s), 0 failed" in proc.stdout
    report = verify_paths([ROOT / "policies"])
    assert sorted(f.policy_id for f in report.files) == sorted(builtin_policies())
    assert all(f.fixtures and not f.warnings for f in report.files)
    # Every built-in policy pins both sides of its threshold.
    for f in report.files:
        assert {"above", "below"} <= {t.expected for t in f.fixtures}, f.policy_id


def test_organisation_folder_passes(tmp_path: Path) -> None:
    write(tmp_path, "acme-review.yaml", ACME)
    proc = run_cli("policies", "verify", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok (acme-review, 3 fixtures)" in proc.stdout


def test_a_fixture_with_another_verdict_exits_1_at_its_line(tmp_path: Path) -> None:
    # 1e24 <= 3e24 is below, not above: the fixture is wrong (or the threshold moved).
    text = ACME.replace("flop: 1e24}]}\n    verdict: below", "flop: 1e24}]}\n    verdict: above")
    path = write(tmp_path, "acme-review.yaml", text)
    proc = run_cli("policies", "verify", str(tmp_path))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (f"{path}:{line_of(text, '- name: small')}: fixture 'small': expected above, got below "
            "(counted 1.000e24 against > 3.000e24)") in proc.stdout
    assert "FAIL: 1 policy file(s), 0 invalid; 3 fixture(s), 1 failed" in proc.stdout


def test_a_fixture_decided_by_another_rule_fails(tmp_path: Path) -> None:
    # A second rule (more than 1e24 of fine-tuning) decides 2e24 of fine-tuning; the fixture names big-run.
    rule = """  - {id: big-ft, description: "More than 1e24 of fine-tuning.", metric: modification_flop,
     threshold: 1.0e+24, comparison: gt, counts: [fine-tuning], citation: "RSP §3.2"}
"""
    text = ACME.replace("accounting:", rule + "accounting:") + """  - name: fine-tune
    config: {model: {name: ft, parameters: 7B}, training: [{name: f, kind: fine-tuning, flop: 2e24}]}
    verdict: above
    rule: big-run
"""
    write(tmp_path, "acme-review.yaml", text)
    report = verify_paths([tmp_path])
    (bad,) = [t for t in report.files[0].fixtures if not t.ok]
    assert (bad.name, bad.got, bad.got_rule) == ("fine-tune", "above", "big-ft")
    assert report.exit_code == 1


def test_schema_errors_exit_2_at_their_line(tmp_path: Path) -> None:
    text = ACME.replace("short_name:", "threshold: 5\nshort_name:")
    path = write(tmp_path, "acme-review.yaml", text)
    proc = run_cli("policies", "verify", str(tmp_path))
    assert proc.returncode == 2
    assert f"{path}:{line_of(text, 'threshold: 5')}:1: error: threshold: unknown key 'threshold'" in proc.stdout


def test_every_file_is_reported_not_only_the_first(tmp_path: Path) -> None:
    # One invalid file, one with a failing fixture, one good: worst exit code 2, all three listed.
    write(tmp_path, "a-bad.yaml", "id: [not, a, policy]\n")
    write(tmp_path, "b-wrong.yaml", ACME.replace("id: acme-review", "id: acme-b")
          .replace("flop: 5e24}]}\n    verdict: above", "flop: 5e24}]}\n    verdict: below"))
    write(tmp_path, "c-good.yaml", ACME.replace("id: acme-review", "id: acme-c"))
    report = verify_paths([tmp_path])
    assert [f.exit_code for f in report.files] == [2, 1, 0]
    assert report.exit_code == 2
    data = json.loads(run_cli("policies", "verify", "--format", "json", str(tmp_path)).stdout)
    assert [f["exit_code"] for f in data["files"]] == [2, 1, 0]
    assert data["files"][1]["fixtures"][0] == {
        "name": "big", "line": line_of(ACME, "- name: big"), "ok": False, "expected": "below", "got": "above",
        "expected_rule": None, "rule": "big-run", "detail": "counted 5.000e24 against > 3.000e24",
        "reasons": data["files"][1]["fixtures"][0]["reasons"]}


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    write(tmp_path, "one.yaml", ACME)
    second = write(tmp_path, "two.yaml", ACME)
    report = verify_paths([tmp_path])
    (err,) = report.files[1].errors
    assert err.file == str(second) and err.line == line_of(ACME, "id: acme-review")
    assert "already defined by" in err.message and "one.yaml" in err.message


def test_shadowing_a_builtin_needs_overrides(tmp_path: Path) -> None:
    text = ACME.replace("id: acme-review", "id: us-ca-sb53")
    write(tmp_path, "sb53.yaml", text)
    (err,) = verify_paths([tmp_path]).files[0].errors
    assert "is the id of a built-in policy" in err.message and "overrides: us-ca-sb53" in err.message
    write(tmp_path, "sb53.yaml", text.replace("id: us-ca-sb53", "id: us-ca-sb53\noverrides: us-ca-sb53"))
    assert verify_paths([tmp_path]).exit_code == 0
    # Two files standing for the same built-in: one would hide the other.
    write(tmp_path, "sb53-bis.yaml", text.replace("id: us-ca-sb53", "id: acme-sb53\noverrides: us-ca-sb53"))
    report = verify_paths([tmp_path])
    assert report.exit_code == 2
    assert "'us-ca-sb53' is already defined by" in report.files[1].errors[0].message


def test_sources_and_dates(tmp_path: Path) -> None:
    text = (ACME.replace('url: "https://intranet.example/rsp"', 'url: "RSP.pdf"')
            .replace('citation: "RSP §3.1"', 'citation: " "')
            .replace("effective: 2026-02-01", "effective: 2025-12-01")
            .replace('version: "2026-01-15"', 'version: "2026-02-30"'))
    path = write(tmp_path, "acme-review.yaml", text)
    errors = verify_paths([tmp_path]).files[0].errors
    got = sorted((e.line, e.message.split(":")[0]) for e in errors)
    assert got == sorted([
        (line_of(text, "RSP.pdf"), "citations[0].url"),
        (line_of(text, 'citation: " "'), "rules[0].citation"),
        (line_of(text, "lifecycle:"), "lifecycle.effective"),
        (line_of(text, 'version: "'), "version"),
    ])
    assert all(e.file == str(path) for e in errors)


def test_fixture_problems_point_into_the_policy_file(tmp_path: Path) -> None:
    # An unknown key in a fixture's config, a fixture naming a rule the policy lacks, a name used twice.
    text = (ACME.replace("name: small, parameters: 7B}", "name: small, parameters: 7B, size: 3}")
            + """  - name: big
    config: {model: {name: x, parameters: 1B}, training: [{name: p, kind: pretraining, flop: 1e20}]}
    verdict: below
    rule: no-such-rule
""")
    path = write(tmp_path, "acme-review.yaml", text)
    report = verify_paths([tmp_path])
    messages = {(e.line, e.message.split(":")[0]) for e in report.files[0].errors}
    assert (line_of(text, "size: 3"), "model.size") in messages
    assert (line_of(text, "rule: no-such-rule"), "tests[3].rule") in messages
    assert (line_of(text[text.index("flop: 3e24"):], "- name: big") + line_of(text, "flop: 3e24") - 1,
            "tests[3].name") in messages
    assert all(e.file == str(path) for e in report.files[0].errors)
    assert report.exit_code == 2


def test_no_fixtures_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    data = yaml.safe_load(ACME)
    del data["tests"]
    write(tmp_path, "acme-review.yaml", yaml.safe_dump(data, sort_keys=False))
    report = verify_paths([tmp_path])
    assert report.exit_code == 0 and "no fixtures" in report.files[0].warnings[0]


def test_missing_or_empty_folder_exits_2(tmp_path: Path) -> None:
    proc = run_cli("policies", "verify", str(tmp_path))
    assert proc.returncode == 2 and "no policy files" in proc.stderr
    proc = run_cli("policies", "verify", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "no such file or folder" in proc.stderr
