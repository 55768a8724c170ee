"""``flopaudit report`` and ``check --report`` through the real entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real ``flopaudit`` entry point, from the repository root."""
    env = {k: v for k, v in os.environ.items() if k not in ("FLOPAUDIT_DEBUG", "NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([sys.executable, "-m", "flopaudit", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=120)


def test_report_exits_0_whatever_the_verdicts(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    proc = run_cli("report", "examples/llama-3.1-405b.yaml", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert "▲ ABOVE" in text
    assert f"<code>flopaudit report examples/llama-3.1-405b.yaml -o {out}</code>" in text


def test_report_options_are_kept_in_the_command(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    proc = run_cli("report", "examples/near-threshold.yaml", "examples/gpt-3.yaml", "-o", str(out),
                   "--policy", "eu-ai-act-systemic-risk", "--as-of", "2024-01-01", "--method", "6nd", "--timestamp")
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert (f"flopaudit report examples/near-threshold.yaml examples/gpt-3.yaml -o {out} "
            "--policy eu-ai-act-systemic-risk --as-of 2024-01-01 --method 6nd --timestamp") in text
    assert "not yet effective" in text  # the EU AI Act on 2024-01-01
    assert "no timestamp recorded" not in text


def test_report_needs_an_output() -> None:
    proc = run_cli("report", "examples/gpt-3.yaml")
    assert proc.returncode == 2 and "--output" in proc.stderr


def test_report_of_a_bad_config_exits_2(tmp_path: Path) -> None:
    bad = ROOT / "tests" / "config" / "malformed" / "negative.yaml"
    proc = run_cli("report", str(bad), "-o", str(tmp_path / "r.html"))
    assert proc.returncode == 2 and "negative.yaml" in proc.stderr
    assert not (tmp_path / "r.html").exists()


def test_report_to_an_unwritable_place_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_cli("report", "examples/gpt-3.yaml", "-o", str(blocker / "r.html"))
    assert proc.returncode == 2 and "cannot write" in proc.stderr


def test_check_report_keeps_the_gate_exit_code(tmp_path: Path) -> None:
    out = tmp_path / "check.html"
    proc = run_cli("check", "examples/llama-3.1-405b.yaml", "--report", str(out))
    assert proc.returncode == 1
    assert f"<code>flopaudit check examples/llama-3.1-405b.yaml --report {out}</code>" in out.read_text("utf-8")
