"""Geometry of the report's log-scale compute chart, computed from data (the template draws it).

One horizontal row per model, sorted by compute: each audited config as its band (low..high) with
a marker at the central value (and, outlined, what that compute is worth in the FLOP of the oldest
threshold in force, from algorithmic progress alone), each catalogue model as a dot (filled: reported by the developer;
hollow: third-party estimate, with its interval when one is published). Thresholds are vertical
lines, solid when a policy in force uses them and dashed otherwise, labelled with the policies'
short names in blocks that do not overlap. Nothing is conveyed by colour alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 960
PLOT_LEFT = 300
PLOT_RIGHT = 940
ROW_HEIGHT = 22
LINE_HEIGHT = 13
LABEL_GAP = 5
AXIS_HEIGHT = 34
CHAR_WIDTH = 6.2  # average width of an 11px sans-serif character, for label packing
LABEL_CHARS = 32
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Point:
    """A value to place on the chart: an audited band or a catalogue figure."""

    label: str
    central: float
    low: float | None
    high: float | None
    kind: str  # "audited" | "effective" | "reported" | "estimate"
    value_text: str
    title: str


@dataclass(frozen=True)
class Mark:
    """A threshold to draw: its value (band for a relative bound), label and whether it is in force."""

    low: float
    high: float
    label: str
    in_force: bool


@dataclass(frozen=True)
class Row:
    """One drawn row."""

    y: float
    label: str
    value_text: str
    title: str
    kind: str
    x: float
    x_low: float | None
    x_high: float | None

    @property
    def bar(self) -> tuple[float, float]:
        """x and width of the band bar (at least 4 units wide, centred on the marker when narrower)."""
        lo = self.x_low if self.x_low is not None else self.x
        hi = self.x_high if self.x_high is not None else self.x
        if hi - lo < 4:
            return round(self.x - 2, 1), 4.0
        return lo, round(hi - lo, 1)


@dataclass(frozen=True)
class Line:
    """One drawn threshold (a band when low < high) with its stacked label block."""

    x_low: float
    x_high: float
    labels: tuple[tuple[str, bool], ...]  # (label, policy in force)
    in_force: bool
    label_x: float
    label_y: float
    anchor: str


@dataclass(frozen=True)
class Tick:
    """A decade on the axis."""

    x: float
    text: str


@dataclass(frozen=True)
class Chart:
    """Everything the template needs to draw the chart."""

    width: int
    height: float
    plot_left: int
    plot_right: int
    plot_top: float
    plot_bottom: float
    ticks: list[Tick]
    rows: list[Row]
    lines: list[Line]


def power_of_ten(exponent: int) -> str:
    """``10²⁵``."""
    return "10" + str(exponent).translate(SUPERSCRIPT)


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _decades(values: Sequence[float]) -> tuple[int, int]:
    positive = [v for v in values if v > 0]
    lo = math.floor(math.log10(min(positive))) if positive else 21
    hi = math.ceil(math.log10(max(positive))) if positive else 27
    if hi - lo < 2:
        lo, hi = lo - 1, hi + 1
    return lo, hi


def _label_blocks(marks: Sequence[Mark]) -> list[tuple[float, float, tuple[tuple[str, bool], ...], bool]]:
    """Thresholds grouped by value: (low, high, (label, in force) pairs, any in force), sorted by value."""
    groups: dict[tuple[float, float], list[Mark]] = {}
    for m in marks:
        groups.setdefault((m.low, m.high), []).append(m)
    out = []
    for (low, high), ms in sorted(groups.items()):
        ordered = sorted(ms, key=lambda m: (not m.in_force, m.label))
        labels = tuple(dict.fromkeys((m.label, m.in_force) for m in ordered))
        out.append((low, high, labels, any(m.in_force for m in ms)))
    return out


def build_chart(points: Sequence[Point], marks: Sequence[Mark]) -> Chart:
    """Lay out rows (sorted by compute), decade ticks and threshold lines with non-overlapping labels."""
    values = [v for p in points for v in (p.central, p.low, p.high) if v] + \
             [v for m in marks for v in (m.low, m.high)]
    lo_exp, hi_exp = _decades(values)
    span = PLOT_RIGHT - PLOT_LEFT

    def x(value: float) -> float:
        return round(PLOT_LEFT + span * (math.log10(max(value, 10.0 ** lo_exp)) - lo_exp) / (hi_exp - lo_exp), 1)

    # Threshold labels: one block per value, right of the line (left when it would overflow), each
    # placed at the lowest height where it overlaps no block already placed (first fit).
    placed: list[tuple[float, float, float, float]] = []  # start, end, top, bottom
    lines = []
    for low, high, labels, in_force in _label_blocks(marks):
        width = max(len(t) for t, _ in labels) * CHAR_WIDTH + 8
        height = len(labels) * LINE_HEIGHT + LABEL_GAP
        xl, xh = x(low), x(high)
        anchor, lx = ("start", xh + 4) if xh + 4 + width <= WIDTH - 4 else ("end", xl - 4)
        start, end = (lx, lx + width) if anchor == "start" else (lx - width, lx)
        beside = [p for p in placed if p[0] < end and start < p[1]]
        top = min(y for y in [0.0, *(p[3] for p in beside)]
                  if all(y + height <= p[2] or p[3] <= y for p in beside))
        placed.append((start, end, top, top + height))
        lines.append((xl, xh, labels, in_force, lx, anchor, top))
    plot_top = 8 + max((p[3] for p in placed), default=0.0)
    lines = [Line(xl, xh, labels, in_force, lx, 8 + top + LINE_HEIGHT - 2, anchor)
             for xl, xh, labels, in_force, lx, anchor, top in lines]

    ordered = sorted(points, key=lambda p: (p.central, p.kind not in ("audited", "effective"), p.label))
    rows = [Row(plot_top + 6 + i * ROW_HEIGHT + ROW_HEIGHT / 2, shorten(p.label), p.value_text, p.title, p.kind,
                x(p.central), x(p.low) if p.low else None, x(p.high) if p.high else None)
            for i, p in enumerate(ordered)]
    plot_bottom = plot_top + 12 + len(rows) * ROW_HEIGHT
    ticks = [Tick(x(10.0 ** e), power_of_ten(e)) for e in range(lo_exp, hi_exp + 1)]
    return Chart(WIDTH, plot_bottom + AXIS_HEIGHT, PLOT_LEFT, PLOT_RIGHT, plot_top, plot_bottom, ticks, rows, lines)
