"""The sample reports in reports/ are what ``make reports`` (python -m flopaudit.render.samples) writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_example_has_a_sample_report(sample_reports: dict[str, str]) -> None:
    examples = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))
    assert sorted(k.removeprefix("reports/").removesuffix(".html") for k in sample_reports) == \
        sorted([*examples, "compare"])


def test_sample_reports_are_up_to_date(sample_reports: dict[str, str]) -> None:
    stale = [rel for rel, text in sample_reports.items()
             if not (ROOT / rel).is_file() or (ROOT / rel).read_text(encoding="utf-8") != text]
    assert not stale, f"stale sample reports {stale}: run 'make reports'"


def test_samples_are_deterministic_across_processes() -> None:
    # A fresh interpreter with another hash seed must produce the very same bytes.
    proc = subprocess.run([sys.executable, "-m", "flopaudit.render.samples", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={"PYTHONHASHSEED": "12345", "PATH": ""})
    assert proc.returncode == 0, proc.stdout + proc.stderr
