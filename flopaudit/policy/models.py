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

from flopaudit.config.kinds import MODALITIES, STAGE_KINDS
from flopaudit.config.schema_enums import enum_of

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


def _builtin_ids() -> list[str]:
    from flopaudit.policy.loader import builtin_policies  # at schema time: the loader imports this module
    return list(builtin_policies())


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Jurisdiction(_Strict):
    """Where the rule applies."""

    code: str = Field(description="Short code: EU, US, US-CA, US-NY, ...", examples=["EU", "US-CA"])
    name: str = Field(description="The jurisdiction's name", examples=["European Union"])


class Instrument(_Strict):
    """The legal text the rule comes from."""

    kind: Literal["regulation", "statute", "bill", "executive-order", "guidance", "decree",
                  "export-control", "organisation"] = Field(
        description="What kind of text it is; guidance defaults to severity warning", examples=["regulation"])
    title: str = Field(description="The text's title", examples=["Artificial Intelligence Act"])
    identifier: str = Field(description="e.g. 'Regulation (EU) 2024/1689', 'EO 14110'",
                            examples=["Regulation (EU) 2024/1689"])
    provisions: list[str] = Field(default_factory=list, description="The articles or sections the rule comes from",
                                  examples=[["Art. 51(2)", "Art. 52(1)"]])
    binding: bool = Field(description="Whether the text binds anyone (guidance and vetoed bills do not)",
                          examples=[True])


class Citation(_Strict):
    """A source, with the place inside it."""

    label: str = Field(description="How the source is cited; rules and obligations name it in their citation",
                       examples=["Regulation (EU) 2024/1689, OJ L, 12.7.2024"])
    url: str = Field(description="Where the source is (http or https)",
                     examples=["http://data.europa.eu/eli/reg/2024/1689/oj"])
    locator: str = Field(default="", description="Article, section, paragraph or page", examples=["Art. 51(2)"])
    primary: bool = Field(description="The official text itself (not a summary)", examples=[True])
    verified: bool = Field(description="The encoded fact was checked against this text", examples=[True])


class Lifecycle(_Strict):
    """When the rule is in force. Status on a date is derived from these dates."""

    enacted: dt.date | None = Field(default=None, description="Signed or adopted (YYYY-MM-DD)",
                                    examples=["2024-06-13"])
    effective: dt.date | None = Field(default=None, description="First day the rule applies (YYYY-MM-DD)",
                                      examples=["2025-08-02"])
    ended: dt.date | None = Field(default=None, description="Revoked, vetoed, rescinded or superseded on "
                                                            "(YYYY-MM-DD)", examples=["2025-01-20"])
    end_reason: Literal["revoked", "vetoed", "rescinded", "superseded", "expired"] | None = Field(
        default=None, description="Why the rule ended; goes with ended", examples=["revoked"])
    ended_by: str | None = Field(default=None, description="The act that ended it", examples=["EO 14148"])
    draft: bool = Field(default=False, description="A proposal that has not been enacted", examples=[False])

    @model_validator(mode="after")
    def _end_needs_reason(self) -> "Lifecycle":
        if (self.ended is None) != (self.end_reason is None):
            raise ValueError("'ended' and 'end_reason' go together")
        if self.end_reason == "vetoed" and self.effective is not None:
            raise ValueError("a vetoed bill has no 'effective' date")
        return self


class Condition(_Strict):
    """A non-compute condition of a rule; it evaluates to true, false or unknown."""

    kind: ConditionKind = Field(description="What the condition looks at (a config fact)",
                                examples=["annual_revenue_usd", "modality"])
    any_of: list[str] | None = Field(default=None, description="modality: the modalities that satisfy it",
                                     examples=[["text", "code"]], json_schema_extra=enum_of(lambda: MODALITIES))
    comparison: Comparison | None = Field(default=None, description="revenue or cost: gt (above) or gte "
                                                                    "(at least) value", examples=["gt"])
    value: float | None = Field(default=None, description="revenue or cost bound in USD", examples=[5e8])
    note: str = Field(default="", description="Free text shown with the condition")

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

    when: Literal["base_systemic_risk", "no_base_systemic_risk"] = Field(
        description="Which base model the fallback is for: one with systemic risk, or one without",
        examples=["no_base_systemic_risk"])
    threshold: float = Field(gt=0, description="Absolute bound (FLOP) used instead", examples=[3.333333333333333e22])


