"""read_ledger: the summary of a hand-written ledger, a torn last line, and every kind of bad line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flopaudit.errors import ConfigError, LedgerError
from flopaudit.ledger import read_ledger

DATA = Path(__file__).parent / "data"
THREE = DATA / "three-steps.jsonl"
UTC = dt.timezone.utc


def test_summary_of_three_steps_over_two_starts() -> None:
    summary = read_ledger(THREE)
    assert summary.steps == 3 and (summary.first_step, summary.last_step) == (1, 3)
    assert summary.ranks == 2 and summary.ranks_seen == [2]
    # 1000 + 1000 + 1600 = 3600; per step 3600 / 3 = 1200
    assert summary.total_flop == 3600 and summary.counted_flop == 3600
    assert summary.flop_per_step == 1200
    assert summary.first == dt.datetime(2026, 1, 5, 10, 0, 2, tzinfo=UTC)
    assert summary.last == dt.datetime(2026, 1, 5, 11, 0, 5, tzinfo=UTC)
    assert summary.methods == {"measured": 2, "reused": 1}
    assert summary.starts == 2 and not summary.torn_tail and summary.unmeasured_steps == []
    projection = summary.projection
    assert projection is not None and projection.planned_steps == 10
    # 7 steps left at the mean 1200 FLOP/step: 3600 + 7 * 1200 = 12000
    assert projection.projected_total_flop == 12000
    # mean step time (2 + 2 + 5) / 3 = 3 s; 7 steps after 11:00:05 -> 11:00:26
    assert projection.seconds_per_step == 3.0
    assert projection.projected_end == dt.datetime(2026, 1, 5, 11, 0, 26, tzinfo=UTC)
    data = summary.to_dict()
    for key in ("steps", "ranks", "total_flop", "flop_per_step", "first", "last", "projection"):
        assert key in data
    assert data["first"] == "2026-01-05T10:00:02+00:00"


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    ledger = tmp_path / "run.jsonl"
    ledger.write_bytes(THREE.read_bytes() + b'{"type":"step","step":4,"flo')
    summary = read_ledger(ledger)
    assert summary.torn_tail
    # the torn step 4 is not counted: still 3 steps and 3600 FLOP
    assert summary.steps == 3 and summary.total_flop == 3600


def _with_line(tmp_path: Path, number: int, text: str) -> Path:
    lines = THREE.read_text().splitlines()
    lines[number - 1] = text
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("number", "text", "message"), [
    (3, "not json", "not a JSON record"),
    (3, '{"type":"oops"}', "'type' is one of"),
    (3, '{"type":"step","step":2,"flop":1000,"ranks":2,"time":"2026-01-05T10:00:04+00:00",'
        '"step_seconds":2.0,"total_flop":2001,"method":"reused"}', "is not the sum of the steps"),
    (3, '{"type":"step","step":1,"flop":1000,"ranks":2,"time":"2026-01-05T10:00:04+00:00",'
        '"step_seconds":2.0,"total_flop":2000,"method":"reused"}', "must be unique and increasing"),
    (3, '{"type":"step","step":2,"flop":1000,"ranks":2,"time":"2026-01-05T10:00:04",'
        '"step_seconds":2.0,"total_flop":2000,"method":"reused"}', "with its timezone"),
    (3, '{"type":"step","step":2,"flop":-5,"ranks":2,"time":"2026-01-05T10:00:04+00:00",'
        '"step_seconds":2.0,"total_flop":2000,"method":"reused"}', "'flop' must be an integer >= 0"),
    (3, '{"type":"step","step":2,"flop":1000,"ranks":2,"time":"2026-01-05T10:00:04+00:00",'
        '"step_seconds":2.0,"total_flop":2000,"method":"guessed"}', "'method' must be one of"),
    (1, '{"type":"start","version":9,"time":"2026-01-05T10:00:00+00:00","ranks":2}', "unsupported ledger version"),
])
def test_a_bad_line_is_a_config_error_at_its_line(tmp_path: Path, number: int, text: str, message: str) -> None:
    path = _with_line(tmp_path, number, text)
    with pytest.raises(LedgerError) as info:
        read_ledger(path)
    assert isinstance(info.value, ConfigError)
    assert info.value.file == str(path) and info.value.line == number
    assert message in info.value.message


def test_a_ledger_must_begin_with_a_start_record(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join(THREE.read_text().splitlines()[1:]) + "\n")
    with pytest.raises(LedgerError, match="starts with a 'start' record"):
        read_ledger(path)


def test_missing_and_empty_ledgers(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="not found"):
        read_ledger(tmp_path / "none.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b'{"type":"sta')
    with pytest.raises(LedgerError, match="only a torn line"):
        read_ledger(empty)


def test_an_unmeasured_step_makes_the_total_unknown(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text(THREE.read_text() + '{"type":"step","step":4,"flop":null,"ranks":2,'
                    '"time":"2026-01-05T11:00:10+00:00","step_seconds":5.0,"total_flop":3600,'
                    '"method":"unmeasured","unmeasured_steps":1}\n')
    summary = read_ledger(path)
    # never zero for the unknown step: no total, the counted 3600 kept apart
    assert summary.total_flop is None and summary.counted_flop == 3600
    assert summary.unmeasured_steps == [4] and summary.steps == 4
    # per counted step: 3600 / 3
    assert summary.flop_per_step == 1200
    with pytest.raises(LedgerError, match=r"1 steps of the ledger were not counted \(steps 4\)") as info:
        summary.require_total()
    assert isinstance(info.value, ConfigError) and info.value.file == str(path)


def test_require_total() -> None:
    assert read_ledger(THREE).require_total() == 3600  # 1000 + 1000 + 1600


def test_a_ledger_with_only_a_start_record_has_no_total(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text(THREE.read_text().splitlines()[0] + "\n")
    summary = read_ledger(path)
    assert summary.steps == 0 and summary.total_flop == 0 and summary.projection is None
    with pytest.raises(LedgerError, match="no step yet"):
        summary.require_total()
