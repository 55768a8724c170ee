"""The ledger's file format (JSON lines) and :func:`read_ledger`, its one reader. No torch here.

One JSON object per line, each with a ``type``:

- ``start``: a (re)start of the training job: ``version``, ``time``, ``ranks``, ``planned_steps``,
  ``resume_from`` (the last step already done, per the training loop; null for a fresh run),
  ``last_recorded`` (the ledger's last step when it resumed) and ``method`` (``every-step`` or
  ``reuse``).
- ``step``: one optimizer step: ``step`` (unique, increasing), ``flop`` (of the step, summed over
  all ranks; null when it could not be counted), ``ranks``, ``time`` (UTC, ISO 8601, when it was
  recorded), ``step_seconds`` (wall seconds since the previous step), ``total_flop`` (cumulative,
  counted steps only), ``method`` (``measured``: every rank counted the step; ``reused``: every
  rank credited the FLOP it counted for an earlier step with the same input shapes; ``mixed``;
  ``unmeasured``), optionally ``measured_ranks``, ``unmeasured_steps`` (cumulative) and
  ``uncounted_ops`` (op -> calls on rank 0 that ran with no FLOP formula).
- ``tripwire``: the projection crossed a policy threshold (or its fraction): see
  :mod:`flopaudit.ledger.tripwire`.

A last line with no newline is a write torn by a crash: it is ignored (and cut off when a job
resumes). Any other line that is not a valid record is a :class:`~flopaudit.errors.LedgerError`
(a ConfigError) naming the file and line.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flopaudit.errors import LedgerError
from flopaudit.ledger import projection

VERSION = 1
METHODS = ("measured", "reused", "mixed", "unmeasured")
TYPES = ("start", "step", "tripwire")


def now_utc() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


def encode(record: dict[str, Any]) -> bytes:
    """One record as one line of UTF-8 JSON, ending in a newline (the unit of one atomic write)."""
    return (json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")


@dataclass(frozen=True)
class Parsed:
    """The records of a ledger's bytes, with their line numbers; ``complete`` bytes end at a newline."""

    records: list[tuple[int, dict[str, Any]]]
    complete: int
    torn: bool


def _fail(message: str, path: str | Path, line: int) -> LedgerError:
    return LedgerError(message, file=path, line=line,
                       hint="a ledger is written only by flopaudit.track; do not edit it by hand")


def _int(record: dict[str, Any], key: str, path: str | Path, line: int, *, minimum: int,
         nullable: bool = False) -> int | None:
    value = record.get(key)
    if value is None and nullable and key in record:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise _fail(f"'{key}' must be an integer >= {minimum}" + (" or null" if nullable else "")
                    + f", not {value!r}", path, line)
    return value


def parse_time(value: Any, path: str | Path, line: int, key: str = "time") -> dt.datetime:
    """A record's ISO 8601 time, which must carry its timezone."""
    try:
        when = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise _fail(f"'{key}' must be an ISO 8601 time with its timezone, not {value!r}", path, line)
    return when


def _check_step(record: dict[str, Any], path: str | Path, line: int) -> None:
    _int(record, "step", path, line, minimum=1)
    _int(record, "flop", path, line, minimum=0, nullable=True)
    _int(record, "ranks", path, line, minimum=1)
    _int(record, "total_flop", path, line, minimum=0)
    parse_time(record.get("time"), path, line)
    seconds = record.get("step_seconds")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        raise _fail(f"'step_seconds' must be a number >= 0, not {seconds!r}", path, line)
    if record.get("method") not in METHODS:
        raise _fail(f"'method' must be one of {', '.join(METHODS)}, not {record.get('method')!r}", path, line)
    if (record["flop"] is None) != (record["method"] == "unmeasured"):
        raise _fail("'flop' is null exactly when 'method' is 'unmeasured'", path, line)


