"""flopaudit: auditable training-compute estimates and compute-threshold policy checks.

Convention everywhere: one multiply-add counts as 2 FLOP, all operations count equally whatever
their precision, and attention covers the full sequence x sequence matrix unless a config says
``counting: {attention: causal}``.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "track"]


def track(model: Any, ledger: Any = "run.jsonl", **options: Any) -> Any:
    """:func:`flopaudit.ledger.track`: a compute ledger of a live training run (imports torch only when called)."""
    from flopaudit.ledger import track as _track

    return _track(model, ledger, **options)
