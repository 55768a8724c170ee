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
from flopaudit.config.schema_enums import enum_of
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


def _builtin_policy_ids() -> list[str]:
    from flopaudit.policy.loader import builtin_policies  # at schema time: the policy loader imports this module
    return list(builtin_policies())


_OWN_POLICY = ("the id of an organisation's own policy file (project setting policy-paths); "
               "the built-in ids are listed beside")


def located(message: str, *path: str | int) -> PydanticCustomError:
    """An error whose place is ``path`` below the model that raises it."""
    return PydanticCustomError("located", message, {"path": list(path)})


def _bound_of(prop: dict[str, Any]) -> str | None:
    """The ``at most ...`` text a bounded type put in a nested branch's (or item's) description, if any."""
    nested = [*prop.get("anyOf", []), *([prop["items"]] if isinstance(prop.get("items"), dict) else [])]
    for branch in nested:
        text = branch.get("description", "")
        if "at most " in text:
            return ("each " if branch is prop.get("items") else "") + text[text.index("at most "):]
        found = _bound_of(branch)
        if found:
            return found
    return None


def _bounds_in_descriptions(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    """JSON Schema hook: each bounded field's description ends with its bound and why (``at most 1e15 (...)``).

    A field's own description replaces the one its bounded type gives; this puts the bound back.
    """
    for name, prop in schema.get("properties", {}).items():
        info = cls.model_fields.get(name)
        bound = next((m for m in info.metadata if isinstance(m, AtMost)), None) if info is not None else None
        text = f"at most {bound_text(bound.maximum)} ({bound.why})" if bound is not None else _bound_of(prop)
        described = prop.get("description", "")
        if text and text not in described:
            prop["description"] = f"{described}; {text}" if described else text


class _Strict(BaseModel):
    """Base of every config model: frozen, unknown keys refused with a hint."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              json_schema_extra=_bounds_in_descriptions)

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

    family: Literal["decoder", "encoder", "encoder-decoder"] = Field(
        default="decoder", description="Transformer layout: decoder (GPT, Llama), encoder (BERT), "
                                       "encoder-decoder (T5, Whisper)", examples=["decoder"])
    layers: Depth = Field(description="Transformer blocks (count); the encoder's for encoder-decoder",
                          examples=[32, 126])
    d_model: Width = Field(description="Hidden width (model dimension, in elements)", examples=[4096, 16384])
    heads: Width = Field(description="Attention (query) heads per layer (count)", examples=[32, 128])
    kv_heads: Width | None = Field(default=None, description="Key/value heads per layer (grouped-query attention, "
                                                             "count); default: heads", examples=[8])
    head_dim: Width | None = Field(default=None, description="Width of one attention head (elements); "
                                                             "default: d_model / heads", examples=[128])
    d_ff: FfnWidth | None = Field(default=None, description="FFN hidden width per projection (elements); "
                                                            "default 4 x d_model", examples=[14336, 53248])
    ffn: Literal["gated", "plain"] = Field(default="gated", description="FFN kind: gated (SwiGLU/GeGLU, 3 matrices) "
                                                                        "or plain (2 matrices)", examples=["gated"])
    vocab: Vocab = Field(description="Vocabulary size (embedding rows, entries)", examples=[128256, 32000])
    context: Length | None = Field(default=None, description="Training sequence length (tokens); the default of a "
                                                             "stage's sequence_length", examples=[8192])
    tied_embeddings: bool = Field(default=False, description="Input embedding and output head share one matrix",
                                  examples=[False])
    experts: Experts = Field(default=0, description="Routed experts per MoE layer (count); 0 = dense",
                             examples=[0, 256])
    experts_per_token: Experts = Field(default=0, description="Routed experts each token uses (top-k, count)",
                                       examples=[2, 8])
    shared_experts: Experts = Field(default=0, description="Experts every token uses besides the routed ones (count)",
                                    examples=[1])
    expert_d_ff: FfnWidth | None = Field(default=None, description="An expert's FFN width (elements), when it "
                                                                   "differs from d_ff", examples=[2048])
    dense_layers: Count = Field(default=0, description="Leading layers that stay dense in an MoE model (count)",
                                examples=[3])
    decoder_layers: Depth | None = Field(default=None, description="encoder-decoder only: decoder layers (count); "
                                                                   "layers is the encoder's", examples=[24])
    q_lora_rank: Width | None = Field(default=None, description="MLA: query low-rank width (q_a/q_b, elements); "
                                                                "absent = direct q_proj", examples=[1536])
    kv_lora_rank: Width | None = Field(default=None, description="MLA: key/value latent width (elements); makes "
                                                                 "attention multi-head latent", examples=[512])
    qk_rope_head_dim: Width | None = Field(default=None, description="MLA: rotary part of each query/key head "
                                                                     "(elements; head_dim is the other part)",
                                           examples=[64])
    v_head_dim: Width | None = Field(default=None, description="MLA: value head width (elements)", examples=[128])
    mtp_layers: Count = Field(default=0, description="Multi-token-prediction layers (count; DeepSeek-V3, "
                                                     "Megatron --mtp-num-layers)", examples=[1])

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

    name: str = Field(min_length=1, description="The model's name, as outputs show it", examples=["Llama 3.1 405B"])
    developer: str | None = Field(default=None, description="Who trains the model", examples=["Meta"])
    modality: list[str] = Field(default_factory=lambda: ["text"], description="What the model takes or produces; "
                                "some policies apply to some modalities only. Default [text]",
                                examples=[["text"], ["text", "image"]], json_schema_extra=enum_of(lambda: MODALITIES))
    parameters: Parameters | None = Field(default=None, description="Total parameters (count); optional when "
                                          "architecture or hf_config gives them", examples=["405B", "7e9"])
    active_parameters: Parameters | None = Field(default=None, description="Parameters used per token (count; "
                                                 "mixture of experts); default: parameters", examples=["37B"])
    architecture: Architecture | None = Field(default=None, description="Transformer shape; enables the detailed "
                                              "transformer formula (attention included, MoE by active experts)")
    hf_config: str | None = Field(default=None, description="A Hugging Face config.json (path relative to this "
                                  "config): FLOP counted by running the real architecture (extra: hf)",
                                  examples=["hf/config.json"])
    factory: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
                                description="module:function returning a torch.nn.Module whose FLOP are counted "
                                            "(needs --allow-code; extra: measure)", examples=["my_pkg.models:build"])
    factory_input: list[Length] | None = Field(default=None, description="Input shape of the factory's model "
                                               "(token ids: batch, sequence length)", examples=[[1, 2048]])

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

    accelerator: str | None = Field(
        default=None, description="A device of the built-in table (`flopaudit accelerators`), matched "
        "case-insensitively, ignoring spaces, dashes and underscores; or any name with peak_flops",
        examples=["H100-SXM", "TPU-v5p"],
        json_schema_extra=enum_of(accelerators.canonical_names,
                                   also="an alias or another spelling of a table name, or any name with peak_flops"))
    peak_flops: PeakFlops | None = Field(default=None, description="Peak dense FLOP/s of one device at the run's "
                                         "precision; overrides the table", examples=["989T", 9.89e14])
    precision: Literal["bf16", "fp16", "fp8", "tf32", "fp32", "int8"] | None = Field(
        default=None, description="The precision of the run's matrix multiplies: selects the table's peak; "
                                  "default: the device's default precision", examples=["bf16"])
    count: Devices | None = Field(default=None, description="Devices (accelerators) the stage ran on (count)",
                                  examples=[16384])
    hours: Hours | None = Field(default=None, description="Wall-clock hours (with count); or give device_hours",
                                examples=[1300])
    device_hours: DeviceHours | None = Field(default=None, description="Total device-hours (instead of count and "
                                             "hours)", examples=["30.84M"])
    utilization: Fraction | None = Field(default=None, description="Model FLOP utilisation (MFU, a fraction of "
                                         "peak: above 0, at most 1); default 0.3..0.5 when absent", examples=["0.38..0.43", 0.4])

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


def _framework_formats() -> list[str]:
    """The readable formats, sorted: the registry's order is the order its modules were imported in."""
    from flopaudit.config.frameworks import formats
    return sorted(formats())


class TrainingConfigRef(_Strict):
    """A stage's training run as its framework's own config file describes it (read, never run)."""

    path: str = Field(min_length=1, description="The framework's file, relative to this config",
                      examples=["train/llama3_8b.toml"])
    format: str | None = Field(default=None, description="Force a format instead of detecting it",
                               examples=["torchtitan"],
                               json_schema_extra=enum_of(_framework_formats))
    devices: Annotated[PosCount, AtMost(1e8, "100x the largest planned clusters")] | None = Field(
        default=None, description="World size (accelerators, count), when the file leaves it to the launcher",
        examples=[64])
    vocab: Vocab | None = Field(default=None, description="Vocabulary size (entries), when the tokenizer decides it",
                                examples=[128256])


class Stage(_Strict):
    """One stage of compute that went into the model."""

    name: str = Field(min_length=1, description="The stage's name, unique within the config",
                      examples=["pretraining"])
    kind: str = Field(description="What the stage is; decides its formula and which policies count it",
                      examples=["pretraining", "fine-tuning"], json_schema_extra=enum_of(lambda: STAGE_KINDS))
    tokens: Tokens | None = Field(default=None, description="Tokens processed per epoch (not unique tokens)",
                                  examples=["15.6T", "14T..16T"])
    epochs: Epochs = Field(default=Quantity.exact(1.0), description="Passes over tokens (or samples); default 1",
                           examples=[1, 3], json_schema_extra={"default": 1})
    samples: Samples | None = Field(default=None, description="Samples per epoch (count), instead of tokens, for "
                                    "non-token data; with tokens_per_sample", examples=["1.28M"])
    tokens_per_sample: Annotated[Num, AtMost(1e8, "as sequence_length")] | None = Field(
        default=None, description="Positions (tokens) each sample occupies, e.g. image patches", examples=[256])
    sequence_length: Length | None = Field(default=None, description="Tokens per training sequence; default: "
                                           "model.architecture.context", examples=[8192])
    training_config: TrainingConfigRef | None = Field(
        default=None, description="Read the stage from its training framework's own file (Megatron-LM, torchtitan, "
                                  "MaxText, LitGPT, nanotron, HF Trainer); nothing in it is run")
    ledger: str | None = Field(default=None, min_length=1, description=(
        "A compute ledger of this stage's training run (flopaudit.track), relative to this config: "
        "its total FLOP, measured during training, is the stage's measured estimate"),
        examples=["runs/pretrain.jsonl"])
    decoder_length: Length | None = Field(
        default=None, description="Encoder-decoder models (T5, BART, Whisper): decoder tokens per sequence "
                                  "when the real architecture is counted; default sequence_length", examples=[512])
    hardware: Hardware | None = Field(default=None, description="What the stage ran on; enables the hardware "
                                      "method (devices x seconds x peak FLOP/s x utilisation)")
    flop: Flop | None = Field(default=None, description="The stage's compute as the developer declares it (FLOP); "
                              "a cross-check, or the figure when nothing else is given", examples=["3.8e25"])
    recomputation: bool = Field(default=False, description="Activation recomputation was on (executed FLOP exceed "
                                "model FLOP)", examples=[False])
    generator_parameters: Parameters | None = Field(
        default=None, description="synthetic-data, distillation, reinforcement-learning: active parameters (count) "
                                  "of the model that generates the data or rollouts", examples=["405B"])
    generated_tokens: Tokens | None = Field(default=None, description="Tokens that generator produced, discarded "
                                            "ones included", examples=["100B"])
    public: bool = Field(default=False, description="synthetic-data: the generated data is publicly accessible",
                         examples=[False])
    sources: list[str] = Field(default_factory=list, description="merge: the configs or names of the merged or "
                               "initialising models", examples=[["model-a", "model-b"]])
    source_flop: Flop | None = Field(default=None, description="merge: the training compute of those models (FLOP)",
                                     examples=["2e24"])

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

    name: str = Field(min_length=1, description="The original model's name", examples=["Llama 3.1 405B"])
    training_flop: Annotated[NumOrUnknown, AtMost(1e35, "as a stage's flop")] = Field(
        default=None, description="The original's training compute (FLOP), or the word unknown",
        examples=["3.8e25", "unknown"])
    systemic_risk: bool | None = Field(
        default=None, description="Whether the original is a GPAI model with systemic risk (EU); unknown if absent",
        examples=[True])


class Organization(_Strict):
    """Non-compute facts some policies use."""

    annual_revenue_usd: Dollars | None = Field(default=None, description="The developer's annual revenue (USD)",
                                               examples=["$600M"])
    compute_cost_usd: Dollars | None = Field(default=None, description="Cost of the final training run at market "
                                             "cloud prices (USD)", examples=["$150M"])


class Deployment(_Strict):
    """Inference-time use, shown next to training compute in the report."""

    requests_per_day: Annotated[Num, AtMost(1e13, "1,000 requests a day for each of 1e10 people")] = Field(
        description="Requests served per day (count)", examples=["1M"])
    tokens_per_request: Annotated[Num, AtMost(1e9, "100x the longest context windows")] = Field(
        description="Tokens processed per request, prompt and output (tokens)", examples=[1000])
    samples_per_request: Annotated[Num, AtMost(1e6, "best-of-a-million")] = Field(
        default=Quantity.exact(1.0), description="Samples generated per request (best-of-n, self-consistency; "
                                                 "count); default 1", examples=[1, 8],
        json_schema_extra={"default": 1})
    days: Annotated[Num, AtMost(1e5, "about 270 years")] = Field(
        default=Quantity.exact(365.0), description="Days of deployment; default 365", examples=[365],
        json_schema_extra={"default": 365})


class Counting(_Strict):
    """Counting conventions."""

    attention: Literal["full", "causal", "window"] = Field(
        default="full", description="Attention-score FLOP: full (the whole sequence x sequence matrix, as "
                                    "PyTorch, Megatron-LM and PaLM count), causal (half of it) or window",
        examples=["full"])


class Waiver(_Strict):
    """An acknowledged verdict: the named policy's check does not gate until (and including) ``expires``."""

    policy: str = Field(min_length=1, description="The id of the policy whose verdict is acknowledged",
                        examples=["eu-ai-act-systemic-risk"],
                        json_schema_extra=enum_of(_builtin_policy_ids, also=_OWN_POLICY))
    reason: str = Field(min_length=1, description="Why (e.g. the regulator was notified); shown in every output",
                        examples=["Notified the AI Office; presumption accepted"])
    reference: str | None = Field(default=None, min_length=1, description="A ticket or filing number",
                                  examples=["AIO-2026-0142"])
    expires: Annotated[dt.date, BeforeValidator(_strict_date)] = Field(
        description="Last day the waiver applies (YYYY-MM-DD); from the next as-of date on, the check gates again",
        examples=["2027-06-30"])

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a waiver needs a reason")
        return v


class Config(_Strict):
    """A whole audit config: one model and every stage of compute that went into it."""

    model: ModelInfo = Field(description="The model being audited")
    training: list[Stage] = Field(min_length=1, description="Every stage of compute that went (or will go) into "
                                                            "the model, in order")
    base_model: BaseModelInfo | None = Field(default=None, description="The model this run modifies (someone "
                                             "else's, for the EU downstream-modifier rule)")
    organization: Organization | None = Field(default=None, description="Non-compute facts some policies use "
                                              "(revenue, cost)")
    deployment: Deployment | None = Field(default=None, description="Inference-time use, shown next to training "
                                          "compute in the report")
    policies: list[str] | None = Field(default=None, min_length=1,
                                       description="Policy ids to judge; leave out for every built-in",
                                       examples=[["eu-ai-act-systemic-risk", "us-ca-sb53"]],
                                       json_schema_extra=enum_of(_builtin_policy_ids, also=_OWN_POLICY))
    as_of: Annotated[dt.date | None, BeforeValidator(_strict_date)] = Field(
        default=None, description="The date policies' status is judged at (YYYY-MM-DD); default: today",
        examples=["2026-11-27"])
    counting: Counting = Field(default=Counting(), description="Counting conventions (attention)")
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
