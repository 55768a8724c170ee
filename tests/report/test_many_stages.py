"""Issue 7, item 11: the report's work grows linearly with the number of stages.

The sensitivity analysis re-runs the whole audit once per scenario; per-stage scenarios used to be
made for every stage, so n stages cost about 2n audits of n stages each. These tests count audits
and stage estimates (never time): the audits stay bounded, the stage estimates grow as n.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import flopaudit.audit
import flopaudit.sensitivity
from flopaudit.audit import audit_file
from flopaudit.render.html import render_html
from flopaudit.sensitivity import STAGE_LIMIT, analyse

BIG = 3 * STAGE_LIMIT + 1  # the fine-tuning stage (and config index) that ran on 1024 devices instead of 8


def many_stages(tmp_path: Path, n: int, kind: str = "hardware") -> Path:
    """A config of a declared pre-training stage and ``n`` small fine-tuning (or synthetic-data) stages."""
    lines = ["model: {name: Many stages, parameters: 7B}", "training:",
             "  - {name: pretraining, kind: pretraining, flop: 1e22}"]
    for i in range(1, n + 1):
        if kind == "hardware":
            count = 1024 if i == BIG else 8
            lines.append(f"  - {{name: ft-{i}, kind: fine-tuning, "
                         f"hardware: {{accelerator: H100, count: {count}, device_hours: {count * 10}}}}}")
        else:
            lines.append(f"  - {{name: gen-{i}, kind: synthetic-data, generator_parameters: 7B, "
                         f"generated_tokens: {i}M}}")
    lines.append("as_of: 2026-11-27")
    path = tmp_path / f"{kind}-{n}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def counting(monkeypatch: pytest.MonkeyPatch, calls: Counter[str], module: Any, name: str) -> None:
    """Count the calls of ``module.name``, which still runs."""
    real: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)


def analysis_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, kind: str) -> Counter[str]:
    result = audit_file(many_stages(tmp_path, n, kind))
    calls: Counter[str] = Counter()
    with monkeypatch.context() as m:
        counting(m, calls, flopaudit.sensitivity, "audit")
        counting(m, calls, flopaudit.audit, "estimate_stage")
        analyse(result)
    return calls


@pytest.mark.parametrize("kind", ["hardware", "synthetic-data"])
def test_item11_sensitivity_audits_stay_bounded_as_stages_grow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               kind: str) -> None:
    small, large = (analysis_work(tmp_path, monkeypatch, n, kind) for n in (2 * STAGE_LIMIT, 8 * STAGE_LIMIT))
    assert small["audit"] == large["audit"] > 0
    # Each audit estimates every stage (n + the pre-training stage): the work grows as n, not n^2.
    assert small["estimate_stage"] == small["audit"] * (2 * STAGE_LIMIT + 1)
    assert large["estimate_stage"] == large["audit"] * (8 * STAGE_LIMIT + 1)


def test_item11_utilisation_scenarios_keep_the_widest_stages_and_say_so(tmp_path: Path) -> None:
    n = 5 * STAGE_LIMIT
    sens = analyse(audit_file(many_stages(tmp_path, n)))
    varied = [o.scenario.pinned[0] for o in sens.outcomes if o.scenario.pinned is not None]
    # Low and high end of STAGE_LIMIT stages: the big stage's band is the widest; the rest tie, so the first.
    assert varied == [i for i in sorted({BIG, *range(1, STAGE_LIMIT)}) for _ in (0, 1)]
    [note] = sens.not_varied
    assert note.startswith(f"Only {STAGE_LIMIT} of the {n} stages estimated from hardware with a utilisation range")


def test_item11_report_says_which_stages_were_not_varied(tmp_path: Path) -> None:
    page = render_html([audit_file(many_stages(tmp_path, 3 * STAGE_LIMIT))])
    assert f"Only {STAGE_LIMIT} of the {3 * STAGE_LIMIT} stages estimated from hardware" in page


def test_item11_few_stages_are_all_varied(tmp_path: Path) -> None:
    sens = analyse(audit_file(many_stages(tmp_path, STAGE_LIMIT)))
    assert {o.scenario.pinned[0] for o in sens.outcomes if o.scenario.pinned} == set(range(1, STAGE_LIMIT + 1))
    assert sens.not_varied == []
