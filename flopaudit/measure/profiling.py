"""Run one counted training step (forward, then backward) of a built model and report it.

This is the torch-importing half of :func:`flopaudit.measure.profile`; the public wrapper in
``flopaudit/measure/__init__.py`` imports it only when called.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from flopaudit.errors import MeasureError, ModelSourceError
from flopaudit.measure import progress, sources
from flopaudit.measure.counter import BACKWARD, FORWARD, FlopAuditMode
from flopaudit.measure.result import ProfileResult, fed_text
from flopaudit.measure.zero_ops import CATEGORIES

if TYPE_CHECKING:
    from flopaudit.measure import ModelSource

PHASES = (FORWARD, BACKWARD)


@dataclass
class Counts:
    """One backend's counts, by phase, with module names relative to the model."""

    by_operator: dict[str, dict[str, int]]
    by_module: dict[str, dict[str, int]]
    backward_ran: bool
    uncounted: list[dict[str, Any]] = field(default_factory=list)
    zero_calls: dict[str, int] = field(default_factory=dict)
    attention_kernels: dict[str, dict[str, int]] = field(default_factory=dict)
    formulas: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    attention: str = "full"
    attention_details: dict[str, Any] = field(default_factory=dict)

    def total(self, phase: str) -> int:
        """All FLOP of one phase."""
        return sum(self.by_operator.get(phase, {}).values())


# --------------------------------------------------------------------------- running a step


def _call_model(built: sources.BuiltModel) -> Any:
    """Run the model's forward; its own failures are input errors (exit 2), never internal ones."""
    try:
        return built.forward()
    except (MeasureError, ModelSourceError):
        raise
    except Exception as exc:
        fed = fed_text(built.details.get("inputs", {}))
        raise MeasureError(f"{built.name} failed in its forward pass: {type(exc).__name__}: {exc}",
                           hint=f"it was fed {fed or 'token ids of shape [batch, seq_len]'}; a factory "
                                "can return (module, inputs) to feed it what it needs") from exc


def forward_output(built: sources.BuiltModel, *, grad: bool) -> torch.Tensor | None:
    """Run the forward pass; with ``grad`` return the output tensor to differentiate."""
    if not grad:
        with torch.no_grad():
            _call_model(built)
        return None
    target = pick_output(_call_model(built))
    if not target.requires_grad:
        raise MeasureError(f"the output of {built.name} does not require grad, so no backward pass "
                           "can be measured", hint="count the forward only (--no-backward)")
    return target


def run_backward(target: torch.Tensor) -> None:
    """Back-propagate a gradient of ones from ``target`` (a real loss would only add 0-FLOP ops).

    Through a scalar, not ``target.backward(ones)``: ModuleTracker attributes backward FLOP
    through gradient hooks on module outputs, which do not fire on the root of the graph, so the
    last module (the LM head) would lose its backward. The ``* 1.0`` makes the gradient reaching
    the model a dense tensor rather than the stride-0 expand of ``sum``'s backward, which some
    kernels' checks reject (``_grouped_mm``'s meta kernel).
    """
    (target * 1.0).sum().backward()


