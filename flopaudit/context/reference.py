"""The catalogue of well-known models with published training compute (``data/reference_models.yaml``)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "reference_models.yaml"


class Source(BaseModel):
    """Where a figure comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str
    url: str


class ReferenceModel(BaseModel):
    """One model's published training compute."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    developer: str
    published: dt.date
    flop: float = Field(gt=0)
    low: float | None = Field(default=None, gt=0)
    high: float | None = Field(default=None, gt=0)
    basis: Literal["reported", "estimate"]
    estimator: str | None = None
    confidence: str | None = None
    checked: bool = False
    method: str
    sources: list[Source] = Field(min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "ReferenceModel":
        if self.basis == "estimate" and not (self.estimator and self.confidence):
            raise ValueError(f"{self.id}: an estimate needs 'estimator' and 'confidence'")
        if (self.low is None) != (self.high is None):
            raise ValueError(f"{self.id}: give both 'low' and 'high' or neither")
        if self.low is not None and self.high is not None and not self.low <= self.flop <= self.high:
            raise ValueError(f"{self.id}: flop must lie within low..high")
        return self

    @property
    def basis_text(self) -> str:
        """``reported by the developer`` or ``estimate by Epoch AI (speculative)``."""
        if self.basis == "reported":
            return "reported by the developer"
        return f"estimate by {self.estimator} ({self.confidence})"


class _Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_version: Literal[1]
    models: list[ReferenceModel]


@functools.lru_cache(maxsize=1)
def reference_models() -> tuple[ReferenceModel, ...]:
    """Every catalogue entry, sorted by training compute (then name)."""
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    models = _Catalogue.model_validate(data).models
    ids = [m.id for m in models]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate ids in {DATA_FILE.name}")
    return tuple(sorted(models, key=lambda m: (m.flop, m.name)))
