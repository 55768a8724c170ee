"""Estimation methods: each turns one config stage into an :class:`Estimate`, or says why it cannot.

Order of preference (spec: config.md, "Methods"): measured, transformer, 6nd, hardware, declared.
Every method counts a multiply-add as 2 FLOP and all operations equally whatever their precision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from flopaudit.config.kinds import GENERATION_KINDS
from flopaudit.config.models import Architecture, ModelInfo, Stage
from flopaudit.config.quantity import Quantity, format_number
from flopaudit.estimate import formulas as f
from flopaudit.estimate.band import Band
from flopaudit.estimate.registry import Registry

METHOD_ORDER = ("measured", "transformer", "6nd", "hardware", "declared", "framework")
DEFAULT_UTILIZATION = Quantity(0.3, 0.5)


@dataclass(frozen=True)
class Estimate:
    """One method's figure for one stage, with the parts it adds up and the assumptions it made."""

    method: str
    flop: Band
    parts: dict[str, Band]
    assumptions: tuple[str, ...]
    #: What the figure may miss (e.g. ops the real-model counter could not price); shown in every output.
    warnings: tuple[str, ...] = ()
    #: Who computed it, where the method name does not say (``framework``: "Megatron-LM").
    label: str = ""


class Unavailable(Exception):
    """A method cannot estimate this stage; the message says what is missing."""


@dataclass
class Context:
    """What the methods need besides the stage: the model, the conventions, a measured count."""

    model: ModelInfo
    attention: str = "full"
    #: seq_len -> (counted forward+backward FLOP per token of the real model, ops that ran uncounted);
    #: None without hf_config/factory.
    #: seq_len -> (FLOP per token, uncounted ops, conventions applied, e.g. MoE pricing)
    measured_per_token: Callable[[int, int | None], tuple[float, list[str], list[str]]] | None = None
    #: Framework config files read for ``training_config:`` stages, by stage name (TrainingRun).
    runs: dict[str, Any] = field(default_factory=dict)
    #: Compute ledgers of ``ledger:`` stages, by stage name (LedgerSummary).
    ledgers: dict[str, Any] = field(default_factory=dict)

    def active_parameters(self) -> tuple[Band, str] | None:
        """Active parameters and where they come from (config, or derived from the architecture)."""
        if self.model.active is not None:
            source = "active_parameters" if self.model.active_parameters else "parameters"
            return Band.of(self.model.active), f"N = {format_number(self.model.active.central)} ({source})"
        if self.model.architecture is not None:
            n = arch_parameters(self.model.architecture, active=True)
            return Band.exact(n), f"N = {format_number(n)} active parameters derived from architecture"
        return None


METHODS: Registry[Callable[[Stage, Context], Estimate]] = Registry("method")


def _mla_mtp(arch: Architecture) -> dict[str, int | None]:
    """The MLA and MTP keyword arguments of the transformer formulas."""
    return {"q_lora_rank": arch.q_lora_rank, "kv_lora_rank": arch.kv_lora_rank,
            "qk_rope_head_dim": arch.qk_rope_head_dim or 0, "v_head_dim": arch.v_head_dim,
            "mtp_layers": arch.mtp_layers}


def arch_parameters(arch: Architecture, *, active: bool, norms: bool = False) -> float:
    """Weight parameters of an architecture (all experts, or the active ones; RMSNorm weights when norms)."""
    return f.transformer_parameters(
        family=arch.family, layers=arch.layers, d_model=arch.d_model, heads=arch.heads, kv_heads=arch.kv,
        head_dim=arch.hd, d_ff=arch.ff, gated=arch.ffn == "gated", vocab=arch.vocab,
        tied_embeddings=arch.tied_embeddings, experts=arch.experts, experts_per_token=arch.experts_per_token,
        shared_experts=arch.shared_experts, expert_d_ff=arch.expert_d_ff, dense_layers=arch.dense_layers,
        decoder_layers=arch.decoder_layers, active=active, norms=norms, **_mla_mtp(arch))


