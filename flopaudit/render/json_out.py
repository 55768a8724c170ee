"""``--format json``: the object of results.md (a list for several configs), deterministic."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult


def render(results: Sequence["AuditResult"]) -> str:
    """JSON text with a trailing newline."""
    data = [r.to_dict() for r in results]
    return json.dumps(data[0] if len(data) == 1 else data, indent=2, allow_nan=False) + "\n"
