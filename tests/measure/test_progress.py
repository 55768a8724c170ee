"""The progress line: phases drawn on a terminal's stderr, erased at the end; nothing elsewhere."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from flopaudit.cli.profile import profile as profile_command
from flopaudit.measure import ModelSource, profile, progress
from tests.measure.conftest import ROOT, ConfigFile
from tests.measure.test_hf_models import LLAMA

ERASE_LINE = "\x1b[2K"
#: a measured config of the tiny Llama (its config.json written next to it by the test)
TINY_MEASURED = """
model:
  name: tiny llama
  hf_config: config.json
training:
  - {name: pretraining, kind: pretraining, tokens: 1B, sequence_length: 16}
as_of: 2026-11-27
"""
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def terminal() -> tuple[Console, io.StringIO]:
    """A rich console that believes it writes to a terminal, and what it wrote."""
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=200, color_system=None), buffer


def visible_lines(raw: str) -> list[str]:
    """Each state the line was drawn in, control codes removed (spinner and clock dropped)."""
    states = []
    for part in raw.replace("\n", "\r").split("\r"):
        text = CONTROL.sub("", part).strip()
        text = re.sub(r"^\S ", "", text)          # the spinner
        text = re.sub(r" \d+:\d\d:\d\d$", "", text)  # the elapsed time
        if text and (not states or states[-1] != text):
            states.append(text)
    return states


def test_phases_are_drawn_nested_and_erased_at_the_end() -> None:
    console, buffer = terminal()
    with progress.shown(console, delay=0):
        with progress.phase("counting llama.json"):
            with progress.phase("building LlamaForCausalLM on fake tensors"):
                pass
            with progress.phase("forward"):
                progress.update("forward: layer 2 of 126")
    raw = buffer.getvalue()
    assert visible_lines(raw) == ["counting llama.json",
                                  "counting llama.json > building LlamaForCausalLM on fake tensors",
                                  "counting llama.json",
                                  "counting llama.json > forward",
                                  "counting llama.json > forward: layer 2 of 126",
                                  "counting llama.json"]
    # transient: after the last drawing, the line is erased and nothing is written after it
    tail = raw[raw.rindex("counting llama.json"):]
    assert tail.endswith(ERASE_LINE)


def test_a_measurement_shorter_than_the_delay_draws_nothing() -> None:
    console, buffer = terminal()
    with progress.shown(console, delay=60):
        with progress.phase("counting llama.json"):
            pass
    assert buffer.getvalue() == ""


def test_a_measurement_longer_than_the_delay_is_drawn_once_the_delay_passes() -> None:
    import time

    console, buffer = terminal()
    with progress.shown(console, delay=0.05):
        with progress.phase("counting llama.json"):
            time.sleep(1.0)  # twenty times the delay: the timer has drawn the line
            drawn = buffer.getvalue()
    assert visible_lines(drawn) == ["counting llama.json"]
    assert buffer.getvalue().endswith(ERASE_LINE)


def test_no_terminal_no_display(monkeypatch) -> None:
    stream = io.StringIO()  # isatty() is False, as for a pipe or a CI log
    monkeypatch.setattr(sys, "stderr", stream)
    with progress.shown(delay=0):
        with progress.phase("counting llama.json"):
            assert progress._display is None
    assert stream.getvalue() == ""


def test_a_real_count_shows_its_phases_and_counts_the_same(config_file: ConfigFile) -> None:
    path = config_file(LLAMA)
    console, buffer = terminal()
    with progress.shown(console, delay=0):
        shown = profile(ModelSource(hf_config=path), seq_len=16, batch=2, by_module_depth=1)
    plain = profile(ModelSource(hf_config=path), seq_len=16, batch=2, by_module_depth=1)
    states = visible_lines(buffer.getvalue())
    assert "counting config.json > building LlamaForCausalLM on fake tensors" in states
    assert "counting config.json > forward" in states
    # layer 1 runs; layer 2 is its identical copy, credited without running, so never shown
    assert "counting config.json > forward: layer 1 of 2" in states
    assert "counting config.json > forward: layer 2 of 2" not in states
    assert "counting config.json > backward" in states
    # two identical layers: the first is counted alone and credited to the second (reuse)
    assert "counting config.json > counting model.layers.0 alone, for 1 identical layer" in states
    assert (shown.forward_flop, shown.backward_flop) == (plain.forward_flop, plain.backward_flop)
    assert (shown.by_operator, shown.by_module) == (plain.by_operator, plain.by_module)


def test_every_layer_is_shown_when_every_layer_runs(config_file: ConfigFile) -> None:
    path = config_file(LLAMA)
    console, buffer = terminal()
    with progress.shown(console, delay=0):
        profile(ModelSource(hf_config=path), seq_len=16, batch=2, by_module_depth=0, reuse_layers=False)
    states = visible_lines(buffer.getvalue())
    assert [s for s in states if "layer" in s] == ["counting config.json > forward: layer 1 of 2",
                                                   "counting config.json > forward: layer 2 of 2"]


def test_cli_profile_without_a_terminal_keeps_stderr_clean(config_file: ConfigFile) -> None:
    path = config_file(LLAMA)
    outcome = CliRunner().invoke(profile_command, ["--hf-config", str(path), "--seq-len", "16",
                                                   "--format", "json"], catch_exceptions=False)
    assert outcome.exit_code == 0
    assert outcome.stderr == ""
    assert json.loads(outcome.stdout)["model"] == "LlamaForCausalLM"


def on_a_terminal(*args: str) -> tuple[str, bytes]:
    """Run ``flopaudit ARGS`` with a real terminal (a pty) as stderr: what it drew there, and stdout."""
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    child = subprocess.Popen([sys.executable, "-m", "flopaudit", *args], cwd=ROOT, env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    drawn = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        drawn.append(chunk)
    stdout = child.stdout.read()
    assert child.wait(timeout=120) in (0, 1)
    os.close(leader)
    return b"".join(drawn).decode(), stdout


def test_cli_profile_on_a_terminal_draws_on_stderr_only(config_file: ConfigFile) -> None:
    """The line is drawn on the terminal and erased; stdout is pure JSON.

    Importing torch and transformers alone takes over the 1 s delay, so the line appears.
    """
    path = config_file(LLAMA)
    raw, stdout = on_a_terminal("profile", "--hf-config", str(path), "--seq-len", "16", "--format", "json")
    assert any(state.startswith("counting config.json") for state in visible_lines(raw))
    assert raw.endswith(ERASE_LINE)
    assert json.loads(stdout)["model"] == "LlamaForCausalLM"  # nothing of the line on stdout


def test_measured_check_on_a_terminal_draws_the_count(config_file: ConfigFile, tmp_path: Path) -> None:
    config_file(LLAMA)
    measured = tmp_path / "tiny.yaml"
    measured.write_text(TINY_MEASURED)
    raw, stdout = on_a_terminal("check", str(measured), "--format", "json")
    assert "counting config.json > building LlamaForCausalLM on fake tensors" in visible_lines(raw)
    assert raw.endswith(ERASE_LINE)
    assert json.loads(stdout)["stages"][0]["method"] == "measured"


def test_measured_check_and_report_without_a_terminal_keep_stderr_clean(config_file: ConfigFile,
                                                                        tmp_path: Path) -> None:
    from flopaudit.cli.check import check
    from flopaudit.cli.report import report

    config_file(LLAMA)
    measured = tmp_path / "tiny.yaml"
    measured.write_text(TINY_MEASURED)
    checked = CliRunner().invoke(check, [str(measured), "--format", "json"], catch_exceptions=False)
    assert checked.exit_code in (0, 1) and checked.stderr == ""
    assert json.loads(checked.stdout)["stages"][0]["method"] == "measured"
    reported = CliRunner().invoke(report, [str(measured), "-o", str(tmp_path / "r.html")], catch_exceptions=False)
    assert reported.exit_code == 0 and reported.stderr == ""
    assert (tmp_path / "r.html").stat().st_size > 0
