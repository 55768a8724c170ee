"""Landscape chart geometry: date x-axis, log compute y-axis, threshold labels and counts per year."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from flopaudit.render.svg import (CHAR_WIDTH, LINE_HEIGHT, PLOT_BOTTOM, PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, WIDTH,
                                  Mark, Point, build_chart, models_above, power_of_ten, year_fraction)


def point(key: str, when: str, value: float, kind: str = "reported", low: float | None = None,
          high: float | None = None) -> Point:
    return Point(key, key, dt.date.fromisoformat(when), value, low, high, kind, key)


def test_year_fraction() -> None:
    # 2024 is a leap year: 2024-07-02 is day 183 after 1 January, of 366 days: 2024 + 183/366 = 2024.5
    assert year_fraction(dt.date(2024, 7, 2)) == pytest.approx(2024.5)
    assert year_fraction(dt.date(2023, 1, 1)) == 2023.0


def test_log_y_and_date_x() -> None:
    chart = build_chart([point("a", "2020-01-01", 1e22), point("b", "2023-01-01", 1e26)],
                        [Mark(1e25, 1e25, "EU", True)])
    assert [t.text for t in chart.y_ticks] == [power_of_ten(e) for e in range(22, 27)]
    ys = [t.at for t in chart.y_ticks]
    assert ys[0] == PLOT_BOTTOM and ys[-1] == PLOT_TOP
    # x runs from 1 January of the first year (2020) to 1 January after the last (2024): 4 years.
    assert [t.text for t in chart.x_ticks] == ["2020", "2021", "2022", "2023", "2024"]
    dot = {d.key: d for d in chart.dots}
    assert dot["a"].x == PLOT_LEFT and dot["a"].y == PLOT_BOTTOM
    # b: 3 of 4 years along, at the top decade.
    assert dot["b"].x == pytest.approx(PLOT_LEFT + 3 / 4 * (PLOT_RIGHT - PLOT_LEFT), abs=0.1)
    assert dot["b"].y == PLOT_TOP
    # 1e25 is 3 of 4 decades up from 1e22: PLOT_BOTTOM - 3/4 of the plot height.
    assert chart.lines[0].y_high == pytest.approx(PLOT_BOTTOM - 3 / 4 * (PLOT_BOTTOM - PLOT_TOP), abs=0.1)


def test_every_point_is_drawn_within_the_view_and_audited_last() -> None:
    points = [point(f"m{i}", f"20{19 + i % 6}-06-01", 10 ** (22 + i % 5)) for i in range(12)]
    points.append(point("mine", "2026-11-27", 1e25, "audited", 8e24, 1.2e25))
    chart = build_chart(points, [Mark(1e25, 1e25, "EU", True)])
    assert len(chart.dots) == 13 and chart.dots[-1].key == "mine"
    mine = chart.dots[-1]
    assert mine.label == "mine" and mine.y_high < mine.y < mine.y_low
    for d in chart.dots:
        assert 0 <= d.x <= WIDTH and PLOT_TOP <= d.y <= PLOT_BOTTOM


def test_point_labels_never_overlap() -> None:
    # Ten models at the same date and compute: at most one label per free place, the rest keep only their title.
    chart = build_chart([point(f"model-{i}", "2024-01-01", 1e24) for i in range(10)], [])
    labelled = [d for d in chart.dots if d.label]
    assert 1 <= len(labelled) <= 4 < len(chart.dots)


def test_threshold_labels_stack_without_overlap() -> None:
    marks = [Mark(1e25, 1e25, "EU AI Act 1e25", True), Mark(1.27e25, 1.27e25, "EU modifier 1/3", True),
             Mark(1e26, 1e26, "CA SB 53 1e26", True), Mark(1e26, 1e26, "US EO 14110 1e26 (revoked)", False),
             Mark(1e23, 1e23, "EU GPAI 1e23", True)]
    chart = build_chart([point("a", "2020-01-01", 1e22), point("b", "2024-01-01", 1e27)], marks)
    blocks = []
    for line in chart.lines:
        top = line.label_y - LINE_HEIGHT + 2
        blocks.append((top, top + LINE_HEIGHT * len(line.labels)))
        assert line.label_y <= line.y_high  # the label sits above (or on) its line
        assert max(len(t) for t, _ in line.labels) * CHAR_WIDTH + PLOT_LEFT <= WIDTH
    for i, a in enumerate(blocks):
        for b in blocks[i + 1:]:
            assert a[1] <= b[0] or b[1] <= a[0], (a, b)
    grouped = next(line for line in chart.lines if len(line.labels) == 2)
    assert grouped.labels[0] == ("CA SB 53 1e26", True) and grouped.in_force


def test_decade_range_never_collapses() -> None:
    chart = build_chart([point("only", "2024-01-01", 3e24)], [])
    assert len(chart.y_ticks) >= 3
    assert all(math.isfinite(d.y) for d in chart.dots)


def test_models_above_each_threshold_per_year() -> None:
    d = dt.date
    dated = [(d(2020, 5, 1), 3e23), (d(2022, 3, 1), 2e25), (d(2022, 9, 1), 5e24), (d(2024, 1, 1), 4e25)]
    rows = models_above(dated, [1e24, 1e25])
    assert [r.year for r in rows] == [2020, 2021, 2022, 2023, 2024]
    # > 1e24: 2020 none; 2022 two (2e25, 5e24); 2024 one (4e25); to date 0, 0, 2, 2, 3.
    # > 1e25: 2022 one (2e25); 2024 one (4e25); to date 0, 0, 1, 1, 2.
    assert [r.counts for r in rows] == [((0, 0), (0, 0)), ((0, 0), (0, 0)), ((2, 2), (1, 1)),
                                        ((0, 2), (0, 1)), ((1, 3), (1, 2))]
    assert models_above([], [1e25]) == []
