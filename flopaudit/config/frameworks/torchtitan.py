"""torchtitan TOML job configs: ``[model]`` name + flavor, ``[training]`` batch/length, ``[parallelism]``.

Semantics follow torchtitan's JobConfig and ParallelDims (torchtitan/config/job_config.py,
torchtitan/distributed/parallel_dims.py, torchtitan/train.py at
https://github.com/pytorch/torchtitan/tree/0014ac2ca45ae15db6706b4f5cc3e67546c98885):

* world size = dp_replicate x dp_shard x CP x TP x PP; ``data_parallel_shard_degree = -1`` (the
  default) takes the rest of the devices, so it needs the device count;
* the global batch is ``[training] global_batch_size`` when set (> 0), else local batch x dp_replicate
  x dp_shard (context-parallel ranks share a batch); ``local_batch_size`` was called ``batch_size`` in
  older releases;
* tokens = ``steps`` x global batch x ``seq_len``.

``steps``, ``seq_len`` and the local batch must be in the file: flopaudit does not take torchtitan's
defaults for the numbers that decide the training length.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from flopaudit.config.frameworks import common
from flopaudit.config.frameworks import torchtitan_flavors as tf
from flopaudit.config.frameworks.base import READERS, FrameworkFlop, ReadOptions, TrainingRun, Value, missing
from flopaudit.config.models import Architecture
from flopaudit.errors import ConfigError
from flopaudit.estimate.frameworks import torchtitan as tflop
from flopaudit.suggest import did_you_mean

_SECTION = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")
_DEGREES = (("data_parallel_replicate_degree", 1), ("data_parallel_shard_degree", -1),
            ("context_parallel_degree", 1), ("tensor_parallel_degree", 1), ("pipeline_parallel_degree", 1))


def key_lines(text: str) -> dict[tuple[str, str], int]:
    """(section, key) -> 1-based line, from section headers and ``key =`` lines."""
    lines: dict[tuple[str, str], int] = {}
    section = ""
    for n, raw in enumerate(text.splitlines(), start=1):
        if m := _SECTION.match(raw):
            section = m.group(1)
            lines.setdefault((section, ""), n)
        elif m := _KEY.match(raw):
            lines[(section, m.group(1))] = n
    return lines


class TorchtitanReader:
    """torchtitan job configs (TOML)."""

    name = "torchtitan"
    label = "torchtitan job config (TOML)"

    def detect(self, path: Path, text: str) -> bool:
        if path.suffix.lower() != ".toml":
            return False
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return False
        return isinstance(data.get("model"), dict) and "flavor" in data["model"] and "training" in data

    def read(self, path: Path, text: str, options: ReadOptions) -> TrainingRun:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", file=path, line=getattr(exc, "lineno", None)) from None
        common.check_options(options, path)
        return _Reading(path, data, key_lines(text), options).run()


class _Reading:
    def __init__(self, path: Path, data: dict[str, Any], lines: dict[tuple[str, str], int],
                 options: ReadOptions) -> None:
        self.path, self.data, self.lines, self.options = path, data, lines, options
        self.values: dict[str, Value] = {}
        self.notes: list[str] = []

    def line(self, section: str, key: str = "") -> int | None:
        return self.lines.get((section, key)) or self.lines.get((section, ""))

    def get(self, section: str, key: str) -> Any:
        table = self.data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] must be a table", file=self.path, line=self.line(section))
        return table.get(key)

    def integer(self, section: str, key: str, name: str, *, required: bool = False,
            default: int | None = None) -> int | None:
        value = self.get(section, key)
        if value is None:
            if required:
                raise ConfigError(f"[{section}] {key} is not in {self.path.name}", file=self.path,
                                  line=self.line(section), hint=f"add {key} = N under [{section}]")
            if default is not None:
                self.values[name] = Value(default, None, f"torchtitan default [{section}] {key} = {default}")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"[{section}] {key} must be an integer, got {value!r}", file=self.path,
                              line=self.line(section, key))
        self.values[name] = Value(value, self.line(section, key), f"[{section}] {key}")
        return value

    def run(self) -> TrainingRun:
        flavor = self.flavor()
        seq = self.integer("training", "seq_len", "sequence_length", required=True)
        steps = self.integer("training", "steps", "steps", required=True)
        assert seq is not None and steps is not None
        if seq < 1 or steps < 1:
            raise ConfigError("[training] seq_len and steps must be positive", file=self.path,
                              line=self.line("training", "seq_len" if seq < 1 else "steps"))
        if flavor.max_priced_seq_len is not None and seq > flavor.max_priced_seq_len:
            raise ConfigError(f"{flavor.model} {flavor.flavor} attends within {flavor.max_priced_seq_len}-token "
                              f"blocks in its RoPE layers; seq_len {seq} is longer and that attention is not "
                              "priced by flopaudit's formula", file=self.path, line=self.line("training", "seq_len"),
                              hint="give the run in a flopaudit config (with counting: {attention: window})")
        gbs = self.global_batch()
        tokens = steps * gbs * seq
        self.values["tokens"] = Value(tokens, None, "steps x global batch x seq_len")
        self.recomputation()
        arch_kw = dict(flavor.architecture, context=seq)
        model = common.architecture(arch_kw, self.path, self.values)
        total, active = common.parameters(model)
        self.notes += list(flavor.notes)
        return TrainingRun(format="torchtitan", path=self.path, architecture=arch_kw, sequence_length=seq,
                           global_batch=gbs, steps=steps, tokens=tokens, values=self.values,
                           model_name=f"{flavor.model} {flavor.flavor}", parameters=total,
                           active_parameters=active, framework_flop=self.framework_flop(model, active, seq, tokens),
                           notes=self.notes)

    def recomputation(self) -> None:
        """``[activation_checkpoint] mode`` (none, selective, full), for a stage's ``recomputation``."""
        mode = self.get("activation_checkpoint", "mode")
        if mode is None:
            return  # torchtitan's default applies; flopaudit does not assume which it is
        if mode not in ("none", "selective", "full", "memory_budget"):
            raise ConfigError(f"[activation_checkpoint] mode {mode!r} is not one torchtitan knows", file=self.path,
                              line=self.line("activation_checkpoint", "mode"))
        self.values["recomputation"] = Value(mode, self.line("activation_checkpoint", "mode"),
                                             "[activation_checkpoint] mode")
        if mode == "full":
            self.notes.append("[activation_checkpoint] mode = full: every layer's forward runs twice (executed "
                              "FLOP; model FLOP and torchtitan's count exclude it)")

    def flavor(self) -> tf.Flavor:
        name, flavor = self.get("model", "name"), self.get("model", "flavor")
        if not isinstance(name, str) or not isinstance(flavor, str):
            raise ConfigError("[model] needs name and flavor (strings)", file=self.path, line=self.line("model"))
        if name not in tf.models():
            raise ConfigError(f"torchtitan model '{name}' is not in flopaudit's flavor table"
                              f"{did_you_mean(name, tf.models())}", file=self.path, line=self.line("model", "name"),
                              hint=f"known: {', '.join(tf.models())}; or give model.architecture in the flopaudit config")
        if flavor not in tf.flavors(name):
            raise ConfigError(f"flavor '{flavor}' of {name} is not in flopaudit's table"
                              f"{did_you_mean(flavor, tf.flavors(name))}", file=self.path,
                              line=self.line("model", "flavor"), hint=f"known: {', '.join(tf.flavors(name))}")
        found = tf.resolve(name, flavor)
        vocab = self.options.vocab
        if vocab is not None and vocab != found.architecture["vocab"]:
            raise ConfigError(f"the flavor {name}/{flavor} has vocabulary {found.architecture['vocab']}, the vocab "
                              f"option says {vocab}", file=self.path, line=self.line("model", "flavor"),
                              hint="torchtitan's flavor fixes the vocabulary: drop the vocab option")
        origin = f"torchtitan flavor {name}/{flavor} ({found.source})"
        for key, value in found.architecture.items():
            self.values[key] = Value(value, self.line("model", "flavor"), origin)
        return found

    def global_batch(self) -> int:
        explicit = self.get("training", "global_batch_size")
        if explicit is not None and explicit != -1:
            gbs = self.integer("training", "global_batch_size", "global_batch")
            assert gbs is not None
            if gbs < 1:
                raise ConfigError("[training] global_batch_size must be positive (or -1)", file=self.path,
                                  line=self.line("training", "global_batch_size"))
            if self.options.devices is not None or self.get("parallelism", "data_parallel_shard_degree") not in (None, -1):
                dp = self.data_parallel()  # the degrees must fit the devices even when the batch is given
                local = self.get("training", "local_batch_size") or self.get("training", "batch_size")
                if isinstance(local, int) and local > 0 and gbs % (local * dp):
                    raise ConfigError(f"global_batch_size {gbs} is not a multiple of the local batch x data-parallel "
                                      f"degree ({local} x {dp}); torchtitan asserts it is", file=self.path,
                                      line=self.line("training", "global_batch_size"))
            return gbs
        key = "local_batch_size" if self.get("training", "local_batch_size") is not None else "batch_size"
        local = self.integer("training", key, "local_batch", required=False)
        if local is None:
            raise ConfigError(f"[training] local_batch_size is not in {self.path.name}", file=self.path,
                              line=self.line("training"), hint="add local_batch_size = N (or global_batch_size) "
                                                                "under [training]")
        if local < 1:
            raise ConfigError(f"[training] {key} must be positive", file=self.path, line=self.line("training", key))
        dp = self.data_parallel()
        gbs = local * dp
        self.values["global_batch"] = Value(gbs, None, f"[training] {key} x data-parallel degree")
        return gbs

    def data_parallel(self) -> int:
        degrees = {}
        for key, default in _DEGREES:
            value = self.integer("parallelism", key, key, default=default)
            assert value is not None
            if value == 0 or value < -1 or (value == -1 and key != "data_parallel_shard_degree"):
                raise ConfigError(f"[parallelism] {key} = {value} (torchtitan allows -1 only for "
                                  "data_parallel_shard_degree)", file=self.path, line=self.line("parallelism", key))
            degrees[key] = value
        shard = degrees["data_parallel_shard_degree"]
        others = (degrees["data_parallel_replicate_degree"] * degrees["context_parallel_degree"]
                  * degrees["tensor_parallel_degree"] * degrees["pipeline_parallel_degree"])
        devices = self.options.devices
        if shard == -1:
            if devices is None:
                raise missing("the data-parallel degree (data_parallel_shard_degree = -1 takes the rest of the "
                              "devices)", self.path, key="devices",
                              line=self.lines.get(("parallelism", "data_parallel_shard_degree")) or self.line("training"))
            if devices % others:
                raise ConfigError(f"{devices} devices do not divide by replicate x CP x TP x PP = {others}",
                                  file=self.path, line=self.line("parallelism"))
            shard = devices // others
            self.values["data_parallel_shard_degree"] = Value(shard, self.line("parallelism", "data_parallel_shard_degree"),
                                                              f"-1: {devices} devices / {others}")
            self.values["devices"] = Value(devices, None, "devices option")
        elif devices is not None and devices != shard * others:
            raise ConfigError(f"the parallel degrees multiply to {shard * others} devices, the devices option "
                              f"says {devices}", file=self.path, line=self.line("parallelism"))
        dp = degrees["data_parallel_replicate_degree"] * shard
        self.values["data_parallel"] = Value(dp, None, "data_parallel_replicate_degree x data_parallel_shard_degree")
        return dp

    def framework_flop(self, model: Architecture, active: int, seq: int, tokens: int) -> FrameworkFlop:
        embedding = 0 if model.tied_embeddings else model.vocab * model.d_model
        qk = model.hd + (model.qk_rope_head_dim or 0)
        v = model.v_head_dim or model.hd
        per_token = tflop.flop_per_token(active_non_embedding_parameters=active - embedding, layers=model.layers,
                                         heads=model.heads, qk_head_dim=qk, v_head_dim=v, seq_len=seq)
        return FrameworkFlop(
            framework="torchtitan", flop=per_token * tokens, formula="get_nparams_and_flops", source=tflop.SOURCE,
            convention="6 x active non-embedding parameters (norms included, routed experts x top_k/experts) + "
                       "full s x s attention (causal sparsity not counted); input embedding excluded")


READERS.register(TorchtitanReader())
