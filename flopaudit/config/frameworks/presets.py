"""The built-in, sourced preset tables of framework model names (``flopaudit/data/<framework>_models.yaml``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from flopaudit.config.yaml_source import load_yaml

DATA = Path(__file__).resolve().parent.parent.parent / "data"


@cache
def table(name: str) -> dict[str, Any]:
    """The whole table ``data/<name>_models.yaml`` (``models``, and the framework's defaults where it has them)."""
    doc = load_yaml(DATA / f"{name}_models.yaml")
    return doc.data
