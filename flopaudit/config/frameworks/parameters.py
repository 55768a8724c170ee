"""Exact parameter counts of a run's architecture: flopaudit's weight-matrix formula plus what it leaves out.

``arch_parameters`` counts weight matrices (embeddings, attention, FFN, router) and ignores norms and
biases; a framework's own count (``num_parameters()``, a model card) includes them. Readers add the
vectors their framework's model has, so ``TrainingRun.parameters`` equals the published count.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from flopaudit.config.models import Architecture
from flopaudit.errors import ConfigError
from flopaudit.estimate.methods import arch_parameters


def counts(architecture: dict[str, Any], extra: int, path: Path, *, rms_norms: bool = False) -> tuple[int, int | None]:
    """(total, active-or-None) parameters: the weight-matrix formula plus ``extra`` norm/bias parameters.

    ``rms_norms`` adds the RMSNorm weights of a pre-norm decoder (two per layer and a final one) with
    flopaudit's own formula (``arch_parameters(norms=True)``); ``extra`` is whatever else the
    framework's model has (LayerNorm biases, attention biases, other norm layouts).
    """
    try:
        arch = Architecture(**architecture)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ConfigError(f"the model this file describes is not a valid architecture: {where}: {first['msg']}",
                          file=path) from None
    total = int(arch_parameters(arch, active=False, norms=rms_norms)) + extra
    active = int(arch_parameters(arch, active=True, norms=rms_norms)) + extra if arch.experts else None
    return total, active
