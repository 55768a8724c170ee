"""examples/train_ddp.py under torchrun with 2 processes (gloo, CPU): the ledger's totals, resume,
a rank killed mid-run, and the per-step FLOP against ``flopaudit profile`` of the same model.

Per rank and step the model (examples/train_ddp.py: embedding 64 x 32, up 32 -> 64, down 64 -> 32,
head 32 -> 64) runs a micro-batch of T = 4 x 16 = 64 tokens. Each Linear is 2 * 64 * 32 * 64 =
262,144 FLOP forward, and twice that backward (input and weight gradients: the input of ``up``
is the embedding's output, which needs a gradient), so a step is 3 * 262,144 * 3 = 2,359,296
FLOP per rank; the embedding lookup, ReLU, residual add, loss and AdamW update are 0 by convention.
Two ranks: 4,718,592 FLOP per step.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flopaudit.ledger import read_ledger

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "train_ddp.py"
PER_RANK = 3 * 262_144 * 3  # 2,359,296 (module docstring)
PER_STEP = 2 * PER_RANK  # 4,718,592
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
            f"--master_port={_port()}", str(EXAMPLE), *args]


def _torchrun(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(_command(*args), cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _step_records(ledger: Path) -> list[dict[str, object]]:
    lines = ledger.read_bytes().split(b"\n")
    return [r for r in (json.loads(line) for line in lines if line) if r["type"] == "step"]


def test_ten_steps_then_resumed_to_fifteen(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    _torchrun("--steps", "10", "--ledger", str(ledger))
    first = read_ledger(ledger)
    assert first.steps == 10 and first.ranks == 2 and (first.first_step, first.last_step) == (1, 10)
    assert first.flop_per_step == PER_STEP
    assert first.total_flop == 10 * PER_STEP  # 47,185,920
    _torchrun("--steps", "15", "--ledger", str(ledger), "--resume")
    resumed = read_ledger(ledger)
    assert resumed.steps == 15 and resumed.starts == 2 and resumed.last_step == 15
    assert resumed.total_flop - first.total_flop == 5 * PER_STEP  # exactly 5 more steps' worth
    assert [r["step"] for r in _step_records(ledger)] == list(range(1, 16))


def test_per_step_flop_equals_flopaudit_profile_times_ranks(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    _torchrun("--steps", "2", "--ledger", str(ledger), "--no-reuse")
    profiled = subprocess.run([sys.executable, "-m", "flopaudit", "profile", "--factory", "train_ddp:build_model",
                               "--seq-len", "16", "--batch", "4", "--device", "cpu", "--format", "json"],
                              cwd=EXAMPLE.parent, env=ENV, capture_output=True, text=True, timeout=240)
    assert profiled.returncode == 0, profiled.stderr
    result = json.loads(profiled.stdout)
    per_rank = result["forward_flop"] + result["backward_flop"]
    assert per_rank == PER_RANK
    assert [(r["flop"], r["method"]) for r in _step_records(ledger)] == [(2 * per_rank, "measured")] * 2


def _rank_pids(launcher: int) -> dict[int, int]:
    """RANK -> pid of the launcher's worker processes (their parent and environment, from /proc)."""
    out: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid != launcher:
                continue
            environ = (stat.parent / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # a process that ended meanwhile
        for entry in environ:
            if entry.startswith(b"RANK="):
                out[int(entry[5:])] = int(stat.parent.name)
    return out


@pytest.mark.parametrize("victim", [0, 1])
def test_a_rank_killed_mid_run_then_resumed(tmp_path: Path, victim: int) -> None:
    ledger = tmp_path / "run.jsonl"
    proc = subprocess.Popen(_command("--steps", "1000", "--ledger", str(ledger), "--step-delay", "0.05"),
                            cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if ledger.exists() and ledger.read_bytes().count(b'"type":"step"') >= 4:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run recorded no steps in time")
        os.kill(_rank_pids(proc.pid)[victim], signal.SIGKILL)
        assert proc.wait(timeout=120) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    crashed = read_ledger(ledger)  # still parses (a torn last line would be ignored)
    assert crashed.steps >= 4 and crashed.total_flop == crashed.steps * PER_STEP
    final = crashed.last_step + 3
    _torchrun("--steps", str(final), "--ledger", str(ledger), "--resume")
    resumed = read_ledger(ledger)
    records = _step_records(ledger)
    numbers = [r["step"] for r in records]
    assert numbers == list(range(1, final + 1))  # no step twice, none lost
    assert resumed.total_flop == sum(r["flop"] for r in records) == final * PER_STEP


def test_a_second_job_on_a_running_ledger_is_refused(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    log = tmp_path / "first.log"
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall the job
        first = subprocess.Popen(_command("--steps", "150", "--ledger", str(ledger), "--step-delay", "0.05"),
                                 cwd=ROOT, env=ENV, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not (ledger.exists() and b'"type":"step"' in ledger.read_bytes()):
            assert time.monotonic() < deadline and first.poll() is None, "the first job recorded no step"
            time.sleep(0.05)
        # a misconfigured restart: the same ledger while the first job still appends to it
        second = subprocess.run(_command("--steps", "150", "--ledger", str(ledger), "--resume"), cwd=ROOT,
                                env=ENV, capture_output=True, text=True, timeout=240)
        assert first.poll() is None, "the first job ended before the second was refused"
        assert second.returncode != 0
        assert "another process is appending to this ledger" in second.stderr
        assert first.wait(timeout=240) == 0, log.read_text()[-3000:]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    summary = read_ledger(ledger)
    # the first job's records alone: one start, steps 1..150 once each
    assert summary.starts == 1 and [r["step"] for r in _step_records(ledger)] == list(range(1, 151))
    assert summary.total_flop == 150 * PER_STEP
