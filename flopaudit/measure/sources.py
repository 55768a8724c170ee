"""Build the model to count from a model source: an HF config.json, a factory, or an nn.Module.

Devices:

- ``meta``: no weights in memory. The model is built under ``FakeTensorMode`` with CPU as the
  fake device. Fake tensors, not the meta device, because transformers 5 calls ``Tensor.item()``
  in its mask code (which meta refuses and fake tensors treat as tracing), and because SDPA on
  the meta device decomposes into its math path (4 backward matmuls instead of the fused
  kernel's 5), so plain meta would not count what runs on CPU or CUDA. On fake CPU tensors the
  same kernels are chosen as on a real CPU, so meta, fake and CPU counts agree.
- ``cpu``: real tensors, random weights.
- ``cuda``: real tensors on the GPU, random weights in bf16 (fp16 where bf16 is unsupported).

Nothing is ever downloaded: HF configs are read from the local file and built with
``from_config``-style construction, every call into transformers runs under
:func:`~flopaudit.measure.offline.hub_offline` (a config naming a hub backbone fails instead of
fetching it), and remote code runs only with ``trust_remote_code``.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from flopaudit.errors import MeasureError, MissingDependencyError, ModelSourceError
from flopaudit.measure import inputs, moe, progress
from flopaudit.measure.result import fed_text
from flopaudit.measure.offline import hub_offline

if TYPE_CHECKING:
    from torch._subclasses.fake_tensor import FakeTensorMode

    from flopaudit.measure import ModelSource

#: config attributes that bound the sequence length of position embeddings
_MAX_POSITION_NAMES = ("max_position_embeddings", "n_positions", "max_seq_len", "max_target_positions")


@dataclass
class BuiltModel:
    """A model ready to run, with its inputs bound: ``forward()`` runs one forward pass."""

    module: torch.nn.Module
    forward: Callable[[], Any]
    inputs: tuple[Any, ...]  # positional inputs of ``forward`` (what tracing counters get)
    name: str
    batch: int
    seq_len: int
    parameters: int
    active_parameters: int
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    kwargs: dict[str, Any] = field(default_factory=dict)  # keyword inputs that cannot go by position


# --------------------------------------------------------------------------- entry point


def build(source: ModelSource, *, seq_len: int, batch: int, device: str,
          fake_mode: FakeTensorMode | None, decoder_len: int | None = None) -> BuiltModel:
    """Build ``source`` for ``device`` (``fake_mode`` is required for ``meta``)."""
    kind = source.kind()  # raises unless exactly one of hf_config, factory, module is set
    if device == "cuda" and not torch.cuda.is_available():
        raise MeasureError("--device cuda was asked for, but torch sees no CUDA device",
                           hint="use --device meta to count without a GPU")
    if kind == "hf_config":
        return _build_hf(Path(source.hf_config), seq_len=seq_len, batch=batch, device=device,
                         fake_mode=fake_mode, trust_remote_code=source.trust_remote_code,
                         decoder_len=decoder_len)
    given: Any = None
    if kind == "factory":
        factory = load_factory(source.factory)
        building = f"building {source.factory} {progress.where(device, fake_mode is not None)}"
        with _device_context(device, fake_mode), progress.phase(building):
            module, given = _call_factory(factory, source.factory)
        name = source.factory
    else:
        module = source.module
        if not isinstance(module, torch.nn.Module):
            raise ModelSourceError(f"module must be a torch.nn.Module, not {type(module).__name__}")
        name = type(module).__name__
    if decoder_len is not None:
        raise ModelSourceError("decoder_len is for HF encoder-decoder configs; a factory can return its "
                               "model's inputs with it: (module, inputs)")
    if given is not None and source.factory_input is not None:
        raise ModelSourceError(f"factory {source.factory!r} returns its inputs; factory_input would "
                               "contradict them: leave it out")
    return _build_plain(module, source_name=name, factory_input=source.factory_input,
                        seq_len=seq_len, batch=batch, device=device, fake_mode=fake_mode, given=given)


@hub_offline()
def max_positions(source: ModelSource) -> int | None:
    """The longest sequence an HF config's position embeddings allow, if it says."""
    if source.hf_config is None:
        return None
    try:
        # The config class fills in defaults the file leaves out (BERT: 512 positions).
        config = load_hf_config(Path(source.hf_config), trust_remote_code=source.trust_remote_code)
        return next((getattr(config, n) for n in _MAX_POSITION_NAMES
                     if isinstance(getattr(config, n, None), int) and getattr(config, n) > 0), None)
    except (ModelSourceError, MissingDependencyError):
        pass
    try:
        data = json.loads(Path(source.hf_config).read_text())
    except (OSError, ValueError):
        return None
    for name in _MAX_POSITION_NAMES:
        value = data.get(name) if isinstance(data, dict) else None
        if isinstance(value, int) and value > 0:
            return value
    return None


