"""Numbers as users write them: plain, with SI suffixes, as money, or as ``low..high`` ranges.

Spec (config.md, "Numbers"): ``405B``, ``15.6T``, ``1e25`` (a string to PyYAML, accepted anyway),
``$500M`` for money, and ``0.35..0.45`` ranges whose midpoint is the central value. Negative,
zero, NaN and infinite values are refused here, so nothing downstream has to check again.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

SI_SUFFIXES: dict[str, float] = {
    "K": 1e3, "k": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
}

_NUMBER = re.compile(
    r"^(?P<money>\$)?\s*(?P<num>[+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<suffix>[A-Za-z]?)$"
)


@dataclass(frozen=True)
class Quantity:
    """A positive number with an uncertainty band; ``central`` is the midpoint of a range."""

    low: float
    high: float

    @property
    def central(self) -> float:
        """The value used when one number is needed: the midpoint of the range."""
        return (self.low + self.high) / 2

    @property
    def is_range(self) -> bool:
        """Whether the user gave a ``low..high`` range rather than one number."""
        return self.low != self.high

    @classmethod
    def exact(cls, value: float) -> "Quantity":
        """A quantity with no uncertainty."""
        return cls(value, value)

    def __str__(self) -> str:
        return format_number(self.low) if not self.is_range else \
            f"{format_number(self.low)}..{format_number(self.high)}"


def format_number(x: float) -> str:
    """Short human form: ``405B``-style below 1e19, scientific above."""
    if x == 0:
        return "0"
    if abs(x) >= 1e19 or abs(x) < 1:
        return f"{x:.3g}" if abs(x) < 1 else f"{x:.3e}".replace("e+", "e")
    for suffix, scale in (("E", 1e18), ("P", 1e15), ("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.4g}{suffix}"
    return f"{x:.4g}"


def format_ratio(ratio: float) -> str:
    """``figure / other`` after "differs by": ``+62%`` within a factor of 2, else ``a factor of 4.1e27 (lower)``."""
    # A percent of a factor of 4e27 ("+409566...%") would be unreadable.
    if ratio == 0:
        return "-100%"
    if ratio < 0 or not math.isfinite(ratio):
        return "an amount that is not a number"
    if 0.5 <= ratio <= 2:
        return f"{ratio - 1:+.0%}"
    factor, word = (ratio, "higher") if ratio > 1 else (1 / ratio, "lower")
    if factor < 9.95:
        shown = f"{factor:.2g}"
    elif factor < 1e4:
        shown = f"{factor:,.0f}"
    else:
        shown = f"{factor:.1e}".replace("e+0", "e").replace("e+", "e")
    return f"a factor of {shown} ({word})"


def _parse_one(text: str, *, money: bool) -> float:
    m = _NUMBER.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' is not a number (write e.g. 405B, 15.6T, 3.8e25{', $500M' if money else ''})")
    if m.group("money") and not money:
        raise ValueError(f"'{text}': '$' is only for money fields")
    suffix = m.group("suffix")
    if suffix and suffix not in SI_SUFFIXES:
        raise ValueError(f"'{text}': unknown suffix '{suffix}' (use K, M, B or G, T, P, E)")
    try:
        return float(m.group("num").replace("_", "")) * (SI_SUFFIXES[suffix] if suffix else 1.0)
    except OverflowError:
        raise ValueError(f"'{text}' must be finite") from None


def parse_quantity(value: Any, *, money: bool = False, allow_range: bool = True) -> Quantity:
    """Parse a config number into a :class:`Quantity`; raise ``ValueError`` with the reason."""
    if isinstance(value, Quantity):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        try:
            low = high = float(value)
        except OverflowError:
            raise ValueError("must be finite (the number is too large)") from None
    elif isinstance(value, str):
        if ".." in value:
            if not allow_range:
                raise ValueError(f"'{value}': a range is not allowed here")
            left, _, right = value.partition("..")
            low, high = _parse_one(left, money=money), _parse_one(right, money=money)
            if low > high:
                raise ValueError(f"range '{value}' is reversed (write low..high)")
        else:
            low = high = _parse_one(value, money=money)
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    for x in (low, high):
        if math.isnan(x):
            raise ValueError("NaN is not a number here")
        if math.isinf(x):
            raise ValueError("must be finite")
        if x <= 0:
            raise ValueError(f"must be positive, got {format_number(x) if x else 0}")
    return Quantity(low, high)


def parse_count(value: Any, *, allow_zero: bool = True) -> int:
    """Parse a whole number (layers, heads, vocab ...); SI suffixes allowed, ranges not."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, int):
        if abs(value) > 10**18:
            raise ValueError("must be finite (the number is too large)")
        number = float(value)
    else:
        number = parse_quantity(value, allow_range=False).low if value not in (0, "0") else 0.0
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise ValueError("must be a finite whole number")
    if number != int(number):
        raise ValueError(f"expected a whole number, got {value!r}")
    if number < 0 or (number == 0 and not allow_zero):
        raise ValueError(f"must be {'at least 0' if allow_zero else 'positive'}, got {value!r}")
    return int(number)
