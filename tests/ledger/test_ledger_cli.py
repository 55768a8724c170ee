"""``flopaudit ledger show``: text and JSON of a hand-written ledger, a bad ledger, and no torch needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, run_cli

THREE = Path(__file__).parent / "data" / "three-steps.jsonl"

# The extras blocked as if not installed (the pattern of tests/cli/test_without_torch.py).
WITHOUT_TORCH = """
import importlib.abc, sys

class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"torch", "transformers"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
import flopaudit, flopaudit.ledger
if sys.argv[1] == "track":
    from flopaudit.errors import MissingDependencyError
    try:
        flopaudit.track(object(), "x.jsonl")
    except MissingDependencyError as exc:
        print(exc)
else:
    from flopaudit.cli.app import main
    main(sys.argv[1:])
"""


def test_show_json_has_the_summary_keys() -> None:
    done = run_cli("ledger", "show", str(THREE), "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    # tests/ledger/data/three-steps.jsonl: 1000 + 1000 + 1600 FLOP over 3 steps of 2 ranks
    assert (data["steps"], data["ranks"], data["total_flop"], data["flop_per_step"]) == (3, 2, 3600, 1200)
    assert (data["first"], data["last"]) == ("2026-01-05T10:00:02+00:00", "2026-01-05T11:00:05+00:00")
    # 7 planned steps left at 1200: 3600 + 8400
    assert data["projection"]["projected_total_flop"] == 12000


def test_show_text() -> None:
    done = run_cli("ledger", "show", str(THREE))
    assert done.returncode == 0, done.stderr
    lines = {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in done.stdout.splitlines()}
    assert lines["steps"] == "3 (steps 1..3)" and lines["ranks"] == "2"
    assert lines["total FLOP"] == "3600" and lines["FLOP per step"] == "1200"
    assert lines["starts"] == "2 (resumed)"


def test_a_bad_ledger_exits_2_at_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(THREE.read_text().replace('"total_flop":2000', '"total_flop":2500'))
    done = run_cli("ledger", "show", str(bad))
    assert done.returncode == 2
    assert done.stderr.startswith(f"flopaudit: error: {bad}:3: total_flop 2500 of step 2 is not the sum")


def test_reading_a_ledger_needs_no_torch_and_track_names_the_extra() -> None:
    done = subprocess.run([sys.executable, "-c", WITHOUT_TORCH, "ledger", "show", str(THREE)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "3 (steps 1..3)" in done.stdout
    done = subprocess.run([sys.executable, "-c", WITHOUT_TORCH, "track"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("Tracking a training run's compute needs the optional package 'torch', "
                                   "which is not installed (pip install 'flopaudit[measure]')")
