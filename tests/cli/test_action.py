"""Issue 10 item 9: the GitHub Action (action.yml), read statically and its bash run for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = ACTION["runs"]["steps"]
RUN_STEPS = [s for s in STEPS if "run" in s]
LLAMA = ROOT / "examples" / "llama-3.1-405b.yaml"  # crosses the EU's 1e25 on its as_of: exit 1


def step(name: str) -> dict[str, Any]:
    return next(s for s in STEPS if s.get("name") == name)


def unquoted_expansions(script: str) -> list[str]:
    """``$NAME`` / ``${...}`` outside double quotes, ``[[ ]]`` and ``(( ))`` (where bash would split and glob)."""
    found = []
    for line in script.splitlines():
        code = re.sub(r"\[\[.*?\]\]|\(\(.*?\)\)", "", line)
        state = None
        i = 0
        while i < len(code):
            ch = code[i]
            if state is None and ch == "#" and (i == 0 or code[i - 1] in " \t"):
                break
            if ch == "\\" and state != "'":
                i += 2
                continue
            if ch in "'\"" and state in (None, ch):
                state = None if state == ch else ch
            elif ch == "$" and state is None and i + 1 < len(code) and re.match(r"[A-Za-z_{]", code[i + 1]):
                found.append(re.match(r"\$(\{[^}]*\}|\w+)", code[i:]).group(0))
            i += 1
    return found


def test_no_expression_is_interpolated_into_a_script() -> None:
    # ${{ }} in run: would paste an input into the script before bash parses it (script injection).
    for s in RUN_STEPS:
        assert "${{" not in s["run"], s.get("name")
        assert s["shell"] == "bash"
        assert s["run"].startswith("set -euo pipefail\n")


def test_every_input_reaches_a_step_through_env_or_with() -> None:
    used = set()
    for s in STEPS:
        for value in [*s.get("env", {}).values(), *s.get("with", {}).values(), s.get("if", "")]:
            used |= set(re.findall(r"inputs\.([\w-]+)", str(value)))
    assert used == set(ACTION["inputs"])
    # Each env variable set from an input is used by its script, always inside double quotes.
    for s in RUN_STEPS:
        for var in s.get("env", {}):
            assert f'"${var}' in s["run"] or f'"$ACTION_PATH[' in s["run"], var


def test_scripts_quote_every_expansion_and_parse() -> None:
    for s in RUN_STEPS:
        assert unquoted_expansions(s["run"]) == [], s.get("name")
        assert subprocess.run(["bash", "-n"], input=s["run"], text=True).returncode == 0
    # The checker itself finds an unquoted expansion (the old action's `flopaudit check $CONFIGS $ARGS`).
    assert unquoted_expansions('flopaudit check $CONFIGS $ARGS --fail-on "$FAIL_ON"') == ["$CONFIGS", "$ARGS"]


def test_one_audit_run_and_the_outputs() -> None:
    script = step("flopaudit check")["run"]
    assert len(re.findall(r"^flopaudit check ", script, re.M)) == 1
    assert ACTION["outputs"]["exit-code"]["value"] == "${{ steps.check.outputs.exit-code }}"
    assert ACTION["outputs"]["verdicts-json"]["value"] == "${{ steps.check.outputs.verdicts-json }}"
    upload = step("Upload SARIF")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["if"].startswith("always() && ")


class Runner:
    """A fake runner: $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY and $RUNNER_TEMP files, flopaudit on PATH."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.bin = tmp / "bin"
        self.bin.mkdir()
        # The real flopaudit of this checkout, and this interpreter as the runner's python.
        (self.bin / "flopaudit").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m flopaudit "$@"\n')
        (self.bin / "flopaudit").chmod(0o755)
        (self.bin / "python").symlink_to(sys.executable)
        self.output = tmp / "github_output"
        self.summary = tmp / "step_summary.md"
        self.work = tmp / "work"
        self.work.mkdir()
        (tmp / "runner_temp").mkdir()

    def run(self, name: str, **inputs: str) -> subprocess.CompletedProcess[str]:
        s = step(name)
        env = {"PATH": f"{self.bin}{os.pathsep}/usr/bin{os.pathsep}/bin", "PYTHONPATH": str(ROOT),
               "GITHUB_OUTPUT": str(self.output), "GITHUB_STEP_SUMMARY": str(self.summary),
               "RUNNER_TEMP": str(self.tmp / "runner_temp"), "HOME": str(self.tmp)}
        # The env: block with each ${{ inputs.x }} replaced by the input's value (or its default).
        for var, expr in s["env"].items():
            key = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", expr)
            if key:
                env[var] = inputs.get(key.group(1).replace("-", "_"), ACTION["inputs"][key.group(1)].get("default", ""))
            else:
                env[var] = inputs["action_path"]
        return subprocess.run(["bash", "-c", s["run"]], cwd=self.work, env=env, capture_output=True, text=True,
                              timeout=300)

    def outputs(self) -> dict[str, str]:
        return dict(line.split("=", 1) for line in self.output.read_text().splitlines())


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


