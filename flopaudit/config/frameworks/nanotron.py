"""nanotron YAML configs (``run_train.py --config-file``): ``model.model_config``, ``tokens``, ``parallelism``.

Global batch = ``parallelism.dp`` x ``tokens.micro_batch_size`` x ``tokens.batch_accumulation_per_replica``
sequences of ``tokens.sequence_length`` for ``tokens.train_steps`` steps. The model is nanotron's Llama or
dense Qwen2 (gated FFN, RMSNorm, no biases; both models publish the same ``get_flops``). Framework FLOP:
nanotron's ``get_flops`` with the global batch, x steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flopaudit.config.frameworks.base import READERS, FrameworkFlop, ReadOptions, TrainingRun, Value
from flopaudit.config.frameworks.fields import Fields, absent, dotted
from flopaudit.config.frameworks.parameters import counts
from flopaudit.config.yaml_source import parse_yaml
from flopaudit.errors import ConfigError
from flopaudit.estimate.frameworks import nanotron as formula

SOURCE = ("https://github.com/huggingface/nanotron/blob/03b83fc825418ac4f22d2fcea41514cdba6cedb9/"
          "src/nanotron/models/llama.py")
CONFIG = ("https://github.com/huggingface/nanotron/blob/03b83fc825418ac4f22d2fcea41514cdba6cedb9/"
          "src/nanotron/config/models_config.py")
_MC = ("model", "model_config")
_MOE = ("moe_config", "num_experts", "moe_num_experts", "num_experts_per_tok", "n_routed_experts")


class NanotronReader:
    name = "nanotron"
    label = "nanotron YAML config"

    def detect(self, path: Path, text: str) -> bool:
        if path.suffix not in (".yml", ".yaml"):
            return False
        padded = f"\n{text}"
        return "\ntokens:" in padded and "\nparallelism:" in padded and "model_config:" in text

    def read(self, path: Path, text: str, options: ReadOptions) -> TrainingRun:
        f = Fields.from_yaml(path, parse_yaml(text, str(path), ConfigError))
        if not isinstance(f.data, dict):
            raise ConfigError("a nanotron config is a mapping of keys", file=path, line=1)
        values: dict[str, Value] = {}
        notes: list[str] = []

        def need(key: tuple[str, ...], name: str, what: str) -> Any:
            found = f.integer(key)
            if found is None:
                raise absent(what, path, dotted(key), line=f.line(key[:-1]))
            values[name] = found
            return found.value

        if f.mapping(_MC) is None:
            raise absent("the model", path, "model.model_config")
        for key in _MOE:
            if f.has(_MC + (key,)):
                raise ConfigError(f"model.model_config.{key}: nanotron mixture-of-experts configs are not read yet",
                                  file=path, line=f.line(_MC + (key,)))
        bias = f.flag(_MC + ("attention_bias",))
        if bias is not None and bias.value:
            raise ConfigError("model.model_config.attention_bias: attention biases are not counted yet", file=path,
                              line=bias.line)
        if f.has(_MC + ("sliding_window_size",)):
            notes.append("sliding_window_size is set: nanotron's get_flops and flopaudit's count both take full "
                         "s x s attention, an upper bound for windowed layers")
        layers = need(_MC + ("num_hidden_layers",), "layers", "the number of layers")
        d = need(_MC + ("hidden_size",), "d_model", "the model width")
        heads = need(_MC + ("num_attention_heads",), "heads", "the number of attention heads")
        kv = f.integer(_MC + ("num_key_value_heads",))
        if kv is not None:
            values["kv_heads"] = kv
        d_ff = need(_MC + ("intermediate_size",), "d_ff", "the FFN width")
        vocab = need(_MC + ("vocab_size",), "vocab", "the vocabulary size")
        multiple = f.integer(("model", "make_vocab_size_divisible_by"))
        if multiple is not None and vocab % multiple.value:
            raise ConfigError(f"vocab_size {vocab} is not a multiple of make_vocab_size_divisible_by "
                              f"{multiple.value}: write the vocabulary the model is built with",
                              file=path, line=values["vocab"].line)
        tied = f.flag(_MC + ("tie_word_embeddings",))
        if tied is None:
            tied = Value(False, None, f"nanotron LlamaConfig default ({CONFIG})")
            notes.append("tie_word_embeddings not set: nanotron's LlamaConfig default false")
        values["tied_embeddings"] = tied
        if d % heads:
            raise ConfigError(f"hidden_size {d} is not a multiple of num_attention_heads {heads}", file=path,
                              line=values["heads"].line)
        arch: dict[str, Any] = dict(layers=layers, d_model=d, heads=heads, kv_heads=kv.value if kv else heads,
                                    head_dim=d // heads, d_ff=d_ff, ffn="gated", vocab=vocab,
                                    tied_embeddings=tied.value)
        seq = need(("tokens", "sequence_length"), "sequence_length", "the sequence length")
        steps = need(("tokens", "train_steps"), "steps", "the number of training steps")
        micro = need(("tokens", "micro_batch_size"), "micro_batch_size", "the micro-batch size")
        accumulation = need(("tokens", "batch_accumulation_per_replica"), "batch_accumulation_per_replica",
                            "gradient accumulation")
        dp = need(("parallelism", "dp"), "dp", "the data-parallel degree")
        global_batch = dp * micro * accumulation
        values["global_batch"] = Value(global_batch, None, "parallelism.dp x tokens.micro_batch_size x "
                                                           "tokens.batch_accumulation_per_replica")
        tp, pp = f.integer(("parallelism", "tp")), f.integer(("parallelism", "pp"))
        if tp is not None and pp is not None:
            values["devices"] = Value(dp * tp.value * pp.value, f.line(("parallelism",)),
                                      "parallelism.dp x tp x pp")
        total, active = counts(arch, 0, path, rms_norms=True)
        per_step = formula.get_flops(num_layers=layers, hidden_size=d, num_heads=heads,
                                     num_key_value_heads=arch["kv_heads"], vocab_size=vocab, seq_len=seq,
                                     ffn_hidden_size=d_ff, batch_size=global_batch)
        flop = FrameworkFlop(
            framework="nanotron", flop=per_step * steps, formula="get_flops", source=SOURCE,
            convention="3 x forward of every matmul with full s x s attention (not halved for the causal mask) "
                       "and the LM head: the same convention as flopaudit's transformer formula with full attention")
        return TrainingRun(format="nanotron", path=path, architecture=arch, sequence_length=seq,
                           global_batch=global_batch, steps=steps, tokens=steps * global_batch * seq, values=values,
                           model_name=f.text(("general", "run")).value if f.has(("general", "run")) else None,
                           parameters=total, active_parameters=active, framework_flop=flop, notes=notes)


READERS.register(NanotronReader())