# --------------------------------------------------------------------------- Hugging Face


def _import_transformers() -> Any:
    try:
        with hub_offline():  # huggingface_hub fixes its offline flag at import
            import transformers
    except ImportError as exc:
        raise MissingDependencyError("transformers", ("measure", "hf"),
                                     "Building a model from an HF config.json") from exc
    return transformers


@hub_offline()
def load_hf_config(path: Path, *, trust_remote_code: bool = False) -> Any:
    """Read a local config.json into a transformers config object (no download, ever)."""
    transformers = _import_transformers()
    try:
        text = path.read_text()
    except OSError as exc:
        raise ModelSourceError(f"cannot read the HF config: {exc.strerror or exc}", file=path) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelSourceError(f"not valid JSON: {exc.msg}", file=path, line=exc.lineno,
                               column=exc.colno) from exc
    if not isinstance(data, dict):
        raise ModelSourceError("an HF config.json must hold a JSON object", file=path)
    model_type = data.get("model_type")
    known = transformers.CONFIG_MAPPING
    # As in transformers: trusted remote code wins where a config names some (auto_map);
    # untrusted, a model_type transformers knows is built natively, an unknown one is refused.
    if "auto_map" in data and (trust_remote_code or model_type not in known):
        if not trust_remote_code:
            raise ModelSourceError(
                f"model_type {model_type!r} needs the custom code its config names in auto_map",
                file=path, hint="pass --trust-remote-code if you trust the code next to config.json")
        if path.name != "config.json":
            raise ModelSourceError("remote-code configs must be named config.json, next to their code",
                                   file=path)
        try:
            return transformers.AutoConfig.from_pretrained(str(path.parent), trust_remote_code=True,
                                                           local_files_only=True)
        except Exception as exc:  # transformers raises many types here; all mean "cannot build"
            raise _rejected("cannot load the remote-code config", exc, path) from exc
    if not isinstance(model_type, str):
        raise ModelSourceError("the HF config has no model_type", file=path)
    if model_type not in known:
        raise ModelSourceError(
            f"transformers {transformers.__version__} does not know model_type {model_type!r}",
            file=path, hint="upgrade transformers, or use --factory with your own model code")
    fields = {key: value for key, value in data.items() if key != "model_type"}
    try:
        return transformers.AutoConfig.for_model(model_type, **fields)
    except Exception as exc:
        raise _rejected("transformers rejected the config", exc, path) from exc


def _rejected(what: str, exc: Exception, path: Path, *, name_type: bool = False) -> ModelSourceError:
    """The error for a config transformers would not load; a refused download says so plainly."""
    cause: BaseException | None = exc
    while cause is not None and type(cause).__name__ != "OfflineModeIsEnabled":
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        return ModelSourceError(f"{what}: it needs files from the Hugging Face Hub (for example a "
                                "pretrained backbone), and flopaudit never downloads anything", file=path,
                                hint="count a config that names no hub repository, or use --factory")
    return ModelSourceError(f"{what}: {f'{type(exc).__name__}: ' if name_type else ''}{exc}", file=path)


def _hf_model_class(transformers: Any, config: Any, path: Path) -> Any:
    """The class named by ``architectures`` if transformers has it, else the auto-class's choice."""
    for arch in getattr(config, "architectures", None) or []:
        cls = getattr(transformers, arch, None)
        if isinstance(cls, type):
            return cls
    autos = (transformers.AutoModelForCausalLM, transformers.AutoModel)
    if getattr(config, "is_encoder_decoder", False):  # the whole model, not its decoder alone
        autos = (transformers.AutoModelForSeq2SeqLM, transformers.AutoModelForSpeechSeq2Seq, *autos)
    for auto in autos:
        try:
            return auto._model_mapping[type(config)]
        except (KeyError, AttributeError):
            continue
    raise ModelSourceError(f"no transformers model class for {type(config).__name__}", file=path)