def pick_output(output: Any) -> torch.Tensor:
    """The tensor to back-propagate from: logits, else the last hidden state, else the first tensor."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, Mapping):
        for key in ("logits", "last_hidden_state", "prediction_logits"):
            value = output.get(key)
            if isinstance(value, torch.Tensor):
                return value
        candidates = list(output.values())
    elif isinstance(output, (tuple, list)):
        candidates = list(output)
    else:
        candidates = []
    for value in candidates:
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            return value
    raise MeasureError(f"the model returned {type(output).__name__}, with no floating-point tensor "
                       "to back-propagate from")


@contextlib.contextmanager
def active(fake_mode: Any) -> Iterator[None]:
    """Enter ``fake_mode`` if there is one (tensors created while counting must be fake too)."""
    if fake_mode is None:
        yield
    else:
        with fake_mode:
            yield


# --------------------------------------------------------------------------- the flopaudit backend


def count_flopaudit(built: sources.BuiltModel, *, backward: bool, attention: str,
                    fake_mode: Any, reuse_layers: bool) -> Counts:
    """Count one step with :class:`FlopAuditMode` (forward, then backward if asked).

    ``reuse_layers``: count each distinct layer once (:mod:`flopaudit.measure.reuse`).
    """
    from flopaudit.measure import reuse

    def step(mode: FlopAuditMode) -> None:
        with active(fake_mode), mode:
            with progress.phase("forward"), progress.layers_of(built.module, "forward"):
                target = forward_output(built, grad=backward)
            if target is not None:
                with progress.phase("backward"):
                    run_backward(target)

    mode = reuse.count(built, backward=backward, attention=attention, fake_mode=fake_mode, step=step,
                       enabled=reuse_layers)
    tally = mode.tally
    by_module = {phase: {mode.module_name(name): flop for name, flop in tally.by_module[phase].items()}
                 for phase in PHASES}
    uncounted = []
    # An uncounted op's FLOP are unknown by definition; its share of the op calls that ran says how
    # much of the step went unpriced.
    all_calls = sum(tally.counted_calls.values()) + sum(tally.zero_calls.values()) + sum(tally.uncounted.values())
    for op, calls in sorted(tally.uncounted.items(), key=lambda item: (-item[1], item[0])):
        entry: dict[str, Any] = {"op": op, "calls": calls, "share_of_calls": calls / all_calls}
        if op in tally.formula_errors:
            entry["reason"] = f"formula failed: {tally.formula_errors[op]}"
        uncounted.append(entry)
    notes = mode.attention_rule.notes()
    return Counts(
        by_operator={phase: dict(tally.by_operator[phase]) for phase in PHASES},
        by_module=by_module, backward_ran=backward, uncounted=uncounted,
        zero_calls=dict(tally.zero_calls),
        attention_kernels={op: dict(record) for op, record in sorted(tally.attention_calls.items())},
        formulas=dict(sorted(tally.formula_source.items())), notes=notes, attention=attention,
        attention_details=mode.attention_rule.details())


# --------------------------------------------------------------------------- the public entry


def run_profile(source: ModelSource, *, seq_len: int, batch: int, device: str, backward: bool,
                attention: str, by_module_depth: int, backend: str,
                reuse_layers: bool = True, decoder_len: int | None = None) -> ProfileResult:
    """See :func:`flopaudit.measure.profile`."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from flopaudit.measure import peers

    start = time.perf_counter()
    if backend == "fvcore":
        built, counts = peers.count_fvcore(source, seq_len=seq_len, batch=batch, device=device,
                                           backward=backward, decoder_len=decoder_len)
        fake_mode = None
    else:
        with progress.phase("starting fake tensors (torch._dynamo)"):
            fake_mode = FakeTensorMode() if device == "meta" else None
        built = sources.build(source, seq_len=seq_len, batch=batch, device=device, fake_mode=fake_mode,
                              decoder_len=decoder_len)
        if backend == "torch":
            counts = peers.count_torch(built, backward=backward, fake_mode=fake_mode)
        else:
            counts = count_flopaudit(built, backward=backward, attention=attention,
                                     fake_mode=fake_mode, reuse_layers=reuse_layers)
    if backend != "flopaudit":
        built.details["layers"] = {"method": "full", "reason": f"the {backend} backend counts every layer"}
        if attention != "full":
            counts.notes.append(f"the {backend} backend has no {attention} option: attention counted in full")
    result = _assemble(built, counts, device=device, depth=by_module_depth, backend=backend)
    if device == "cuda" and backend == "flopaudit":
        from flopaudit.measure import cuda

        with progress.phase("timing the step on the GPU"):
            result.cuda = cuda.measure_step(built, forward_flop=result.forward_flop,
                                            backward_flop=result.backward_flop, attention=attention)
    result.seconds = time.perf_counter() - start
    return result


def _attention_ops(counts: Counts) -> list[str]:
    """The attention kernels that ran: the path SDPA took on this device (flash, CPU, math ...)."""
    names = set(counts.attention_kernels)
    for phase in PHASES:
        names.update(op for op in counts.by_operator.get(phase, {}) if "attention" in op)
    names.update(entry["op"] for entry in counts.uncounted if "attention" in entry["op"])
    return sorted(names)


def _assemble(built: sources.BuiltModel, counts: Counts, *, device: str, depth: int,
              backend: str) -> ProfileResult:
    order = {path: index for index, (path, _) in enumerate(built.module.named_modules())}

    def merged(table: dict[str, dict[str, int]]) -> dict[str, int]:
        out: dict[str, int] = {}
        for phase in PHASES:
            for key, flop in table.get(phase, {}).items():
                out[key] = out.get(key, 0) + flop
        return out

    def modules(table: Mapping[str, int]) -> dict[str, int]:
        # Depth counts the modules on the path that ran: containers that never run a forward of
        # their own (nn.ModuleList "layers") are skipped, so depth 2 reaches "model.layers.0".
        def level(name: str) -> int:
            parts = name.split(".")
            return sum(".".join(parts[:i]) in table for i in range(1, len(parts) + 1))

        kept = {name: flop for name, flop in table.items() if name and level(name) <= depth}
        return dict(sorted(kept.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))

    def operators(table: Mapping[str, int]) -> dict[str, int]:
        return dict(sorted(table.items(), key=lambda item: (-item[1], item[0])))

    backward_flop = counts.total(BACKWARD) if counts.backward_ran else None
    by_phase = {phase: {"by_operator": operators(counts.by_operator.get(phase, {})),
                        "by_module": modules(counts.by_module.get(phase, {}))}
                for phase in (PHASES if counts.backward_ran else (FORWARD,))}
    attention_kernels = counts.attention_kernels
    zero_calls = {category: counts.zero_calls[category] for category in CATEGORIES
                  if category in counts.zero_calls}
    details = dict(built.details)
    details["torch_version"] = torch.__version__
    if counts.attention_details:
        details["attention"] = counts.attention_details
    return ProfileResult(
        model=built.name, device=device, seq_len=built.seq_len, batch=built.batch,
        parameters=built.parameters, active_parameters=built.active_parameters,
        forward_flop=counts.total(FORWARD), backward_flop=backward_flop,
        attention=counts.attention, by_operator=operators(merged(counts.by_operator)),
        by_module=modules(merged(counts.by_module)), uncounted_ops=counts.uncounted, seconds=0.0,
        backend=backend, by_phase=by_phase, zero_flop_calls=zero_calls,
        attention_kernels=attention_kernels, sdpa_path=_attention_ops(counts),
        formulas=counts.formulas, notes=[*built.notes, *counts.notes], details=details)
