"""Megatron-LM (and NeMo, same argument names) launch scripts: the arguments of ``pretrain_gpt.py``.

The script is read statically (:mod:`flopaudit.config.frameworks.shell`); the training command is the
one that runs a ``pretrain_*.py`` (or passes ``--num-layers``). Argument semantics follow Megatron-LM's
``megatron/training/arguments.py`` (``validate_args``), e.g. at
https://github.com/NVIDIA/Megatron-LM/blob/307dcf37f03d44da131ba21999278abe4112d2ad/megatron/training/arguments.py :

* ``--ffn-hidden-size`` defaults to 4 x hidden, or ``int(4 * hidden * 2 / 3 / 64) * 64`` with ``--swiglu``;
* ``--kv-channels`` defaults to hidden // heads; ``--num-query-groups`` counts only with
  ``--group-query-attention`` (Megatron's default is 1 group);
* the global batch defaults to micro batch x data-parallel size (world / (TP x PP x CP));
* iterations are ``--train-iters``, or ``--train-samples // --global-batch-size`` (floored);
* ``--moe-layer-freq`` is an int k (layer i is MoE when i % k == 0; default 1) or a list expression.

Where Megatron's default for an argument is not certain from its source (the MLA widths, the router's
top-k), the argument must be given: flopaudit does not guess it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flopaudit.config.frameworks import common
from flopaudit.config.frameworks.base import READERS, FrameworkFlop, ReadOptions, TrainingRun, Value, missing
from flopaudit.config.frameworks.megatron_layers import moe_layer_pattern
from flopaudit.config.frameworks.shell import Arg, Command, read_script
from flopaudit.errors import ConfigError
from flopaudit.estimate.frameworks import megatron as mflop

_ENTRY = re.compile(r"(^|/)pretrain_\w+\.py$")
_DETECT = re.compile(r"pretrain_gpt|pretrain_mamba|--num-layers\b")
_SHELL_SUFFIXES = {".sh", ".bash", ".slurm", ".sbatch", ""}
# integer arguments for which 0 means "none"; every other one must be positive
_MAY_BE_ZERO = {"--mtp-num-layers", "--q-lora-rank", "--moe-shared-expert-intermediate-size", "--num-experts",
                "--train-iters", "--train-samples"}
# arguments that change the model in ways this reader does not price: refused, never ignored
_UNPRICED = {
    "--hybrid-override-pattern": "hybrid Mamba layers",
    "--hybrid-layer-pattern": "hybrid Mamba layers",
    "--experimental-attention-variant": "linear/experimental attention layers",
    "--linear-attention-freq": "linear attention layers",
    "--moe-latent-size": "MoE latent projections",
    "--attention-output-gate": "the attention output gate",
    "--rampup-batch-size": "a batch-size ramp-up (tokens depend on the ramp)",
}


@dataclass
class _Opt:
    flag: Arg
    values: list[Arg | ConfigError]


class _Args:
    """The ``--name value`` / ``--flag`` arguments of the training command, with their lines."""

    def __init__(self, command: Command, path: Path) -> None:
        self.path = path
        self.opts: dict[str, _Opt] = {}
        self.repeated: list[str] = []
        words = command.each_word()
        start = _entry_index(command.written())
        current: _Opt | None = None
        for word in words[start + 1:]:
            if isinstance(word, ConfigError):
                if current is None:
                    raise ConfigError(f"{word.message}; that word may hold training arguments",
                                      file=word.file, line=word.line, hint=word.hint)
                current.values.append(word)
                continue
            for arg in word:
                if arg.text.startswith("--"):
                    name, eq, value = arg.text.partition("=")
                    if name in self.opts:
                        self.repeated.append(name)
                    current = self.opts[name] = _Opt(Arg(name, arg.line), [Arg(value, arg.line)] if eq else [])
                elif current is None:
                    raise ConfigError(f"unexpected word '{arg.text}' before any --argument", file=path,
                                      line=arg.line)
                else:
                    current.values.append(arg)

    def line(self, name: str) -> int | None:
        opt = self.opts.get(name)
        return opt.flag.line if opt else None

    def flag(self, name: str) -> bool:
        opt = self.opts.get(name)
        if opt is None:
            return False
        if opt.values:
            raise ConfigError(f"{name} is a flag and takes no value", file=self.path, line=opt.flag.line)
        return True

    def text(self, name: str) -> Arg | None:
        opt = self.opts.get(name)
        if opt is None:
            return None
        if len(opt.values) != 1:
            raise ConfigError(f"{name} needs one value, got {len(opt.values)}", file=self.path, line=opt.flag.line)
        value = opt.values[0]
        if isinstance(value, ConfigError):
            raise value
        return value

    def integer(self, name: str) -> tuple[int, int] | None:
        """(value, line of the value) or None when absent."""
        arg = self.text(name)
        if arg is None:
            return None
        try:
            number = int(arg.text)
        except ValueError:
            raise ConfigError(f"{name} needs an integer, got '{arg.text}'", file=self.path, line=arg.line) from None
        if number < 0 or (number == 0 and name not in _MAY_BE_ZERO):
            raise ConfigError(f"{name} must be {'at least 0' if name in _MAY_BE_ZERO else 'positive'}, got {number}",
                              file=self.path, line=arg.line)
        return number, arg.line


def _entry_index(written: list[str]) -> int:
    """The word that names the training program (``${MEGATRON}/pretrain_gpt.py`` need not expand)."""
    for test in (_ENTRY.search, lambda w: w.endswith(".py")):
        for k, word in enumerate(written):
            if test(word):
                return k
    return -1


def _is_training(command: Command) -> bool:
    if any(_ENTRY.search(w) for w in command.written()):
        return True
    return any(not isinstance(word, ConfigError) and any(a.text == "--num-layers" for a in word)
               for word in command.each_word())


class MegatronReader:
    """Megatron-LM / NeMo launch scripts (bash)."""

    name = "megatron"
    label = "Megatron-LM launch script"

    def detect(self, path: Path, text: str) -> bool:
        return path.suffix.lower() in _SHELL_SUFFIXES and bool(_DETECT.search(text))

    def read(self, path: Path, text: str, options: ReadOptions) -> TrainingRun:
        common.check_options(options, path)
        script = read_script(path, text)
        training = [c for c in script.commands if _is_training(c)]
        if not training:
            raise ConfigError(f"{path.name} runs no Megatron-LM training command (pretrain_gpt.py ...)", file=path)
        if len(training) > 1:
            lines = ", ".join(str(c.line) for c in training)
            raise ConfigError(f"{path.name} has {len(training)} training commands (lines {lines})", file=path,
                              line=training[1].line, hint="keep one training command per script")
        return _Reading(_Args(training[0], path), path, options, training[0].line).run()


class _Reading:
    """One read of a launch script: the values, with where each came from."""

    def __init__(self, args: _Args, path: Path, options: ReadOptions, command_line: int) -> None:
        self.a, self.path, self.options, self.command_line = args, path, options, command_line
        self.values: dict[str, Value] = {}
        self.notes: list[str] = []
        self.arch_kwargs: dict[str, Any] = {}
        self.kv_channels: int | None = None
        self.last_is_moe = False
        self.num_moe_layers = 0
        self.shared_width = 0

    def put(self, key: str, value: Any, line: int | None, origin: str) -> Any:
        self.values[key] = Value(value, line, origin)
        return value

    def arg(self, key: str, name: str, *, required: bool = False) -> int | None:
        found = self.a.integer(name)
        if found is None:
            if required:
                raise ConfigError(f"the training command has no {name}", file=self.path, line=self.command_line,
                                  hint=f"add {name} N to the command")
            return None
        return self.put(key, found[0], found[1], name)

    def run(self) -> TrainingRun:
        for name in sorted(set(self.a.repeated)):
            self.notes.append(f"{name} is given more than once: the last one counts (as argparse)")
        for name, what in _UNPRICED.items():
            if name in self.a.opts:
                raise ConfigError(f"{name}: flopaudit's Megatron reader does not price {what}", file=self.path,
                                  line=self.a.line(name), hint="give the run in a flopaudit config instead")
        arch = self.architecture()
        seq = self.arg("sequence_length", "--seq-length") or self.arg("sequence_length", "--encoder-seq-length")
        if seq is None:
            raise ConfigError("the training command has no --seq-length", file=self.path, line=self.command_line,
                              hint="add --seq-length N to the command")
        gbs = self.global_batch()
        steps = self.steps(gbs)
        tokens = steps * gbs * seq
        self.put("tokens", tokens, None, "steps x global batch x sequence length")
        self.recomputation()
        kwargs = dict(self.arch_kwargs, context=seq)
        model = common.architecture(kwargs, self.path, self.values)
        total, active = common.parameters(model)
        self.parameter_notes()
        return TrainingRun(format="megatron", path=self.path, architecture=kwargs, sequence_length=seq,
                           global_batch=gbs, steps=steps, tokens=tokens, values=self.values,
                           parameters=total, active_parameters=active,
                           framework_flop=self.framework_flop(arch, seq, gbs, steps), notes=self.notes)

    # architecture ------------------------------------------------------------------------------------
    def architecture(self) -> dict[str, Any]:
        a = self.a
        layers = self.arg("layers", "--num-layers", required=True)
        d = self.arg("d_model", "--hidden-size", required=True)
        heads = self.arg("heads", "--num-attention-heads", required=True)
        assert layers is not None and d is not None and heads is not None
        swiglu = a.flag("--swiglu")
        self.put("swiglu", swiglu, a.line("--swiglu"), "--swiglu")
        ffn = self.arg("d_ff", "--ffn-hidden-size")
        if ffn is None:
            ffn = int((4 * d * 2 / 3) / 64) * 64 if swiglu else 4 * d
            self.put("d_ff", ffn, None, "Megatron default: " + ("int(4h*2/3/64)*64 with --swiglu" if swiglu else "4h"))
        mla = a.flag("--multi-latent-attention")
        gqa = a.flag("--group-query-attention")
        kv_heads = None
        if gqa:
            if mla:
                raise ConfigError("--group-query-attention and --multi-latent-attention together (Megatron "
                                  "asserts against it)", file=self.path, line=a.line("--group-query-attention"))
            kv_heads = self.arg("kv_heads", "--num-query-groups")
            if kv_heads is None:
                kv_heads = self.put("kv_heads", 1, None, "Megatron default --num-query-groups 1")
        elif a.line("--num-query-groups") is not None:
            self.notes.append("--num-query-groups is ignored without --group-query-attention (as in Megatron)")
        kv_channels = self.arg("head_dim", "--kv-channels")
        if kv_channels is None and not mla:
            if d % heads:
                raise ConfigError(f"--hidden-size {d} is not a multiple of --num-attention-heads {heads}; give "
                                  "--kv-channels", file=self.path, line=a.line("--num-attention-heads"))
            kv_channels = self.put("head_dim", d // heads, None, "Megatron default: hidden // heads")
        self.kv_channels = kv_channels
        vocab = self.vocab()
        untie = a.flag("--untie-embeddings-and-output-weights")
        self.put("tied_embeddings", not untie, a.line("--untie-embeddings-and-output-weights"),
                 "--untie-embeddings-and-output-weights" if untie else "Megatron default: tied")
        kw: dict[str, Any] = {"family": "decoder", "layers": layers, "d_model": d, "heads": heads,
                              "kv_heads": kv_heads, "head_dim": kv_channels, "d_ff": ffn,
                              "ffn": "gated" if swiglu else "plain", "vocab": vocab, "tied_embeddings": not untie}
        kw.update(self.moe(layers, ffn))
        if mla:
            kw.update(self.mla())
        mtp = self.arg("mtp_layers", "--mtp-num-layers")
        if mtp:
            kw["mtp_layers"] = mtp
            if kw.get("experts") and self.last_is_moe != (kw["dense_layers"] < layers):
                raise ConfigError("--moe-layer-freq ends with a dense layer while MoE layers precede it; "
                                  "flopaudit counts MTP layers as the last layer's kind and cannot order them",
                                  file=self.path, line=a.line("--moe-layer-freq"))
        self.arch_kwargs = kw
        return kw

    def vocab(self) -> int:
        vocab = self.arg("vocab", "--vocab-size")
        if vocab is not None:
            if self.options.vocab is not None and self.options.vocab != vocab:
                raise ConfigError(f"--vocab-size {vocab} here, the vocab option says {self.options.vocab}",
                                  file=self.path, line=self.a.line("--vocab-size"), hint="drop one of them")
            return vocab
        if self.options.vocab is not None:
            return self.put("vocab", self.options.vocab, None, "vocab option")
        raise missing("the vocabulary size (no --vocab-size; the tokenizer decides it)", self.path, key="vocab",
                      line=self.command_line)

    def moe(self, layers: int, ffn: int) -> dict[str, Any]:
        experts = self.arg("experts", "--num-experts")
        self.last_is_moe = False
        if not experts:
            for name in ("--moe-router-topk", "--moe-ffn-hidden-size", "--moe-layer-freq"):
                if name in self.a.opts:
                    self.notes.append(f"{name} is ignored without --num-experts")
            return {}
        topk = self.arg("experts_per_token", "--moe-router-topk", required=True)
        expert_ffn = self.arg("expert_d_ff", "--moe-ffn-hidden-size")
        if expert_ffn is None:
            expert_ffn = self.put("expert_d_ff", ffn, None, "Megatron default: --ffn-hidden-size")
        shared_width = self.arg("shared_expert_width", "--moe-shared-expert-intermediate-size") or 0
        if shared_width % expert_ffn:
            raise ConfigError(f"--moe-shared-expert-intermediate-size {shared_width} is not a multiple of the "
                              f"expert width {expert_ffn}; flopaudit counts shared experts in expert widths",
                              file=self.path, line=self.a.line("--moe-shared-expert-intermediate-size"))
        self.shared_width = shared_width
        freq = self.a.text("--moe-layer-freq")
        try:
            pattern = moe_layer_pattern(freq.text if freq else "1", layers)
        except ValueError as exc:
            raise ConfigError(str(exc), file=self.path, line=freq.line if freq else None) from None
        dense = pattern.count(0)
        self.put("dense_layers", dense, freq.line if freq else None,
                 "--moe-layer-freq" if freq else "Megatron default --moe-layer-freq 1")
        if dense and any(pattern[:dense]):
            self.notes.append(f"--moe-layer-freq interleaves {dense} dense layers; counted as leading dense "
                              "layers (the order does not change the count)")
        self.last_is_moe = bool(pattern[-1])
        self.num_moe_layers = layers - dense
        return {"experts": experts, "experts_per_token": topk, "expert_d_ff": expert_ffn,
                "shared_experts": shared_width // expert_ffn, "dense_layers": dense}

    def mla(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"kv_heads": None}
        q_lora = self.arg("q_lora_rank", "--q-lora-rank")
        kw["q_lora_rank"] = q_lora or None
        kw["kv_lora_rank"] = self.arg("kv_lora_rank", "--kv-lora-rank", required=True)
        kw["head_dim"] = self.arg("head_dim", "--qk-head-dim", required=True)
        kw["qk_rope_head_dim"] = self.arg("qk_rope_head_dim", "--qk-pos-emb-head-dim", required=True)
        kw["v_head_dim"] = self.arg("v_head_dim", "--v-head-dim", required=True)
        return kw

    # batch and length --------------------------------------------------------------------------------
    def global_batch(self) -> int:
        gbs = self.arg("global_batch", "--global-batch-size")
        if gbs is not None:
            return gbs
        mbs = self.arg("micro_batch", "--micro-batch-size")
        if mbs is None:
            raise ConfigError("the training command has neither --global-batch-size nor --micro-batch-size",
                              file=self.path, line=self.command_line, hint="add --global-batch-size N")
        if self.options.devices is None:
            raise missing("the global batch (no --global-batch-size: micro batch x data-parallel size, which "
                          "needs the world size)", self.path, key="devices", line=self.a.line("--micro-batch-size"))
        split = 1
        for key, name in (("tensor_parallel", "--tensor-model-parallel-size"),
                          ("pipeline_parallel", "--pipeline-model-parallel-size"),
                          ("context_parallel", "--context-parallel-size")):
            split *= self.arg(key, name) or 1
        devices = self.put("devices", self.options.devices, None, "devices option")
        if devices % split:
            raise ConfigError(f"{devices} devices do not divide into TP x PP x CP = {split}", file=self.path,
                              line=self.command_line)
        dp = self.put("data_parallel", devices // split, None, "devices / (TP x PP x CP)")
        return self.put("global_batch", mbs * dp, None, "micro batch x data-parallel size (Megatron default)")

    def steps(self, gbs: int) -> int:
        iters = self.arg("steps", "--train-iters")
        samples = self.arg("train_samples", "--train-samples")
        if iters is not None and samples is not None:
            raise ConfigError("both --train-iters and --train-samples (Megatron allows one)", file=self.path,
                              line=self.a.line("--train-samples"))
        if iters is None and samples is None:
            raise ConfigError("the training length is not in the script: no --train-iters or --train-samples",
                              file=self.path, line=self.command_line,
                              hint="add --train-iters N (or --train-samples N) to the training command")
        steps = mflop.iterations(iters, samples, gbs)
        if iters is None:
            self.put("steps", steps, self.a.line("--train-samples"), "--train-samples // --global-batch-size")
        return steps

    def recomputation(self) -> None:
        """Activation recomputation, for a stage's ``recomputation`` (it changes executed, not model, FLOP)."""
        granularity = self.a.text("--recompute-granularity")
        if granularity is not None:
            self.put("recomputation", granularity.text, granularity.line, "--recompute-granularity")
        elif "--recompute-activations" in self.a.opts:
            self.put("recomputation", "selective", self.a.line("--recompute-activations"), "--recompute-activations")
        else:
            self.put("recomputation", "none", None, "Megatron default: no recomputation")
        if self.values["recomputation"].value == "full":
            self.notes.append("--recompute-granularity full: every layer's forward runs twice (executed FLOP; "
                              "model FLOP and Megatron's count exclude it)")

    # parameters and the framework's own count --------------------------------------------------------
    def parameter_notes(self) -> None:
        a = self.a
        norm = a.text("--normalization")
        if norm is None or norm.text != "RMSNorm":
            self.notes.append("normalization is LayerNorm (Megatron default): its biases are not in the count")
        if not a.flag("--disable-bias-linear"):
            self.notes.append("linear-layer biases (Megatron default, no --disable-bias-linear) are not in the count")
        pos = a.text("--position-embedding-type")
        if pos is None or pos.text == "learned_absolute":
            self.notes.append("learned absolute position embeddings (Megatron default) are not in the count")

    def framework_flop(self, arch: dict[str, Any], seq: int, gbs: int, steps: int) -> FrameworkFlop:
        divisible = self.a.integer("--make-vocab-size-divisible-by")
        tp = self.a.integer("--tensor-model-parallel-size")
        padded = mflop.padded_vocab(arch["vocab"], divisible[0] if divisible else 128, tp[0] if tp else 1)
        if padded != arch["vocab"]:
            self.notes.append(f"Megatron pads the vocabulary {arch['vocab']:,} to {padded:,} (divisible by "
                              "--make-vocab-size-divisible-by x TP): its logits count the padding")
        experts = arch.get("experts", 0)
        per_iter = mflop.num_floating_point_operations(
            batch_size=gbs, seq_length=seq, num_layers=arch["layers"], hidden_size=arch["d_model"],
            num_attention_heads=arch["heads"], num_query_groups=arch["kv_heads"] or arch["heads"],
            kv_channels=self.kv_channels or 0, ffn_hidden_size=arch["d_ff"], swiglu=arch["ffn"] == "gated",
            padded_vocab_size=padded, num_moe_layers=self.num_moe_layers if experts else 0,
            moe_router_topk=arch.get("experts_per_token", 0), moe_ffn_hidden_size=arch.get("expert_d_ff"),
            moe_shared_expert_intermediate_size=self.shared_width if experts else 0,
            last_layer_is_moe=self.last_is_moe, mtp_num_layers=arch.get("mtp_layers", 0),
            multi_latent_attention="kv_lora_rank" in arch, q_lora_rank=arch.get("q_lora_rank"),
            kv_lora_rank=arch.get("kv_lora_rank", 0), qk_head_dim=arch["head_dim"] if "kv_lora_rank" in arch else 0,
            qk_pos_emb_head_dim=arch.get("qk_rope_head_dim", 0), v_head_dim=arch.get("v_head_dim", 0))
        return FrameworkFlop(
            framework="Megatron-LM", flop=per_iter * steps, formula="num_floating_point_operations",
            source=mflop.SOURCE,
            convention="causal attention counted as half the s x s scores; logits over the padded vocabulary; "
                       "embedding lookup 0; MoE router matmul not counted; MLA adds q_lora_rank + kv_lora_rank "
                       "per token and layer (norms); MTP adds 3h per token and MTP layer (norms)")


READERS.register(MegatronReader())
