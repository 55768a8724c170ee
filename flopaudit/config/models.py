"""The audit config (spec: ``shared/spec/config.md``) as pydantic models.

Unknown keys are errors with a "did you mean" hint; every number goes through
:mod:`flopaudit.config.quantity`. Errors raised here carry the path of the offending field so the
loader can point at its line.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from flopaudit.config.kinds import GENERATION_KINDS, MODALITIES, STAGE_KINDS, TRAINING_KINDS
from flopaudit.config.quantity import Quantity
from flopaudit.config.types import AtMost, bound_text, Count, Fraction, Money, Num, NumOrUnknown, PosCount
from flopaudit.estimate import accelerators
from flopaudit.suggest import did_you_mean

# Physically meaningful bounds (README, "Bounds"). Each is far above any training run published so
# far and far below where float arithmetic overflows: no estimate can overflow, and a slipped
# exponent (1e160 parameters, a 1e308 sequence length) is an error at its own line.
Parameters = Annotated[Num, AtMost(1e15, "500x the largest published models, about 2e12 parameters")]
TOKENS_MAX = 1e17
Tokens = Annotated[Num, AtMost(TOKENS_MAX, "3,000x the largest published training sets, about 3.6e13 tokens")]
Samples = Annotated[Num, AtMost(1e15, "1,000x the largest published image-text sets, about 1e12 samples")]
Epochs = Annotated[Num, AtMost(1e4, "image models train for hundreds of epochs, language models for a few")]
Length = Annotated[PosCount, AtMost(1e8, "10x the longest trained context windows, about 1e7 tokens")]
Devices = Annotated[Num, AtMost(1e8, "100x the largest planned clusters, about 1e6 accelerators")]
Hours = Annotated[Num, AtMost(1e6, "114 years of wall-clock time")]
DeviceHours = Annotated[Num, AtMost(1e14, "the bound on devices x the bound on hours")]
PeakFlops = Annotated[Num, AtMost(1e18, "8x a wafer-scale engine, the fastest device at about 1.25e17 FLOP/s")]
Flop = Annotated[Num, AtMost(1e35, "1e8x the largest training runs so far, about 5e26 FLOP")]
Dollars = Annotated[Money, AtMost(1e15, "10x the world's yearly GDP, about 1e14 USD")]
Depth = Annotated[PosCount, AtMost(1e5, "100x the deepest trained transformers, about 1e3 layers")]
Width = Annotated[PosCount, AtMost(1e7, "100x the widest trained models, d_model about 1e5")]
FfnWidth = Annotated[PosCount, AtMost(1e8, "1,000x the widest trained FFN layers, about 1e5")]
Vocab = Annotated[PosCount, AtMost(1e9, "4,000x the largest trained vocabularies, about 2.6e5 entries")]
Experts = Annotated[Count, AtMost(1e7, "10x the largest expert counts, about 1e6 (PEER)")]


def located(message: str, *path: str | int) -> PydanticCustomError:
    """An error whose place is ``path`` below the model that raises it."""
    return PydanticCustomError("located", message, {"path": list(path)})


class _Strict(BaseModel):
    """Base of every config model: frozen, unknown keys refused with a hint."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = set(cls.model_fields)
            for key in data:
                if key not in known:
                    hint = did_you_mean(str(key), known)
                    raise located(f"unknown key '{key}'{hint}", str(key))
        elif data is not None and not isinstance(data, BaseModel):
            raise PydanticCustomError("mapping_type", "expected a mapping of keys, got {got}",
                                      {"got": _type_name(data)})
        return data


