"""Golden outputs: every format of ``check`` for a crossing, a passing, an undecided, a waived and an
expired-waiver config, pinned byte for byte (issue 10, "Done when").

The expected files are ``tests/golden/<config>.<format>``. After a deliberate change of an output,
regenerate them and review the diff::

    FLOPAUDIT_REGEN_GOLDEN=1 PYTHONPATH=$PWD python -m pytest -q tests/cli/test_golden.py

Outputs are deterministic: each config pins ``as_of: 2026-11-27``, the paths are relative to the
repository root, the policies are named on the command line (a new built-in policy does not
change them), and the flopaudit version is replaced by ``<VERSION>`` and the repository's ``file://`` URI (SARIF's
``%SRCROOT%``) by ``file://<ROOT>``.

Figures (6ND, 1 multiply-add = 2 FLOP): crossing/waived/expired-waiver: 6 x 100e9 x 30e12 = 1.8e25
(> 1e25 EU, > 1e23 indicative, < 1e26 SB 53); passing: 6 x 7e9 x 2e12 = 8.4e22 (below all three);
undecided: declared 8e24..1.2e25 straddles 1e25.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from flopaudit import __version__
from tests.conftest import ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"
CONFIGS = "tests/golden/configs"
POLICIES = ("--policy", "eu-ai-act-systemic-risk", "--policy", "eu-gpai-indicative", "--policy", "us-ca-sb53")
FORMATS = {"text": "txt", "json": "json", "markdown": "md", "github": "github", "sarif": "sarif", "junit": "xml"}
#: config -> the exit code every format must give (results.md)
EXIT = {"crossing": 1, "passing": 0, "undecided": 1, "waived": 0, "expired-waiver": 1}
REGEN = os.environ.get("FLOPAUDIT_REGEN_GOLDEN") == "1"


def output(config: str, fmt: str) -> tuple[str, int]:
    proc = run_cli("check", f"{CONFIGS}/{config}.yaml", *POLICIES, "--format", fmt)
    assert proc.stderr == "", proc.stderr
    # the repository's own place on this machine (SARIF's %SRCROOT%) is not part of the output's meaning
    text = proc.stdout.replace(ROOT.resolve().as_uri(), "file://<ROOT>").replace(__version__, "<VERSION>")
    return text, proc.returncode


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("config", EXIT)
def test_golden_output(config: str, fmt: str) -> None:
    text, code = output(config, fmt)
    assert code == EXIT[config], text
    path = GOLDEN / f"{config}.{FORMATS[fmt]}"
    if REGEN:
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} is missing: run with FLOPAUDIT_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{path} differs: review, then FLOPAUDIT_REGEN_GOLDEN=1"


def _github(config: str) -> list[str]:
    return output(config, "github")[0].splitlines()


def test_github_annotations_carry_file_and_line() -> None:
    # model.name is line 3 of each fixture; the waivers start at lines 12 and 16 of waived.yaml.
    crossing = _github("crossing")
    assert crossing[0].startswith(f"::error file={CONFIGS}/crossing.yaml,line=3,title=eu-ai-act-systemic-risk%3A")
    # The indicative criterion is guidance: a warning, never an error.
    assert crossing[1].startswith(f"::warning file={CONFIGS}/crossing.yaml,line=3,title=eu-gpai-indicative%3A")
    waived = _github("waived")
    assert waived[0].startswith(f"::notice file={CONFIGS}/waived.yaml,line=3,title=eu-ai-act-systemic-risk%3A")
    assert "::Waived until 2027-06-30: Notified the AI Office; presumption accepted (AIO-2026-0142)%0A" in waived[0]
    assert f"::warning file={CONFIGS}/waived.yaml,line=12,title=flopaudit%3A waiver::" in "\n".join(waived)
    unmatched = next(x for x in waived if "waiver-unmatched" in x)
    assert unmatched.startswith(f"::warning file={CONFIGS}/waived.yaml,line=16,")
    assert "did you mean 'us-ca-sb53'?" in unmatched
    expired = _github("expired-waiver")
    assert expired[0].startswith(f"::error file={CONFIGS}/expired-waiver.yaml,line=3,")
    assert "Waiver expired on 2026-06-30" in expired[0]
    assert any(x.startswith(f"::warning file={CONFIGS}/expired-waiver.yaml,line=12,title=flopaudit%3A waiver-expired")
               for x in expired)


def _checks(config: str) -> dict[str, dict]:
    return {c["policy"]: c for c in json.loads(output(config, "json")[0])["checks"]}


def test_json_waiver_keeps_the_verdict_and_stops_gating() -> None:
    eu = _checks("waived")["eu-ai-act-systemic-risk"]
    assert (eu["verdict"], eu["gates"], eu["severity"], eu["waiver_expired"]) == ("above", False, "error", None)
    assert eu["waiver"] == {"policy": "eu-ai-act-systemic-risk",
                            "reason": "Notified the AI Office; presumption accepted",
                            "reference": "AIO-2026-0142", "expires": "2027-06-30", "expired": False,
                            "file": f"{CONFIGS}/waived.yaml", "line": 12}
    expired = _checks("expired-waiver")["eu-ai-act-systemic-risk"]
    assert (expired["verdict"], expired["gates"], expired["waiver"]) == ("above", True, None)
    assert expired["waiver_expired"]["expires"] == "2026-06-30" and expired["waiver_expired"]["expired"] is True
    gpai = _checks("crossing")["eu-gpai-indicative"]
    assert (gpai["verdict"], gpai["gates"], gpai["severity"], gpai["severity_source"]) == ("above", False, "warning",
                                                                                          "policy file")


def test_sarif_waiver_is_an_external_suppression() -> None:
    results = json.loads(output("waived", "sarif")[0])["runs"][0]["results"]
    eu = next(r for r in results if r["ruleId"] == "eu-ai-act-systemic-risk")
    assert eu["level"] == "error"  # the verdict's level stays; the suppression is what a dashboard hides
    assert [(s["kind"], s["status"], s["justification"]) for s in eu["suppressions"]] == [
        ("external", "accepted", "Notified the AI Office; presumption accepted (AIO-2026-0142)")]
    gpai = next(r for r in results if r["ruleId"] == "eu-gpai-indicative")
    assert gpai["level"] == "warning" and "suppressions" not in gpai
    expired = json.loads(output("expired-waiver", "sarif")[0])["runs"][0]["results"]
    assert "suppressions" not in next(r for r in expired if r["ruleId"] == "eu-ai-act-systemic-risk")


def test_junit_waived_is_skipped_with_the_reason() -> None:
    suite = ET.fromstring(output("waived", "junit")[0]).find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    eu = next(c for c in suite.iter("testcase") if c.get("name") == "eu-ai-act-systemic-risk")
    skipped = eu.find("skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith(
        "waived until 2027-06-30: Notified the AI Office; presumption accepted (AIO-2026-0142); verdict ABOVE")
    expired = ET.fromstring(output("expired-waiver", "junit")[0]).find("testsuite")
    assert expired is not None and expired.get("failures") == "1"
    failure = next(c for c in expired.iter("testcase") if c.get("name") == "eu-ai-act-systemic-risk").find("failure")
    assert failure is not None and (failure.text or "").startswith("waiver expired on 2026-06-30")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_says_waived_and_expired(fmt: str) -> None:
    assert "2027-06-30" in output("waived", fmt)[0]
    expired = output("expired-waiver", fmt)[0]
    assert "2026-06-30" in expired and "expired" in expired