class Rule(_Strict):
    """One way to cross the policy: a compute threshold plus non-compute conditions (all must hold)."""

    id: str = Field(description="The rule's id, unique within the policy", examples=["compute-presumption"])
    description: str = Field(description="What the rule says, in a sentence",
                             examples=["Cumulative training compute above 1e25 FLOP"])
    metric: Metric = Field(description="The compute figure compared: cumulative_training_flop, training_flop, "
                                       "modification_flop (FLOP) or cluster_peak_flops (FLOP/s)",
                           examples=["cumulative_training_flop"])
    threshold: float | None = Field(default=None, gt=0, description="Absolute bound (FLOP, or FLOP/s)",
                                    examples=[1e25])
    relative_to_base: float | None = Field(
        default=None, gt=0, description="Bound as a fraction of base_model.training_flop", examples=[0.3333])
    fallback: list[Fallback] = Field(default_factory=list, description="Absolute bounds used when the base model's "
                                                                       "compute is unknown")
    comparison: Comparison = Field(description="gt: crossed above the bound; gte: crossed at it", examples=["gt"])
    conditions: list[Condition] = Field(default_factory=list, description="Non-compute conditions; all must hold")
    counts: list[str] | None = Field(
        default=None, description="Stage kinds this rule adds up, when it differs from the policy's accounting",
        examples=[["pretraining"]], json_schema_extra=enum_of(lambda: STAGE_KINDS))
    citation: str = Field(description="The citation label (and place) the rule comes from",
                          examples=["Art. 51(2)"])

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

    item: str = Field(description="A stage kind, or a part of a stage the config can describe "
                                  "(public-synthetic-data, activation-recomputation) or not",
                      examples=["evaluation"], json_schema_extra=enum_of(lambda: sorted(EXCLUSION_ITEMS)))
    citation: str = Field(description="Where the exclusion is stated", examples=["Guidelines Annex A.1"])
    note: str = Field(default="", description="Free text shown with the exclusion")

    @field_validator("item")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in EXCLUSION_ITEMS:
            raise ValueError(f"unknown exclusion '{v}'; known: {', '.join(sorted(EXCLUSION_ITEMS))}")
        return v


class Accounting(_Strict):
    """Which stages (and parts of stages) the policy adds up."""

    counts: list[str] = Field(description="Stage kinds whose compute is counted",
                              examples=[["pretraining", "fine-tuning"]], json_schema_extra=enum_of(lambda: STAGE_KINDS))
    excludes: list[Exclusion] = Field(default_factory=list, description="What is not added up, with sources")
    note: str = Field(default="", description="Free text on the accounting")

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

    id: str = Field(description="The obligation's id", examples=["notify-commission"])
    summary: str = Field(description="What must be done, in a sentence",
                         examples=["Notify the Commission"])
    deadline_days: int | None = Field(default=None, gt=0, description="Deadline after crossing (days)",
                                      examples=[14])
    deadline_hours: int | None = Field(default=None, gt=0, description="Deadline after an event (hours)",
                                       examples=[72])
    citation: str = Field(description="Where the obligation is stated", examples=["Art. 52(1)"])
    applies_if: list[Condition] = Field(
        default_factory=list, description="Extra conditions (e.g. revenue) for this obligation only")


class Policy(_Strict):
    """A compute-threshold policy (one file in ``policies/``)."""

    schema_version: Literal[1] = Field(default=1, description="The policy file format's version", examples=[1])
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="The policy's id (lower case, digits, dashes); "
                    "the file is named after it", examples=["acme-internal-1e24"])
    version: str = Field(description="Date or version of the text this file encodes", examples=["2024-07-12"])
    name: str = Field(description="The policy's full name",
                      examples=["EU AI Act: general-purpose AI model with systemic risk"])
    short_name: str = Field(description="A short name for tables", examples=["EU AI Act 1e25"])
    jurisdiction: Jurisdiction = Field(description="Where the rule applies")
    instrument: Instrument = Field(description="The legal text the rule comes from")
    citations: list[Citation] = Field(min_length=1, description="Sources, at least one primary")
    lifecycle: Lifecycle = Field(description="When the rule is in force")
    rules: list[Rule] = Field(min_length=1, description="The policy is crossed when any rule is")
    accounting: Accounting = Field(description="Which stages (and parts of stages) the policy adds up")
    tolerance: float | None = Field(default=None, gt=0, lt=1,
                                    description="Relative accuracy the policy accepts (a fraction; EU: 0.30)",
                                    examples=[0.3])
    obligations: list[Obligation] = Field(default_factory=list, description="What crossing the policy triggers")
    unverified: list[str] = Field(default_factory=list,
                                  description="Facts in this file not checked against the primary text")
    notes: list[str] = Field(default_factory=list, description="Free-text notes shown with the policy")
    tests: list[PolicyTest] = Field(
        default_factory=list, description="Fixtures: small configs and the verdict this policy must give each "
                                          "('flopaudit policies verify' runs them)")
    overrides: str | None = Field(
        default=None, description="The id of the built-in policy this file replaces; a file reusing a "
                                  "built-in id is refused without it, and every output names the override",
        examples=["eu-ai-act-systemic-risk"], json_schema_extra=enum_of(_builtin_ids))
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
    verdict: Literal["above", "below", "indeterminate", "not-applicable"] = Field(
        description="The verdict the policy must give the fixture", examples=["above"])
    rule: str | None = Field(default=None, description="The id of the rule that must decide the verdict")
    note: str = Field(default="", description="Why the config gets this verdict")


Policy.model_rebuild()
