"""The ledger file: one locked appender at a time, whole lines, a torn tail cut off on reopening."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flopaudit.errors import LedgerError
from flopaudit.ledger import read_ledger, records
from flopaudit.ledger.file import LedgerFile

ROOT = Path(__file__).resolve().parents[2]
THREE = Path(__file__).parent / "data" / "three-steps.jsonl"

# A second process that opens the ledger, says so, and holds it until its stdin closes.
HOLDER = """
import sys
from flopaudit.ledger.file import LedgerFile
with LedgerFile.open(sys.argv[1]):
    print("holding", flush=True)
    sys.stdin.read()
"""


def _holder(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    return proc


def test_a_second_process_is_refused_while_the_first_appends(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    ledger.write_bytes(THREE.read_bytes())
    before = ledger.read_bytes()
    holder = _holder(ledger)
    try:
        with pytest.raises(LedgerError, match="another process is appending") as info:
            LedgerFile.open(ledger)
        assert info.value.file == str(ledger)
        assert ledger.read_bytes() == before  # nothing written, nothing cut
    finally:
        holder.communicate("", timeout=30)
    # once the holder has closed it, the ledger opens again
    with LedgerFile.open(ledger) as opened:
        assert opened.state.last_step == 3


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    holder = _holder(ledger)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    with LedgerFile.open(ledger) as opened:
        assert opened.state.steps == 0


def test_open_cuts_a_torn_tail_and_appends_whole_lines(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    torn = b'{"type":"step","step":4,"fl'
    ledger.write_bytes(THREE.read_bytes() + torn)
    with LedgerFile.open(ledger) as opened:
        assert opened.cut == len(torn)
        assert opened.state.last_step == 3 and opened.state.total_flop == 3600
        record = {"type": "step", "step": 4, "flop": 400, "ranks": 2, "time": "2026-01-05T11:00:09+00:00",
                  "step_seconds": 4.0, "total_flop": 4000, "method": "reused"}
        opened.append(record)
    # the torn bytes are gone: the old lines, then the new record as one whole line
    assert ledger.read_bytes() == THREE.read_bytes() + records.encode(record)
    # 3600 + 400 = 4000 over 4 steps
    summary = read_ledger(ledger)
    assert summary.steps == 4 and summary.total_flop == 4000 and not summary.torn_tail


def test_encode_is_one_line() -> None:
    line = records.encode({"type": "step", "note": "a\nb"})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
