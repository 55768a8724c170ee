"""The live tracker behind :func:`flopaudit.track`: count each optimizer step, sum it over ranks, append it.

What a step is: everything this process runs between two :meth:`Tracker.step` calls (or from
:meth:`Tracker.begin_step` to :meth:`Tracker.step` when ``auto_begin=False``, as the Trainer
callbacks use), counted by :class:`flopaudit.measure.counter.FlopAuditMode` with flopaudit's
convention (2 FLOP per multiply-add, matrix products only; the optimizer's elementwise update
is 0 like every elementwise op). Communication and profiler markers (``c10d.*``,
``_c10d_functional.*``, ``profiler.*``) do no arithmetic; any other op without a formula is
listed in the record's ``uncounted_ops``.

Two ways to count (``reuse``):

- ``reuse=False``: every step runs under the counter (``method: "measured"``).
- ``reuse=True`` (default): a step's *signature* is the shapes, dtypes and devices of the inputs
  of every forward call of the tracked model during the step (several with gradient
  accumulation). A step whose first forward call matches a signature already counted is not
  run under the counter, and is credited that count (``"reused"``) if its whole signature
  matches; any other step is counted. A step whose later forward calls differ from every counted
  signature after its first matched cannot be priced: it is recorded with ``flop: null``
  (``"unmeasured"``) and a warning, the ledger's total becomes unknown, and the tracker counts
  every later step (as ``reuse=False``).

Across ranks the per-rank FLOP are gathered as int64 (exact) with ``torch.distributed`` when it
is initialised, and summed in Python; rank 0 alone opens, locks and appends to the ledger.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch.utils._pytree import tree_flatten

from flopaudit.errors import ConfigError, FlopauditError, LedgerError
from flopaudit.ledger import records
from flopaudit.ledger.file import LedgerFile
from flopaudit.ledger.tripwire import Tripwire
from flopaudit.measure.attention import CONVENTIONS
from flopaudit.measure.counter import FlopAuditMode

LOG = logging.getLogger("flopaudit.ledger")
NOT_ARITHMETIC = ("c10d.", "_c10d_functional.", "profiler.")
_CACHE_LIMIT = 64
F = TypeVar("F", bound=Callable[..., Any])


def _leaf_signature(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(int(s) for s in value.shape), str(value.dtype), value.device.type,
                value.requires_grad)
    if value is None or isinstance(value, (bool, int, float, str)):
        return (type(value).__name__, value)
    return (type(value).__name__,)


def signature(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """What decides a forward call's FLOP: the shapes, dtypes and devices of its tensors, and its plain values."""
    leaves, spec = tree_flatten((args, kwargs))
    return (str(spec), tuple(_leaf_signature(leaf) for leaf in leaves))


class _Dist:
    """This process's place in a ``torch.distributed`` job (one rank of one when not initialised)."""

    def __init__(self) -> None:
        import torch.distributed as dist

        self.on = dist.is_available() and dist.is_initialized()
        self.rank = dist.get_rank() if self.on else 0
        self.world = dist.get_world_size() if self.on else 1
        self.device = torch.device("cpu")
        if self.on and dist.get_backend() == "nccl":
            self.device = torch.device("cuda", torch.cuda.current_device())

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank."""
        if not self.on:
            return value
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, values: list[int]) -> list[list[int]]:
        """Every rank's ``values`` (int64), in rank order."""
        if not self.on:
            return [values]
        import torch.distributed as dist

        mine = torch.tensor(values, dtype=torch.int64, device=self.device)
        parts = [torch.empty_like(mine) for _ in range(self.world)]
        dist.all_gather(parts, mine)
        return [[int(v) for v in part.tolist()] for part in parts]


