"""The policy file schema: one YAML file per rule, validated by these pydantic models.

A policy is data: which compute figure it adds up (``accounting``), what it compares it with
(``rules``), when it is in force (``lifecycle``), what it triggers (``obligations``) and where
each fact comes from (``citations``, ``unverified``). ``flopaudit schema policy`` prints the JSON
Schema of these models, so an organisation can write its own policy file and load it with
``--policy PATH``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from flopaudit.config.kinds import STAGE_KINDS

Comparison = Literal["gt", "gte"]
Metric = Literal["cumulative_training_flop", "training_flop", "modification_flop", "cluster_peak_flops"]
ConditionKind = Literal[
    "modality", "biological_data", "annual_revenue_usd", "compute_cost_usd",
    "base_model", "base_systemic_risk", "no_base_systemic_risk",
]

#: What an accounting rule may exclude besides whole stage kinds. The first two change the
#: counted figure; the others document exclusions that have no field in a config.
EXCLUSION_ITEMS = frozenset({
    "public-synthetic-data", "activation-recomputation",
    "teacher-training", "red-teaming", "exploratory-research", "failed-experiments",
}) | frozenset(STAGE_KINDS)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Jurisdiction(_Strict):
    """Where the rule applies."""

    code: str = Field(description="Short code: EU, US, US-CA, US-NY, ...")
    name: str


class Instrument(_Strict):
    """The legal text the rule comes from."""

    kind: Literal["regulation", "statute", "bill", "executive-order", "guidance", "decree",
                  "export-control", "organisation"]
    title: str
    identifier: str = Field(description="e.g. 'Regulation (EU) 2024/1689', 'EO 14110'")
    provisions: list[str] = Field(default_factory=list)
    binding: bool = Field(description="Whether the text binds anyone (guidance and vetoed bills do not)")


class Citation(_Strict):
    """A source, with the place inside it."""

    label: str
    url: str
    locator: str = Field(default="", description="Article, section, paragraph or page")
    primary: bool = Field(description="The official text itself (not a summary)")
    verified: bool = Field(description="The encoded fact was checked against this text")


class Lifecycle(_Strict):
    """When the rule is in force. Status on a date is derived from these dates."""

    enacted: dt.date | None = Field(default=None, description="Signed or adopted")
    effective: dt.date | None = Field(default=None, description="First day the rule applies")
    ended: dt.date | None = Field(default=None, description="Revoked, vetoed, rescinded or superseded on")
    end_reason: Literal["revoked", "vetoed", "rescinded", "superseded", "expired"] | None = None
    ended_by: str | None = None
    draft: bool = Field(default=False, description="A proposal that has not been enacted")

    @model_validator(mode="after")
    def _end_needs_reason(self) -> "Lifecycle":
        if (self.ended is None) != (self.end_reason is None):
            raise ValueError("'ended' and 'end_reason' go together")
        if self.end_reason == "vetoed" and self.effective is not None:
            raise ValueError("a vetoed bill has no 'effective' date")
        return self


class Condition(_Strict):
    """A non-compute condition of a rule; it evaluates to true, false or unknown."""

    kind: ConditionKind
    any_of: list[str] | None = Field(default=None, description="modality: the modalities that satisfy it")
    comparison: Comparison | None = None
    value: float | None = Field(default=None, description="revenue or cost bound in USD")
    note: str = ""

    @model_validator(mode="after")
    def _shape(self) -> "Condition":
        money = self.kind in ("annual_revenue_usd", "compute_cost_usd")
        if money and (self.value is None or self.comparison is None):
            raise ValueError(f"condition '{self.kind}' needs 'comparison' and 'value'")
        if not money and (self.value is not None or self.comparison is not None):
            raise ValueError(f"condition '{self.kind}' takes no 'comparison' or 'value'")
        if (self.kind == "modality") != (self.any_of is not None):
            raise ValueError("'any_of' goes with kind 'modality' only, and is required there")
        return self


class Fallback(_Strict):
    """The absolute threshold a relative rule uses when the base model's compute is unknown."""

    when: Literal["base_systemic_risk", "no_base_systemic_risk"]
    threshold: float = Field(gt=0)


