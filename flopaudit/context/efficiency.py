"""The efficiency-factor catalogue (``data/efficiency_factors.yaml``) and effective-compute arithmetic.

Factors are listed, never multiplied together: gains from different techniques overlap, and Epoch
AI finds combined training/inference trade-offs of about 2-3 orders of magnitude, not the product
of the parts (factor I-3). The only arithmetic here is the effective-compute multiplier of one
factor, algorithmic progress in pre-training, compounded over time.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from flopaudit.estimate.band import Band

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "efficiency_factors.yaml"
DAYS_PER_YEAR = 365.25


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a factor comes from."""

    label: str
    url: str


class Category(_Strict):
    """A kind of efficiency gain (post-training, algorithmic progress, ...)."""

    id: str
    title: str
    summary: str


class Factor(_Strict):
    """One published efficiency gain, with its range and unit."""

    id: str
    category: str
    name: str
    low: float | None = Field(default=None, gt=0)
    central: float | None = Field(default=None, gt=0)
    high: float | None = Field(default=None, gt=0)
    unit: str
    applies_to: str
    cost: str | None = None
    source: Source
    confidence: Literal["high", "medium", "low"]
    note: str | None = None

    @property
    def range_text(self) -> str:
        """``5-20x``, ``>= 100x``, ``<= 3.33x``, ``about 30x``, or ``qualitative``."""
        def x(v: float) -> str:
            return f"{v:,.0f}x" if v >= 1000 else f"{v:.3g}x"
        lo, mid, hi = self.low, self.central, self.high
        if lo is not None and hi is not None:
            return f"{x(lo)}–{x(hi)}" + (f" (central {x(mid)})" if mid is not None else "")
        if lo is not None:
            return f"≥ {x(lo)}" + (f" (central {x(mid)})" if mid is not None else "")
        if hi is not None:
            return f"up to {x(hi)}"
        if mid is not None:
            return f"about {x(mid)}"
        return "qualitative"


class HalvingMonths(_Strict):
    """Halving time of the compute needed for fixed performance: slowest, central, fastest."""

    low: float = Field(gt=0)
    central: float = Field(gt=0)
    high: float = Field(gt=0)


class AlgorithmicProgress(_Strict):
    """Which factor drives effective compute, and its halving times (months)."""

    factor: str
    halving_months: HalvingMonths


class Catalogue(_Strict):
    """The whole data file."""

    schema_version: Literal[1]
    categories: list[Category]
    algorithmic_progress: AlgorithmicProgress
    factors: list[Factor]

    @model_validator(mode="after")
    def _references(self) -> "Catalogue":
        cats = {c.id for c in self.categories}
        ids = [f.id for f in self.factors]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate factor ids")
        for f in self.factors:
            if f.category not in cats:
                raise ValueError(f"factor {f.id}: unknown category '{f.category}'")
        if self.algorithmic_progress.factor not in ids:
            raise ValueError("algorithmic_progress.factor names no factor")
        return self

    def by_category(self) -> list[tuple[Category, list[Factor]]]:
        """Categories in file order, each with its factors."""
        return [(c, [f for f in self.factors if f.category == c.id]) for c in self.categories]

    def factor(self, factor_id: str) -> Factor:
        """A factor by id."""
        return next(f for f in self.factors if f.id == factor_id)

    def yearly_multiplier(self) -> Band:
        """Effective-compute multiplier per year, 2^(12 / halving months): slow, central, fast."""
        h = self.algorithmic_progress.halving_months
        return Band(2 ** (12 / h.low), 2 ** (12 / h.central), 2 ** (12 / h.high))

    def progress_multiplier(self, start: dt.date, end: dt.date) -> Band:
        """How much more a FLOP buys on ``end`` than on ``start``: yearly multiplier ^ years (below 1 if earlier)."""
        years = (end - start).days / DAYS_PER_YEAR
        m = self.yearly_multiplier()
        a, b = m.low ** years, m.high ** years
        return Band(min(a, b), m.central ** years, max(a, b))


@functools.lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The efficiency-factor catalogue shipped with flopaudit."""
    return Catalogue.model_validate(yaml.safe_load(DATA_FILE.read_text(encoding="utf-8")))
