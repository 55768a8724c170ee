"""A stage whose training kept a compute ledger: ``ledger:`` in the config, in every output.

The ledgers here are written by hand in the ledger's own format (flopaudit/ledger/records.py), so
these tests need no torch; the tracker that writes real ledgers has its own tests.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def ledger_file(folder: Path, flops: list[int | None], *, planned: int = 10, ranks: int = 2,
                torn: bool = False) -> Path:
    lines = [{"type": "start", "version": 1, "time": "2026-12-01T00:00:00+00:00", "ranks": ranks,
              "planned_steps": planned, "resume_from": None, "last_recorded": None, "method": "reuse"}]
    total = 0
    for step, flop in enumerate(flops, start=1):
        total += flop or 0
        lines.append({"type": "step", "step": step, "flop": flop, "ranks": ranks,
                      "time": f"2026-12-01T00:0{step}:00+00:00", "step_seconds": 60.0, "total_flop": total,
                      "method": "unmeasured" if flop is None else "measured"})
    path = folder / "run.jsonl"
    text = "".join(json.dumps(line) + "\n" for line in lines)
    path.write_text(text + ('{"type": "step", "st' if torn else ""))
    return path


def config(folder: Path, extra: str = "") -> Path:
    (folder / ".git").mkdir(exist_ok=True)
    path = folder / "audit.yaml"
    path.write_text(f"""
model: {{name: tiny, parameters: 1M}}
training:
  - {{name: pretraining, kind: pretraining, ledger: run.jsonl{extra}}}
policies: [eu-ai-act-systemic-risk]
as_of: 2026-12-02
""")
    return path


def check(cfg: Path, fmt: str = "json") -> str:
    done = run_cli("check", str(cfg), "--format", fmt)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_ledger_total_is_the_stage_measured_figure(tmp_path: Path) -> None:
    # 3 steps of 4e15 FLOP over both ranks: 1.2e16 measured; 10 planned steps project 4e16
    ledger_file(tmp_path, [4 * 10**15] * 3)
    stage = json.loads(check(config(tmp_path)))["stages"][0]
    assert stage["method"] == "measured" and stage["flop"]["central"] == 1.2e16
    assert stage["ledger"]["steps"] == 3 and stage["ledger"]["ranks"] == 2
    assert stage["ledger"]["projection"]["projected_total_flop"] == 4e16
    assert stage["ledger"]["first"] == "2026-12-01T00:01:00+00:00"
    assert any("measured during training: 3 steps on 2 ranks" in a for a in stage["assumptions"])


def test_next_to_the_estimate_made_before_training(tmp_path: Path) -> None:
    # 6 x 1M parameters x 1e9 tokens = 6e15 before training; the ledger measured 1.2e16 (+100%)
    ledger_file(tmp_path, [4 * 10**15] * 3)
    cfg = config(tmp_path, extra=", tokens: 1B")
    stage = json.loads(check(cfg))["stages"][0]
    assert stage["method"] == "measured"
    six = next(e for e in stage["estimates"] if e["method"] == "6nd")
    assert six["flop"]["central"] == 6e15
    text = " ".join(check(cfg, "text").split())  # the table wraps long lines at the terminal width
    assert "measured during training (ledger run.jsonl): 3 steps on 2 ranks" in text
    assert "6nd estimate 6.00e15 (+100.0% measured vs estimate)" in text
    markdown = check(cfg, "markdown")
    assert "**Measured during training**" in markdown


def test_steps_that_were_not_counted_are_never_zero(tmp_path: Path) -> None:
    ledger_file(tmp_path, [4 * 10**15, None, 4 * 10**15])
    done = run_cli("check", str(config(tmp_path)))
    assert done.returncode == 2
    assert "1 steps whose FLOP could not be counted" in done.stderr


def test_a_torn_last_line_is_ignored_and_said(tmp_path: Path) -> None:
    ledger_file(tmp_path, [10**15] * 2, torn=True)
    stage = json.loads(check(config(tmp_path)))["stages"][0]
    assert stage["flop"]["central"] == 2e15 and stage["ledger"]["torn_tail"] is True
    assert any("torn by a crash" in a for a in stage["assumptions"])


def test_a_ledger_outside_the_repository_or_broken_is_an_error_at_its_line(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    ledger_file(tmp_path, [10**15])
    cfg = config(repo, extra="").read_text().replace("ledger: run.jsonl", "ledger: ../run.jsonl")
    (repo / "audit.yaml").write_text(cfg)
    done = run_cli("check", str(repo / "audit.yaml"))
    assert done.returncode == 2 and "outside the repository root" in done.stderr
    (tmp_path / "run.jsonl").write_text('{"type": "start"}\n')
    (repo / "run.jsonl").write_text('{"type": "start", "version": 1}\nnot json\n')
    done = run_cli("check", str(config(repo)))
    assert done.returncode == 2 and "run.jsonl:1" in done.stderr


def test_the_report_shows_the_measured_run(tmp_path: Path) -> None:
    ledger_file(tmp_path, [4 * 10**15] * 3)
    out = tmp_path / "r.html"
    done = run_cli("report", str(config(tmp_path, extra=", tokens: 1B")), "-o", str(out))
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert "Measured during training:</strong> measured during training (ledger run.jsonl): 3 steps on 2 ranks" in html
    assert "projected 4.00e16 at 10 planned steps" in html