@hub_offline()
def _build_hf(path: Path, *, seq_len: int, batch: int, device: str, fake_mode: FakeTensorMode | None,
              trust_remote_code: bool, decoder_len: int | None = None) -> BuiltModel:
    transformers = _import_transformers()
    config = load_hf_config(path, trust_remote_code=trust_remote_code)
    notes: list[str] = []
    limit = next((getattr(config, n) for n in _MAX_POSITION_NAMES
                  if isinstance(getattr(config, n, None), int)), None)
    if limit is not None and seq_len > limit:
        raise ModelSourceError(f"seq_len {seq_len} exceeds the model's {limit} positions", file=path)
    config.use_cache = False
    remote = trust_remote_code and bool(getattr(config, "auto_map", None))
    cls = None if remote else _hf_model_class(transformers, config, path)
    # SDPA where the class supports it: that is what trains. Eager attention is counted the same
    # (bmm for QK^T and PV), and scaled the same under the causal and window conventions.
    # Remote code keeps its own default: its class is unknown until transformers imports it.
    attn = None if cls is None else "sdpa" if getattr(cls, "_supports_sdpa", False) else "eager"
    if attn is not None:
        config._attn_implementation = attn
    experts = None
    can_set_experts = getattr(cls, "_can_set_experts_implementation", None)
    if device != "cuda" and callable(can_set_experts) and can_set_experts():
        # batched_mm is shape-static (tokens x top-k gathered expert matmuls): exact under fake
        # tensors. grouped_mm's meta kernel takes bf16 only and eager's nonzero() is data-dependent.
        # On CUDA the model keeps its default (grouped_mm), which the _grouped_mm formula counts.
        experts = "batched_mm"
        config._experts_implementation = experts

    def construct(*, initialise: bool = True) -> torch.nn.Module:
        # weights do not change FLOP, and fake tensors cannot run every initialiser
        # (trunc_normal_ reads a value: ViT, ModernBERT)
        try:
            with contextlib.nullcontext() if initialise else _no_init_weights(transformers):
                if cls is None:
                    return transformers.AutoModelForCausalLM.from_config(config, trust_remote_code=True)
                return cls(config)
        except (ModelSourceError, MeasureError):
            raise
        except Exception as exc:
            raise _rejected("transformers could not build the model", exc, path, name_type=True) from exc

    if device == "cpu":
        _check_cpu_memory(lambda: construct(initialise=False), path)
    building = (f"building {cls.__name__ if cls is not None else 'the remote-code model'} "
                f"{progress.where(device, fake_mode is not None)}")
    with _device_context(device, fake_mode), progress.phase(building):
        module = construct(initialise=fake_mode is None)
    module.eval()
    target = _input_device(device, fake_mode)
    with _device_context(device, fake_mode):
        feed = inputs.choose(type(module), config, batch=batch, seq_len=seq_len, decoder_len=decoder_len,
                             ids=lambda shape, vocab: _token_ids(shape, vocab, target),
                             zeros=lambda shape: torch.zeros(shape, device=target), path=path)
    notes.extend(feed.notes)
    notes.append(f"per-token values divide by {batch} x {feed.per_token}")
    name = type(module).__name__
    parameters = _count_parameters(module)
    active, moe_notes, moe_details = moe.describe(module, parameters, moe.config_top_k(config))
    notes.extend(moe_notes)
    details: dict[str, Any] = {"hf_config": str(path),
                               "attn_implementation": getattr(module.config, "_attn_implementation", attn),
                               "inputs": feed.described}
    if moe_details is not None:
        details["moe"] = moe_details
    if experts is not None:
        details["experts_implementation"] = getattr(module.config, "_experts_implementation", experts)
    kwargs = feed.kwargs
    order = list(inputs.forward_parameters(type(module)))[1:len(kwargs) + 1]
    positional = tuple(kwargs.values()) if order == list(kwargs) else ()  # for tracing counters (fvcore)
    return BuiltModel(module=module, forward=lambda: module(**kwargs), inputs=positional,
                      name=name, batch=batch, seq_len=feed.tokens, parameters=parameters,
                      active_parameters=active, notes=notes, details=details,
                      kwargs={} if positional else kwargs)


def _no_init_weights(transformers: Any) -> Any:
    """transformers' ``no_init_weights`` (skips torch's and the model's weight initialisers)."""
    try:
        from transformers.initialization import no_init_weights
    except ImportError:  # transformers 4.x kept it in modeling_utils
        no_init_weights = getattr(transformers.modeling_utils, "no_init_weights", None)
    if no_init_weights is None:
        return contextlib.nullcontext()
    return no_init_weights()


