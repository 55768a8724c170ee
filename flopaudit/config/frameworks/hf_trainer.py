"""Hugging Face ``trainer_state.json`` (the Trainer's record of an executed run) plus the model's ``config.json``.

``config.json`` is read from the same directory, else from the parent (the ``checkpoint-N/trainer_state.json``
layout). Steps: ``global_step``. Tokens: ``num_input_tokens_seen`` when the run recorded it, else HF's own
``total_flos`` divided by 6 x the non-embedding parameters counted from ``config.json`` (the Trainer's
``floating_point_ops`` is exactly that product, summed over steps and ranks). The sequence length is not
recorded: it comes from ``ReadOptions.sequence_length``. ``declared_flop`` is ``total_flos``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flopaudit.config.frameworks.base import READERS, FrameworkFlop, ReadOptions, TrainingRun, Value, missing
from flopaudit.config.frameworks.fields import Fields, absent
from flopaudit.config.frameworks.parameters import counts
from flopaudit.config.yaml_source import read_text
from flopaudit.errors import ConfigError
from flopaudit.estimate.frameworks import huggingface as formula

SOURCE = "https://github.com/huggingface/transformers/blob/v5.24.0/src/transformers/trainer.py"
_TYPES = ("llama", "mistral", "mixtral")  # decoder layouts counted exactly: RMSNorm, gated MLP, optional biases
# total_flos is a float sum of per-step products (each rounded above 2**53): tokens recovered from it must be
# whole to this relative precision (a float64 sum of 1e5 steps drifts by about 1e-11 at worst)
_RELATIVE_TOLERANCE = 1e-11


class HFTrainerStateReader:
    name = "hf-trainer-state"
    label = "Hugging Face trainer_state.json"

    def detect(self, path: Path, text: str) -> bool:
        return path.suffix == ".json" and '"global_step"' in text and '"log_history"' in text

    def read(self, path: Path, text: str, options: ReadOptions) -> TrainingRun:
        state = Fields.from_json(path, text)
        if not isinstance(state.data, dict):
            raise ConfigError("trainer_state.json is a JSON object", file=path, line=1)
        values: dict[str, Value] = {}
        notes: list[str] = []
        step = state.integer(("global_step",))
        if step is None:
            raise absent("the optimizer steps run", path, "global_step")
        steps = step.value
        values["steps"] = step
        max_steps = state.integer(("max_steps",), minimum=0)
        if max_steps is not None and max_steps.value > steps:
            notes.append(f"the run stopped at global_step {steps:,} of max_steps {max_steps.value:,}: the record "
                         "counts what ran")
        config_path = _config_json(path)
        config = Fields.from_json(config_path, read_text(config_path, ConfigError))
        arch, extra, model_name = _architecture(config, values)
        total, active = counts(arch, extra, config_path, rms_norms=True)
        non_embedding = total - arch["vocab"] * arch["d_model"]  # nn.Embedding only; an untied lm_head stays in
        # 1e35: flopaudit's bound on any FLOP figure (1e8 x the largest training runs so far)
        flos = state.number(("total_flos",), origin="total_flos", maximum=1e35) if state.raw(("total_flos",)) else None
        tokens = _tokens(state, flos, non_embedding, values, notes)
        if options.sequence_length is None:
            raise missing("the sequence length (trainer_state.json does not record it)", path,
                          key="sequence_length")
        seq = options.sequence_length
        values["sequence_length"] = Value(seq, None, "sequence_length option")
        if tokens % (steps * seq):
            raise ConfigError(f"{tokens:,} tokens are not a whole number of sequences of {seq} per step over "
                              f"{steps:,} steps", file=path, line=values["tokens"].line,
                              hint="give the padded sequence length the run used")
        global_batch = tokens // (steps * seq)
        values["global_batch"] = Value(global_batch, None, "tokens / (global_step x sequence_length)")
        per_device = state.integer(("train_batch_size",))
        if per_device is not None:
            values["train_batch_size"] = per_device
        if options.devices is not None:
            values["devices"] = Value(options.devices, None, "devices option")
            if per_device is not None:
                _accumulation(global_batch, per_device, options.devices, path, values)
        framework = FrameworkFlop(
            framework="Hugging Face Trainer", flop=float(formula.floating_point_ops(tokens, non_embedding)),
            formula="Trainer.floating_point_ops", source=SOURCE,
            convention="6 x non-embedding parameters (nn.Embedding weights left out, an untied LM head kept) x "
                       "input tokens: no attention scores, every expert of a mixture of experts counted")
        return TrainingRun(format="hf-trainer-state", path=path, architecture=arch, sequence_length=seq,
                           global_batch=global_batch, steps=steps, tokens=tokens, values=values,
                           model_name=model_name, parameters=total, active_parameters=active,
                           framework_flop=framework, declared_flop=flos, notes=notes)


def _accumulation(global_batch: int, per_device: Value, devices: int, path: Path, values: dict[str, Value]) -> None:
    """Gradient accumulation implied by global batch = train_batch_size x devices x accumulation (must be whole)."""
    per_step = per_device.value * devices
    if global_batch % per_step:
        raise ConfigError(f"a global batch of {global_batch} sequences is not train_batch_size {per_device.value} x "
                          f"{devices} devices x a whole number of accumulation steps", file=path,
                          line=per_device.line, hint="check the devices and sequence_length given")
    values["gradient_accumulation_steps"] = Value(global_batch // per_step, None,
                                                  "global batch / (train_batch_size x devices)")


def _config_json(state_path: Path) -> Path:
    """config.json beside the state, else in its parent: never outside the state's repository root,
    and links followed before that is checked (a config names files inside its repository only)."""
    from flopaudit.config.paths import root_of

    root = root_of(state_path)
    for candidate in (state_path.parent / "config.json", state_path.parent.parent / "config.json"):
        real = candidate.resolve()
        if real.is_relative_to(root) and real.is_file():
            return real
    raise ConfigError("no config.json of the model next to trainer_state.json (nor in its parent directory)",
                      file=state_path, hint="save the model's config.json beside it (Trainer.save_model does)")


def _architecture(config: Fields, values: dict[str, Value]) -> tuple[dict[str, Any], int, str | None]:
    """Architecture keywords, the norm/bias parameters to add, and the model's name, from config.json."""
    path = config.path
    kind = config.text(("model_type",))
    if kind is None or kind.value not in _TYPES:
        got = repr(kind.value) if kind else "none"
        raise ConfigError(f"config.json model_type {got} is not read yet", file=path,
                          line=kind.line if kind else None, hint=f"model types read: {', '.join(_TYPES)}")

    def elsewhere(found: Value) -> Value:
        """A config.json value: Value.line means a line of trainer_state.json, so config.json's line goes in origin."""
        return Value(found.value, None, f"config.json:{found.line} {found.origin}")

    def need(key: str, name: str) -> int:
        found = config.integer((key,))
        if found is None:
            raise absent(f"the model's {key}", path, key)
        values[name] = elsewhere(found)
        return found.value

    layers = need("num_hidden_layers", "layers")
    d = need("hidden_size", "d_model")
    heads = need("num_attention_heads", "heads")
    kv = config.integer(("num_key_value_heads",))
    if kv is not None:
        values["kv_heads"] = elsewhere(kv)
    head_dim = config.integer(("head_dim",))
    if head_dim is not None:
        values["head_dim"] = elsewhere(head_dim)
    elif d % heads:
        raise ConfigError(f"hidden_size {d} is not a multiple of num_attention_heads {heads}; give head_dim",
                          file=path, line=config.line(("num_attention_heads",)))
    d_ff = need("intermediate_size", "d_ff")
    vocab = need("vocab_size", "vocab")
    tied = config.flag(("tie_word_embeddings",))
    # transformers' LlamaConfig/MistralConfig/MixtralConfig default tie_word_embeddings to False
    values["tied_embeddings"] = elsewhere(tied) if tied else Value(False, None, "transformers config default "
                                                                              "(tie_word_embeddings)")
    hd = head_dim.value if head_dim else d // heads
    n_kv = kv.value if kv else heads
    arch: dict[str, Any] = dict(layers=layers, d_model=d, heads=heads, kv_heads=n_kv, head_dim=hd, d_ff=d_ff,
                                ffn="gated", vocab=vocab, tied_embeddings=tied.value if tied else False)
    if kind.value == "mixtral":
        arch["experts"] = need("num_local_experts", "experts")
        arch["experts_per_token"] = need("num_experts_per_tok", "experts_per_token")
    extra = 0  # beyond the RMSNorm weights counts() adds
    attention_bias = config.flag(("attention_bias",))
    if attention_bias is not None and attention_bias.value:
        extra += layers * ((heads + 2 * n_kv) * hd + d)  # q, k, v and o_proj biases (LlamaAttention)
    mlp_bias = config.flag(("mlp_bias",))
    if mlp_bias is not None and mlp_bias.value:
        if "experts" in arch:
            raise ConfigError("mlp_bias in a mixture of experts is not counted yet", file=path, line=mlp_bias.line)
        extra += layers * (2 * d_ff + d)
    name = config.text(("_name_or_path",))
    architectures = config.raw(("architectures",))
    model_name = name.value if name and name.value else (
        architectures[0] if isinstance(architectures, list) and architectures else None)
    return arch, extra, model_name


def _tokens(state: Fields, flos: Value | None, non_embedding: int, values: dict[str, Value],
            notes: list[str]) -> int:
    seen = state.integer(("num_input_tokens_seen",), minimum=0)
    if seen is not None and seen.value > 0:
        values["tokens"] = seen
        return seen.value
    if flos is None:
        raise absent("the tokens trained (neither num_input_tokens_seen nor total_flos is recorded)", state.path,
                     "total_flos")
    exact = flos.value / (6 * non_embedding)
    tokens = round(exact)
    if tokens < 1 or abs(exact - tokens) > max(1e-3, _RELATIVE_TOLERANCE * tokens):
        raise ConfigError(f"total_flos {flos.value:.6g} is not 6 x {non_embedding:,} non-embedding parameters x a "
                          "whole number of tokens: config.json is not the model this run trained",
                          file=state.path, line=flos.line)
    values["tokens"] = Value(tokens, flos.line, "total_flos / (6 x non-embedding parameters of config.json)")
    notes.append("tokens recovered from total_flos (the run did not record num_input_tokens_seen)")
    return tokens


READERS.register(HFTrainerStateReader())
