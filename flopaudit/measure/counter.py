"""The dispatch-level FLOP counter: a ``TorchDispatchMode`` that sees every aten op a model runs.

Each op is resolved once, in this order:

1. a formula: flopaudit's own (:mod:`flopaudit.measure.formulas`) for the ops PyTorch misses, or
   PyTorch's ``torch.utils.flop_counter.flop_registry`` for the rest (mm, addmm, bmm, baddbmm,
   convolution, CUDA attention kernels, ...). Where both exist, PyTorch's wins, so an upstream
   fix can never be counted twice;
2. the zero-FLOP table (:mod:`flopaudit.measure.zero_ops`);
3. a CompositeImplicitAutograd decomposition, whose parts are dispatched and counted in turn
   (as ``FlopCounterMode`` does; this is how ``matmul``, ``linear`` and ``einsum`` reach mm/bmm);
4. otherwise the op is *uncounted*: it runs, and its name and number of calls are reported.

Forward and backward are told apart by whether the autograd engine is running (the backward of
activation checkpointing's recompute is therefore counted as backward: executed FLOP). Module
attribution uses :class:`flopaudit.measure.modules.ModuleTracker`: torch's ModuleTracker (what
``FlopCounterMode`` uses) with hooks that also see keyword tensors, so backward FLOP land on the
module whose backward runs and every level sums to its parent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map
from torch.utils.flop_counter import flop_registry as torch_flop_registry
from typing_extensions import Self

from flopaudit.measure import moe
from flopaudit.measure.attention import PRODUCT_OPS, AttentionRule
from flopaudit.measure.formulas import ATTENTION_KERNELS, FORMULAS
from flopaudit.measure.modules import ModuleTracker
from flopaudit.measure.zero_ops import METADATA_OPS, ZERO_FLOP_OPS

FORWARD, BACKWARD = "forward", "backward"

_TORCH_FORMULAS: dict[str, Callable[..., int]] = {
    str(packet): fn for packet, fn in torch_flop_registry.items()
    if isinstance(packet, torch._ops.OpOverloadPacket)
}


@dataclass
class Tally:
    """Everything one counting run saw, split by phase (forward / backward)."""

    by_operator: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    by_module: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    counted_calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    zero_calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    uncounted: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    formula_errors: dict[str, str] = field(default_factory=dict)
    attention_calls: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: {"calls": 0, "causal_halved": 0}))
    formula_source: dict[str, str] = field(default_factory=dict)

    def total(self, phase: str) -> int:
        """All counted FLOP of one phase."""
        return sum(self.by_operator[phase].values())


@dataclass(frozen=True)
class _Resolution:
    kind: str  # "formula" | "zero" | "decompose" | "uncounted"
    name: str
    formula: Callable[..., int] | None = None
    source: str = ""
    category: str = ""


def _shape_of(value: Any) -> Any:
    """Tensor -> tuple of ints (its shape); anything else unchanged (formulas see shapes only)."""
    if isinstance(value, torch.Tensor):
        return tuple(int(s) for s in value.shape)
    return value


def _own_formula(name: str) -> Callable[..., int]:
    fn = FORMULAS[name].fn

    def call(*args: Any, out_val: Any = None, **kwargs: Any) -> int:
        args, kwargs, out_shape = tree_map(_shape_of, (args, kwargs, out_val))
        return fn(*args, out_shape=out_shape, **kwargs)

    return call


def _bind_arguments(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Name every argument of an aten call from its schema (positional and keyword)."""
    bound = dict(kwargs)
    for argument, value in zip(func._schema.arguments, args):
        bound[argument.name] = value
    return bound