def arch_forward_per_token(arch: Architecture, seq_len: int, causal: bool) -> float:
    """Forward FLOP per token of the architecture at ``seq_len``."""
    total = f.transformer_forward(
        family=arch.family, layers=arch.layers, d_model=arch.d_model, heads=arch.heads, kv_heads=arch.kv,
        head_dim=arch.hd, d_ff=arch.ff, gated=arch.ffn == "gated", vocab=arch.vocab, seq_len=seq_len,
        causal=causal, experts=arch.experts, experts_per_token=arch.experts_per_token,
        shared_experts=arch.shared_experts, expert_d_ff=arch.expert_d_ff, dense_layers=arch.dense_layers,
        decoder_layers=arch.decoder_layers, **_mla_mtp(arch))
    return total / seq_len


def _plain(q: Quantity) -> str:
    """Device counts and hours as people write them: 16,384 and 1,300 (ranges as low..high)."""
    def one(x: float) -> str:
        return f"{x:,.0f}" if x == int(x) and x < 1e7 else format_number(x)
    return one(q.low) if not q.is_range else f"{one(q.low)}..{one(q.high)}"


def _training_tokens(stage: Stage) -> Band:
    tokens = stage.processed_tokens
    if tokens is None:
        raise Unavailable("needs tokens (or samples with tokens_per_sample)")
    return Band.of(tokens)


def _tokens_note(stage: Stage) -> str:
    tokens = stage.processed_tokens
    assert tokens is not None
    epochs = f" x {format_number(stage.epochs.central)} epochs" if stage.epochs.central != 1 else ""
    source = "tokens" if stage.tokens is not None else "samples x tokens_per_sample"
    return f"D = {tokens} tokens ({source}{epochs})"


def _generation(stage: Stage, ctx: Context) -> tuple[Band, list[str]] | None:
    """The generator's (or teacher's) forward passes of a generation stage, at 2N per token."""
    if stage.kind not in GENERATION_KINDS:
        return None
    notes: list[str] = []
    if stage.generator_parameters is not None:
        gen = Band.of(stage.generator_parameters)
        notes.append(f"generator: {format_number(gen.central)} active parameters (generator_parameters)")
    elif stage.kind == "reinforcement-learning":
        # Spec: rollouts default to the model's own active parameters (the policy generates them).
        active = ctx.active_parameters()
        if active is None:
            raise Unavailable("needs generator_parameters (or the model's parameters)")
        gen = active[0]
        notes.append("rollouts generated by this model (generator_parameters not given)")
    else:
        # A teacher or data generator is another model, usually a larger one: never assume its size.
        raise Unavailable("needs generator_parameters (the active parameters of the "
                          f"{'teacher' if stage.kind == 'distillation' else 'generating model'})")
    if stage.kind == "distillation":
        tokens = _training_tokens(stage)
        notes.append("teacher forward passes over every student training token")
    elif stage.generated_tokens is not None:
        tokens = Band.of(stage.generated_tokens)
        notes.append(f"generated tokens: {stage.generated_tokens} (discarded ones included)")
    elif stage.kind == "synthetic-data" and stage.tokens is not None:
        tokens = Band.of(stage.tokens)
        notes.append("generated tokens taken from 'tokens' (generated_tokens not given)")
    else:
        raise Unavailable("needs generated_tokens (every generated token, discarded ones included)")
    notes.append(f.FORMULAS.doc("generation"))
    return gen * tokens * 2.0, notes


def _combine(method: str, stage: Stage, ctx: Context,
             training: Callable[[], tuple[Band, list[str]]]) -> Estimate:
    """Training passes (unless a pure generation stage) plus the generation part."""
    parts: dict[str, Band] = {}
    notes: list[str] = []
    if stage.kind != "synthetic-data":
        band, train_notes = training()
        parts["training"] = band
        notes += train_notes
    gen = _generation(stage, ctx)
    if gen is not None:
        parts["generation"], gen_notes = gen
        notes += gen_notes
    return Estimate(method, Band.total(parts.values()), parts, tuple(notes))


def _seq_len(stage: Stage, ctx: Context) -> int:
    arch = ctx.model.architecture
    seq = stage.sequence_length or (arch.context if arch else None)
    if seq is None:
        raise Unavailable("needs sequence_length (or architecture.context)")
    return seq


