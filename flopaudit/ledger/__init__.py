"""A compute ledger for live training runs: count each optimizer step, sum it over ranks, append it.

Importing this package does not import torch: :func:`read_ledger` and :class:`LedgerSummary`
(what ``flopaudit ledger show`` and a config's ``ledger:`` stage field read) need none;
:func:`track` imports torch when called (extra ``measure``). See ``docs/ledger.md``.

Example::

    import flopaudit
    with flopaudit.track(model, ledger="run.jsonl", planned_steps=100_000,
                         policies=["eu-ai-act-systemic-risk"], fraction=0.5) as ledger:
        for batch in loader:
            loss = model(batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            ledger.step()
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from flopaudit.errors import MissingDependencyError
from flopaudit.ledger.records import LedgerSummary, Projection, read_ledger

if TYPE_CHECKING:
    from flopaudit.ledger.tracker import Tracker

__all__ = ["LedgerSummary", "Projection", "read_ledger", "track"]


def track(model: Any, ledger: str | Path = "run.jsonl", *, planned_steps: int | None = None,
          policies: list[str] | tuple[str, ...] = (), fraction: float = 1.0, reuse: bool = True,
          resume: bool = False, start_step: int | None = None, attention: str = "full",
          optimizer: Any = None, auto_begin: bool = True) -> Tracker:
    """A :class:`~flopaudit.ledger.tracker.Tracker` of ``model``'s optimizer steps, appending to ``ledger``.

    Use it as a context manager and call ``.step()`` after each optimizer step; or pass
    ``optimizer=`` to record a step on each ``optimizer.step()`` (hook form); or decorate a
    one-step function with ``tracker.wrap``. ``planned_steps`` and ``policies`` (built-in ids or
    policy files) arm the tripwire at ``fraction`` of each threshold. ``resume=True`` continues
    an existing ledger; ``start_step`` is the last step the training loop has already done (its
    checkpoint's), default the ledger's last step: steps recorded after it are re-run and not
    recorded again. ``reuse`` credits a counted step to later steps of the same input shapes.
    Raises :class:`~flopaudit.errors.LedgerError` (a ConfigError) for a ledger held by another
    process, one that does not fit the resume, or a bad file.
    """
    try:
        from flopaudit.ledger.tracker import Tracker
    except ImportError as exc:
        raise MissingDependencyError("torch", "measure", "Tracking a training run's compute") from exc
    return Tracker(model, ledger=ledger, planned_steps=planned_steps, policies=policies, fraction=fraction,
                   reuse=reuse, resume=resume, start_step=start_step, attention=attention,
                   optimizer=optimizer, auto_begin=auto_begin)