def _check_cpu_memory(construct: Callable[[], torch.nn.Module], path: Path) -> None:
    """Refuse a real CPU build that cannot fit: count the parameters on fake tensors first."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        params = _count_parameters(construct())
    need = params * 4 * 2  # fp32 weights and their gradients, activations not included
    try:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    if need > 0.8 * have:
        raise MeasureError(
            f"{params:,} parameters need about {need / 2**30:.0f} GiB on CPU; this machine has "
            f"{have / 2**30:.0f} GiB", file=path, hint="use --device meta to count without weights")


# --------------------------------------------------------------------------- factories and modules


def load_factory(spec: str) -> Callable[[], Any]:
    """Import ``package.module:callable`` (the current directory is importable, as for uvicorn)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ModelSourceError(f"factory {spec!r} must look like 'package.module:callable'")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise ModelSourceError(f"cannot import {module_name!r} for factory {spec!r}: "
                               f"{type(exc).__name__}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise ModelSourceError(f"{module_name!r} has no attribute {attr!r} (factory {spec!r})") from exc
    if not callable(obj):
        raise ModelSourceError(f"factory {spec!r} is not callable")
    return obj


def _call_factory(factory: Callable[[], Any], spec: str) -> tuple[torch.nn.Module, Any]:
    """The factory's module, and the inputs it returned with it (None when it returned a module)."""
    try:
        made = factory()
    except (ModelSourceError, MeasureError):
        raise
    except Exception as exc:  # the user's code: any exception means the source cannot be built
        raise ModelSourceError(f"factory {spec!r} raised {type(exc).__name__}: {exc}") from exc
    module, given = (made[0], made[1]) if isinstance(made, tuple) and len(made) == 2 else (made, None)
    if not isinstance(module, torch.nn.Module):
        raise ModelSourceError(f"factory {spec!r} returned {type(made).__name__}, not a torch.nn.Module "
                               "or (module, inputs)")
    return module, None if given is None else _given_inputs(given, spec)


def _given_inputs(given: Any, spec: str) -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
    """``(args, kwargs)`` of the inputs a factory returns: a tensor, a tuple/list (positional) or a dict."""
    if isinstance(given, dict):
        if not all(isinstance(k, str) for k in given):
            raise ModelSourceError(f"factory {spec!r}: the keys of its inputs dict must be argument names")
        args, kwargs = (), dict(given)
    else:
        args, kwargs = (tuple(given) if isinstance(given, (tuple, list)) else (given,)), {}
    values = [*args, *kwargs.values()]
    if not values or not all(isinstance(v, torch.Tensor) for v in values):
        raise ModelSourceError(f"factory {spec!r} must return (module, inputs) with inputs a tensor, a tuple "
                               "of tensors or a dict of tensors by argument name")
    return args, kwargs


def _build_plain(module: torch.nn.Module, *, source_name: str, factory_input: list[int] | None,
                 seq_len: int, batch: int, device: str,
                 fake_mode: FakeTensorMode | None,
                 given: tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]] | None = None) -> BuiltModel:
    notes: list[str] = []
    module = _place(module, device, fake_mode, notes)
    module.eval()
    if given is not None:
        args, kwargs = given
        batch, seq_len, per = _given_tokens([*args, *kwargs.values()])
        notes.append(f"input: what the factory returned ({fed_text(_described(args, kwargs))}); per-token "
                     f"values divide by {batch} x {per}")
    else:
        if factory_input is not None:
            shape = tuple(int(n) for n in factory_input)
            if not shape or any(n <= 0 for n in shape):
                raise ModelSourceError(f"factory_input must be a list of positive sizes, got {factory_input}")
            batch, seq_len = shape[0], math.prod(shape[1:]) if len(shape) > 1 else 1
            notes.append(f"input: token ids of shape {list(shape)} (factory_input); per-token values "
                         f"divide by {batch * seq_len} tokens")
        else:
            shape = (batch, seq_len)
        with _device_context(device, fake_mode):
            target = _input_device(device, fake_mode)
            if target == "meta" and not any(t.device.type == "meta" for t in module.parameters()):
                # fvcore's plain-meta run of a user's real module: feed it on the module's own device
                target = next((str(t.device) for t in module.parameters()), "cpu")
            args, kwargs = (torch.zeros(shape, dtype=torch.long, device=target),), {}
    forward = _bind_forward(module, args, kwargs, device, fake_mode)
    parameters = _count_parameters(module)
    active, moe_notes, moe_details = moe.describe(module, parameters, None)
    notes.extend(moe_notes)
    details: dict[str, Any] = {"source": source_name, "inputs": _described(args, kwargs)}
    if moe_details is not None:
        details["moe"] = moe_details
    return BuiltModel(module=module, forward=forward, inputs=args if not kwargs else (),
                      name=type(module).__name__, batch=batch, seq_len=seq_len, parameters=parameters,
                      active_parameters=active, notes=notes, details=details, kwargs=kwargs)


