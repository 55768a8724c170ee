"""The text output in a real terminal (a pseudo-terminal sized with TIOCSWINSZ) at 80 and 200 columns.

Issue 12, item 7: the output adapts to the terminal's width, never splits a number and never cuts
an id. The check compares the words that hold a digit or are ids (``1.80e25``, ``(+0.8``,
``2027-06-30``, ``eu-ai-act-systemic-risk``, ``notify-commission``) with the same command's output
at 1,000 columns, where nothing wraps: a number or id broken across lines would be missing from
the terminal's words. Each table cell is printed once in either layout (table or one block per
row), so the counts must be equal.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from collections import Counter

import pytest
from rich.cells import cell_len

from tests.conftest import ROOT, run_cli

CONFIGS = ("tests/golden/configs/crossing.yaml", "tests/golden/configs/undecided.yaml")
POLICIES = ("--policy", "eu-ai-act-systemic-risk", "--policy", "eu-gpai-indicative", "--policy", "us-ca-sb53")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_BOX = re.compile("[\u2500-\u257f]")


def in_terminal(columns: int, *args: str) -> str:
    """What ``flopaudit ARGS`` shows on a terminal ``columns`` wide (colours stripped)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen([sys.executable, "-m", "flopaudit", *args], cwd=ROOT, env=env,
                            stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) in (0, 1)
    return _ANSI.sub("", b"".join(chunks).decode("utf-8").replace("\r\n", "\n"))


def wide(*args: str) -> str:
    """The same output at 1,000 columns (a pipe with $COLUMNS), where nothing wraps."""
    proc = run_cli(*args, env={"COLUMNS": "1000"})
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def words(text: str, ids: set[str]) -> Counter[str]:
    """The words holding a digit, and the ids, with how often each occurs."""
    return Counter(w for w in _BOX.sub(" ", text).split() if any(ch.isdigit() for ch in w) or w in ids)


def check_ids() -> set[str]:
    data = json.loads(run_cli("check", *CONFIGS, *POLICIES, "--format", "json").stdout)
    found: set[str] = set()

    def walk(node: object) -> None:  # every policy id and obligation id the results name
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("policy", "id") and isinstance(value, str) and "-" in value:
                    found.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(data)
    return found


@pytest.mark.parametrize("columns", [80, 200])
def test_check_in_a_terminal_breaks_no_number_and_no_id(columns: int) -> None:
    ids = check_ids() | {"notify-commission", "systemic-risk-obligations", "gpai-provider-obligations"}
    shown = in_terminal(columns, "check", *CONFIGS, *POLICIES)
    reference = wide("check", *CONFIGS, *POLICIES)
    assert all(cell_len(line) <= columns for line in shown.splitlines()), "a line is wider than the terminal"
    expected = words(reference, ids)
    got = words(shown, ids)
    missing = {w: n - got[w] for w, n in expected.items() if got[w] < n}
    assert not missing, f"broken across lines at {columns} columns: {missing}"
    # the ids and figures are there at all: 1.80e25 (6 x 100e9 x 30e12) and the band 8.00e24..1.20e25
    assert expected["eu-ai-act-systemic-risk"] >= 2 and expected["1.80e25"] >= 2
    assert expected["(8.00e24..1.20e25)"] >= 2
    # with two configs, each verdict line names its config, and a last line counts them
    assert "tests/golden/configs/crossing.yaml: FAIL: crossed: eu-ai-act-systemic-risk" in shown
    assert "tests/golden/configs/undecided.yaml: FAIL: undecided: eu-ai-act-systemic-risk" in shown
    assert "2 configs checked: 2 failed, 0 passed (exit 1)" in " ".join(shown.split())


def test_check_uses_the_terminal_width() -> None:
    # the policy table's row is as wide as the terminal allows at 200 columns, but fits 120 in a pipe
    at_200 = in_terminal(200, "check", CONFIGS[0], *POLICIES)
    piped = run_cli("check", CONFIGS[0], *POLICIES).stdout
    assert max(map(cell_len, at_200.splitlines())) > 120 >= max(map(cell_len, piped.splitlines()))


@pytest.mark.parametrize("columns", [80, 200])
def test_policies_in_a_terminal_cut_no_id(columns: int) -> None:
    listed = json.loads(run_cli("policies", "--as-of", "2026-11-27", "--format", "json").stdout)["policies"]
    ids = {p["id"] for p in listed}
    shown = in_terminal(columns, "policies", "--as-of", "2026-11-27")
    assert all(cell_len(line) <= columns for line in shown.splitlines())
    got = words(shown, ids)
    # each id once, whole; each threshold figure as often as at 1,000 columns
    assert all(got[i] == 1 for i in ids), {i: got[i] for i in ids}
    expected = words(wide("policies", "--as-of", "2026-11-27"), ids)
    assert got == expected
    # statuses are spelt as words, as in check ("in force"), never as the JSON value
    assert "in force" in shown and "in-force" not in shown
    assert {p["status"] for p in listed} >= {"in-force", "revoked"}
