"""A figure with its uncertainty band: low <= central <= high."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flopaudit.config.quantity import Quantity


@dataclass(frozen=True)
class Band:
    """low / central / high values of an estimate (FLOP, or any positive figure)."""

    low: float
    central: float
    high: float

    @classmethod
    def exact(cls, value: float) -> "Band":
        """A band with no width."""
        return cls(value, value, value)

    @classmethod
    def of(cls, q: Quantity) -> "Band":
        """The band of a config quantity (central = midpoint of its range)."""
        return cls(q.low, q.central, q.high)

    def __mul__(self, other: "Band | float") -> "Band":
        if isinstance(other, Band):
            return Band(self.low * other.low, self.central * other.central, self.high * other.high)
        return Band(self.low * other, self.central * other, self.high * other)

    __rmul__ = __mul__

    def __add__(self, other: "Band") -> "Band":
        return Band(self.low + other.low, self.central + other.central, self.high + other.high)

    @staticmethod
    def total(bands: Iterable["Band"]) -> "Band":
        """Sum of bands (lows add, highs add): zero when empty."""
        out = Band(0.0, 0.0, 0.0)
        for b in bands:
            out = out + b
        return out

    def as_dict(self) -> dict[str, float]:
        """``{"low", "central", "high"}`` for JSON."""
        return {"low": self.low, "central": self.central, "high": self.high}

    @property
    def is_exact(self) -> bool:
        """Whether the band has no width."""
        return self.low == self.high