def test_the_check_step_quotes_paths_and_arguments(runner: Runner) -> None:
    runs = runner.work / "my runs"
    runs.mkdir()
    # A config whose name is a glob, beside one that glob would match: only the named file is checked.
    shutil.copy(LLAMA, runs / "llama *.yaml")
    shutil.copy(LLAMA, runs / "llama a.yaml")
    proc = runner.run("flopaudit check", configs="\n  my runs/llama *.yaml  \n\n",
                      args='--policy "eu-ai-act-systemic-risk" --as-of 2026-11-27',
                      sarif="out dir/fa.sarif", report="out dir/report.html")
    assert proc.returncode == 1, proc.stderr
    out = runner.outputs()
    assert out["exit-code"] == "1" and out["sarif-file"] == "out dir/fa.sarif"
    # One config, one policy (--policy given): EU systemic risk crossed, in force on 2026-11-27.
    assert json.loads(out["verdicts-json"]) == [{"config": "my runs/llama *.yaml", "policy": "eu-ai-act-systemic-risk",
                                                  "verdict": "above", "status": "in-force", "gates": True}]
    assert proc.stdout.startswith("::error file=my runs/llama *.yaml,line=")
    assert runner.summary.read_text().startswith("# flopaudit")
    sarif = json.loads((runner.work / "out dir" / "fa.sarif").read_text())
    assert sarif["runs"][0]["invocations"][0]["exitCode"] == 1
    assert (runner.work / "out dir" / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_a_config_that_cannot_be_judged_exits_2_with_outputs(runner: Runner) -> None:
    (runner.work / "bad.yaml").write_text("model:\n  name: X\n  parameters: 70Q\ntraining: []\n")
    proc = runner.run("flopaudit check", configs="bad.yaml")
    assert proc.returncode == 2
    assert runner.outputs() == {"exit-code": "2", "verdicts-json": "null"}
    # parameters: is line 3 of bad.yaml.
    assert proc.stdout.startswith("::error file=bad.yaml,line=3,title=flopaudit%3A could not judge")


def test_annotations_and_outputs_survive_a_report_that_cannot_be_written(runner: Runner) -> None:
    shutil.copy(LLAMA, runner.work / "c.yaml")
    (runner.work / "taken").write_text("a file, not a folder")
    proc = runner.run("flopaudit check", configs="c.yaml", report="taken/report.html")
    assert proc.returncode == 2 and "cannot write" in proc.stderr
    assert proc.stdout.startswith("::error file=c.yaml,")
    out = runner.outputs()
    assert out["exit-code"] == "2" and json.loads(out["verdicts-json"])[0]["config"] == "c.yaml"
    assert runner.summary.read_text().startswith("# flopaudit")


def test_fail_on_and_upload_sarif_defaults(runner: Runner) -> None:
    shutil.copy(LLAMA, runner.work / "c.yaml")
    proc = runner.run("flopaudit check", configs="c.yaml", fail_on="never", upload_sarif="true")
    assert proc.returncode == 0, proc.stderr  # --fail-on never: crossed, yet the gate passes
    assert runner.outputs()["sarif-file"] == "flopaudit.sarif"
    assert (runner.work / "flopaudit.sarif").is_file()


@pytest.mark.parametrize(("inputs", "message"), [
    ({"configs": "\n \n"}, "input configs names no file"),
    ({"configs": "c.yaml", "args": '--policy "unclosed'}, "input args cannot be split"),
])
def test_bad_inputs_exit_2_with_an_annotation(runner: Runner, inputs: dict[str, str], message: str) -> None:
    proc = runner.run("flopaudit check", **inputs)
    assert proc.returncode == 2 and proc.stdout.startswith(f"::error title=flopaudit::{message}")
    assert runner.outputs()["exit-code"] == "2"


def test_the_install_step_quotes_the_path_and_checks_extras(runner: Runner, tmp_path: Path) -> None:
    # A python that records its arguments instead of installing (the step's quoting is what is tested).
    (runner.bin / "python").unlink()
    log = tmp_path / "python-args"
    (runner.bin / "python").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{log}"\n')
    (runner.bin / "python").chmod(0o755)
    proc = runner.run("Install flopaudit", action_path="/actions/flop audit", extras="measure,hf")
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().splitlines() == ["-m", "pip", "install", "--quiet", "/actions/flop audit[measure,hf]"]
    log.unlink()
    proc = runner.run("Install flopaudit", action_path="/a", extras="measure] ; touch pwned #")
    assert proc.returncode == 2 and "input extras must be comma-separated names" in proc.stdout
    assert not log.exists()


def test_the_workflow_example_uses_only_inputs_and_outputs_the_action_has() -> None:
    flow = yaml.safe_load((ROOT / "examples" / "ci" / "flopaudit.yml").read_text())
    steps = flow["jobs"]["compute-gate"]["steps"]
    gate = next(s for s in steps if s.get("id") == "flopaudit")
    assert set(gate["with"]) <= set(ACTION["inputs"])
    assert "security-events" in flow["permissions"]  # needed by the upload-sarif step
    used = {m for s in steps for v in s.get("env", {}).values()
            for m in re.findall(r"steps\.flopaudit\.outputs\.([\w-]+)", v)}
    assert used and used <= set(ACTION["outputs"])
    for s in steps:
        assert "${{" not in s.get("run", "")
