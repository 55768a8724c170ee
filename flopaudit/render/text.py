"""The terminal verdict table (rich).

Every cell and line is a :class:`rich.text.Text` made by :func:`flopaudit.render.safe.plain`,
never a string: rich would read ``[...]`` in a name as markup (and fail on ``[/]``) and pass escape
sequences through to the terminal, and a line starting with ``::`` would be a workflow command in
a GitHub Actions log.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from flopaudit import __version__
from flopaudit.audit import CONVENTION
from flopaudit.render import common as c
from flopaudit.render.safe import plain

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult

_STYLE = {"above": "bold red", "indeterminate": "bold yellow", "below": "green", "not-applicable": "dim"}


def _text(text: str, style: str = "") -> Text:
    """Literal text: no markup, no emoji codes, no control characters, no workflow commands."""
    return Text(plain(text), style=style)


def _stages(result: "AuditResult") -> Table:
    t = Table(title="Stages", title_justify="left", expand=False)
    for col in ("stage", "kind", "method", "FLOP (band)", "cross-checks"):
        t.add_column(col, overflow="fold")
    for r in result.stages:
        checks = ", ".join(f"{e.label or e.method} {c.flop(e.flop.central)}" for e in r.cross_checks) or "-"
        t.add_row(*map(_text, (r.stage.name, r.stage.kind, r.method, c.band(r.flop), checks)))
    t.add_row(*map(_text, ("total", "", "", c.band(result.total_flop), "")), style="bold")
    return t


def _policies(result: "AuditResult") -> Table:
    t = Table(title="Policies", title_justify="left")
    t.add_column("policy", no_wrap=True)
    for col in ("status", "threshold", "counted", "verdict", "margin", "obligations"):
        t.add_column(col, overflow="fold")
    for chk in result.checks:
        label = c.VERDICT_LABEL[chk.verdict] + (" (waived)" if chk.waiver is not None else "")
        verdict = _text(label, _STYLE[chk.verdict] if chk.gates else "dim")
        policy = Text.assemble(_text(chk.policy.id), "\n", _text(f"severity {c.severity(chk)}", "dim"))
        t.add_row(policy, *map(_text, (c.status(chk), c.threshold(chk), c.compared(chk))),
                  verdict,
                  *map(_text, (c.margin(chk), "\n".join(chk.obligation_ids) or "-")))
    return t


def _notes(result: "AuditResult") -> list[RenderableType]:
    out: list[RenderableType] = []
    warnings = [f"{r.stage.name}: {w}" for r in result.stages for w in r.warnings]
    reasons = [f"{chk.policy.id}: {why}" for chk in result.checks if chk.verdict == "indeterminate"
               for why in chk.reasons]
    notes = [f"{chk.policy.id}: {why}" for chk in result.checks
             if chk.in_force and chk.verdict in ("above", "below") for why in chk.reasons]
    obligations = [f"{chk.policy.id}: {o}" for chk in result.checks if chk.in_force for o in chk.obligations]
    waivers = [f"{chk.policy.id}: {c.waiver_line(chk)}" for chk in result.checks if c.waiver_line(chk)]
    for title, lines, style in ((c.NOTICES_TITLE, c.notice_lines(result), "magenta"),
                                ("Waivers", waivers, "magenta"),
                                ("Training configs", c.training_config_lines(result), "cyan"),
                                ("Measured during training", c.ledger_lines(result), "cyan"),
                                ("Warnings", warnings, "yellow"), ("Undecided because", reasons, "yellow"),
                                ("Notes", notes, "cyan"),
                                ("Obligations of policies in force", obligations, "red")):
        if lines:
            out.append(_text(title, f"bold {style}"))
            out.extend(_text(f"  - {line}") for line in lines)
    return out


def renderables(results: Sequence["AuditResult"]) -> Group:
    """Everything the text format shows, as rich renderables."""
    parts: list[RenderableType] = []
    for result in results:
        cfg = result.config
        parts.append(_text(f"flopaudit {__version__} · {cfg.model.name} · {result.loaded.file} · "
                           f"as of {result.as_of.isoformat()}", "bold"))
        parts.append(_text(f"Convention: {CONVENTION}; attention: {result.attention}", "dim"))
        parts += [_stages(result), _policies(result), *_notes(result)]
        parts.append(_text(f"{c.summary_line(result.exit_code, result.checks, result.fail_on)} "
                           f"(exit {result.exit_code})", "bold red" if result.exit_code else "bold green"))
        parts.append(Text(""))
    return Group(*parts)


def render(results: Sequence["AuditResult"], *, color: bool = False, width: int = 120) -> str:
    """Plain text (no colour unless asked), for files and tests."""
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=color, no_color=not color, highlight=False,
            color_system="standard" if color else None, _environ={}).print(renderables(results))
    return buf.getvalue()
