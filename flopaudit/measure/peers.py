"""What the peer counters would have said about the same model: ``--backend torch|fvcore``.

Both are run raw, with no flopaudit formula added, so a user can see what each misses:

- ``torch``: ``torch.utils.flop_counter.FlopCounterMode`` on the same model and inputs (fake
  tensors for ``meta``). It counts 2 FLOP per MAC and measures backward, but counts the CPU SDPA
  kernel, ``_grouped_mm`` and the fused nn.Transformer paths as 0 and reports nothing uncounted.
- ``fvcore``: ``fvcore.nn.FlopCountAnalysis`` (a ``torch.jit`` trace of the forward; on the plain
  meta device for ``meta``). It counts one MAC as one "flop"; flopaudit doubles it to 2 FLOP per
  MAC. It counts no backward, and lists its unsupported ops, which are reported as uncounted.
"""

from __future__ import annotations

import copy
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import torch

from flopaudit.errors import MeasureError, MissingDependencyError
from flopaudit.measure import progress, sources
from flopaudit.measure.counter import BACKWARD, FORWARD
from flopaudit.measure.profiling import Counts, active, forward_output, run_backward

if TYPE_CHECKING:
    from flopaudit.measure import ModelSource


def count_torch(built: sources.BuiltModel, *, backward: bool, fake_mode: Any) -> Counts:
    """Count one step with PyTorch's raw ``FlopCounterMode``."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    # One counter for both phases: ModuleTracker's backward hooks die when a counter exits, so
    # the forward is read off as a snapshot and the backward is what was added after it.
    with active(fake_mode), counter:
        label = "forward (FlopCounterMode)"
        with progress.phase(label), progress.layers_of(built.module, label):
            target = forward_output(built, grad=backward)
        after_forward = copy.deepcopy(counter.get_flop_counts())
        if target is not None:
            with progress.phase("backward (FlopCounterMode)"):
                run_backward(target)
    final = counter.get_flop_counts()
    prefix = type(built.module).__name__

    def relative(name: str) -> str:
        return name[len(prefix) + 1:] if name.startswith(prefix + ".") else ""

    by_operator: dict[str, dict[str, int]] = {FORWARD: {}, BACKWARD: {}}
    by_module: dict[str, dict[str, int]] = {FORWARD: defaultdict(int), BACKWARD: defaultdict(int)}
    for module_name, ops in final.items():
        for op, flop in ops.items():
            before = after_forward.get(module_name, {}).get(op, 0)
            for phase, value in ((FORWARD, before), (BACKWARD, flop - before)):
                if not value:
                    continue
                if module_name == "Global":
                    by_operator[phase][str(op)] = value
                elif relative(module_name):
                    by_module[phase][relative(module_name)] += value
    notes = [("torch backend: PyTorch's FlopCounterMode as shipped; it reports no uncounted ops, "
              "so uncounted_ops is empty by construction, not by coverage")]
    return Counts(by_operator=by_operator,
                  by_module={phase: dict(table) for phase, table in by_module.items()},
                  backward_ran=backward, notes=notes,
                  formulas={op: "torch" for phase in by_operator.values() for op in phase})


def count_fvcore(source: ModelSource, *, seq_len: int, batch: int, device: str,
                 backward: bool, decoder_len: int | None = None) -> tuple[sources.BuiltModel, Counts]:
    """Count the forward with fvcore's ``FlopCountAnalysis`` (MACs doubled to FLOP)."""
    try:
        from fvcore.nn import FlopCountAnalysis
    except ImportError as exc:
        raise MissingDependencyError("fvcore", "measure", "The fvcore backend") from exc
    built = sources.build(source, seq_len=seq_len, batch=batch, device=device, fake_mode=None,
                          decoder_len=decoder_len)
    if built.kwargs:
        raise MeasureError(f"fvcore traces positional inputs only; {built.name} needs "
                           f"{', '.join(built.kwargs)} by keyword", hint="use the flopaudit backend")
    analysis = FlopCountAnalysis(built.module, built.inputs)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    fvcore_logger = logging.getLogger("fvcore")
    previous = fvcore_logger.level
    fvcore_logger.setLevel(logging.ERROR)
    try:
        with torch.no_grad():
            total_macs = analysis.total()
            by_operator = {f"fvcore.{op}": 2 * macs for op, macs in analysis.by_operator().items() if macs}
            by_module = {name: 2 * macs for name, macs in analysis.by_module().items() if name and macs}
            unsupported = analysis.unsupported_ops()
    except Exception as exc:  # the jit tracer rejects many models; report it as a measuring error
        raise MeasureError(f"fvcore could not trace {built.name}: {type(exc).__name__}: {exc}") from exc
    finally:
        fvcore_logger.setLevel(previous)
    if sum(by_operator.values()) != 2 * total_macs:
        raise MeasureError("fvcore's per-operator counts do not add up to its total")
    notes = ["fvcore backend: fvcore counts one MAC as one 'flop'; flopaudit reports 2 FLOP per MAC",
             "fvcore traces the forward pass only: backward_flop is null"]
    if backward:
        notes.append("backward was asked for, but fvcore cannot count it")
    uncounted = [{"op": op, "calls": calls}
                 for op, calls in sorted(unsupported.items(), key=lambda item: (-item[1], item[0]))]
    counts = Counts(by_operator={FORWARD: by_operator}, by_module={FORWARD: by_module},
                    backward_ran=False, uncounted=uncounted, notes=notes,
                    formulas={op: "fvcore" for op in by_operator})
    return built, counts
