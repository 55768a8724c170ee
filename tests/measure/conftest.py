"""Helpers for the measure tests: real torch on CPU, meta (fake tensors) and real CPU tensors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HF_CONFIGS = Path(__file__).resolve().parent / "hf_configs"
ROOT = Path(__file__).resolve().parents[2]
# Factory specs name "tests.measure.factories:NAME", imported like a user's package from the
# repository root, however pytest was started.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


def write_config(directory: Path, config: dict[str, Any], name: str = "config.json") -> Path:
    """Write an HF config.json to ``directory`` and return its path."""
    path = directory / name
    path.write_text(json.dumps(config, indent=2))
    return path


ConfigFile = Callable[..., Path]


@pytest.fixture
def config_file(tmp_path: Path) -> ConfigFile:
    """``config_file(dict)`` -> path of a config.json holding it."""
    return lambda config, name="config.json": write_config(tmp_path, config, name)