class Tracker:
    """See :func:`flopaudit.track`. Use as a context manager, or call :meth:`start` and :meth:`close`."""

    def __init__(self, model: torch.nn.Module, *, ledger: str | Path, planned_steps: int | None = None,
                 policies: list[str] | tuple[str, ...] = (), fraction: float = 1.0, reuse: bool = True,
                 resume: bool = False, start_step: int | None = None, attention: str = "full",
                 optimizer: torch.optim.Optimizer | None = None, auto_begin: bool = True) -> None:
        if not isinstance(model, torch.nn.Module):
            raise ConfigError(f"track() needs the torch.nn.Module being trained, not {type(model).__name__}")
        for name, value in (("planned_steps", planned_steps), ("start_step", start_step)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < (1 if name == "planned_steps" else 0)):
                raise ConfigError(f"{name} must be an integer >= {1 if name == 'planned_steps' else 0}, "
                                  f"not {value!r}")
        if attention not in CONVENTIONS:
            raise ConfigError(f"attention must be one of {', '.join(CONVENTIONS)}, not {attention!r}")
        if isinstance(policies, str):
            policies = [policies]
        self.model = model
        self.path = Path(ledger)
        self.planned_steps = planned_steps
        self.policies = list(policies)
        self.fraction = fraction
        self.reuse = reuse
        self.resume = resume
        self.start_step = start_step
        self.attention = attention
        self.optimizer = optimizer
        self.auto_begin = auto_begin
        #: the last step number this process has run (recorded or skipped as a re-run)
        self.current = 0
        self.dist: _Dist | None = None
        self._file: LedgerFile | None = None
        self._state: records.State | None = None
        self._tripwire: Tripwire | None = None
        self._skip_until = 0
        self._mode: FlopAuditMode | None = None
        self._signatures: list[tuple[Any, ...]] = []
        self._cache: dict[tuple[Any, ...], int] = {}
        self._in_step = False
        self._counted = False
        self._flop = 0
        self._uncounted: dict[str, int] = {}
        self._paused = 0
        self._hooks: list[Any] = []
        self._last_time = 0.0
        self._started = False

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Tracker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> Tracker:
        """Open (rank 0) and check the ledger, agree on the step to start from, and begin counting."""
        if self._started:
            return self
        self.dist = _Dist()
        self._tripwire = Tripwire(self.policies, self.fraction) if self.policies else None
        outcome: dict[str, Any] = {}
        failure: FlopauditError | None = None
        if self.dist.rank == 0:
            try:
                outcome = self._open_ledger()
            except FlopauditError as exc:
                failure = exc
                outcome = {"error": (exc.message, exc.file, exc.line, exc.hint)}
                if self._file is not None:
                    self._file.close()
                    self._file = None
        outcome = self.dist.broadcast(outcome)
        if failure is not None:
            raise failure
        if "error" in outcome:  # every rank stops, with rank 0's reason
            message, file, line, hint = outcome["error"]
            raise LedgerError(f"rank 0 refused the ledger: {message}", file=file, line=line, hint=hint)
        self.current = outcome["done"]
        self._skip_until = outcome["skip_until"]
        self._hooks.append(self.model.register_forward_pre_hook(self._pre_forward, with_kwargs=True))
        if self.optimizer is not None:
            self._hooks.append(self.optimizer.register_step_post_hook(lambda *_: self.step()))
        self._started = True
        self._last_time = time.monotonic()
        if self.auto_begin:
            self.begin_step()
        return self

    def _open_ledger(self) -> dict[str, Any]:
        """Rank 0: lock the ledger, decide where this run starts, write the ``start`` record."""
        assert self.dist is not None
        self._file = LedgerFile.open(self.path)
        state = self._file.state
        if self._file.cut:
            LOG.warning("flopaudit ledger %s: a torn last line (%d bytes, a crash mid-write) was cut off",
                        self.path, self._file.cut)
        if state.steps and not self.resume:
            raise LedgerError(f"the ledger already holds {state.steps} steps (last: step {state.last_step})",
                              file=self.path, hint="pass resume=True to continue it, or give a new ledger path")
        done = self.start_step if self.start_step is not None else state.last_step
        if done > state.last_step and state.steps:
            raise LedgerError(f"the training loop resumes after step {done}, but the ledger's last step is "
                              f"{state.last_step}: steps {state.last_step + 1}..{done} would be missing",
                              file=self.path, hint="resume from the checkpoint that matches this ledger")
        if done < state.last_step:
            LOG.warning("flopaudit ledger %s: resuming after step %d; steps %d..%d were already recorded "
                        "before the restart and are re-run without being recorded again",
                        self.path, done, done + 1, state.last_step)
        self._state = state
        if self.planned_steps is None:
            self.planned_steps = state.planned_steps
        self._file.append({"type": "start", "version": records.VERSION, "time": records.now_utc().isoformat(),
                           "ranks": self.dist.world, "planned_steps": self.planned_steps,
                           "resume_from": done if (self.resume or self.start_step is not None) else None,
                           "last_recorded": state.last_step,
                           "method": "reuse" if self.reuse else "every-step",
                           "policies": self.policies, "fraction": self.fraction})
        return {"done": done, "skip_until": state.last_step}

    def close(self) -> None:
        """Stop counting, remove the hooks and release the ledger (a step begun but not ended is dropped)."""
        self._stop_counting()
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()
        if self._file is not None:
            self._file.close()
            self._file = None
        self._started = False

    # ------------------------------------------------------------------ counting

    def begin_step(self) -> None:
        """Start a step (called by :meth:`step` itself unless ``auto_begin=False``)."""
        if self._in_step:
            return
        self._in_step = True
        self._signatures = []
        self._counted, self._flop, self._uncounted = False, 0, {}
        if not self.reuse or not self._cache:
            self._start_counting()

    def _start_counting(self) -> None:
        if self._mode is None and not self._paused:
            self._mode = FlopAuditMode(self.model, attention=self.attention)
            self._mode.__enter__()

    def _stop_counting(self) -> bool:
        """Stop the counter, adding what it counted to the step's; whether one was running."""
        mode, self._mode = self._mode, None
        if mode is None:
            return False
        mode.__exit__(None, None, None)
        self._counted = True
        self._flop += mode.tally.total("forward") + mode.tally.total("backward")
        for op, calls in mode.tally.uncounted.items():
            if not op.startswith(NOT_ARITHMETIC):
                self._uncounted[op] = self._uncounted.get(op, 0) + calls
        return True

    def _pre_forward(self, module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not self._in_step or self._paused:
            return
        self._signatures.append(signature(args, kwargs))
        if (self.reuse and self._mode is None and len(self._signatures) == 1
                and not any(key[:1] == (self._signatures[0],) for key in self._cache)):
            self._start_counting()  # a new shape: count this step

    @contextmanager
    def pause(self) -> Iterator[None]:
        """Run something that is not part of the step (evaluation, logging) without counting it."""
        was_counting = self._stop_counting()
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1
            if was_counting:
                self._start_counting()

    def wrap(self, fn: F) -> F:
        """Decorator: ``fn`` runs one optimizer step; the tracker records it when ``fn`` returns."""
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            self.begin_step()
            out = fn(*args, **kwargs)
            self.step()
            return out

        return run  # type: ignore[return-value]

    def step(self) -> int:
        """End the current optimizer step: count it, sum it over ranks, append it (rank 0). Returns its number."""
        if not self._started:
            raise ConfigError("step() was called outside the tracker (use 'with flopaudit.track(...)')")
        assert self.dist is not None
        if not self._in_step:
            self.begin_step()
        self._stop_counting()
        key = tuple(self._signatures)
        uncounted: dict[str, int] = {}
        if self._counted:
            flop = self._flop
            uncounted = dict(sorted(self._uncounted.items()))
            if self.reuse:
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = flop
            method_code = 2
        elif key in self._cache:
            flop, method_code = self._cache[key], 1
        else:
            flop, method_code = -1, 0
            self.reuse = False  # at most one such step: every later step is counted
            LOG.warning("flopaudit ledger: step %d changed its input shapes after its first forward call, "
                        "which matched an earlier step; it was not counted, and every later step is "
                        "(use reuse=False for loops whose micro-batches change shape within a step)",
                        self.current + 1)
        self.current += 1
        now = time.monotonic()
        seconds, self._last_time = now - self._last_time, now
        self._in_step = False
        if self.current > self._skip_until:
            gathered = self.dist.gather([flop, method_code])
            if self.dist.rank == 0:
                self._record(gathered, seconds, uncounted)
        if self.auto_begin:
            self.begin_step()
        return self.current

    def _record(self, gathered: list[list[int]], seconds: float, uncounted: dict[str, int]) -> None:
        assert self._file is not None and self._state is not None and self.dist is not None
        state = self._state
        codes = [code for _, code in gathered]
        flop: int | None = None if any(code == 0 for code in codes) else sum(value for value, _ in gathered)
        measured = sum(code == 2 for code in codes)
        method = ("unmeasured" if flop is None else "measured" if measured == len(codes)
                  else "reused" if measured == 0 else "mixed")
        state.last_step = self.current
        state.steps += 1
        state.seconds += seconds
        if flop is None:
            state.unmeasured.append(self.current)
        else:
            state.total_flop += flop
        now = records.now_utc()
        record: dict[str, Any] = {"type": "step", "step": self.current, "flop": flop, "ranks": self.dist.world,
                                  "time": now.isoformat(), "step_seconds": round(seconds, 6),
                                  "total_flop": state.total_flop, "method": method}
        if method == "mixed":
            record["measured_ranks"] = measured
        if state.unmeasured:
            record["unmeasured_steps"] = len(state.unmeasured)
        if uncounted:
            record["uncounted_ops"] = uncounted
        self._file.append(record)
        if self._tripwire is not None:
            counted = state.steps - len(state.unmeasured)
            for alarm in self._tripwire.check(
                    step=self.current, total_flop=state.total_flop, counted_steps=counted,
                    planned_steps=counted + max((self.planned_steps or 0) - state.last_step, 0),
                    seconds_per_step=state.seconds / state.steps, now=now, fired=state.fired):
                LOG.warning(alarm.message)
                self._file.append(alarm.record)
