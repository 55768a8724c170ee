"""Geometry of the report's landscape chart, computed from data (the template draws it).

Training date on the x-axis (years), training compute on a log y-axis. Each catalogue model is a
dot at its publication date (filled: reported by the developer; hollow: third-party estimate, with
its interval when one is published); each audited config is a diamond at its run date with its band
as a vertical bar, drawn last and labelled; thresholds are horizontal lines, solid when a policy in
force uses them and dashed otherwise, with labels that never overlap. The viewBox is narrow enough
to be drawn at 100% width on a 390 px phone, so the chart never scrolls sideways. Nothing is
conveyed by colour alone. This is the picture of Hooker (2024): thresholds stay put while compute
grows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 560
PLOT_LEFT = 44
PLOT_RIGHT = 548
PLOT_TOP = 10
PLOT_BOTTOM = 330
HEIGHT = 362
LINE_HEIGHT = 12
CHAR_WIDTH = 5.6  # average width of a 10px sans-serif character, for label packing
LABEL_CHARS = 32
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Point:
    """A model to place: catalogue (``reported`` / ``estimate``) or ``audited``, dated and with its source."""

    key: str
    label: str
    date: dt.date
    central: float
    low: float | None
    high: float | None
    kind: str  # "audited" | "reported" | "estimate"
    title: str


@dataclass(frozen=True)
class Mark:
    """A threshold to draw: its value (band for a relative bound), label and whether it is in force."""

    low: float
    high: float
    label: str
    in_force: bool


@dataclass(frozen=True)
class Dot:
    """One drawn model, with its label (empty when it would overlap another; the title keeps it)."""

    key: str
    x: float
    y: float
    y_low: float | None
    y_high: float | None
    kind: str
    title: str
    label: str
    label_x: float
    label_y: float
    anchor: str


@dataclass(frozen=True)
class Line:
    """One drawn threshold (a band when low < high) with its label lines."""

    y_low: float
    y_high: float
    labels: tuple[tuple[str, bool], ...]  # (label, policy in force)
    in_force: bool
    label_y: float


@dataclass(frozen=True)
class Tick:
    """A decade on the y-axis or a year on the x-axis."""

    at: float
    text: str


@dataclass(frozen=True)
class Chart:
    """Everything the template needs to draw the chart."""

    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    dots: list[Dot]
    lines: list[Line]


@dataclass(frozen=True)
class YearCount:
    """For one year: catalogue models published that year above each threshold, and to date."""

    year: int
    counts: tuple[tuple[int, int], ...]  # per threshold: (that year, to date)


def power_of_ten(exponent: int) -> str:
    """``10²⁵``."""
    return "10" + str(exponent).translate(SUPERSCRIPT)


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def year_fraction(date: dt.date) -> float:
    """The date as a decimal year (2024-07-02 is about 2024.5)."""
    start = dt.date(date.year, 1, 1)
    return date.year + (date - start).days / (dt.date(date.year + 1, 1, 1) - start).days


def _decades(values: Sequence[float]) -> tuple[int, int]:
    positive = [v for v in values if v > 0]
    lo = math.floor(math.log10(min(positive))) if positive else 21
    hi = math.ceil(math.log10(max(positive))) if positive else 27
    if hi - lo < 2:
        lo, hi = lo - 1, hi + 1
    return lo, hi


def models_above(dates: Sequence[tuple[dt.date, float]], thresholds: Sequence[float]) -> list[YearCount]:
    """Per year from the first to the last date: models published that year above each threshold, and to date."""
    if not dates:
        return []
    first, last = min(d.year for d, _ in dates), max(d.year for d, _ in dates)
    out = []
    for year in range(first, last + 1):
        counts = tuple((sum(1 for d, f in dates if d.year == year and f > t),
                        sum(1 for d, f in dates if d.year <= year and f > t)) for t in thresholds)
        out.append(YearCount(year, counts))
    return out


def _overlaps(box: tuple[float, float, float, float], placed: list[tuple[float, float, float, float]]) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in placed)


def build_chart(points: Sequence[Point], marks: Sequence[Mark]) -> Chart:
    """Lay out dated models on a log compute axis with threshold lines; labels placed where they fit."""
    values = [v for p in points for v in (p.central, p.low, p.high) if v] + \
             [v for m in marks for v in (m.low, m.high)]
    lo_exp, hi_exp = _decades(values)
    years = [year_fraction(p.date) for p in points] or [2020.0]
    first, last = math.floor(min(years)), math.floor(max(years)) + 1

    def y(value: float) -> float:
        v = math.log10(max(value, 10.0 ** lo_exp))
        return round(PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * (v - lo_exp) / (hi_exp - lo_exp), 1)

    def x(when: dt.date) -> float:
        return round(PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (year_fraction(when) - first) / (last - first), 1)

    # Threshold lines: grouped by value; each label block sits just above its line, moved up
    # when it would overlap the block below it.
    groups: dict[tuple[float, float], list[Mark]] = {}
    for m in marks:
        groups.setdefault((m.low, m.high), []).append(m)
    lines, floor = [], float(PLOT_BOTTOM)
    placed: list[tuple[float, float, float, float]] = []
    for (low, high), ms in sorted(groups.items()):
        ordered = sorted(ms, key=lambda m: (not m.in_force, m.label))
        labels = tuple(dict.fromkeys((m.label, m.in_force) for m in ordered))
        top_line = y(high)
        label_y = min(top_line - 3, floor) - LINE_HEIGHT * len(labels)
        floor = label_y
        width = max(len(t) for t, _ in labels) * CHAR_WIDTH
        placed.append((PLOT_LEFT + 2, label_y, PLOT_LEFT + 6 + width, label_y + LINE_HEIGHT * len(labels)))
        lines.append(Line(y(low), top_line, labels, any(m.in_force for m in ms), label_y + LINE_HEIGHT - 2))

    # Audited configs first (their labels must show), then catalogue models by date.
    ordered_points = sorted(points, key=lambda p: (p.kind != "audited", p.date, p.key))
    dots = []
    for p in ordered_points:
        px, py = x(p.date), y(p.central)
        label = shorten(p.label)
        width = len(label) * CHAR_WIDTH
        # Candidate places: right, left, then centred above and below the marker.
        candidates = [("start", px + 7, py + 4, (px + 7, py - 5, px + 7 + width, py + 6)),
                      ("end", px - 7, py + 4, (px - 7 - width, py - 5, px - 7, py + 6)),
                      ("middle", px, py - 8, (px - width / 2, py - 17, px + width / 2, py - 6)),
                      ("middle", px, py + 16, (px - width / 2, py + 7, px + width / 2, py + 18))]
        chosen = next((c for c in candidates if c[3][0] >= 0 and c[3][2] <= WIDTH and c[3][1] >= 0
                       and c[3][3] <= PLOT_BOTTOM and not _overlaps(c[3], placed)), None)
        if chosen is None and p.kind == "audited":  # never hide the audited model's name: draw it on top
            chosen = candidates[1] if candidates[0][3][2] > WIDTH else candidates[0]
        if chosen is not None:
            placed.append(chosen[3])
        anchor, lx, ly = (chosen[0], chosen[1], chosen[2]) if chosen else ("start", px, py)
        dots.append(Dot(p.key, px, py, y(p.low) if p.low else None, y(p.high) if p.high else None, p.kind,
                        p.title, label if chosen else "", lx, ly, anchor))
    # Draw the audited models last, on top of the catalogue.
    dots.sort(key=lambda d: d.kind == "audited")
    y_ticks = [Tick(y(10.0 ** e), power_of_ten(e)) for e in range(lo_exp, hi_exp + 1)]
    step = 1 if last - first <= 8 else 2
    x_ticks = [Tick(x(dt.date(yr, 1, 1)), str(yr)) for yr in range(first, last + 1, step)]
    return Chart(WIDTH, HEIGHT, PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM, y_ticks, x_ticks, dots, lines)
