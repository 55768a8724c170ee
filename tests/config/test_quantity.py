"""Numbers as users write them (spec: config.md, "Numbers")."""

from __future__ import annotations

import math

import pytest

from flopaudit.config.quantity import Quantity, parse_count, parse_quantity


@pytest.mark.parametrize(("text", "value"), [
    (405000000000, 405e9),
    (3.8e25, 3.8e25),
    ("1e25", 1e25),          # PyYAML reads 1e25 as a string
    ("3.8e25", 3.8e25),      # ... and 3.8e25 too (YAML 1.1 wants a signed exponent)
    ("1.0e+25", 1e25),
    ("405B", 405e9),
    ("15.6T", 15.6e12),
    ("1.2M", 1.2e6),
    ("500K", 500e3),
    ("989T", 989e12),
    ("2G", 2e9),
    ("1P", 1e15),
    ("3E", 3e18),
    ("1_000", 1000.0),
])
def test_plain_and_suffixed_numbers(text: object, value: float) -> None:
    q = parse_quantity(text)
    assert q.low == q.high == pytest.approx(value, rel=1e-12)


def test_money_accepts_dollar_only_for_money() -> None:
    assert parse_quantity("$500M", money=True).central == 500e6
    with pytest.raises(ValueError, match=r"'\$' is only for money"):
        parse_quantity("$500M")


def test_range_central_is_midpoint() -> None:
    # (0.35 + 0.45) / 2 = 0.40
    q = parse_quantity("0.35..0.45")
    assert (q.low, q.high) == (0.35, 0.45)
    assert q.central == pytest.approx(0.40)
    # (14T + 16T) / 2 = 15T
    assert parse_quantity("14T..16T").central == 15e12


@pytest.mark.parametrize(("bad", "message"), [
    (-5, "must be positive"),
    (0, "must be positive"),
    (math.nan, "NaN"),
    (math.inf, "finite"),
    (".nan", "not a number"),
    ("12X", "unknown suffix 'X'"),
    ("lots", "not a number"),
    ("16T..14T", "reversed"),
    (True, "expected a number"),
    ([1], "expected a number"),
])
def test_bad_numbers(bad: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_quantity(bad)


def test_counts_are_whole() -> None:
    assert parse_count("8K") == 8000
    assert parse_count(126) == 126
    assert parse_count(0) == 0
    with pytest.raises(ValueError, match="whole number"):
        parse_count(1.5)
    with pytest.raises(ValueError, match="positive"):
        parse_count(0, allow_zero=False)


def test_quantity_exact() -> None:
    assert not Quantity.exact(2.0).is_range
    assert str(parse_quantity("405B")) == "405B"
