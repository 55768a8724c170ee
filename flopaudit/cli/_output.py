"""Output sink: pick a renderer by format name and write to stdout or a file."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult

#: Format name -> module in flopaudit.render (one module per format, each with ``render(results) -> str``).
FORMATS = ("text", "json", "markdown", "github", "sarif", "junit")
_MODULES = {"text": "text", "json": "json_out", "markdown": "markdown", "github": "github",
            "sarif": "sarif", "junit": "junit"}


def render(fmt: str, results: Sequence["AuditResult"], *, color: bool = False, width: int = 120) -> str:
    """The output of ``fmt`` for ``results``."""
    module = importlib.import_module(f"flopaudit.render.{_MODULES[fmt]}")
    if fmt == "text":
        return module.render(results, color=color, width=width)
    return module.render(results)


def emit(fmt: str, results: Sequence["AuditResult"], output: Path | None) -> None:
    """Render and write to ``output`` (no colour) or stdout (colour when a terminal)."""
    if output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(render(fmt, results), encoding="utf-8")
        except OSError as exc:
            from flopaudit.errors import InputError
            raise InputError(f"cannot write output: {exc.strerror}", file=output) from None
        return
    if fmt == "text":
        from rich.console import Console
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=120)  # CI logs: wide enough for the tables
        console.print(render_text_renderables(results), end="")
        return
    sys.stdout.write(render(fmt, results))


def render_text_renderables(results: Sequence["AuditResult"]):
    """The rich renderables of the text format (for a live console with its own width and colour)."""
    from flopaudit.render.text import renderables
    return renderables(results)