def _strict_date(value: Any) -> Any:
    """Only a YAML date or an ISO ``YYYY-MM-DD`` string (pydantic would read 0 as 1970-01-01)."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")


def _type_name(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number",
            bool: "a boolean"}.get(type(value), type(value).__name__)


class Architecture(_Strict):
    """Transformer shape; enables the detailed ``transformer`` formula."""

    family: Literal["decoder", "encoder", "encoder-decoder"] = "decoder"
    layers: Depth
    d_model: Width
    heads: Width
    kv_heads: Width | None = None
    head_dim: Width | None = None
    d_ff: FfnWidth | None = Field(default=None, description="FFN hidden width per projection; default 4 x d_model")
    ffn: Literal["gated", "plain"] = "gated"
    vocab: Vocab
    context: Length | None = None
    tied_embeddings: bool = False
    experts: Experts = 0
    experts_per_token: Experts = 0
    shared_experts: Experts = 0
    expert_d_ff: FfnWidth | None = None
    dense_layers: Count = 0
    decoder_layers: Depth | None = None
    q_lora_rank: Width | None = Field(default=None, description="MLA: query low-rank width (q_a/q_b); absent = direct q_proj")
    kv_lora_rank: Width | None = Field(default=None, description="MLA: key/value latent width; makes attention multi-head latent")
    qk_rope_head_dim: Width | None = Field(default=None, description="MLA: rotary part of each query/key head (head_dim is the other part)")
    v_head_dim: Width | None = Field(default=None, description="MLA: value head width")
    mtp_layers: Count = Field(default=0, description="Multi-token-prediction layers (DeepSeek-V3, Megatron --mtp-num-layers)")

    @model_validator(mode="after")
    def _consistent(self) -> "Architecture":
        if self.kv_heads is not None:
            if self.kv_heads > self.heads:
                raise located(f"kv_heads ({self.kv_heads}) cannot exceed heads ({self.heads})", "kv_heads")
            if self.heads % self.kv_heads:
                raise located(f"heads ({self.heads}) must be a multiple of kv_heads ({self.kv_heads})", "kv_heads")
        if self.head_dim is None and self.d_model % self.heads:
            raise located(f"d_model ({self.d_model}) is not a multiple of heads ({self.heads}); give head_dim",
                          "heads")
        if self.experts:
            if not 1 <= self.experts_per_token <= self.experts:
                raise located(f"experts_per_token must be between 1 and experts ({self.experts})",
                              "experts_per_token")
            if self.dense_layers > self.layers:
                raise located(f"dense_layers ({self.dense_layers}) exceeds layers ({self.layers})", "dense_layers")
        elif self.experts_per_token or self.shared_experts or self.dense_layers:
            field = "experts_per_token" if self.experts_per_token else (
                "shared_experts" if self.shared_experts else "dense_layers")
            raise located(f"{field} needs experts > 0 (a mixture-of-experts model)", field)
        if self.experts and self.family == "encoder-decoder":
            raise located("mixture-of-experts layers are supported for family decoder and encoder only", "experts")
        if self.decoder_layers is not None and self.family != "encoder-decoder":
            raise located("decoder_layers is for family: encoder-decoder only", "decoder_layers")
        self._mla_consistent()
        if self.mtp_layers and self.family != "decoder":
            raise located("mtp_layers is for family: decoder only", "mtp_layers")
        return self

    def _mla_consistent(self) -> None:
        mla_keys = ("q_lora_rank", "qk_rope_head_dim", "v_head_dim")
        if self.kv_lora_rank is None:
            for key in mla_keys:
                if getattr(self, key) is not None:
                    raise located(f"{key} needs kv_lora_rank (multi-head latent attention)", key)
            return
        if self.family != "decoder":
            raise located("multi-head latent attention is supported for family decoder only", "kv_lora_rank")
        if self.kv_heads is not None:
            raise located("multi-head latent attention has no kv_heads (keys and values come from the latent)",
                          "kv_heads")
        for key in ("head_dim", "qk_rope_head_dim", "v_head_dim"):
            if getattr(self, key) is None:
                raise located(f"multi-head latent attention needs {key}"
                              + (" (the non-rotary query/key head width)" if key == "head_dim" else ""), key)

    @property
    def mla(self) -> bool:
        """Whether attention is multi-head latent attention (DeepSeek-V2/V3)."""
        return self.kv_lora_rank is not None

    @property
    def kv(self) -> int:
        """Key/value heads (grouped-query attention); defaults to ``heads``."""
        return self.kv_heads or self.heads

    @property
    def hd(self) -> int:
        """Head dimension; defaults to ``d_model / heads``."""
        return self.head_dim or self.d_model // self.heads

    @property
    def ff(self) -> int:
        """FFN width; defaults to ``4 x d_model``."""
        return self.d_ff or 4 * self.d_model


class ModelInfo(_Strict):
    """The model being audited."""

    name: str = Field(min_length=1)
    developer: str | None = None
    modality: list[str] = Field(default_factory=lambda: ["text"])
    parameters: Parameters | None = None
    active_parameters: Parameters | None = None
    architecture: Architecture | None = None
    hf_config: str | None = None
    factory: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
    factory_input: list[Length] | None = None

    @field_validator("modality")
    @classmethod
    def _modality(cls, v: list[str]) -> list[str]:
        for i, m in enumerate(v):
            if m not in MODALITIES:
                raise located(f"unknown modality '{m}'{did_you_mean(m, MODALITIES)}; "
                              f"known: {', '.join(MODALITIES)}", i)
        if not v:
            raise ValueError("modality needs at least one entry")
        return v

    @model_validator(mode="after")
    def _active_le_total(self) -> "ModelInfo":
        if self.parameters and self.active_parameters and self.active_parameters.high > self.parameters.high:
            raise located(f"active_parameters ({self.active_parameters}) exceed parameters ({self.parameters})",
                          "active_parameters")
        if self.factory_input is not None and self.factory is None:
            raise located("factory_input goes with factory", "factory_input")
        return self

    @property
    def active(self) -> Quantity | None:
        """Parameters used per token: ``active_parameters``, else ``parameters``."""
        return self.active_parameters or self.parameters


class Hardware(_Strict):
    """What the stage ran on; enables the ``hardware`` method."""

    accelerator: str | None = None
    peak_flops: PeakFlops | None = None
    precision: Literal["bf16", "fp16", "fp8", "tf32", "fp32", "int8"] | None = None
    count: Devices | None = None
    hours: Hours | None = None
    device_hours: DeviceHours | None = None
    utilization: Fraction | None = None

    @model_validator(mode="after")
    def _complete(self) -> "Hardware":
        if self.accelerator is None and self.peak_flops is None:
            raise located("give accelerator (a name from the built-in table) or peak_flops", "accelerator")
        if self.accelerator is not None and self.peak_flops is None:
            try:
                acc = accelerators.resolve(self.accelerator)
            except ValueError as exc:
                raise located(str(exc), "accelerator") from None
            precision = self.precision or acc.default_precision
            if precision not in acc.peak_flops:
                raise located(f"{acc.name} has no {precision} peak in the table "
                              f"(it has {', '.join(acc.peak_flops)}); give peak_flops", "precision")
        if (self.hours is None) == (self.device_hours is None):
            raise located("give exactly one of hours (with count) and device_hours", "hours")
        if self.hours is not None and self.count is None:
            raise located("hours needs count (the number of devices)", "count")
        return self

    def peak(self) -> Quantity:
        """Peak FLOP/s of one device at the stage's precision."""
        if self.peak_flops is not None:
            return self.peak_flops
        acc = accelerators.resolve(self.accelerator or "")
        return Quantity.exact(acc.peak(self.precision))

    def precision_used(self) -> str:
        """The precision the peak refers to."""
        if self.precision:
            return self.precision
        if self.peak_flops is None and self.accelerator:
            return accelerators.resolve(self.accelerator).default_precision
        return "as given"


