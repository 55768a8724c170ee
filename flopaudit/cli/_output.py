"""Output sink: pick a renderer by format name and write to stdout or files.

One run can write several formats (``--output sarif=fa.sarif --output markdown=summary.md``):
the results are computed once and each renderer writes its own file. With ``--format github``
the Markdown summary is also appended to ``$GITHUB_STEP_SUMMARY`` when the runner sets it.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult
    from flopaudit.config.settings import Settings

#: Format name -> module in flopaudit.render (one module per format, each with ``render(results) -> str``).
FORMATS = ("text", "json", "markdown", "github", "sarif", "junit")
_MODULES = {"text": "text", "json": "json_out", "markdown": "markdown", "github": "github",
            "sarif": "sarif", "junit": "junit"}
#: The variable a GitHub Actions runner sets to the file of the job's step summary.
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


@dataclass(frozen=True)
class Plan:
    """What one run writes: ``main`` format to ``main_file`` (None: stdout), plus ``files`` ``(format, path)``."""

    main: str
    main_file: Path | None
    files: tuple[tuple[str, Path], ...]


def split_output(value: str) -> tuple[str | None, Path]:
    """``FORMAT=FILE`` as ``(format, path)``; a plain ``FILE`` (no known format before an ``=``) as ``(None, path)``."""
    fmt, eq, file = value.partition("=")
    if eq and fmt in FORMATS:
        if not file:
            import click
            raise click.BadParameter(f"'{value}': no file after '{fmt}='", param_hint="--output")
        return fmt, Path(file)
    return None, Path(value)


def plan(fmt: str | None, outputs: Sequence[str], settings: Sequence["Settings"]) -> Plan:
    """Resolve ``--format``/``--output`` against the project settings (flags win; settings must agree)."""
    import click

    from flopaudit.errors import SettingsError

    parsed = [split_output(o) for o in outputs]
    plain = [p for f, p in parsed if f is None]
    if len(plain) > 1:
        raise click.BadParameter(f"a plain FILE given {len(plain)} times ({', '.join(map(str, plain))}); "
                                 "give one, and FORMAT=FILE for the others", param_hint="--output")
    pairs = tuple((f, p) for f, p in parsed if f is not None)
    wanted = {(s.format, s.outputs) for s in settings}
    if len(wanted) > 1 and (fmt is None or not pairs):
        files = ", ".join(sorted({s.file or "(none)" for s in settings}))
        raise SettingsError(f"the configs' project settings ({files}) ask for different outputs; "
                            "check them separately, or give --format and --output FORMAT=FILE")
    s_format, s_outputs = next(iter(wanted)) if wanted else (None, ())
    return Plan(main=fmt or s_format or "text", main_file=plain[0] if plain else None,
                files=pairs or s_outputs)


def render(fmt: str, results: Sequence["AuditResult"], *, color: bool = False, width: int | None = None) -> str:
    """The output of ``fmt`` for ``results`` (text: ``width`` columns, default 120)."""
    module = importlib.import_module(f"flopaudit.render.{_MODULES[fmt]}")
    if fmt == "text":
        from flopaudit.render.layout import DEFAULT_WIDTH
        return module.render(results, color=color, width=width or DEFAULT_WIDTH)
    return module.render(results)


def _write(path: Path, text: str, *, append: bool = False) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a" if append else "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        from flopaudit.errors import InputError
        raise InputError(f"cannot write output: {exc.strerror}", file=path) from None


def emit(fmt: str, results: Sequence["AuditResult"], output: Path | None) -> None:
    """Render and write to ``output`` (no colour, 120 columns) or stdout (colour when a terminal).

    Text on stdout is laid out for ``$COLUMNS`` when set, else the terminal's width, else 120 columns
    (a pipe or a CI log: the same bytes wherever it runs, coloured only under ``FORCE_COLOR``);
    numbers and ids are never broken.
    """
    if output is not None:
        _write(output, render(fmt, results))
        return
    if fmt == "text":
        from flopaudit.render.layout import width
        columns = width(sys.stdout)
        if not sys.stdout.isatty():  # a pipe, a file, a CI log: the same bytes everywhere
            color = bool(os.environ.get("FORCE_COLOR")) and not os.environ.get("NO_COLOR")
            sys.stdout.write(render(fmt, results, width=columns, color=color))
            return
        from rich.console import Console
        Console(highlight=False, width=columns).print(render_text_renderables(results, columns), end="")
        return
    sys.stdout.write(render(fmt, results))


def emit_all(p: Plan, results: Sequence["AuditResult"]) -> None:
    """Write every output of ``p``, the main one first (annotations survive a file that cannot be
    written); with ``github`` as the main format, append the Markdown step summary too."""
    emit(p.main, results, p.main_file)
    summary = os.environ.get(STEP_SUMMARY)
    if p.main == "github" and summary:
        _write(Path(summary), render("markdown", results), append=True)
    for fmt, path in p.files:
        _write(path, render(fmt, results))


def render_text_renderables(results: Sequence["AuditResult"], width: int | None = None):
    """The rich renderables of the text format laid out for ``width`` columns (default 120)."""
    from flopaudit.render.layout import DEFAULT_WIDTH
    from flopaudit.render.text import renderables
    return renderables(results, width or DEFAULT_WIDTH)
