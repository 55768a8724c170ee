"""flopaudit.track in one process: measured and reused steps, pause, hook and decorator forms,
resume, steps that cannot be priced, and the tripwire against a test and a built-in policy.

The model is Linear(8, 16) -> ReLU -> Linear(16, 4) fed a [B, 8] batch that needs no gradient.
Per step (2 FLOP per multiply-add): forward 2*B*8*16 + 2*B*16*4 = 384 B; backward: the first
layer's weight gradient only (its input needs no gradient) 2*B*8*16 = 256 B, the second layer's
input and weight gradients 2 * 2*B*16*4 = 256 B; in all 384 B + 512 B = 896 B FLOP.
So B = 2 -> 1792 and B = 3 -> 2688.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import flopaudit
from flopaudit.errors import ConfigError, LedgerError
from flopaudit.ledger import read_ledger

POLICY = str(Path(__file__).parent / "data" / "test-tripwire.yaml")


def _model() -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    return model, torch.optim.SGD(model.parameters(), lr=0.01)


def _train_step(model: nn.Module, opt: torch.optim.Optimizer, batch: int) -> None:
    model(torch.randn(batch, 8)).pow(2).mean().backward()
    opt.step()
    opt.zero_grad()


def _steps(path: Path) -> list[dict[str, Any]]:
    return [r for r in map(json.loads, path.read_text().splitlines()) if r["type"] == "step"]


def test_measured_once_then_reused_while_shapes_stay(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    model, opt = _model()
    with flopaudit.track(model, ledger=ledger) as tracker:
        for batch in (2, 2, 3, 2, 3):
            _train_step(model, opt, batch)
            tracker.step()
    steps = _steps(ledger)
    assert [s["method"] for s in steps] == ["measured", "reused", "measured", "reused", "reused"]
    assert [s["flop"] for s in steps] == [1792, 1792, 2688, 1792, 2688]
    assert [s["step"] for s in steps] == [1, 2, 3, 4, 5]
    assert all(s["ranks"] == 1 for s in steps)
    # 3 * 1792 + 2 * 2688 = 10752
    assert read_ledger(ledger).total_flop == 10752 == steps[-1]["total_flop"]


def test_every_step_counted_without_reuse(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    model, opt = _model()
    with flopaudit.track(model, ledger=ledger, reuse=False) as tracker:
        for _ in range(3):
            _train_step(model, opt, 2)
            tracker.step()
    steps = _steps(ledger)
    assert [s["method"] for s in steps] == ["measured"] * 3
    # 3 * 1792 = 5376
    assert read_ledger(ledger).total_flop == 5376


def test_pause_keeps_evaluation_out_of_the_step(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    model, opt = _model()
    with flopaudit.track(model, ledger=ledger, reuse=False) as tracker:
        _train_step(model, opt, 2)
        with tracker.pause(), torch.no_grad():
            model(torch.randn(50, 8))  # would add 2*50*8*16 + 2*50*16*4 = 19200 FLOP if counted
        tracker.step()
    assert [s["flop"] for s in _steps(ledger)] == [1792]


def test_optimizer_hook_and_decorator_forms(tmp_path: Path) -> None:
    model, opt = _model()
    hooked = tmp_path / "hook.jsonl"
    with flopaudit.track(model, ledger=hooked, optimizer=opt):
        for _ in range(2):
            _train_step(model, opt, 2)  # opt.step() records the step
    assert [s["flop"] for s in _steps(hooked)] == [1792, 1792]

    decorated = tmp_path / "wrap.jsonl"
    tracker = flopaudit.track(model, ledger=decorated, auto_begin=False).start()
    step = tracker.wrap(lambda batch: _train_step(model, opt, batch))
    step(3)
    model(torch.randn(7, 8))  # between steps, with auto_begin=False: not part of any step
    step(3)
    tracker.close()
    assert [s["flop"] for s in _steps(decorated)] == [2688, 2688]


def test_resume_skips_rerun_steps_and_refuses_gaps(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    model, opt = _model()
    with flopaudit.track(model, ledger=ledger) as tracker:
        for _ in range(3):
            _train_step(model, opt, 2)
            tracker.step()
    with pytest.raises(LedgerError, match="already holds 3 steps"):
        flopaudit.track(model, ledger=ledger).start()
    with pytest.raises(LedgerError, match="steps 4..7 would be missing"):
        flopaudit.track(model, ledger=ledger, resume=True, start_step=7).start()
    # the checkpoint was after step 2: step 3 runs again and is not recorded twice
    with flopaudit.track(model, ledger=ledger, resume=True, start_step=2) as tracker:
        for _ in range(3):
            _train_step(model, opt, 2)
            assert tracker.step() in (3, 4, 5)
    steps = _steps(ledger)
    assert [s["step"] for s in steps] == [1, 2, 3, 4, 5]
    summary = read_ledger(ledger)
    # 5 steps of 1792 = 8960
    assert summary.total_flop == 8960 and summary.starts == 2


def test_a_step_whose_later_micro_batch_changes_shape_is_unmeasured(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    ledger = tmp_path / "run.jsonl"
    model, opt = _model()
    with caplog.at_level(logging.WARNING, "flopaudit.ledger"), flopaudit.track(model, ledger=ledger) as tracker:
        for sizes in ((2, 2), (2, 3), (2, 3), (2, 2)):  # gradient accumulation over two micro-batches
            for batch in sizes:
                model(torch.randn(batch, 8)).pow(2).mean().backward()
            opt.step()
            opt.zero_grad()
            tracker.step()
    steps = _steps(ledger)
    # step 1: 2 micro-batches of 2 = 2 * 1792 = 3584; step 2 cannot be priced, never zero;
    # then every step is counted: 1792 + 2688 = 4480 for (2, 3)
    assert [(s["method"], s["flop"]) for s in steps] == [("measured", 3584), ("unmeasured", None),
                                                          ("measured", 4480), ("measured", 3584)]
    assert "not counted" in caplog.text
    summary = read_ledger(ledger)
    # 3584 + 4480 + 3584 = 11648 counted; the total is unknown
    assert summary.total_flop is None and summary.counted_flop == 11648 and summary.unmeasured_steps == [2]


def _tripwire_run(tmp_path: Path, planned: int, policy: str, fraction: float = 1.0) -> list[dict[str, Any]]:
    ledger = tmp_path / f"trip-{planned}-{fraction}.jsonl"
    model, opt = _model()
    with flopaudit.track(model, ledger=ledger, planned_steps=planned, policies=[policy],
                         fraction=fraction) as tracker:
        for _ in range(3):
            _train_step(model, opt, 2)
            tracker.step()
    return [r for r in map(json.loads, ledger.read_text().splitlines()) if r["type"] == "tripwire"]


def test_tripwire_fires_when_the_plan_crosses_a_test_threshold(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    # 1792 FLOP/step; 55804 steps project 1792 * 55804 = 100,000,768 > 1e8
    with caplog.at_level(logging.WARNING, "flopaudit.ledger"):
        fired = _tripwire_run(tmp_path, 55804, POLICY)
    assert len(fired) == 1  # once, at step 1; not again at steps 2 and 3
    trip = fired[0]
    assert (trip["policy"], trip["rule"], trip["step"]) == ("test-tripwire", "cumulative-compute", 1)
    assert trip["projected_total_flop"] == 100_000_768 and trip["within_plan"]
    # from 1792 after step 1: floor((1e8 - 1792) / 1792) + 1 = 55803 more steps (1792 * 55804 > 1e8)
    assert trip["steps_to_threshold"] == 55803
    crossing = dt.datetime.fromisoformat(trip["projected_crossing"])
    dues = {d["obligation"]: d["deadline"] for d in trip["obligations"]}
    assert set(dues) == {"notify", "report-quickly"}  # the obligation without a deadline is not listed
    assert dt.datetime.fromisoformat(dues["notify"]) - crossing == dt.timedelta(days=14)
    assert dt.datetime.fromisoformat(dues["report-quickly"]) - crossing == dt.timedelta(hours=24)
    assert "test-tripwire" in caplog.text and "notify due by" in caplog.text


def test_tripwire_stays_silent_below_and_fires_at_a_fraction(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    # 55803 steps project 1792 * 55803 = 99,998,976 < 1e8: silent
    with caplog.at_level(logging.WARNING, "flopaudit.ledger"):
        assert _tripwire_run(tmp_path, 55803, POLICY) == []
    assert "test-tripwire" not in caplog.text
    # at fraction 0.5 the trigger is 5e7 < 99,998,976: fires, but the plan stays below 1e8
    fired = _tripwire_run(tmp_path, 55803, POLICY, fraction=0.5)
    assert len(fired) == 1 and fired[0]["fraction"] == 0.5 and not fired[0]["within_plan"]


def test_tripwire_reads_the_built_in_eu_threshold(tmp_path: Path) -> None:
    # EU 1e25 (policies/eu-ai-act-systemic-risk.yaml): 1792 * 6e21 = 1.0752e25 > 1e25 fires;
    # 1792 * 5e21 = 8.96e24 does not
    fired = _tripwire_run(tmp_path, 6 * 10**21, "eu-ai-act-systemic-risk")
    assert [(t["policy"], t["threshold"]) for t in fired] == [("eu-ai-act-systemic-risk", 1e25)]
    dues = {d["obligation"]: d for d in fired[0]["obligations"]}
    assert dues["notify-commission"]["deadline_days"] == 14
    assert _tripwire_run(tmp_path, 5 * 10**21, "eu-ai-act-systemic-risk") == []


def test_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    model, _ = _model()
    with pytest.raises(ConfigError, match="fraction"):
        flopaudit.track(model, ledger=tmp_path / "a.jsonl", policies=[POLICY], fraction=1.5).start()
    with pytest.raises(ConfigError, match="planned_steps"):
        flopaudit.track(model, ledger=tmp_path / "a.jsonl", planned_steps=0)
    with pytest.raises(ConfigError, match="attention must be one of"):
        flopaudit.track(model, ledger=tmp_path / "a.jsonl", attention="sparse")
    with pytest.raises(ConfigError, match="nn.Module"):
        flopaudit.track("model", ledger=tmp_path / "a.jsonl")


def test_a_fired_tripwire_is_not_recorded_again_after_a_resume(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    model, opt = _model()
    for resume in (False, True):
        # 1792 FLOP/step, 55804 planned: 100,000,768 > 1e8 from the first step on
        with flopaudit.track(model, ledger=ledger, planned_steps=55804, policies=[POLICY],
                             resume=resume) as tracker:
            for _ in range(2):
                _train_step(model, opt, 2)
                tracker.step()
    summary = read_ledger(ledger)
    assert summary.steps == 4 and [t["step"] for t in summary.tripwires] == [1]


def test_a_second_tracker_on_the_same_ledger_is_refused(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    model, opt = _model()
    with flopaudit.track(model, ledger=ledger) as first:
        with pytest.raises(LedgerError, match="another process is appending"):
            flopaudit.track(model, ledger=ledger, resume=True).start()
        _train_step(model, opt, 2)
        first.step()
    # only the first tracker's start and step records are in the ledger
    assert [json.loads(line)["type"] for line in ledger.read_text().splitlines()] == ["start", "step"]


def test_gradient_clipping_and_adamw_are_known_zero(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    torch.manual_seed(0)
    # LayerNorm and GELU between the layers cost 0; the matrix products are the module docstring's 1792
    model = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.LayerNorm(16), nn.Linear(16, 4))
    opt = torch.optim.AdamW(model.parameters())
    with flopaudit.track(model, ledger=ledger, reuse=False) as tracker:
        model(torch.randn(2, 8)).pow(2).mean().backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # aten._foreach_norm: a reduction
        opt.step()
        opt.zero_grad()
        tracker.step()
    (step,) = _steps(ledger)
    assert step["flop"] == 1792 and "uncounted_ops" not in step


def test_an_op_without_a_formula_is_listed_never_priced(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    model, opt = _model()
    with flopaudit.track(model, ledger=ledger, reuse=False) as tracker:
        _train_step(model, opt, 2)
        torch.linalg.eigvalsh(torch.eye(3))  # no formula, not known to cost 0
        tracker.step()
    (step,) = _steps(ledger)
    assert step["flop"] == 1792 and "aten._linalg_eigh" in step["uncounted_ops"]