class TrainingConfigRef(_Strict):
    """A stage's training run as its framework's own config file describes it (read, never run)."""

    path: str = Field(min_length=1, description="the framework's file, relative to this config")
    format: str | None = Field(default=None, description="force a format instead of detecting it")
    devices: Annotated[PosCount, AtMost(1e8, "100x the largest planned clusters")] | None = Field(
        default=None, description="world size (accelerators), when the file leaves it to the launcher")
    vocab: Vocab | None = Field(default=None, description="vocabulary size, when the tokenizer decides it")


class Stage(_Strict):
    """One stage of compute that went into the model."""

    name: str = Field(min_length=1)
    kind: str
    tokens: Tokens | None = None
    epochs: Epochs = Quantity.exact(1.0)
    samples: Samples | None = None
    tokens_per_sample: Annotated[Num, AtMost(1e8, "as sequence_length")] | None = None
    sequence_length: Length | None = None
    training_config: TrainingConfigRef | None = None
    ledger: str | None = Field(default=None, min_length=1, description=(
        "a compute ledger of this stage's training run (flopaudit.track), relative to this config: "
        "its total, measured during training, is the stage's measured estimate"))
    decoder_length: Length | None = Field(
        default=None, description="encoder-decoder models (T5, BART, Whisper): decoder tokens per sequence "
                                  "when the real architecture is counted; default sequence_length")
    hardware: Hardware | None = None
    flop: Flop | None = None
    recomputation: bool = False
    generator_parameters: Parameters | None = None
    generated_tokens: Tokens | None = None
    public: bool = False
    sources: list[str] = Field(default_factory=list)
    source_flop: Flop | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in STAGE_KINDS:
            raise ValueError(f"unknown stage kind '{v}'{did_you_mean(v, STAGE_KINDS)}; "
                             f"known: {', '.join(STAGE_KINDS)}")
        return v

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> "Stage":
        if self.samples is not None and self.tokens is not None:
            raise located("give tokens or samples (with tokens_per_sample), not both", "samples")
        if self.samples is not None and self.tokens_per_sample is None:
            raise located("samples needs tokens_per_sample", "samples")
        if self.tokens_per_sample is not None and self.samples is None:
            raise located("tokens_per_sample goes with samples", "tokens_per_sample")
        if self.samples is not None and self.tokens_per_sample is not None \
                and self.samples.high * self.tokens_per_sample.high > TOKENS_MAX:
            raise located(f"samples x tokens_per_sample must be at most {bound_text(TOKENS_MAX)} (as tokens)",
                          "samples")
        for key in ("generator_parameters", "generated_tokens"):
            if getattr(self, key) is not None and self.kind not in GENERATION_KINDS:
                raise located(f"{key} is for kinds {', '.join(sorted(GENERATION_KINDS))}", key)
        if self.public and self.kind != "synthetic-data":
            raise located("public is for kind synthetic-data", "public")
        if self.ledger is not None and self.kind not in TRAINING_KINDS:
            raise located(f"ledger is for the training kinds ({', '.join(sorted(TRAINING_KINDS))})", "ledger")
        if self.training_config is not None and self.kind not in TRAINING_KINDS:
            raise located(f"training_config is for the training kinds ({', '.join(sorted(TRAINING_KINDS))})",
                          "training_config")
        if (self.sources or self.source_flop is not None) and self.kind != "merge":
            raise located("sources and source_flop are for kind merge",
                          "source_flop" if self.source_flop is not None else "sources")
        return self

    @property
    def processed_tokens(self) -> Quantity | None:
        """Tokens processed by training passes: ``tokens x epochs`` (or samples x tokens_per_sample)."""
        base = self.tokens
        if base is None and self.samples is not None and self.tokens_per_sample is not None:
            base = Quantity(self.samples.low * self.tokens_per_sample.low,
                            self.samples.high * self.tokens_per_sample.high)
        if base is None:
            return None
        return Quantity(base.low * self.epochs.low, base.high * self.epochs.high)