def parse(data: bytes, path: str | Path) -> Parsed:
    """Every record of a ledger's bytes, checked one by one; a torn last line is left out."""
    records: list[tuple[int, dict[str, Any]]] = []
    end = data.rfind(b"\n") + 1
    torn = end < len(data)
    for number, raw in enumerate(data[:end].splitlines(), start=1):
        if not raw.strip():
            raise _fail("empty line", path, number)
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _fail(f"not a JSON record: {exc}", path, number) from None
        if not isinstance(record, dict) or record.get("type") not in TYPES:
            raise _fail(f"a record must be a JSON object whose 'type' is one of {', '.join(TYPES)}", path, number)
        if record["type"] == "start":
            if record.get("version") != VERSION:
                raise _fail(f"unsupported ledger version {record.get('version')!r} (this flopaudit reads "
                            f"version {VERSION})", path, number)
            _int(record, "planned_steps", path, number, minimum=1, nullable=True)
            _int(record, "ranks", path, number, minimum=1)
            parse_time(record.get("time"), path, number)
        elif record["type"] == "step":
            _check_step(record, path, number)
        records.append((number, record))
    if records and records[0][1]["type"] != "start":
        raise _fail("a ledger starts with a 'start' record", path, records[0][0])
    return Parsed(records=records, complete=end, torn=torn)


@dataclass(frozen=True)
class Projection:
    """Where the run is heading: the final compute at the planned steps, and when it ends."""

    planned_steps: int
    projected_total_flop: float
    seconds_per_step: float
    projected_end: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data (times as ISO 8601)."""
        return {"planned_steps": self.planned_steps, "projected_total_flop": self.projected_total_flop,
                "seconds_per_step": self.seconds_per_step,
                "projected_end": self.projected_end.isoformat() if self.projected_end else None}


@dataclass(frozen=True)
class LedgerSummary:
    """What a ledger says. ``total_flop`` is None when some step could not be counted (see ``unmeasured_steps``)."""

    path: str
    steps: int
    first_step: int | None
    last_step: int | None
    ranks: int | None
    ranks_seen: list[int]
    total_flop: int | None
    counted_flop: int
    flop_per_step: float | None
    first: dt.datetime | None
    last: dt.datetime | None
    methods: dict[str, int]
    unmeasured_steps: list[int]
    starts: int
    torn_tail: bool
    projection: Projection | None
    tripwires: list[dict[str, Any]] = field(default_factory=list)

    def require_total(self) -> int:
        """The measured total, or a LedgerError (a ConfigError) when it is not known: no step, or steps not counted."""
        if not self.steps:
            raise LedgerError("the ledger records no step yet", file=self.path)
        if self.total_flop is None:
            shown = ", ".join(map(str, self.unmeasured_steps[:5])) + (" ..." if len(self.unmeasured_steps) > 5 else "")
            raise LedgerError(f"{len(self.unmeasured_steps)} steps of the ledger were not counted (steps {shown}), "
                              f"so its total is unknown (the counted steps add up to {self.counted_flop:.4g} FLOP)",
                              file=self.path, hint="track such runs with reuse=False")
        return self.total_flop

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (times as ISO 8601)."""
        return {"path": self.path, "steps": self.steps, "first_step": self.first_step,
                "last_step": self.last_step, "ranks": self.ranks, "ranks_seen": self.ranks_seen,
                "total_flop": self.total_flop, "counted_flop": self.counted_flop,
                "flop_per_step": self.flop_per_step,
                "first": self.first.isoformat() if self.first else None,
                "last": self.last.isoformat() if self.last else None,
                "methods": self.methods, "unmeasured_steps": self.unmeasured_steps,
                "starts": self.starts, "torn_tail": self.torn_tail,
                "projection": self.projection.to_dict() if self.projection else None,
                "tripwires": self.tripwires}