class Rule(_Strict):
    """One way to cross the policy: a compute threshold plus non-compute conditions (all must hold)."""

    id: str
    description: str
    metric: Metric
    threshold: float | None = Field(default=None, gt=0, description="Absolute bound (FLOP, or FLOP/s)")
    relative_to_base: float | None = Field(
        default=None, gt=0, description="Bound as a fraction of base_model.training_flop")
    fallback: list[Fallback] = Field(default_factory=list)
    comparison: Comparison
    conditions: list[Condition] = Field(default_factory=list)
    counts: list[str] | None = Field(
        default=None, description="Stage kinds this rule adds up, when it differs from the policy's accounting")
    citation: str

    @field_validator("counts")
    @classmethod
    def _kinds(cls, v: list[str] | None) -> list[str] | None:
        unknown = [k for k in v or [] if k not in STAGE_KINDS]
        if unknown:
            raise ValueError(f"unknown stage kind(s) {unknown}; known: {', '.join(STAGE_KINDS)}")
        return v

    @model_validator(mode="after")
    def _one_bound(self) -> "Rule":
        if (self.threshold is None) == (self.relative_to_base is None):
            raise ValueError("give exactly one of 'threshold' and 'relative_to_base'")
        if self.fallback and self.relative_to_base is None:
            raise ValueError("'fallback' goes with 'relative_to_base'")
        return self


class Exclusion(_Strict):
    """Something the policy does not add up, with its source."""

    item: str
    citation: str
    note: str = ""

    @field_validator("item")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in EXCLUSION_ITEMS:
            raise ValueError(f"unknown exclusion '{v}'; known: {', '.join(sorted(EXCLUSION_ITEMS))}")
        return v


class Accounting(_Strict):
    """Which stages (and parts of stages) the policy adds up."""

    counts: list[str] = Field(description="Stage kinds whose compute is counted")
    excludes: list[Exclusion] = Field(default_factory=list)
    note: str = ""

    @field_validator("counts")
    @classmethod
    def _kinds(cls, v: list[str]) -> list[str]:
        unknown = [k for k in v if k not in STAGE_KINDS]
        if unknown:
            raise ValueError(f"unknown stage kind(s) {unknown}; known: {', '.join(STAGE_KINDS)}")
        return v

    def excluded(self, item: str) -> bool:
        """Whether ``item`` is listed as excluded."""
        return any(e.item == item for e in self.excludes)


class Obligation(_Strict):
    """What crossing the policy triggers."""

    id: str
    summary: str
    deadline_days: int | None = Field(default=None, gt=0)
    deadline_hours: int | None = Field(default=None, gt=0)
    citation: str
    applies_if: list[Condition] = Field(
        default_factory=list, description="Extra conditions (e.g. revenue) for this obligation only")


class Policy(_Strict):
    """A compute-threshold policy (one file in ``policies/``)."""

    schema_version: Literal[1] = 1
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str = Field(description="Date or version of the text this file encodes")
    name: str
    short_name: str
    jurisdiction: Jurisdiction
    instrument: Instrument
    citations: list[Citation] = Field(min_length=1)
    lifecycle: Lifecycle
    rules: list[Rule] = Field(min_length=1, description="The policy is crossed when any rule is")
    accounting: Accounting
    tolerance: float | None = Field(default=None, gt=0, lt=1,
                                    description="Relative accuracy the policy accepts (EU: 0.30)")
    obligations: list[Obligation] = Field(default_factory=list)
    unverified: list[str] = Field(default_factory=list,
                                  description="Facts in this file not checked against the primary text")
    notes: list[str] = Field(default_factory=list)
    tests: list[PolicyTest] = Field(
        default_factory=list, description="Fixtures: small configs and the verdict this policy must give each "
                                          "('flopaudit policies verify' runs them)")
    overrides: str | None = Field(
        default=None, description="The id of the built-in policy this file replaces; a file reusing a "
                                  "built-in id is refused without it, and every output names the override")
    severity: Literal["error", "warning"] | None = Field(
        default=None, description="What a crossing does: 'error' fails the gate (exit 1), 'warning' is shown and "
                                  "annotated but exits 0. Default: warning for guidance (instrument.kind 'guidance', "
                                  "e.g. an indicative criterion), error for every other instrument")
    #: The file the policy was read from (None for a policy built in code).
    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str | None:
        """The policy file this policy was read from."""
        return self._source

    @property
    def default_severity(self) -> str:
        """``severity`` if the file gives it, else ``warning`` for guidance and ``error`` otherwise (fail closed)."""
        return self.severity or ("warning" if self.instrument.kind == "guidance" else "error")

    @model_validator(mode="after")
    def _has_primary(self) -> "Policy":
        if not any(c.primary for c in self.citations):
            raise ValueError("a policy needs at least one primary citation")
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate rule ids in {ids}")
        return self


class PolicyTest(_Strict):
    """A fixture of a policy: a small config, written inline, and the verdict the policy must give it."""

    name: str = Field(min_length=1, description="Names the fixture in messages")
    config: dict[str, Any] = Field(description="A flopaudit config, as a mapping (model, training, ...)")
    verdict: Literal["above", "below", "indeterminate", "not-applicable"]
    rule: str | None = Field(default=None, description="The id of the rule that must decide the verdict")
    note: str = Field(default="", description="Why the config gets this verdict")


Policy.model_rebuild()
