"""Time a counted model on a CUDA device: achieved FLOP/s, MFU, and the counter's own overhead.

MFU here is the counted FLOP of one training step (forward + backward as measured by flopaudit,
no recomputation) divided by the step's time and by the device's dense peak at the step's
precision (bf16, or fp16 where bf16 is unsupported), from the built-in accelerator table
(:mod:`flopaudit.estimate.accelerators`).
"""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING, Any

import torch

from flopaudit.estimate.accelerators import Accelerator, match_device_name
from flopaudit.measure.counter import FlopAuditMode

if TYPE_CHECKING:
    from flopaudit.measure.sources import BuiltModel

def _peak(acc: Accelerator | None, precision: str) -> float | None:
    return None if acc is None else acc.peak_flops.get(precision)


def _step(built: BuiltModel, backward: bool) -> None:
    from flopaudit.measure.profiling import forward_output, run_backward

    target = forward_output(built, grad=backward)
    if target is not None:
        run_backward(target)
        for param in built.module.parameters():
            param.grad = None


def _wall(built: BuiltModel, backward: bool, mode: FlopAuditMode | None = None) -> float:
    torch.cuda.synchronize()
    start = time.perf_counter()
    if mode is None:
        _step(built, backward)
    else:
        with mode:
            _step(built, backward)
    torch.cuda.synchronize()
    return time.perf_counter() - start


def measure_step(built: BuiltModel, *, forward_flop: int, backward_flop: int | None,
                 attention: str = "full", warmup: int = 3, iters: int = 10) -> dict[str, Any]:
    """Time ``iters`` steps with CUDA events after ``warmup``; compare a counted step's wall time."""
    backward = backward_flop is not None
    for _ in range(warmup):
        _step(built, backward)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        _step(built, backward)
    end.record()
    torch.cuda.synchronize()
    step_seconds = start.elapsed_time(end) / 1000.0 / iters
    # The counter's overhead: wall time of a counted step over an uncounted one (medians of 3,
    # both synchronised the same way), i.e. what profiling costs on top of running.
    plain = statistics.median(_wall(built, backward) for _ in range(3))
    counted = statistics.median(_wall(built, backward, FlopAuditMode(built.module, attention=attention))
                                for _ in range(3))
    dtype = next((p.dtype for p in built.module.parameters() if p.is_floating_point()), torch.float32)
    precision = {torch.bfloat16: "bf16", torch.float16: "fp16", torch.float32: "fp32"}.get(dtype, str(dtype))
    name = torch.cuda.get_device_name()
    entry = match_device_name(name)
    peak = _peak(entry, precision)
    flop = forward_flop + (backward_flop or 0)
    achieved = flop / step_seconds
    return {
        "device_name": name,
        "accelerator": None if entry is None else entry.name,
        "precision": precision,
        "peak_flops": peak,
        "step_seconds": step_seconds,
        "flop_per_step": flop,
        "achieved_flops": achieved,
        "mfu": None if not peak else achieved / peak,
        "counted_step_seconds": counted,
        "uncounted_step_seconds": plain,
        "counter_overhead": counted / plain,
        "timing": f"CUDA events over {iters} steps after {warmup} warm-up steps",
    }
