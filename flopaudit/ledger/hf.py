"""A Hugging Face ``Trainer`` callback that keeps a compute ledger (optional: needs transformers).

::

    from flopaudit.ledger.hf import LedgerCallback
    trainer = Trainer(model=model, args=args, train_dataset=data,
                      callbacks=[LedgerCallback("run.jsonl", policies=["eu-ai-act-systemic-risk"])])

A step is one optimizer step: counting starts at ``on_step_begin`` (the first micro-batch of a
gradient-accumulation step) and the step is recorded at ``on_step_end``, so evaluation, logging
and checkpointing between steps are not counted. ``planned_steps`` defaults to the Trainer's
``max_steps``; a run resumed from a checkpoint (``global_step > 0`` at ``on_train_begin``)
continues the ledger from that step. Under ``torch.distributed`` (``torchrun``, accelerate) every
rank counts its own steps and rank 0 writes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flopaudit.errors import MissingDependencyError

try:
    from transformers import TrainerCallback
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError("transformers", ("measure", "hf"), "The Hugging Face Trainer callback") from exc

from flopaudit.ledger import track


class LedgerCallback(TrainerCallback):
    """Record each optimizer step of a ``Trainer`` in a ledger (``track`` options pass through)."""

    def __init__(self, ledger: str | Path = "run.jsonl", **options: Any) -> None:
        self.ledger = ledger
        self.options = options
        self.tracker: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        options = dict(self.options)
        options.setdefault("planned_steps", state.max_steps if state.max_steps and state.max_steps > 0 else None)
        if state.global_step > 0:
            options.setdefault("resume", True)
            options.setdefault("start_step", state.global_step)
        self.tracker = track(model, self.ledger, auto_begin=False, **options).start()

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.tracker is not None:
            self.tracker.begin_step()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.tracker is not None:
            self.tracker.step()

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.tracker is not None:
            self.tracker.close()
            self.tracker = None
