"""Count each distinct layer of a repeated stack once, and credit its FLOP to every copy.

Decoder and encoder stacks repeat identical layers (126 in Llama 3.1 405B). On fake tensors a
layer's count depends only on what it is and what it is given, so the first call of each
distinct layer (the *representative*) runs and is counted; later calls of a layer proven the
same are not run: they hand their input on as their output (the shapes match, that is checked),
and their FLOP, op calls and per-module entries are credited from the representative's. The
model's own code still runs everything around the stack (embeddings, masks, norms, the head)
and decides which layer is called with what, so dense and MoE layers, sliding and global
attention or Mamba and attention layers are told apart as they run.

Two calls are "the same layer" when all of this is equal (the *signature*):

- static: every submodule's class, every parameter's and buffer's name, shape, dtype and
  ``requires_grad``, every plain setting stored on the submodules (``attention_type``,
  ``sliding_window``, ``is_causal``, ``num_experts``, ...), and each per-layer entry of the
  model config (lists as long as the stack, such as ``layer_types``). Layer-index attributes
  (:data:`INDEX_NAMES`) of transformers' modules are left out: transformers uses them to
  address the KV cache, which counting never uses (a user's module keeps them, so its layers
  that store an index are never reused);
- dynamic: the call's argument structure, every tensor's shape, stride, dtype, device and
  ``requires_grad``, and every other argument's value (objects by identity).

A skipped call is only ever credited with a representative whose output could stand in for it
(a tensor shaped like its first tensor input, or inputs handed through); otherwise the call runs.
The credit comes from counting the representative alone on a copy of its recorded inputs
(forward, then backward from its output), and is used only if that count equals the
representative's own count inside the model, forward and backward; else the whole step is
counted again in full. Reuse needs fake tensors (``device="meta"``): real tensors can take
data-dependent paths. See ``details["layers"]`` of a result for which method was used.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils._python_dispatch import _pop_mode_temporarily
from torch.utils._pytree import tree_flatten, tree_map, tree_unflatten

from flopaudit.measure import progress
from flopaudit.measure.counter import BACKWARD, FORWARD, FlopAuditMode, Tally

PHASES = (FORWARD, BACKWARD)
#: attributes that number a layer within its stack; not part of its signature
INDEX_NAMES = frozenset({"layer_idx", "layer_id", "layer_index", "layer_number", "layer_num", "idx",
                         "block_idx", "block_id"})
_PRIMITIVE = (bool, int, float, str, type(None))
#: hooks transformers installs on every layer: inactive unless outputs are being collected
_SAFE_HOOK_MODULES = ("transformers.utils.output_capturing",)


# --------------------------------------------------------------------------- static signatures


def _value_key(value: Any, depth: int = 0) -> Any:
    """A hashable stand-in for a setting stored on a module (objects by identity)."""
    if isinstance(value, _PRIMITIVE):
        return (type(value).__name__, value)
    if isinstance(value, (torch.dtype, torch.device)):
        return str(value)
    if isinstance(value, (tuple, list)) and depth < 3:
        return (type(value).__name__, tuple(_value_key(v, depth + 1) for v in value))
    if isinstance(value, dict) and depth < 3:
        return ("dict", tuple(sorted((str(k), _value_key(v, depth + 1)) for k, v in value.items())))
    if isinstance(value, functools.partial) and depth < 3:
        return ("partial", _value_key(value.func, depth + 1), _value_key(value.args, depth + 1),
                _value_key(value.keywords, depth + 1))
    func = getattr(value, "__func__", None)  # a bound method: the same function on every layer
    if func is not None:
        return ("method", getattr(func, "__qualname__", repr(func)))
    if callable(value) and hasattr(value, "__qualname__"):
        return ("callable", getattr(value, "__module__", ""), value.__qualname__)
    return ("object", type(value).__qualname__, id(value))


def _module_settings(module: torch.nn.Module) -> tuple[Any, ...]:
    # transformers' layers keep their index for the KV cache only; a user's module may branch on it
    skip = INDEX_NAMES if type(module).__module__.startswith("transformers.") else frozenset()
    return tuple(sorted((name, _value_key(value)) for name, value in vars(module).items()
                        if not name.startswith("_") and name != "training" and name not in skip))


def _hooks_unsafe(module: torch.nn.Module) -> str | None:
    """The first module-level hook that skipping a call would silently drop, if any."""
    for name, sub in module.named_modules():
        for table in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"):
            for hook in getattr(sub, table, {}).values():
                if not str(getattr(hook, "__module__", "")).startswith(_SAFE_HOOK_MODULES):
                    return f"{name or 'the layer'} has a {table.strip('_').replace('_', ' ')[:-1]}"
    return None


def static_signature(layer: torch.nn.Module, per_layer: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    """What a layer is: classes, parameter and buffer shapes/dtypes, settings, per-layer config."""
    modules = tuple((name, f"{type(sub).__module__}.{type(sub).__qualname__}", _module_settings(sub))
                    for name, sub in layer.named_modules())
    params = tuple((name, tuple(p.shape), str(p.dtype), p.requires_grad)
                   for name, p in layer.named_parameters(remove_duplicate=False))
    buffers = tuple((name, tuple(b.shape), str(b.dtype)) for name, b in layer.named_buffers(remove_duplicate=False))
    return (modules, params, buffers, per_layer)


def _per_layer_config(root: torch.nn.Module, length: int) -> list[tuple[Any, ...]]:
    """Each layer's entries of the model config's per-layer lists (``layer_types``, ...)."""
    config = getattr(root, "config", None)
    if config is None or not hasattr(config, "to_dict"):
        return [()] * length
    try:
        data = config.to_dict()
    except Exception:  # noqa: BLE001 - a config that cannot be read: compare no per-layer entries
        return [()] * length
    lists: list[tuple[str, list[Any]]] = []

    def collect(table: dict[str, Any], prefix: str) -> None:
        for key, value in table.items():
            if isinstance(value, (list, tuple)) and len(value) == length:
                lists.append((prefix + key, list(value)))
            elif isinstance(value, dict) and not prefix:
                collect(value, f"{key}.")

    collect(data, "")
    for name in ("layer_types", "layers_block_type"):  # properties that to_dict leaves out
        value = getattr(config, name, None)
        if isinstance(value, (list, tuple)) and len(value) == length and name not in dict(lists):
            lists.append((name, list(value)))
    return [tuple((key, _value_key(values[i])) for key, values in lists) for i in range(length)]


@dataclass
class Stack:
    """A repeated list of layers: its path, its layers' paths and their static signatures."""

    path: str
    layers: list[tuple[str, torch.nn.Module, tuple[Any, ...]]]

    def distinct(self) -> int:
        return len({sig for _, _, sig in self.layers})


