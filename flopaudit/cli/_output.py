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


def render(fmt: str, results: Sequence["AuditResult"], *, color: bool = False, width: int = 120) -> str:
    """The output of ``fmt`` for ``results``."""
    module = importlib.import_module(f"flopaudit.render.{_MODULES[fmt]}")
    if fmt == "text":
        return module.render(results, color=color, width=width)
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
    """Render and write to ``output`` (no colour) or stdout (colour when a terminal)."""
    if output is not None:
        _write(output, render(fmt, results))
        return
    if fmt == "text":
        from rich.console import Console
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=120)  # CI logs: wide enough for the tables
        console.print(render_text_renderables(results), end="")
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


def render_text_renderables(results: Sequence["AuditResult"]):
    """The rich renderables of the text format (for a live console with its own width and colour)."""
    from flopaudit.render.text import renderables
    return renderables(results)