@METHODS.register("measured")
def measured(stage: Stage, ctx: Context) -> Estimate:
    """FLOP executed during training as the stage's compute ledger recorded it; else counted forward+backward FLOP per token of the real architecture (hf_config or factory) x tokens."""
    summary = ctx.ledgers.get(stage.name)
    if summary is not None:
        return _from_ledger(summary)
    if ctx.measured_per_token is None:
        raise Unavailable("needs model.hf_config or model.factory")
    if stage.kind == "merge":
        raise Unavailable("a merge has no training passes")

    uncounted: list[str] = []

    def training() -> tuple[Band, list[str]]:
        tokens = _training_tokens(stage)
        seq = _seq_len(stage, ctx)
        per_token, missed, applied = ctx.measured_per_token(seq, stage.decoder_length)  # type: ignore[misc]
        uncounted.extend(missed)
        decoder = f", decoder length {stage.decoder_length}" if stage.decoder_length else ""
        return tokens * per_token, [
            f"{format_number(per_token)} FLOP per token counted forward+backward at sequence length {seq}"
            f"{decoder} ({ctx.attention} attention)", *applied, _tokens_note(stage)]

    estimate = _combine("measured", stage, ctx, training)
    return replace(estimate, warnings=tuple(f"op ran with no formula, NOT counted: {op}" for op in uncounted))


def _from_ledger(summary: Any) -> Estimate:
    """The ``measured`` estimate of a stage whose training kept a compute ledger."""
    if summary.total_flop is None:
        raise Unavailable(f"its ledger has {len(summary.unmeasured_steps)} steps whose FLOP could not be "
                          "counted (they are never taken as zero)")
    flop = Band.exact(float(summary.total_flop))
    when = (f", {summary.first.isoformat(timespec='seconds')} to {summary.last.isoformat(timespec='seconds')}"
            if summary.first and summary.last else "")
    notes = [f"measured during training: {summary.steps:,} steps on {summary.ranks} ranks{when}, summed over "
             f"every rank (ledger {summary.path}; methods {summary.methods})"]
    if summary.projection is not None:
        p = summary.projection
        end = f", ending about {p.projected_end.isoformat(timespec='minutes')}" if p.projected_end else ""
        notes.append(f"projected to {format_number(p.projected_total_flop)} FLOP at the {p.planned_steps:,} "
                     f"planned steps{end} (mean FLOP per step so far)")
    if summary.torn_tail:
        notes.append("the ledger's last line was torn by a crash and is not counted")
    return Estimate("measured", flop, {"training": flop}, tuple(notes), label="ledger")


@METHODS.register("transformer")
def transformer(stage: Stage, ctx: Context) -> Estimate:
    """3 x forward FLOP per token from the architecture (Megatron-LM/PaLM; GQA, gated FFN, top-k MoE) x tokens."""
    arch = ctx.model.architecture
    if arch is None:
        raise Unavailable("needs model.architecture")
    if stage.kind == "merge":
        raise Unavailable("a merge has no training passes")

    def training() -> tuple[Band, list[str]]:
        tokens = _training_tokens(stage)
        seq = _seq_len(stage, ctx)
        # model.architecture names no sliding window: under "window" its decoders are causal throughout
        causal = ctx.attention in ("causal", "window")
        per_token = f.TRAIN_PASSES * arch_forward_per_token(arch, seq, causal)
        notes = [f"{format_number(per_token)} FLOP per token = 3 x forward at sequence length {seq} "
                 f"({'causal: attention scores halved' if causal else 'full s x s attention'})",
                 _tokens_note(stage)]
        if ctx.attention == "window":
            notes.append("window attention: model.architecture gives no sliding window, so attention "
                         "is counted as causal (halved); the measured method counts windows")
        if arch.d_ff is None:
            notes.append("d_ff not given: 4 x d_model assumed")
        if arch.experts:
            notes.append(f"MoE: {arch.experts_per_token} of {arch.experts} routed experts"
                         f"{f' + {arch.shared_experts} shared' if arch.shared_experts else ''} per token, "
                         f"{arch.dense_layers} leading dense layers; shared experts use expert_d_ff")
        if arch.mla:
            notes.append(f"multi-head latent attention: kv latent {arch.kv_lora_rank}"
                         f"{f', q latent {arch.q_lora_rank}' if arch.q_lora_rank else ''}, "
                         f"query/key heads {arch.hd} + {arch.qk_rope_head_dim} rotary, value heads {arch.v_head_dim}")
        if arch.mtp_layers:
            notes.append(f"{arch.mtp_layers} multi-token-prediction layer(s), each a layer of the last layer's "
                         "kind plus its 2d -> d projection and an LM head pass")
        if arch.family == "encoder-decoder":
            notes.append("encoder-decoder: source and target both at the sequence length")
        return tokens * per_token, notes

    return _combine("transformer", stage, ctx, training)