@dataclass
class State:
    """The running state a ledger's records add up to (what a resuming tracker continues from)."""

    last_step: int = 0
    total_flop: int = 0
    steps: int = 0
    unmeasured: list[int] = field(default_factory=list)
    seconds: float = 0.0
    planned_steps: int | None = None
    fired: set[tuple[str, str]] = field(default_factory=set)


def replay(parsed: Parsed, path: str | Path) -> State:
    """Add the records up, checking that step numbers only increase and totals match the steps."""
    state = State()
    for line, record in parsed.records:
        kind = record["type"]
        if kind == "start":
            state.planned_steps = record.get("planned_steps")
        elif kind == "tripwire":
            state.fired.add((str(record.get("policy")), str(record.get("rule"))))
        else:
            if record["step"] <= state.last_step:
                raise _fail(f"step {record['step']} is recorded after step {state.last_step}: "
                            "step numbers must be unique and increasing", path, line)
            state.last_step = record["step"]
            state.steps += 1
            state.seconds += float(record["step_seconds"])
            if record["flop"] is None:
                state.unmeasured.append(record["step"])
            else:
                state.total_flop += record["flop"]
            if record["total_flop"] != state.total_flop:
                raise _fail(f"total_flop {record['total_flop']} of step {record['step']} is not the sum of "
                            f"the steps recorded ({state.total_flop})", path, line)
    return state


def summarize(parsed: Parsed, path: str | Path) -> LedgerSummary:
    """The :class:`LedgerSummary` of parsed records."""
    state = replay(parsed, path)
    steps = [(line, r) for line, r in parsed.records if r["type"] == "step"]
    methods: dict[str, int] = {}
    for _, record in steps:
        methods[record["method"]] = methods.get(record["method"], 0) + 1
    counted = state.steps - len(state.unmeasured)
    per_step: float | None = None
    if counted:
        per_step = state.total_flop // counted if state.total_flop % counted == 0 else state.total_flop / counted
    first = parse_time(steps[0][1]["time"], path, steps[0][0]) if steps else None
    last = parse_time(steps[-1][1]["time"], path, steps[-1][0]) if steps else None
    proj = None
    if state.planned_steps is not None and counted and last is not None:
        mean_seconds = state.seconds / state.steps
        remaining = max(state.planned_steps - state.last_step, 0)
        proj = Projection(
            planned_steps=state.planned_steps,
            projected_total_flop=projection.projected_total(state.total_flop, counted,
                                                            counted + remaining),
            seconds_per_step=mean_seconds,
            projected_end=projection.time_after_steps(last, remaining, mean_seconds))
    ranks_seen = sorted({r["ranks"] for _, r in steps})
    return LedgerSummary(
        path=str(path), steps=state.steps, first_step=steps[0][1]["step"] if steps else None,
        last_step=steps[-1][1]["step"] if steps else None,
        ranks=steps[-1][1]["ranks"] if steps else None, ranks_seen=ranks_seen,
        total_flop=None if state.unmeasured else state.total_flop, counted_flop=state.total_flop,
        flop_per_step=per_step, first=first, last=last, methods=methods,
        unmeasured_steps=state.unmeasured, starts=sum(r["type"] == "start" for _, r in parsed.records),
        torn_tail=parsed.torn, projection=proj,
        tripwires=[r for _, r in parsed.records if r["type"] == "tripwire"])


def read_ledger(path: str | Path) -> LedgerSummary:
    """Read and check a ledger file: its :class:`LedgerSummary`, or a LedgerError (a ConfigError) at the bad line.

    A torn last line (no newline: a crash mid-write) is ignored and reported as ``torn_tail``.
    Reading takes no lock: a ledger being written can be read at any time.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise LedgerError("ledger not found", file=path) from None
    except OSError as exc:
        raise LedgerError(f"cannot read ledger: {exc.strerror}", file=path) from None
    parsed = parse(data, path)
    if not parsed.records:
        raise LedgerError("the ledger holds no record" + (" (only a torn line)" if parsed.torn else ""),
                          file=path, line=1)
    return summarize(parsed, path)