class FlopAuditMode(TorchDispatchMode):
    """Count the FLOP of everything run inside the ``with`` block (see the module docstring).

    ``root`` names modules relative to the model (``"model.layers.0"``) and lets the counter see
    the modules' ``is_causal`` flags; ``attention="causal"`` or ``"window"`` scales the score and
    value products of attention modules (:mod:`flopaudit.measure.attention`).
    """

    supports_higher_order_operators = True

    def __init__(self, root: torch.nn.Module | None = None, *, attention: str = "full") -> None:
        super().__init__()
        self._root_prefix = type(root).__name__ if root is not None else None
        # ModuleTracker names a module "<RootClass>.<path>"; keep the same keys to find modules.
        self._modules: dict[str, torch.nn.Module] = {}
        if root is not None:
            for path, module in root.named_modules():
                self._modules[f"{self._root_prefix}.{path}" if path else self._root_prefix] = module
        self.attention_rule = AttentionRule(attention, self._modules)  # refuses an unknown convention
        self.attention = attention
        self.tally = Tally()
        self._tracker = ModuleTracker()
        self._resolved: dict[Any, _Resolution] = {}
        # dense experts modules (all experts x all tokens) are priced at top-k: flopaudit.measure.moe
        self._moe_scales = moe.dense_scales(self._modules)

    def __enter__(self) -> Self:
        self._tracker.__enter__()
        super().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self._tracker.__exit__(*exc)

    # ------------------------------------------------------------------ resolution

    def _resolve(self, func: Any) -> _Resolution:
        cached = self._resolved.get(func)
        if cached is not None:
            return cached
        name = str(func._overloadpacket)
        # flopaudit's formula wins where both exist: it is there to correct PyTorch's
        # (convolution_backward ignores groups in torch 2.13's weight-gradient count).
        if name in FORMULAS:
            res = _Resolution("formula", name, _own_formula(name), "flopaudit")
        elif name in _TORCH_FORMULAS:
            res = _Resolution("formula", name, _TORCH_FORMULAS[name], "torch")
        elif name in ZERO_FLOP_OPS:
            res = _Resolution("zero", name, category=ZERO_FLOP_OPS[name])
        elif func.has_kernel_for_dispatch_key(torch._C.DispatchKey.CompositeImplicitAutograd):
            res = _Resolution("decompose", name)
        else:
            res = _Resolution("uncounted", name)
        self._resolved[func] = res
        return res

    # ------------------------------------------------------------------ dispatch

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        if isinstance(func, torch._ops.HigherOrderOperator):
            return self._higher_order(func, args, kwargs)
        name = str(func._overloadpacket)
        if name in METADATA_OPS:
            return NotImplemented
        if name == "prim.device":
            return func(*args, **kwargs)

        res = self._resolve(func)
        if res.kind == "decompose":
            # Re-push only the dispatch mode (not via ``with self``, which would enter the
            # module tracker a second time) so that the parts come back here to be counted.
            TorchDispatchMode.__enter__(self)
            try:
                out = func.decompose(*args, **kwargs)
            finally:
                TorchDispatchMode.__exit__(self, None, None, None)
            if out is not NotImplemented:
                return out
            res = _Resolution("uncounted", name)
            self._resolved[func] = res

        out = func(*args, **kwargs)
        if res.kind == "formula":
            self._count(func, res, out, args, kwargs)
        elif res.kind == "zero":
            self.tally.zero_calls[res.category] += 1
        else:
            self.tally.uncounted[name] += 1
        return out

    def _higher_order(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Higher-order ops (flex_attention, cond, ...) run with this mode off: their inner aten
        ops are not seen, so they count by PyTorch's formula for the whole op, or are uncounted."""
        out = func(*args, **kwargs)
        name = f"higher_order.{func.name()}"
        formula = torch_flop_registry.get(func)
        if formula is None:
            self.tally.uncounted[name] += 1
        else:
            self._count(func, _Resolution("formula", name, formula, "torch"), out, args, kwargs)
        return out

    def _count(self, func: Any, res: _Resolution, out: Any, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> None:
        assert res.formula is not None
        try:
            flop = int(res.formula(*args, **kwargs, out_val=out))
        except Exception as exc:  # noqa: BLE001 - a formula that cannot read these shapes: report it, never zero
            self.tally.uncounted[res.name] += 1
            self.tally.formula_errors.setdefault(res.name, f"{type(exc).__name__}: {exc}")
            return
        if res.name in ATTENTION_KERNELS:
            record = self.tally.attention_calls[res.name]
            record["calls"] += 1
            if self.attention != "full":
                bound = _bind_arguments(func, args, kwargs)
                scaled = self.attention_rule.kernel(
                    res.name, tree_map(_shape_of, bound), self._tracker.parents,
                    flop, causal=self._is_causal_call(bound), out=out)
                if scaled != flop:
                    key = "causal_halved" if self.attention == "causal" else "windowed"
                    record[key] = record.get(key, 0) + 1
                flop = scaled
        elif res.name in PRODUCT_OPS and self.attention != "full":
            # eager attention's QK^T and PV (see flopaudit.measure.attention)
            flop = self.attention_rule.product(
                res.name, [tuple(a.shape) for a in args if isinstance(a, torch.Tensor)],
                self._tracker.parents, flop, out)
        if self._moe_scales:
            flop = moe.priced(flop, self._tracker.parents, self._moe_scales)
        phase = BACKWARD if torch._C._current_graph_task_id() != -1 else FORWARD
        self.tally.by_operator[phase][res.name] += flop
        self.tally.counted_calls[res.name] += 1
        self.tally.formula_source[res.name] = res.source
        for parent in set(self._tracker.parents):
            if parent != "Global":
                self.tally.by_module[phase][parent] += flop

    def _is_causal_call(self, bound: dict[str, Any]) -> bool:
        """A kernel call (``bound``: its named arguments) is causal if it says so, or runs inside a
        module flagged ``is_causal``."""
        if bound.get("is_causal") is True:
            return True
        # memory-efficient attention encodes causality as custom_mask_type 1 (top-left) / 2 (bottom-right)
        if bound.get("custom_mask_type") in (1, 2):
            return True
        # transformers' decoder self-attention modules carry is_causal=True even when they pass
        # an explicit mask (as they do under fake tensors) instead of the kernel's flag.
        return any(getattr(self._modules.get(parent), "is_causal", False) is True
                   for parent in self._tracker.parents)

    # ------------------------------------------------------------------ views of the tally

    def module_name(self, tracker_name: str) -> str:
        """``"LlamaForCausalLM.model.layers.0"`` -> ``"model.layers.0"`` (relative to the root)."""
        if self._root_prefix is not None and tracker_name.startswith(self._root_prefix + "."):
            return tracker_name[len(self._root_prefix) + 1:]
        if tracker_name == self._root_prefix:
            return ""
        return tracker_name
