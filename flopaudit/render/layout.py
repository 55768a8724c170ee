"""Fit a table to a terminal width without ever breaking a number or an id.

rich shrinks a table that is too wide by folding its widest columns, whatever is in them, so
``4.10e25`` or ``notify-commission`` can come out cut across two lines. Here every column says
whether its cells may wrap (text: at spaces only) or not (a number, an id, a date); a column's
narrowest width is then its longest unbreakable piece, and widths are given out so that no
column goes below it. When even that does not fit, the table is shown as one block per row
(``header  value`` lines), which fits any width down to the longest word.

:func:`width` is the one place the text width is chosen: ``$COLUMNS`` when set, else the
terminal's, else :data:`DEFAULT_WIDTH` (files, pipes, CI logs: the same bytes on every machine).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from rich import box
from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

#: The width of text output that does not go to a terminal (and of a terminal whose size is unknown).
DEFAULT_WIDTH = 120
#: Narrower than this, even the row-per-block layout would break words: the width is raised to it.
MIN_WIDTH = 40
_SPACE = re.compile(r"\s+")


def width(stream: IO[str] | None = None, environ: dict[str, str] | None = None) -> int:
    """Columns for text output: ``$COLUMNS`` if a positive integer, else the terminal's, else 120."""
    env = os.environ if environ is None else environ
    columns = env.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    if stream is not None and _isatty(stream):
        try:
            return max(os.get_terminal_size(stream.fileno()).columns, MIN_WIDTH)
        except (OSError, ValueError, AttributeError):
            pass
    return DEFAULT_WIDTH


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


@dataclass(frozen=True)
class Column:
    """A column: ``wrap`` False for numbers and ids (never broken), True for prose (broken at spaces)."""

    header: str
    wrap: bool = True
    justify: str = "left"


def _cell_min(text: Text, wrap: bool) -> int:
    """The narrowest width ``text`` takes without a piece of it broken: its longest word, or line."""
    lines = text.plain.split("\n")
    if not wrap:
        return max(cell_len(line) for line in lines)
    return max((cell_len(word) for line in lines for word in _SPACE.split(line)), default=0)


def _cell_max(text: Text) -> int:
    """The width ``text`` takes on one line per line break."""
    return max(cell_len(line) for line in text.plain.split("\n"))


def allocate(minimums: Sequence[int], maximums: Sequence[int], room: int) -> list[int] | None:
    """Widths between each column's minimum and maximum summing to at most ``room`` (None: impossible).

    Convention: start at the maxima and take one column at a time from the widest column still above
    its minimum, so wide prose columns give way first and narrow ones keep their natural width.
    """
    if sum(minimums) > room:
        return None
    widths = [max(lo, hi) for lo, hi in zip(minimums, maximums)]
    excess = sum(widths) - room
    while excess > 0:
        i = max((k for k in range(len(widths)) if widths[k] > minimums[k]), key=lambda k: widths[k])
        widths[i] -= 1
        excess -= 1
    return widths


def table(title: str, columns: Sequence[Column], rows: Sequence[Sequence[Text]], width: int, *,
          row_styles: Sequence[str] | None = None, show_header: bool = True) -> RenderableType:
    """``rows`` as a boxed table of at most ``width`` columns, or as blocks when it cannot fit."""
    n = len(columns)
    heads = [Text(c.header) for c in columns]
    minimums = [max([_cell_min(h, True)] + [_cell_min(r[i], columns[i].wrap) for r in rows]) for i, h in
                enumerate(heads)]
    maximums = [max([_cell_max(h) if show_header else 0] + [_cell_max(r[i]) for r in rows]) for i, h in
                enumerate(heads)]
    # A box of n columns takes n + 1 rules and one space each side of every cell.
    widths = allocate(minimums, maximums, width - (n + 1) - 2 * n)
    if widths is None:
        return blocks(title, columns, rows, width)
    t = Table(title=title or None, title_justify="left", show_header=show_header, box=box.HEAVY_HEAD)
    for c, w in zip(columns, widths):
        t.add_column(c.header, width=w, justify=c.justify, overflow="fold", no_wrap=not c.wrap)  # type: ignore[arg-type]
    for k, r in enumerate(rows):
        t.add_row(*r, style=row_styles[k] if row_styles else None)
    return t


def blocks(title: str, columns: Sequence[Column], rows: Sequence[Sequence[Text]], width: int) -> RenderableType:
    """One block per row: its first cell as a heading, then ``header  value`` lines, indented by 2."""
    parts: list[RenderableType] = [Text(title, style="italic")] if title else []
    label = max(cell_len(c.header) for c in columns[1:]) if len(columns) > 1 else 0
    for r in rows:
        parts.append(r[0])
        grid = Table.grid(padding=(0, 2, 0, 0))
        grid.add_column(no_wrap=True, width=label)
        grid.add_column(overflow="fold", width=max(width - 2 - label - 2, 1))
        for c, cell in zip(columns[1:], r[1:]):
            if cell.plain.strip():
                grid.add_row(Text(c.header, style="dim"), cell)
        parts.append(_indent(grid))
    return Group(*parts)


def _indent(renderable: RenderableType) -> RenderableType:
    from rich.padding import Padding

    return Padding(renderable, (0, 0, 0, 2))


__all__ = ["DEFAULT_WIDTH", "MIN_WIDTH", "Column", "allocate", "blocks", "table", "width"]
