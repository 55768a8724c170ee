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
from flopaudit.render import layout
from flopaudit.render.layout import Column
from flopaudit.render.safe import plain

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult

_STYLE = {"above": "bold red", "indeterminate": "bold yellow", "below": "green", "not-applicable": "dim"}


def _text(text: str, style: str = "") -> Text:
    """Literal text: no markup, no emoji codes, no control characters, no workflow commands."""
    return Text(plain(text), style=style)


def _stages(result: "AuditResult", width: int) -> RenderableType:
    cols = (Column("stage", wrap=False), Column("kind", wrap=False), Column("method", wrap=False),
            Column("FLOP (band)"), Column("cross-checks"))
    rows = []
    for r in result.stages:
        checks = ", ".join(f"{e.label or e.method} {c.flop(e.flop.central)}" for e in r.cross_checks) or "-"
        rows.append([_text(x) for x in (r.stage.name, r.stage.kind, r.method, c.band(r.flop), checks)])
    rows.append([_text(x) for x in ("total", "", "", c.band(result.total_flop), "")])
    return layout.table("Stages", cols, rows, width, row_styles=[""] * (len(rows) - 1) + ["bold"])


def _policies(result: "AuditResult", width: int) -> RenderableType:
    cols = (Column("policy", wrap=False), Column("status"), Column("threshold", wrap=False), Column("counted"),
            Column("verdict"), Column("obligations"))
    rows = []
    for chk in result.checks:
        label = c.VERDICT_LABEL[chk.verdict] + (" (waived)" if chk.waiver is not None else "")
        verdict = _text(label, _STYLE[chk.verdict] if chk.gates else "dim")
        policy = Text.assemble(_text(chk.policy.id, "bold"), "\n", _text(f"severity {c.severity(chk)}", "dim"))
        verdict = Text.assemble(verdict, "\n", _text(c.margin(chk))) if c.margin(chk) != "-" else verdict
        rows.append([policy, *map(_text, (c.status(chk), c.threshold(chk), c.compared(chk))), verdict,
                     _text("\n".join(chk.obligation_ids) or "-")])
    return layout.table("Policies", cols, rows, width)


def _bullets(title: str, lines: Sequence[str], style: str, width: int) -> list[RenderableType]:
    """A bold title and one ``  - line`` per line, continuation lines indented under the text."""
    grid = Table.grid()
    grid.add_column(width=4, no_wrap=True)
    grid.add_column(width=max(width - 4, 1), overflow="fold")
    for line in lines:
        grid.add_row(Text("  - "), _text(line))
    return [_text(title, f"bold {style}"), grid]


def _notes(result: "AuditResult", width: int) -> list[RenderableType]:
    out: list[RenderableType] = []
    warnings = [f"{r.stage.name}: {w}" for r in result.stages for w in r.warnings]
    reasons = [f"{chk.policy.id}: {why}" for chk in result.checks if chk.verdict == "indeterminate"
               for why in chk.reasons]
    notes = [f"{chk.policy.id}: {why}" for chk in result.checks
             if chk.in_force and chk.verdict in ("above", "below") for why in chk.reasons]
    obligations = [f"{chk.policy.id}: {o}" for chk in result.checks if chk.in_force for o in chk.obligations]
    waivers = c.waiver_lines(result)
    for title, lines, style in ((c.NOTICES_TITLE, c.notice_lines(result), "magenta"),
                                ("Waivers", waivers, "magenta"),
                                ("Training configs", c.training_config_lines(result), "cyan"),
                                ("Measured during training", c.ledger_lines(result), "cyan"),
                                ("Warnings", warnings, "yellow"), ("Undecided because", reasons, "yellow"),
                                ("Notes", notes, "cyan"),
                                ("Obligations of policies in force", obligations, "red")):
        if lines:
            out.extend(_bullets(title, lines, style, width))
    return out


def renderables(results: Sequence["AuditResult"], width: int = layout.DEFAULT_WIDTH) -> Group:
    """Everything the text format shows, as rich renderables laid out for ``width`` columns."""
    parts: list[RenderableType] = []
    several = len(results) > 1
    for result in results:
        cfg = result.config
        parts.append(_text(f"flopaudit {__version__} · {cfg.model.name} · {result.loaded.file} · "
                           f"as of {result.as_of.isoformat()}", "bold"))
        parts.append(_text(f"Convention: {CONVENTION}; attention: {result.attention}", "dim"))
        parts += [_stages(result, width), _policies(result, width), *_notes(result, width)]
        # With several configs, each verdict line says whose it is: a log reader sees the last lines first.
        whose = f"{result.loaded.file}: " if several else ""
        parts.append(_text(f"{whose}{c.summary_line(result.exit_code, result.checks, result.fail_on)} "
                           f"(exit {result.exit_code})", "bold red" if result.exit_code else "bold green"))
        parts.append(Text(""))
    if several:
        failed = [r for r in results if r.exit_code]
        code = max(r.exit_code for r in results)
        parts.append(_text(f"{len(results)} configs checked: {len(failed)} failed, "
                           f"{len(results) - len(failed)} passed (exit {code})",
                           "bold red" if code else "bold green"))
    return Group(*parts)


def render(results: Sequence["AuditResult"], *, color: bool = False, width: int = layout.DEFAULT_WIDTH) -> str:
    """Plain text (no colour unless asked) of ``width`` columns, for files and tests."""
    buf = io.StringIO()
    Console(file=buf, width=width, force_terminal=color, no_color=not color, highlight=False,
            color_system="standard" if color else None, _environ={}).print(renderables(results, width))
    return "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())  # no padding at line ends
