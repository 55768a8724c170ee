"""``flopaudit ledger show LEDGER``: what a training run's compute ledger says (text or JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from flopaudit.ledger import LedgerSummary


@click.group()
def ledger() -> None:
    """Read the compute ledger a training run wrote with flopaudit.track."""


@ledger.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), metavar="LEDGER")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def show(path: Path, fmt: str) -> None:
    """Steps, ranks, total FLOP, FLOP per step, first and last record, projection and tripwires."""
    from flopaudit.ledger import read_ledger

    summary = read_ledger(path)
    if fmt == "json":
        click.echo(json.dumps(summary.to_dict(), indent=2))
        return
    click.echo(render_text(summary))


def _flop(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.4g}" if abs(value) < 1e4 else f"{value:.4e}"


def render_text(s: LedgerSummary) -> str:
    """The text view of a :class:`~flopaudit.ledger.LedgerSummary`."""
    steps = f"{s.steps}" + (f" (steps {s.first_step}..{s.last_step})" if s.steps else "")
    rows = [("ledger", s.path), ("steps", steps),
            ("ranks", str(s.ranks) + (f" (seen: {', '.join(map(str, s.ranks_seen))})" if len(s.ranks_seen) > 1 else "")
             if s.ranks is not None else "-"),
            ("total FLOP", _flop(s.total_flop) + (f" ({len(s.unmeasured_steps)} steps not counted: counted "
                                                   f"{_flop(s.counted_flop)})" if s.unmeasured_steps else "")),
            ("FLOP per step", _flop(s.flop_per_step) if s.flop_per_step is not None else "-"),
            ("first record", s.first.isoformat() if s.first else "-"),
            ("last record", s.last.isoformat() if s.last else "-"),
            ("methods", ", ".join(f"{k} {v}" for k, v in s.methods.items()) or "-"),
            ("starts", f"{s.starts}" + (" (resumed)" if s.starts > 1 else ""))]
    if s.torn_tail:
        rows.append(("torn last line", "ignored (a write cut short by a crash)"))
    if s.projection:
        p = s.projection
        rows.append(("projection", f"{_flop(p.projected_total_flop)} FLOP at {p.planned_steps} planned steps"
                     + (f", ending {p.projected_end.isoformat()}" if p.projected_end else "")))
    for trip in s.tripwires:
        dues = "; ".join(f"{d['obligation']} by {d['deadline']}" for d in trip.get("obligations", []) if d.get("deadline"))
        rows.append(("tripwire", f"step {trip.get('step')}: {trip.get('policy')} threshold "
                     f"{_flop(trip.get('threshold'))} (fraction {trip.get('fraction')}), projected crossing "
                     f"{trip.get('projected_crossing') or '-'}" + (f"; {dues}" if dues else "")))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
