"""A PyTorch Lightning callback that keeps a compute ledger (optional: needs ``lightning``).

::

    from flopaudit.ledger.lightning import LedgerCallback
    trainer = lightning.Trainer(callbacks=[LedgerCallback("run.jsonl", planned_steps=10_000)])

Importing this module without Lightning installed raises
:class:`~flopaudit.errors.MissingDependencyError`; nothing else in flopaudit imports it. A step
is one optimizer step: counting starts with the first batch of an accumulation window
(``on_train_batch_start``) and the step is recorded after its last batch
(``on_train_batch_end``, every ``trainer.accumulate_grad_batches`` batches). ``planned_steps``
defaults to ``trainer.max_steps`` when set; a run resumed from a checkpoint
(``trainer.global_step > 0`` at ``on_train_start``) continues the ledger from that step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flopaudit.errors import MissingDependencyError

try:
    from lightning.pytorch.callbacks import Callback
except ImportError:  # the older package name
    try:
        from pytorch_lightning.callbacks import Callback  # type: ignore[no-redef]
    except ImportError as exc:
        raise MissingDependencyError("lightning", "measure", "The PyTorch Lightning callback",
                                     also="pip install lightning") from exc

from flopaudit.ledger import track


class LedgerCallback(Callback):  # type: ignore[misc]
    """Record each optimizer step of a Lightning ``Trainer`` in a ledger (``track`` options pass through)."""

    def __init__(self, ledger: str | Path = "run.jsonl", **options: Any) -> None:
        super().__init__()
        self.ledger = ledger
        self.options = options
        self.tracker: Any = None

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        options = dict(self.options)
        if getattr(trainer, "max_steps", -1) and trainer.max_steps > 0:
            options.setdefault("planned_steps", trainer.max_steps)
        if trainer.global_step > 0:
            options.setdefault("resume", True)
            options.setdefault("start_step", trainer.global_step)
        self.tracker = track(pl_module, self.ledger, auto_begin=False, **options).start()

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        if self.tracker is not None:
            self.tracker.begin_step()  # a no-op inside an accumulation window

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.tracker is not None and (batch_idx + 1) % max(trainer.accumulate_grad_batches, 1) == 0:
            self.tracker.step()

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if self.tracker is not None:
            self.tracker.close()
            self.tracker = None