class BaseModelInfo(_Strict):
    """The model this run modifies (someone else's, for the EU downstream-modifier rule)."""

    name: str = Field(min_length=1)
    training_flop: Annotated[NumOrUnknown, AtMost(1e35, "as a stage's flop")] = None
    systemic_risk: bool | None = Field(
        default=None, description="Whether the original is a GPAI model with systemic risk (EU); unknown if absent")


class Organization(_Strict):
    """Non-compute facts some policies use."""

    annual_revenue_usd: Dollars | None = None
    compute_cost_usd: Dollars | None = None


class Deployment(_Strict):
    """Inference-time use, shown next to training compute in the report."""

    requests_per_day: Annotated[Num, AtMost(1e13, "1,000 requests a day for each of 1e10 people")]
    tokens_per_request: Annotated[Num, AtMost(1e9, "100x the longest context windows")]
    samples_per_request: Annotated[Num, AtMost(1e6, "best-of-a-million")] = Quantity.exact(1.0)
    days: Annotated[Num, AtMost(1e5, "about 270 years")] = Quantity.exact(365.0)


class Counting(_Strict):
    """Counting conventions."""

    attention: Literal["full", "causal", "window"] = "full"


class Waiver(_Strict):
    """An acknowledged verdict: the named policy's check does not gate until (and including) ``expires``."""

    policy: str = Field(min_length=1, description="The id of the policy whose verdict is acknowledged")
    reason: str = Field(min_length=1, description="Why (e.g. the regulator was notified); shown in every output")
    reference: str | None = Field(default=None, min_length=1, description="A ticket or filing number")
    expires: Annotated[dt.date, BeforeValidator(_strict_date)] = Field(
        description="Last day the waiver applies; from the next as-of date on, the check gates again")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a waiver needs a reason")
        return v


class Config(_Strict):
    """A whole audit config: one model and every stage of compute that went into it."""

    model: ModelInfo
    training: list[Stage] = Field(min_length=1)
    base_model: BaseModelInfo | None = None
    organization: Organization | None = None
    deployment: Deployment | None = None
    policies: list[str] | None = Field(default=None, min_length=1,
                                       description="Policy ids to judge; leave out for every built-in")
    as_of: Annotated[dt.date | None, BeforeValidator(_strict_date)] = None
    counting: Counting = Counting()
    waivers: list[Waiver] = Field(default_factory=list,
                                  description="Acknowledged verdicts: each waived check keeps its verdict but does "
                                              "not gate until its waiver expires")

    @model_validator(mode="after")
    def _unique_stage_names(self) -> "Config":
        for i, waiver in enumerate(self.waivers):
            if waiver.policy in [w.policy for w in self.waivers[:i]]:
                raise located(f"a second waiver for '{waiver.policy}': give one per policy", "waivers", i, "policy")
        seen: dict[str, int] = {}
        for i, stage in enumerate(self.training):
            if stage.name in seen:
                raise located(f"duplicate stage name '{stage.name}' (also stage {seen[stage.name] + 1})",
                              "training", i, "name")
            seen[stage.name] = i
        return self