@METHODS.register("6nd")
def six_nd(stage: Stage, ctx: Context) -> Estimate:
    """6 x active parameters x tokens for training passes; 2 x generator parameters x generated tokens."""
    if stage.kind == "merge":
        raise Unavailable("a merge has no training passes")

    def training() -> tuple[Band, list[str]]:
        tokens = _training_tokens(stage)
        active = ctx.active_parameters()
        if active is None:
            raise Unavailable("needs model.parameters (or architecture)")
        return active[0] * tokens * 6.0, [f.FORMULAS.doc("6nd"), active[1], _tokens_note(stage),
                                          "attention ignored (under-counts when sequence length is large)"]

    return _combine("6nd", stage, ctx, training)


@METHODS.register("hardware")
def hardware(stage: Stage, ctx: Context) -> Estimate:
    """devices x seconds x peak FLOP/s x utilisation (EU Guidelines Annex A.2.1)."""
    hw = stage.hardware
    if hw is None:
        raise Unavailable("needs hardware")
    if stage.kind == "merge":
        raise Unavailable("a merge costs the training compute of its sources (source_flop), "
                          "not the hours of the merge job")
    notes = [f.FORMULAS.doc("hardware")]
    if hw.device_hours is not None:
        device_seconds = Band.of(hw.device_hours) * 3600.0
        notes.append(f"{_plain(hw.device_hours)} device-hours")
    else:
        assert hw.count is not None and hw.hours is not None
        device_seconds = Band.of(hw.count) * Band.of(hw.hours) * 3600.0
        notes.append(f"{_plain(hw.count)} devices x {_plain(hw.hours)} hours")
    peak = Band.of(hw.peak())
    source = "peak_flops" if hw.peak_flops is not None else f"{hw.accelerator} from the built-in table"
    notes.append(f"peak {format_number(peak.central)} FLOP/s per device, {hw.precision_used()} ({source})")
    if hw.utilization is None:
        util = Band.of(DEFAULT_UTILIZATION)
        notes.append("utilisation not given: 0.3..0.5 assumed")
    else:
        util = Band.of(hw.utilization)
        notes.append(f"utilisation {hw.utilization} (model FLOP utilisation)")
    flop = device_seconds * peak * util
    part = "generation" if stage.kind == "synthetic-data" else "merged" if stage.kind == "merge" else "training"
    return Estimate("hardware", flop, {part: flop}, tuple(notes))


@METHODS.register("declared")
def declared(stage: Stage, ctx: Context) -> Estimate:
    """The figure the developer declares: the stage's flop (for a merge, source_flop)."""
    if stage.kind == "merge" and stage.source_flop is not None:
        flop = Band.of(stage.source_flop)
        sources = f" of {', '.join(stage.sources)}" if stage.sources else ""
        return Estimate("declared", flop, {"merged": flop},
                        (f"training compute{sources} declared as source_flop",))
    if stage.flop is None:
        raise Unavailable("needs flop" + (" or source_flop" if stage.kind == "merge" else ""))
    flop = Band.of(stage.flop)
    part = "generation" if stage.kind == "synthetic-data" else "merged" if stage.kind == "merge" else "training"
    return Estimate("declared", flop, {part: flop}, ("declared by the developer (flop)",))


@METHODS.register("framework")
def framework(stage: Stage, ctx: Context) -> Estimate:
    """The training framework's own figure for the run its config describes (its published formula, or the FLOP the run recorded)."""
    run = ctx.runs.get(stage.name)
    if run is None:
        raise Unavailable("needs training_config")
    own = run.framework_flop
    if own is not None:
        flop = Band.exact(float(own.flop))
        return Estimate("framework", flop, {"training": flop},
                        (f"{own.framework}'s own formula ({own.formula}; {own.source}) for the run in "
                         f"{run.path.name}", f"its convention differs from flopaudit's: {own.convention}"),
                        label=own.framework)
    if run.declared_flop is not None:
        recorded = run.declared_flop
        flop = Band.exact(float(recorded.value))
        place = f"{run.path.name}:{recorded.line}" if recorded.line else run.path.name
        return Estimate("framework", flop, {"training": flop},
                        (f"recorded by the run itself ({recorded.origin}, {place})", *run.notes),
                        label=recorded.origin)
    raise Unavailable(f"the {run.format} format gives no framework figure")
