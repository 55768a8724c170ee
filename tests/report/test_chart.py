"""Chart geometry: log scale, sorted rows, threshold labels that never overlap."""

from __future__ import annotations

import math

import pytest

from flopaudit.render.svg import CHAR_WIDTH, PLOT_LEFT, PLOT_RIGHT, Mark, Point, build_chart, power_of_ten


def point(label: str, value: float, kind: str = "reported", low: float | None = None,
          high: float | None = None) -> Point:
    return Point(label, value, low, high, kind, f"{value:.2e}", label)


def test_log_scale_and_decade_ticks() -> None:
    chart = build_chart([point("a", 1e22), point("b", 1e26)], [Mark(1e25, 1e25, "EU", True)])
    assert [t.text for t in chart.ticks] == [power_of_ten(e) for e in range(22, 27)]
    xs = [t.x for t in chart.ticks]
    assert xs[0] == PLOT_LEFT and xs[-1] == PLOT_RIGHT
    assert all(b - a == pytest.approx(xs[1] - xs[0], abs=0.2) for a, b in zip(xs, xs[1:], strict=False))
    row = {r.label: r for r in chart.rows}
    assert row["a"].x == PLOT_LEFT and row["b"].x == PLOT_RIGHT
    assert chart.lines[0].x_low == pytest.approx(PLOT_LEFT + 3 / 4 * (PLOT_RIGHT - PLOT_LEFT), abs=0.1)


def test_rows_sorted_by_compute_with_bands() -> None:
    chart = build_chart([point("big", 5e25), point("mine", 1e25, "audited", 8e24, 1.2e25), point("small", 1e23)], [])
    assert [r.label for r in chart.rows] == ["small", "mine", "big"]
    mine = chart.rows[1]
    assert mine.x_low < mine.x < mine.x_high
    x, width = mine.bar
    assert x == mine.x_low and width == pytest.approx(mine.x_high - mine.x_low, abs=0.1)
    assert build_chart([point("exact", 1e24, "audited", 1e24, 1e24)], []).rows[0].bar[1] == 4.0


def test_threshold_labels_do_not_overlap() -> None:
    marks = [Mark(1e25, 1e25, "EU AI Act 1e25", True), Mark(1.27e25, 1.27e25, "EU modifier 1/3", True),
             Mark(1e26, 1e26, "CA SB 53 1e26", True), Mark(1e26, 1e26, "US EO 14110 1e26 (revoked)", False),
             Mark(1e23, 1e23, "EU GPAI 1e23", True)]
    chart = build_chart([point("a", 1e22), point("b", 1e27)], marks)
    boxes = []
    for line in chart.lines:
        width = max(len(t) for t, _ in line.labels) * CHAR_WIDTH
        x0 = line.label_x if line.anchor == "start" else line.label_x - width
        y0 = line.label_y - 11
        boxes.append((x0, x0 + width, y0, y0 + 13 * len(line.labels)))
        assert x0 >= 0 and x0 + width <= chart.width
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[1] <= b[0] or b[1] <= a[0] or a[3] <= b[2] or b[3] <= a[2], (a, b)
    assert all(line.label_y < chart.plot_top for line in chart.lines)
    grouped = next(line for line in chart.lines if len(line.labels) == 2)
    assert grouped.labels[0] == ("CA SB 53 1e26", True) and grouped.in_force


def test_decade_range_never_collapses() -> None:
    chart = build_chart([point("only", 3e24)], [])
    assert len(chart.ticks) >= 3
    assert all(math.isfinite(r.x) for r in chart.rows)
