"""Helpers the framework readers share: building the architecture, the run and its values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from flopaudit.config.frameworks.base import ReadOptions, Value
from flopaudit.config.models import Architecture
from flopaudit.errors import ConfigError
from flopaudit.estimate.methods import arch_parameters


def architecture(kwargs: dict[str, Any], path: Path, values: dict[str, Value]) -> Architecture:
    """Validate the architecture a reader built; a shape flopaudit refuses is a ConfigError at its line."""
    try:
        return Architecture(**kwargs)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = (err.get("ctx") or {}).get("path") or list(err.get("loc") or ())
        key = str(where[0]) if where else ""
        found = values.get(key)
        raise ConfigError(f"{err['msg']}", file=path, line=found.line if found else None) from None


def parameters(arch: Architecture) -> tuple[int, int]:
    """Total and active parameters with flopaudit's formula, RMSNorm weights included (as published counts)."""
    return int(arch_parameters(arch, active=False, norms=True)), int(arch_parameters(arch, active=True, norms=True))


def check_options(options: ReadOptions, path: Path) -> None:
    """The devices and vocab options are positive counts."""
    for key in ("devices", "vocab"):
        value = getattr(options, key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(f"the {key} option must be a positive integer, got {value!r}", file=path)
