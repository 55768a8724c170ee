"""Widths of the text output: where they come from, and how a table's columns share them."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from flopaudit.render import layout
from flopaudit.render.layout import Column


def test_width_comes_from_columns_else_the_terminal_else_120() -> None:
    # a StringIO is no terminal: 120, unless $COLUMNS says otherwise; below 40 it is raised to 40
    assert layout.width(io.StringIO(), {}) == 120
    assert layout.width(io.StringIO(), {"COLUMNS": "90"}) == 90
    assert layout.width(io.StringIO(), {"COLUMNS": "10"}) == 40
    assert layout.width(io.StringIO(), {"COLUMNS": "wide"}) == 120


def test_allocate_keeps_every_column_at_or_above_its_minimum() -> None:
    # maxima 30 + 20 + 5 = 55 in room 40: 15 to take, one at a time from the widest column still
    # above its minimum (ties: the first). Steps 1-10: column 0 30 -> 20. Then 20/20 tie -> col 0 19,
    # col 1 20 -> 19, tie -> col 0 18, col 1 19 -> 18 (its minimum), tie -> col 0 17: [17, 18, 5].
    assert layout.allocate([10, 18, 5], [30, 20, 5], 40) == [17, 18, 5]
    # the minimum of column 2 (18) holds: total 10 + 18 + 5 = 33 fits in 33, the rest gives way
    assert layout.allocate([10, 18, 5], [30, 20, 5], 33) == [10, 18, 5]
    # the minima do not fit: no widths (the caller shows one block per row)
    assert layout.allocate([10, 18, 5], [30, 20, 5], 32) is None


def render(renderable: object, width: int) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None).print(renderable)
    return buf.getvalue()


def test_a_table_too_narrow_for_its_ids_becomes_blocks() -> None:
    rows = [[Text("eu-ai-act-systemic-risk"), Text("> 1.00e25 FLOP"), Text("a long obligation text here")]]
    columns = (Column("policy", wrap=False), Column("threshold", wrap=False), Column("notes"))
    # minima 23 + 14 + 10 ("obligation") = 47, plus 4 rules and 6 spaces of padding = 57
    assert "┃ policy" in render(layout.table("T", columns, rows, 57), 57)
    narrow = render(layout.table("T", columns, rows, 56), 56)
    assert "┃" not in narrow and "eu-ai-act-systemic-risk\n" in narrow
    assert "  threshold  > 1.00e25 FLOP" in narrow
