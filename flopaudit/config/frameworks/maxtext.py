"""MaxText YAML configs (``base.yml``-style keys, ``model_name`` presets).

Keys resolve as MaxText resolves them: the file's own key, else the ``model_name`` preset (a sourced
copy of MaxText's ``configs/models/<name>.yml`` in ``data/maxtext_models.yaml``), else, only for keys
that decide neither the model's size nor the run's length, MaxText's ``base.yml`` default. The device
count comes from ``ReadOptions.devices``, or from the ``ici_*``/``dcn_*`` mesh axes when they fix it
(both ``-1`` defaults overridden, no axis left to fill). Framework FLOP: MaxText's
``calculate_tflops_training_per_device`` x devices x steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flopaudit.config.frameworks.base import READERS, FrameworkFlop, ReadOptions, TrainingRun, Value, missing
from flopaudit.config.frameworks.fields import Fields, absent
from flopaudit.config.frameworks.parameters import counts
from flopaudit.config.frameworks.presets import table
from flopaudit.config.yaml_source import parse_yaml
from flopaudit.errors import ConfigError
from flopaudit.estimate.frameworks import maxtext as formula
from flopaudit.suggest import did_you_mean

SOURCE = ("https://github.com/AI-Hypercomputer/maxtext/blob/020763fe2b7f9141c0e2281e0a08d29874cc3843/"
          "src/MaxText/maxtext_utils.py")
_MARKERS = ("base_emb_dim", "base_num_decoder_layers", "per_device_batch_size", "max_target_length")
_BLOCKS = ("llama2", "mistral", "mixtral")  # decoder blocks whose FLOP branch and parameter layout are read here
# keys that change what a step computes beyond the decoder stack: refused rather than miscounted
_UNREAD_FLAGS = {"use_dpo": "DPO (a reference model's forward pass per step)",
                 "use_multimodal": "a vision encoder", "mtp_num_layers": "multi-token prediction layers"}
_MESH_AXES = ("data", "fsdp", "fsdp_transpose", "sequence", "context", "context_autoregressive", "tensor",
              "tensor_transpose", "tensor_sequence", "autoregressive", "pipeline", "expert")


class MaxTextReader:
    name = "maxtext"
    label = "MaxText YAML config"

    def detect(self, path: Path, text: str) -> bool:
        if path.suffix not in (".yml", ".yaml"):
            return False
        return sum(f"\n{k}:" in f"\n{text}" for k in _MARKERS) >= 2 or (
            "\nbase_config:" in f"\n{text}" and "\nmodel_name:" in f"\n{text}")

    def read(self, path: Path, text: str, options: ReadOptions) -> TrainingRun:
        fields = Fields.from_yaml(path, parse_yaml(text, str(path), ConfigError))
        if not isinstance(fields.data, dict):
            raise ConfigError("a MaxText config is a mapping of keys", file=path, line=1)
        return _Resolver(fields, options).run()


class _Resolver:
    def __init__(self, fields: Fields, options: ReadOptions) -> None:
        self.f = fields
        self.path = fields.path
        self.options = options
        self.values: dict[str, Value] = {}
        self.notes: list[str] = []
        presets = table("maxtext")
        self.defaults: dict[str, Any] = presets["defaults"]
        self.base_yml: str = presets["base_yml"]
        base = fields.text(("base_config",))
        if base is not None and Path(base.value).name != "base.yml":
            raise ConfigError(f"base_config {base.value!r}: flopaudit reads one MaxText file on top of base.yml",
                              file=self.path, line=base.line,
                              hint="merge the keys of that file into this one, or point flopaudit at it")
        self.model_name: str | None = None
        self.preset: dict[str, Any] = {}
        self.preset_line: int | None = None
        name = fields.text(("model_name",))
        if name is not None and name.value != "default":
            models = presets["models"]
            if name.value not in models:
                raise ConfigError(f"unknown MaxText model_name {name.value!r}{did_you_mean(name.value, models)}",
                                  file=self.path, line=name.line,
                                  hint=f"presets flopaudit knows: {', '.join(models)}; or write the base_* keys")
            self.model_name = name.value
            self.preset = models[name.value]
            self.preset_line = name.line

    # -- one key, from the file, the preset or base.yml ------------------------------------------------
    def key(self, key: str, *, kind: str = "int", default_ok: bool = False, minimum: int = 1) -> Value | None:
        if self.f.has((key,)):
            reader = {"int": lambda: self.f.integer((key,), minimum=minimum), "number": lambda: self.f.number((key,)),
                      "flag": lambda: self.f.flag((key,)), "text": lambda: self.f.text((key,)),
                      "any": lambda: Value(self.f.raw((key,)), self.f.line((key,)), key)}[kind]
            return reader()
        if key in self.preset:
            return Value(self.preset[key], self.preset_line, f"MaxText model_name {self.model_name} ({key})")
        if default_ok and key in self.defaults:
            return Value(self.defaults[key], None, f"MaxText base.yml default ({key})")
        return None

    def need(self, key: str, what: str, **kw: Any) -> Value:
        found = self.key(key, **kw)
        if found is None:
            raise absent(what, self.path, key)
        return found

    def record(self, name: str, value: Value) -> Any:
        self.values[name] = value
        return value.value

    # -- the run -------------------------------------------------------------------------------------------
    def run(self) -> TrainingRun:
        scale = self.key("global_parameter_scale", default_ok=True)
        if scale is not None and scale.value != 1:
            raise ConfigError(f"global_parameter_scale {scale.value}: flopaudit reads MaxText models at scale 1",
                              file=self.path, line=scale.line, hint="write the scaled base_* dimensions instead")
        block = self.key("decoder_block", kind="text", default_ok=True)
        assert block is not None
        if block.value not in _BLOCKS:
            raise ConfigError(f"decoder_block {block.value!r} is not read yet (MaxText's FLOP count has its own "
                              f"branch for it)", file=self.path, line=block.line,
                              hint=f"decoder blocks read: {', '.join(_BLOCKS)}")
        attention = self.key("attention_type", kind="text", default_ok=True)
        if attention is not None and attention.value != "global":
            raise ConfigError(f"attention_type {attention.value!r} is not read yet (multi-head latent attention "
                              "needs MLA support in the architecture)", file=self.path, line=attention.line)
        for flag, what in _UNREAD_FLAGS.items():
            found = self.f.raw((flag,))
            if found not in (None, False, 0):
                raise ConfigError(f"{flag}: {what} is not read yet", file=self.path, line=self.f.line((flag,)))
        arch = self.architecture()
        seq = self.record("sequence_length", self.need("max_target_length", "the sequence length"))
        steps = self.record("steps", self.need("steps", "the number of training steps"))
        per_device = self.record("per_device_batch_size",
                                 self.need("per_device_batch_size", "the per-device batch", kind="number"))
        accumulation = self.record("gradient_accumulation_steps",
                                   self.need("gradient_accumulation_steps", "gradient accumulation", default_ok=True))
        devices = self.record("devices", self.devices())
        batch = per_device * devices * accumulation
        if batch != int(batch):
            raise ConfigError(f"per_device_batch_size {per_device} x {devices} devices x {accumulation} is "
                              f"not a whole number of sequences", file=self.path,
                              line=self.values["per_device_batch_size"].line)
        global_batch = int(batch)
        self.values["global_batch"] = Value(global_batch, None, "per_device_batch_size x devices x "
                                                                 "gradient_accumulation_steps")
        total, active = counts(arch, 0, self.path, rms_norms=True)
        flop = self.framework_flop(arch, per_device, seq, accumulation, devices, steps)
        used = sorted(f"{name} = {v.value}" for name, v in self.values.items()
                      if v.origin.startswith("MaxText base.yml"))
        if used:
            self.notes.append(f"MaxText's base.yml defaults ({self.base_yml}): {', '.join(used)}")
        return TrainingRun(format="maxtext", path=self.path, architecture=arch, sequence_length=seq,
                           global_batch=global_batch, steps=steps, tokens=steps * global_batch * seq,
                           values=self.values, model_name=self.model_name, parameters=total,
                           active_parameters=active, framework_flop=flop, notes=self.notes)

    def architecture(self) -> dict[str, Any]:
        layers = self.record("layers", self.need("base_num_decoder_layers", "the number of layers"))
        d_model = self.record("d_model", self.need("base_emb_dim", "the model width"))
        heads = self.record("heads", self.need("base_num_query_heads", "the number of attention heads"))
        kv = self.record("kv_heads", self.need("base_num_kv_heads", "the number of key/value heads"))
        head_dim = self.record("head_dim", self.need("head_dim", "the head dimension"))
        d_ff = self.record("d_ff", self.need("base_mlp_dim", "the FFN width"))
        acts = self.need("mlp_activations", "the FFN activations", kind="any")
        if (not isinstance(acts.value, list) or len(acts.value) not in (1, 2)
                or not all(isinstance(a, str) for a in acts.value)):
            raise ConfigError(f"mlp_activations must list one or two activations, got {acts.value!r}",
                              file=self.path, line=acts.line)
        self.values["mlp_activations"] = acts
        vocab_value = self.key("vocab_size")
        if vocab_value is None:
            if self.options.vocab is None:
                raise missing("the vocabulary size", self.path, key="vocab")
            vocab_value = Value(self.options.vocab, None, "vocab option")
        vocab = self.record("vocab", vocab_value)
        tied = self.record("tied_embeddings", self.key("logits_via_embedding", kind="flag", default_ok=True))
        arch: dict[str, Any] = dict(layers=layers, d_model=d_model, heads=heads, kv_heads=kv, head_dim=head_dim,
                                    d_ff=d_ff, ffn="gated" if len(acts.value) == 2 else "plain", vocab=vocab,
                                    tied_embeddings=tied)
        experts = self.record("experts", self.need("num_experts", "the number of experts", default_ok=True))
        if experts > 1:
            arch["experts"] = experts
            arch["experts_per_token"] = self.record(
                "experts_per_token", self.need("num_experts_per_tok", "experts per token", default_ok=True))
            # MaxText's mixtral FLOP branch and MoE block use mlp_dim for every expert
            arch["expert_d_ff"] = d_ff
            moe_dim = self.key("base_moe_mlp_dim")
            if moe_dim is not None and moe_dim.value != d_ff:
                self.notes.append(f"base_moe_mlp_dim {moe_dim.value} differs from base_mlp_dim {d_ff}: MaxText's "
                                  f"mixtral block sizes experts by base_mlp_dim")
        return arch

    def devices(self) -> Value:
        mesh = self.mesh_devices()
        given = self.options.devices
        if given is not None and mesh is not None and mesh.value != given:
            raise ConfigError(f"the devices option ({given}) contradicts the mesh axes of the file "
                              f"({mesh.value} devices)", file=self.path, line=mesh.line)
        if given is not None:
            return Value(given, None, "devices option")
        if mesh is not None:
            return mesh
        raise missing("the device count (per_device_batch_size is per device)", self.path, key="devices")

    def mesh_devices(self) -> Value | None:
        """Devices fixed by the mesh axes: only when no axis is left at -1 (MaxText fills a -1 axis)."""
        product, first_line = 1, None
        for prefix in ("ici", "dcn"):
            for axis in _MESH_AXES:
                key = f"{prefix}_{axis}_parallelism"
                if self.f.has((key,)):
                    found = self.f.integer((key,), minimum=-1)
                    assert found is not None
                    value, line = found.value, found.line
                    first_line = first_line or line
                else:
                    value = self.defaults.get(key, 1)
                if value == -1:
                    return None
                if value == 0:
                    raise ConfigError(f"{key} is 0", file=self.path, line=self.f.line((key,)))
                product *= value
        return Value(product, first_line, "product of the ici_*/dcn_* parallelism axes")

    def framework_flop(self, arch: dict[str, Any], per_device: float, seq: int, accumulation: int,
                       devices: int, steps: int) -> FrameworkFlop:
        per_step = formula.training_flop_per_device_step(
            per_device_batch=per_device, seq_len=seq, emb_dim=arch["d_model"], num_query_heads=arch["heads"],
            num_kv_heads=arch["kv_heads"], head_dim=arch["head_dim"], mlp_dim=arch["d_ff"],
            activations=len(self.values["mlp_activations"].value), num_layers=arch["layers"],
            vocab_size=arch["vocab"], num_experts=arch.get("experts", 1),
            num_experts_per_tok=arch.get("experts_per_token", 1), gradient_accumulation_steps=accumulation)
        return FrameworkFlop(
            framework="MaxText", flop=per_step * devices * steps, formula="calculate_tflops_training_per_device",
            source=SOURCE,
            convention="3 x forward; attention scores halved for the causal mask (flopaudit's transformer formula "
                       "counts the full s x s matrix unless attention is causal: 3 x layers x 2 x s^2 x heads x "
                       "head_dim per sequence more); LM head counted, embedding lookup not; equal to flopaudit's "
                       "causal count")


READERS.register(MaxTextReader())