def find_stacks(root: torch.nn.Module) -> tuple[list[Stack], list[str]]:
    """The outermost ``nn.ModuleList`` / ``nn.Sequential`` stacks in which some layer repeats.

    Returns the stacks and, for stacks that cannot be reused, why (for ``details``).
    """
    stacks: list[Stack] = []
    refused: list[str] = []
    claimed: list[str] = []
    for path, module in root.named_modules():
        if not isinstance(module, (torch.nn.ModuleList, torch.nn.Sequential)) or len(module) < 2:
            continue
        if any(path == c or path.startswith(c + ".") for c in claimed):
            continue
        children = list(module.named_children())
        if len({id(child) for _, child in children}) != len(children):
            refused.append(f"{path}: the same module appears twice")
            continue
        if not all(any(True for _ in child.parameters()) for _, child in children):
            continue
        per_layer = _per_layer_config(root, len(children))
        layers = [(f"{path}.{name}" if path else name, child, static_signature(child, per_layer[i]))
                  for i, (name, child) in enumerate(children)]
        stack = Stack(path, layers)
        if stack.distinct() == len(layers):
            continue
        unsafe = next((f"{p}: {why}" for p, child, _ in layers if (why := _hooks_unsafe(child))), None)
        if unsafe:
            refused.append(unsafe)
            continue
        stacks.append(stack)
        claimed.append(path)
    return stacks, refused


