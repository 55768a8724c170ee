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


def norm_vectors(layers: int, d_model: int, *, per_layer: int = 2, final: int = 1, width: int = 1) -> int:
    """Norm parameters: ``per_layer`` per layer + ``final``, ``width`` d_model vectors each (RMSNorm 1, LayerNorm 2)."""
    return (layers * per_layer + final) * width * d_model


def counts(architecture: dict[str, Any], extra: int, path: Path) -> tuple[int, int | None]:
    """(total, active-or-None) parameters: the weight-matrix formula plus ``extra`` norm/bias parameters."""
    try:
        arch = Architecture(**architecture)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ConfigError(f"the model this file describes is not a valid architecture: {where}: {first['msg']}",
                          file=path) from None
    total = int(arch_parameters(arch, active=False)) + extra
    active = int(arch_parameters(arch, active=True)) + extra if arch.experts else None
    return total, active