def _described(args: tuple[torch.Tensor, ...], kwargs: dict[str, torch.Tensor]) -> dict[str, Any]:
    """``details["inputs"]``: positional inputs named by position (``arg0``), then the keyword ones."""
    return inputs.describe({**{f"arg{i}": t for i, t in enumerate(args)}, **kwargs})


def _given_tokens(tensors: list[torch.Tensor]) -> tuple[int, int, str]:
    """Batch and tokens per sample of a factory's inputs: its first integer tensor's [batch, tokens]."""
    ids = next((t for t in tensors if not t.is_floating_point() and t.dim() >= 2), None)
    if ids is not None:
        tokens = math.prod(int(n) for n in ids.shape[1:])
        return int(ids.shape[0]), tokens, f"{tokens} tokens (its first integer input)"
    first = tensors[0]
    batch = int(first.shape[0]) if first.dim() else 1
    return batch, 1, "1 (no token ids among the inputs: per-token values are per sample)"


def _is_fake(tensor: torch.Tensor) -> bool:
    from torch._subclasses.fake_tensor import FakeTensor

    return isinstance(tensor, FakeTensor)


def _place(module: torch.nn.Module, device: str, fake_mode: FakeTensorMode | None,
           notes: list[str]) -> torch.nn.Module:
    """Put a user's module where it will run (real modules are never copied for meta)."""
    tensors = [*module.parameters(), *module.buffers()]
    on_meta = any(t.device.type == "meta" for t in tensors)
    if device == "meta":
        return module  # parameters are swapped for fake ones at call time, see _bind_forward
    if on_meta:
        # A module built on the meta device: give it real (random) weights to run for real.
        module = copy.deepcopy(module).to_empty(device=device)
        with torch.no_grad():
            for param in module.parameters():
                if param.is_floating_point():
                    param.normal_(0.0, 0.02)
        notes.append("the module was on the meta device; random weights were allocated to run it")
    if device == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        module = module.to(device="cuda", dtype=dtype)
    return module


def _bind_forward(module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any], device: str,
                  fake_mode: FakeTensorMode | None) -> Callable[[], Any]:
    if device != "meta" or fake_mode is None:
        return lambda: module(*args, **kwargs)
    tensors = dict(module.named_parameters(remove_duplicate=False))
    tensors.update(module.named_buffers(remove_duplicate=False))
    if all(_is_fake(t) for t in tensors.values()):
        return lambda: module(*args, **kwargs)
    # Run the module with fake stand-ins for its weights (torch.func.functional_call), so a
    # real module costs no copy and a meta-device module runs the CPU kernels.
    swapped: dict[int, torch.Tensor] = {}
    with fake_mode:
        for tensor in tensors.values():
            if id(tensor) not in swapped:
                if _is_fake(tensor) and tensor.device.type != "meta":
                    fake = tensor
                else:
                    fake = torch.empty(tensor.shape, dtype=tensor.dtype, device="cpu")
                if isinstance(tensor, torch.nn.Parameter):
                    fake.requires_grad_(tensor.requires_grad)
                swapped[id(tensor)] = fake
    replacement = {name: swapped[id(tensor)] for name, tensor in tensors.items()}
    return lambda: torch.func.functional_call(module, replacement, args, kwargs)


# --------------------------------------------------------------------------- shared helpers


@contextlib.contextmanager
def _device_context(device: str, fake_mode: FakeTensorMode | None) -> Iterator[None]:
    """Where tensors are created while building: fake CPU tensors, the CPU, or the GPU in bf16.

    ``meta`` without a fake mode builds on the plain meta device (for fvcore, which traces).
    """
    if device == "meta":
        if fake_mode is None:
            with torch.device("meta"):
                yield
        else:
            with fake_mode:
                yield
    elif device == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        previous = torch.get_default_dtype()
        torch.set_default_dtype(dtype)
        try:
            with torch.device("cuda"):
                yield
        finally:
            torch.set_default_dtype(previous)
    else:
        yield


def _input_device(device: str, fake_mode: FakeTensorMode | None) -> str:
    """Fake tensors pose as CPU tensors; plain meta stays meta."""
    if device == "meta":
        return "cpu" if fake_mode is not None else "meta"
    return device


def _token_ids(shape: tuple[int, ...], vocab: int | None, target: str) -> torch.Tensor:
    """Random token ids on real devices (MoE routing then spreads), zeros on fake/meta ones."""
    if not vocab or target == "meta" or torch._guards.detect_fake_mode() is not None:
        return torch.zeros(shape, dtype=torch.long, device=target)
    generator = torch.Generator(device="cpu").manual_seed(0)
    return torch.randint(0, vocab, shape, generator=generator, dtype=torch.long, device="cpu").to(target)


def _count_parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