# --------------------------------------------------------------------------- running the stack


def _leaf_key(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(value.shape), tuple(value.stride()), str(value.dtype), value.device.type,
                value.requires_grad, str(value.layout))
    return _value_key(value)


def _same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    return _leaf_key(a) == _leaf_key(b)


@dataclass
class Group:
    """Calls of layers with one signature: the representative and the calls credited from it."""

    key: tuple[Any, ...]
    stack: str
    layer_class: str
    representative: str
    module: torch.nn.Module
    inputs: tuple[Any, ...]
    #: per output leaf: ("input", i), ("const", value); None when the output cannot be stood in for
    mapping: list[tuple[str, Any]] | None
    out_spec: Any
    computed: list[int]                       # output leaves the layer computed (backward starts there)
    out_templates: list[torch.Tensor]
    credited: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)   # later calls that ran (output not standable)


def _output_mapping(in_leaves: list[Any], out: Any) -> tuple[list[tuple[str, Any]] | None, Any, list[int], list[Any]]:
    out_leaves, spec = tree_flatten(out)
    tensors_in = [i for i, leaf in enumerate(in_leaves) if isinstance(leaf, torch.Tensor)]
    mapping: list[tuple[str, Any]] = []
    computed: list[int] = []
    for j, leaf in enumerate(out_leaves):
        if isinstance(leaf, torch.Tensor):
            same = next((i for i in tensors_in if in_leaves[i] is leaf), None)
            if same is not None:
                mapping.append(("input", same))
            elif not computed and tensors_in and _same_tensor(in_leaves[tensors_in[0]], leaf):
                mapping.append(("input", tensors_in[0]))
                computed.append(j)
            else:
                return None, spec, [], out_leaves
        elif isinstance(leaf, _PRIMITIVE):
            mapping.append(("const", leaf))
        else:
            return None, spec, [], out_leaves
    return mapping, spec, computed, out_leaves


