"""LitGPT YAML configs (``litgpt pretrain --config``): ``model_name`` or ``model_config``, and ``train:``.

The model is a ``model_config:`` mapping (LitGPT uses it over ``model_name`` when both are given) or a
``model_name`` from the sourced table ``data/litgpt_models.yaml`` (a copy of ``litgpt/config.py``).
Training length: ``train.max_steps`` when set (LitGPT then ignores ``max_tokens``), else
``train.max_tokens // (train.global_batch_size x seq)`` optimizer steps, where seq is
``train.max_seq_length`` or the model's ``block_size`` (LitGPT's ``model.max_seq_length``).
Framework FLOP: LitGPT's ``estimate_flops`` per sequence x sequences trained.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flopaudit.config.frameworks.base import READERS, FrameworkFlop, ReadOptions, TrainingRun, Value, missing
from flopaudit.config.frameworks.fields import MAX_COUNT, Fields, absent
from flopaudit.config.frameworks.parameters import counts
from flopaudit.config.frameworks.presets import table
from flopaudit.config.yaml_source import parse_yaml
from flopaudit.errors import ConfigError
from flopaudit.estimate.frameworks import litgpt as formula
from flopaudit.suggest import did_you_mean

SOURCE = "https://github.com/Lightning-AI/litgpt/blob/d49df2089a7b8c6c84d562b1e6293a6c16530392/litgpt/utils.py"
PRETRAIN = "https://github.com/Lightning-AI/litgpt/blob/0363060b9b9952baada5e5e91c5f2ca1030acd35/litgpt/pretrain.py"
_GATED = {"LLaMAMLP": "gated", "GemmaMLP": "gated", "LLaMAMoE": "gated", "GptNeoxMLP": "plain"}
_NORMS = {"RMSNorm": 1, "LayerNorm": 2}  # parameter vectors per norm
# LitGPT Config defaults for flags that shape the parameter count but not the dimensions (litgpt/config.py)
_FLAG_DEFAULTS = {"bias": True, "lm_head_bias": False, "shared_attention_norm": False,
                  "norm_class_name": "LayerNorm", "mlp_class_name": "GptNeoxMLP"}
# Config fields whose layers flopaudit does not count yet: refused rather than miscounted
_UNREAD = ("latent_attention", "norm_qk", "post_attention_norm", "post_mlp_norm", "moe_intermediate_size")


class LitGPTReader:
    name = "litgpt"
    label = "LitGPT YAML config"

    def detect(self, path: Path, text: str) -> bool:
        if path.suffix not in (".yml", ".yaml"):
            return False
        padded = f"\n{text}"
        return "\ntrain:" in padded and ("\nmodel_name:" in padded or "\nmodel_config:" in padded)

    def read(self, path: Path, text: str, options: ReadOptions) -> TrainingRun:
        fields = Fields.from_yaml(path, parse_yaml(text, str(path), ConfigError))
        if not isinstance(fields.data, dict):
            raise ConfigError("a LitGPT config is a mapping of keys", file=path, line=1)
        return _Reader(fields, options).run()


class _Reader:
    def __init__(self, fields: Fields, options: ReadOptions) -> None:
        self.f = fields
        self.path = fields.path
        self.options = options
        self.values: dict[str, Value] = {}
        self.notes: list[str] = []
        self.preset = False

    def record(self, name: str, value: Value) -> Any:
        self.values[name] = value
        return value.value

    # -- the model -----------------------------------------------------------------------------------------
    def model(self) -> tuple[str | None, dict[str, Value]]:
        """The model's Config fields as located values: the file's model_config, else the named preset."""
        name = self.f.text(("model_name",))
        config = self.f.mapping(("model_config",))
        if config:
            if name is not None:
                self.notes.append(f"model_config is used and model_name {name.value!r} ignored, as LitGPT does")
            out = {}
            for key in config:
                value = self.f.raw(("model_config", key))
                out[key] = Value(value, self.f.line(("model_config", key)), f"model_config.{key}")
            return (str(config["name"]) if "name" in config else None), out
        if name is None:
            raise absent("the model", self.path, "model_name")
        models = table("litgpt")["models"]
        if name.value not in models:
            raise ConfigError(f"LitGPT model_name {name.value!r} is not in flopaudit's table"
                              f"{did_you_mean(name.value, models)}", file=self.path, line=name.line,
                              hint=f"presets: {', '.join(models)}; or write the model under model_config:")
        origin = f"LitGPT model_name {name.value}"
        self.preset = True
        return name.value, {k: Value(v, name.line, f"{origin} ({k})") for k, v in models[name.value].items()}

    def architecture(self, cfg: dict[str, Value]) -> tuple[dict[str, Any], int]:
        """flopaudit Architecture keywords and the norm/bias parameters LitGPT's GPT adds to the matrices."""
        for key in _UNREAD:
            if key in cfg and cfg[key].value not in (None, False):
                raise ConfigError(f"model_config.{key} is not read yet: flopaudit would miscount this model",
                                  file=self.path, line=cfg[key].line)

        def need(key: str, name: str | None = None) -> Any:
            """A positive whole Config field, recorded under ``name``; absent or null names the key."""
            if key not in cfg or cfg[key].value is None:
                raise absent(f"the model's {key}", self.path, f"model_config.{key}")
            value = cfg[key].value
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
                raise ConfigError(f"{key} must be a positive whole number, got {value!r}", file=self.path,
                                  line=cfg[key].line)
            if name:
                self.values[name] = cfg[key]
            return value

        def given(key: str) -> bool:
            return key in cfg and cfg[key].value is not None

        def flag(key: str) -> Any:
            """A Config flag or class name, of the type of its LitGPT default; the default when unset."""
            if key in cfg and cfg[key].value is not None:
                value, kind = cfg[key].value, type(_FLAG_DEFAULTS[key])
                if not isinstance(value, kind):
                    raise ConfigError(f"{key} must be {'true or false' if kind is bool else 'a name'}, "
                                      f"got {value!r}", file=self.path, line=cfg[key].line)
                return value
            if not self.preset:  # a preset is LitGPT's own entry: its Config defaults are part of it
                self.notes.append(f"{key} = {_FLAG_DEFAULTS[key]!r} (LitGPT Config default)")
            return _FLAG_DEFAULTS[key]

        layers, d, heads = need("n_layer", "layers"), need("n_embd", "d_model"), need("n_head", "heads")
        kv = need("n_query_groups", "kv_heads") if given("n_query_groups") else heads  # LitGPT: n_head when unset
        if given("head_size"):
            head_size = need("head_size", "head_dim")
        elif d % heads:
            raise ConfigError(f"n_embd {d} is not a multiple of n_head {heads}; give head_size",
                              file=self.path, line=self.values["heads"].line)
        else:
            head_size = d // heads
            self.values["head_dim"] = Value(head_size, None, "n_embd // n_head (LitGPT)")
        mlp = flag("mlp_class_name")
        if mlp not in _GATED:
            raise ConfigError(f"mlp_class_name {mlp!r} is not read yet", file=self.path,
                              line=cfg["mlp_class_name"].line, hint=f"read: {', '.join(_GATED)}")
        if given("intermediate_size"):
            d_ff = need("intermediate_size", "d_ff")
        elif mlp == "GptNeoxMLP":
            d_ff = 4 * d  # litgpt/config.py: intermediate_size = 4 * n_embd when not set (not allowed for LLaMAMLP)
            self.values["d_ff"] = Value(d_ff, None, "4 x n_embd (LitGPT Config, intermediate_size not set)")
        else:
            raise absent("the FFN width", self.path, "model_config.intermediate_size")
        vocab = self.vocab(cfg)
        norm = flag("norm_class_name")
        if norm not in _NORMS:
            raise ConfigError(f"norm_class_name {norm!r} is not read yet", file=self.path,
                              line=cfg["norm_class_name"].line)
        bias, lm_head_bias, shared = flag("bias"), flag("lm_head_bias"), flag("shared_attention_norm")
        tied = self.tied()
        arch: dict[str, Any] = dict(layers=layers, d_model=d, heads=heads, kv_heads=kv, head_dim=head_size,
                                    d_ff=d_ff, ffn=_GATED[mlp], vocab=vocab, tied_embeddings=tied)
        if mlp == "LLaMAMoE":
            arch["experts"] = need("n_expert", "experts")
            arch["experts_per_token"] = need("n_expert_per_token", "experts_per_token")
            if bias:
                raise ConfigError("a LitGPT mixture of experts with bias: true is not counted yet", file=self.path,
                                  line=cfg["bias"].line if "bias" in cfg else None)
        extra = (layers * (1 if shared else 2) + 1) * _NORMS[norm] * d
        if bias:
            ffn_bias = (2 * d_ff if _GATED[mlp] == "gated" else d_ff) + d
            extra += layers * ((heads + 2 * kv) * head_size + d + ffn_bias)
        if lm_head_bias:
            extra += vocab
        return arch, extra

    def vocab(self, cfg: dict[str, Value]) -> int:
        """LitGPT's padded_vocab_size: given, else vocab_size rounded up to padding_multiple (default 512)."""
        if cfg.get("padded_vocab_size") and cfg["padded_vocab_size"].value is not None:
            return self.record("vocab", _whole(cfg["padded_vocab_size"], self.path))
        if cfg.get("vocab_size") and cfg["vocab_size"].value is not None:
            size = _whole(cfg["vocab_size"], self.path).value
            multiple = _whole(cfg["padding_multiple"], self.path).value if cfg.get("padding_multiple") else 512
            padded = size if size % multiple == 0 else size + multiple - size % multiple
            self.values["vocab"] = Value(padded, cfg["vocab_size"].line,
                                         f"vocab_size {size} rounded up to padding_multiple {multiple} (LitGPT)")
            return padded
        if self.options.vocab is not None:
            return self.record("vocab", Value(self.options.vocab, None, "vocab option"))
        raise missing("the vocabulary size", self.path, key="vocab")

    def tied(self) -> bool:
        found = self.f.flag(("train", "tie_embeddings"))
        return bool(self.record("tied_embeddings", found)) if found is not None else False

    # -- training ------------------------------------------------------------------------------------------
    def run(self) -> TrainingRun:
        model_name, cfg = self.model()
        arch, extra = self.architecture(cfg)
        seq_value = self.f.integer(("train", "max_seq_length"))
        if seq_value is None:
            if not cfg.get("block_size") or not cfg["block_size"].value:
                raise absent("the sequence length", self.path, "train.max_seq_length")
            seq_value = Value(_whole(cfg["block_size"], self.path).value, cfg["block_size"].line,
                              f"{cfg['block_size'].origin}: the model's block_size (train.max_seq_length not set)")
        seq = self.record("sequence_length", seq_value)
        gbs = self.f.integer(("train", "global_batch_size"))
        if gbs is None:
            raise absent("the global batch", self.path, "train.global_batch_size")
        global_batch = self.record("global_batch", gbs)
        max_steps = self.f.integer(("train", "max_steps"))
        max_tokens = self.f.integer(("train", "max_tokens"))
        if max_steps is not None:
            steps = self.record("steps", max_steps)
            if max_tokens is not None:
                self.notes.append(f"train.max_steps is set, so LitGPT ignores train.max_tokens ({PRETRAIN})")
        elif max_tokens is not None:
            self.values["max_tokens"] = max_tokens
            steps = max_tokens.value // (global_batch * seq)
            if steps < 1:
                raise ConfigError(f"train.max_tokens {max_tokens.value:,} is less than one step of "
                                  f"{global_batch} x {seq} tokens", file=self.path, line=max_tokens.line)
            self.values["steps"] = Value(steps, max_tokens.line,
                                         "train.max_tokens // (train.global_batch_size x sequence length)")
            self.flooring_note(max_tokens.value, seq)
        else:
            raise absent("the training length", self.path, "train.max_tokens")
        total, active = counts(arch, extra, self.path)
        sequences = steps * global_batch
        per_sequence = formula.estimate_flops(seq, arch["layers"], arch["d_model"], total)
        flop = FrameworkFlop(
            framework="LitGPT", flop=per_sequence * sequences, formula="estimate_flops", source=SOURCE,
            convention="6 x all parameters per token (input embedding, norms and every expert included) plus "
                       "12 x n_layer x n_embd x seq per token for full s x s attention, not halved for the causal "
                       "mask; flopaudit counts no FLOP for the embedding lookup or norms and only the active experts")
        return TrainingRun(format="litgpt", path=self.path, architecture=arch, sequence_length=seq,
                           global_batch=global_batch, steps=steps, tokens=steps * global_batch * seq,
                           values=self.values, model_name=model_name, parameters=total, active_parameters=active,
                           framework_flop=flop, notes=self.notes)

    def flooring_note(self, max_tokens: int, seq: int) -> None:
        """LitGPT floors per device ((max_tokens // world) // (micro x seq) micro-batches): say so when it differs."""
        micro = self.f.integer(("train", "micro_batch_size"))
        devices = self.f.integer(("devices",)) if isinstance(self.f.raw(("devices",)), int) else None
        world = self.options.devices or (devices.value if devices else None)
        if micro is None or world is None:
            return
        nodes = self.f.integer(("num_nodes",))
        world *= nodes.value if nodes and not self.options.devices else 1
        iters = (max_tokens // world) // (micro.value * seq)
        processed = iters * micro.value * seq * world
        steps_tokens = self.values["steps"].value * self.values["global_batch"].value * seq
        if processed != steps_tokens:
            self.notes.append(f"LitGPT itself runs {iters:,} micro-batches per device on {world} devices, "
                              f"{processed:,} tokens; counted here: whole optimizer steps, {steps_tokens:,} tokens")


def _whole(value: Value, path: Path) -> Value:
    """``value`` when it is a positive whole number, else a ConfigError at its line."""
    if isinstance(value.value, bool) or not isinstance(value.value, int) or not 1 <= value.value <= MAX_COUNT:
        raise ConfigError(f"{value.origin} must be a positive whole number, got {value.value!r}", file=path,
                          line=value.line)
    return value


READERS.register(LitGPTReader())