class _Session:
    """The patched stacks of one counting run: decides, per call, to run or to credit."""

    def __init__(self, stacks: list[Stack]) -> None:
        self.members: dict[int, tuple[str, str, tuple[Any, ...]]] = {}
        for stack in stacks:
            for path, module, sig in stack.layers:
                self.members[id(module)] = (stack.path, path, sig)
        self.groups: dict[tuple[Any, ...], Group] = {}
        self.originals: dict[type, Callable[..., Any]] = {}

    def call(self, module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        original = next(self.originals[cls] for cls in type(module).__mro__ if cls in self.originals)
        member = self.members.get(id(module))
        if member is None:
            return original(module, *args, **kwargs)
        stack, path, sig = member
        leaves, spec = tree_flatten((args, kwargs))
        key = (sig, str(spec), tuple(_leaf_key(leaf) for leaf in leaves))
        group = self.groups.get(key)
        if group is None:
            out = original(module, *args, **kwargs)
            mapping, out_spec, computed, out_leaves = _output_mapping(leaves, out)
            self.groups[key] = Group(key=key, stack=stack, layer_class=type(module).__name__,
                                     representative=path, module=module, inputs=(args, kwargs),
                                     mapping=mapping, out_spec=out_spec, computed=computed,
                                     out_templates=[out_leaves[j] for j in computed])
            return out
        if group.mapping is None:
            group.ran.append(path)
            return original(module, *args, **kwargs)
        group.credited.append(path)
        return tree_unflatten([leaves[v] if kind == "input" else v for kind, v in group.mapping], group.out_spec)


@contextlib.contextmanager
def _patched(stacks: list[Stack]) -> Iterator[_Session]:
    """Route every call of the stacks' layer classes through a session (restored afterwards).

    The class's ``__call__`` is replaced, not the instance's forward, so that a credited call
    runs no module hook at all (the counter's module tracker never sees it).
    """
    session = _Session(stacks)
    classes = {type(module) for stack in stacks for _, module, _ in stack.layers}
    saved = {cls: cls.__dict__.get("__call__") for cls in classes}
    for cls in classes:
        session.originals[cls] = cls.__call__
    try:
        for cls in classes:
            def call(self: torch.nn.Module, *args: Any, **kwargs: Any) -> Any:
                return session.call(self, args, kwargs)
            cls.__call__ = call  # type: ignore[method-assign]
        yield session
    finally:
        for cls, previous in saved.items():
            if previous is None:
                with contextlib.suppress(AttributeError):
                    delattr(cls, "__call__")
            else:
                cls.__call__ = previous  # type: ignore[method-assign]


# --------------------------------------------------------------------------- counting a representative alone


class _Source(torch.autograd.Function):
    """An input that needs a gradient, yet is no leaf: its gradient stops here, with no op run.

    Inside the model a layer's input is the output of what ran before it; a leaf would add what
    the model never runs (the leaf's gradient accumulation, the tracker's ``view_as`` on it).
    """

    @staticmethod
    def forward(ctx: Any, value: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
        return value.view_as(value)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, None]:
        return None, None


class _Sink(torch.autograd.Function):
    """Where the backward starts: the layer's output is not the graph's root, as in the model.

    The module tracker attributes a module's backward through gradient hooks on its outputs,
    which do not fire on the root of the graph; its backward hands the gradient on with no op.
    """

    @staticmethod
    def forward(ctx: Any, value: torch.Tensor) -> torch.Tensor:
        return value.view_as(value)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad


def _detached(value: Any, anchor: torch.Tensor) -> Any:
    """A copy of a recorded input, cut from the model's graph but needing a gradient as it did."""
    if not isinstance(value, torch.Tensor):
        return value
    if not value.requires_grad:
        return value.detach()
    with torch.enable_grad():
        return _Source.apply(value.detach(), anchor)


def count_alone(group: Group, *, backward: bool, attention: str) -> FlopAuditMode:
    """Count the representative on a detached copy of its recorded inputs (fake mode must be active)."""
    anchor = torch.zeros((), requires_grad=True)
    args, kwargs = tree_map(lambda value: _detached(value, anchor), group.inputs)
    for param in group.module.parameters():
        param.grad = None  # as in the model's step: the first gradient of a weight is not an add
    grads = [torch.ones_like(t) for t in group.out_templates] if backward else []
    mode = FlopAuditMode(group.module, attention=attention)
    with mode:
        if not backward:
            with torch.no_grad():
                group.module(*args, **kwargs)
        else:
            out_leaves, _ = tree_flatten(group.module(*args, **kwargs))
            outs = [out_leaves[j] for j in group.computed]
            pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
            if pairs:
                with _pop_mode_temporarily():  # the sinks' own forward is not the layer's
                    sinks = [_Sink.apply(o) for o, _ in pairs]
                torch.autograd.backward(sinks, [g for _, g in pairs])
    return mode


def _add_tally(into: Tally, alone: FlopAuditMode, times: int, paths: list[str], *, prefix: str,
               ancestors: list[str]) -> None:
    """Credit ``alone``'s count ``times`` times into ``into`` (module names under ``paths``)."""
    tally = alone.tally
    for phase in PHASES:
        for op, flop in tally.by_operator[phase].items():
            into.by_operator[phase][op] += times * flop
        layer_total = tally.total(phase)
        for name, flop in tally.by_module[phase].items():
            relative = alone.module_name(name)
            for path in paths:
                into.by_module[phase][f"{prefix}.{path}" + (f".{relative}" if relative else "")] += flop
        if layer_total:
            for ancestor in ancestors:
                into.by_module[phase][ancestor] += times * layer_total
    for table in ("counted_calls", "zero_calls", "uncounted"):
        target = getattr(into, table)
        for name, calls in getattr(tally, table).items():
            target[name] += times * calls
    for name, record in tally.attention_calls.items():
        for what, calls in record.items():
            into.attention_calls[name][what] += times * calls
    for name, why in tally.formula_errors.items():
        into.formula_errors.setdefault(name, why)
    into.formula_source.update(tally.formula_source)


def _add_attention_records(into: FlopAuditMode, alone: FlopAuditMode, times: int) -> None:
    """Credit what the attention conventions scaled in ``alone`` (details["attention"]) ``times`` times."""
    target, source = into.attention_rule, alone.attention_rule
    for key, entry in source.records.items():
        mine = target.records.setdefault(key, {**entry, "products": 0, "kernel_calls": 0, "scaled": 0,
                                               "unrecognised": 0})
        for what in ("products", "kernel_calls", "scaled", "unrecognised"):
            mine[what] += times * entry[what]
    target.unflagged_products += times * source.unflagged_products


def _ancestors(mode: FlopAuditMode, stack: str, root: str) -> list[str]:
    """Tracker names of the modules above a stack that were counted (the root included)."""
    parts = stack.split(".") if stack else []
    names = [root] + [f"{root}." + ".".join(parts[:i]) for i in range(1, len(parts))]
    seen = set(mode.tally.by_module[FORWARD]) | set(mode.tally.by_module[BACKWARD])
    return [name for name in names if name in seen]


# --------------------------------------------------------------------------- the entry point


def count(built: Any, *, backward: bool, attention: str, fake_mode: Any,
          step: Callable[[FlopAuditMode], None], enabled: bool = True) -> FlopAuditMode:
    """Count one step, with layer reuse where it is enabled and proven; the counter that counted it.

    ``step(mode)`` runs the step (forward, backward) inside the counter ``mode``. Records which
    method was used in ``built.details["layers"]`` and, for reuse, a line in ``built.notes``.
    """
    details: dict[str, Any]
    mode: FlopAuditMode | None = None
    if not enabled:
        details = {"method": "full", "reason": "layer reuse was turned off (reuse_layers=False, "
                                               "--no-reuse-layers)"}
    elif fake_mode is None:
        details = {"method": "full", "reason": "layer reuse needs fake tensors (device meta): real "
                                               "tensors can take data-dependent paths"}
    elif not _all_fake(built.module):
        details = {"method": "full", "reason": "layer reuse needs a model built on fake tensors: this "
                                               "module holds real weights"}
    else:
        mode, details = _count_reusing(built, backward=backward, attention=attention,
                                       fake_mode=fake_mode, step=step)
    if mode is None:
        mode = FlopAuditMode(built.module, attention=attention)
        step(mode)
    built.details["layers"] = details
    note = summary_note(details)
    if note:
        built.notes.append(note)
    return mode


def _all_fake(module: torch.nn.Module) -> bool:
    """Whether every weight and buffer of ``module`` is a fake tensor (as flopaudit builds HF models)."""
    from torch._subclasses.fake_tensor import FakeTensor

    return all(isinstance(t, FakeTensor) for t in (*module.parameters(), *module.buffers()))


def _count_reusing(built: Any, *, backward: bool, attention: str, fake_mode: Any,
                   step: Callable[[FlopAuditMode], None]) -> tuple[FlopAuditMode | None, dict[str, Any]]:
    """The reusing count, or ``(None, details)`` when the full count must be run instead."""
    module = built.module
    stacks, refused = find_stacks(module)
    if not stacks:
        reason = "; ".join(refused) if refused else "no repeated layers were found"
        return None, {"method": "full", "reason": reason}
    mode = FlopAuditMode(module, attention=attention)
    with _patched(stacks) as session:
        step(mode)
    groups = list(session.groups.values())
    if not any(group.credited for group in groups):
        # every layer ran: this already is the full count
        reason = ("layers repeat, but their outputs cannot stand in for a skipped copy's"
                  if any(group.ran for group in groups) else "no two layer calls had the same signature")
        return mode, {"method": "full", "reason": reason + ": every layer ran",
                      "groups": [_describe(g) for g in groups]}
    prefix = mode._root_prefix or type(module).__name__
    from flopaudit.measure.profiling import active

    alone: dict[int, FlopAuditMode] = {}
    with active(fake_mode):
        for index, group in enumerate(groups):
            if not group.credited:
                continue
            copies = len(group.credited)
            with progress.phase(f"counting {group.representative} alone, for {copies} "
                                f"identical layer{'s' if copies != 1 else ''}"):
                counted = count_alone(group, backward=backward, attention=attention)
            for phase in PHASES if backward else (FORWARD,):
                inside = mode.tally.by_module[phase].get(f"{prefix}.{group.representative}", 0)
                if counted.tally.total(phase) != inside:
                    return None, {"method": "full", "reason": (
                        f"{group.representative} counted {counted.tally.total(phase):,} {phase} FLOP alone "
                        f"but {inside:,} inside the model, so its count cannot stand for its copies")}
            alone[index] = counted
    for index, counted in alone.items():
        group = groups[index]
        _add_tally(mode.tally, counted, len(group.credited), group.credited, prefix=prefix,
                   ancestors=_ancestors(mode, group.stack, prefix))
        _add_attention_records(mode, counted, len(group.credited))
    details: dict[str, Any] = {
        "method": "reuse",
        "groups": [_describe(g) for g in groups],
        "convention": ("each distinct layer (class, parameter shapes and dtypes, settings, per-layer "
                       "config entries, and the shapes of what it is called with) is counted once; "
                       "its copies are not run and are credited with its FLOP, op calls and "
                       "per-module entries (by_module lists every layer)"),
    }
    if refused:
        details["not_reused"] = refused
    return mode, details


def _describe(group: Group) -> dict[str, Any]:
    """A group for ``details["layers"]["groups"]``: what the layer is, how often it ran or was credited."""
    sig = group.key[0]
    first = next((leaf for leaf in tree_flatten(group.inputs)[0] if isinstance(leaf, torch.Tensor)), None)
    entry: dict[str, Any] = {
        "stack": group.stack, "layer": group.layer_class, "representative": group.representative,
        "count": 1 + len(group.credited) + len(group.ran), "credited": len(group.credited),
        "parameters_each": sum(p.numel() for p in group.module.parameters()),
        "parameter_tensors": len(sig[1]),
    }
    if sig[3]:
        entry["config"] = {key: value[1] if isinstance(value, tuple) and len(value) == 2 else str(value)
                           for key, value in sig[3]}
    if first is not None:
        entry["input"] = {"shape": list(first.shape), "dtype": str(first.dtype).removeprefix("torch."),
                          "requires_grad": first.requires_grad}
    if group.ran:
        entry["ran"] = len(group.ran)
        entry["reason_ran"] = "its output cannot stand in for a copy's (not shaped like its input)"
    return entry


def summary_note(details: dict[str, Any]) -> str | None:
    """The line for ``notes`` when layers were reused (None otherwise)."""
    if details.get("method") != "reuse":
        return None
    parts = [f"{g['stack']}: {g['credited'] + 1} x {g['layer']} as {g['representative']}"
             for g in details["groups"] if g["credited"]]
    return ("layers counted once per distinct signature and credited to their identical copies "
            f"({'; '.join(parts)}); the totals equal a full count's (--no-reuse-layers counts every layer)")
