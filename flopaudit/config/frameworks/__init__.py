"""Readers of training frameworks' own config files (see ``base``); one module per format."""

from __future__ import annotations

import importlib
from pathlib import Path

from flopaudit.config.frameworks.base import READERS, ReadOptions, TrainingRun
from flopaudit.config.yaml_source import read_text
from flopaudit.errors import ConfigError

# one module per format, in the order detection tries them
_MODULES: tuple[str, ...] = ("megatron", "torchtitan", "maxtext", "litgpt", "nanotron", "hf_trainer")


def _load() -> None:
    for name in _MODULES:
        importlib.import_module(f"flopaudit.config.frameworks.{name}")


def formats() -> list[str]:
    """Registered format names."""
    _load()
    return list(READERS)


def detect_format(path: Path, text: str) -> str:
    """The format of ``path``, or ConfigError listing the formats tried."""
    _load()
    for name in READERS:
        if READERS[name].detect(path, text):
            return name
    raise ConfigError(f"{path.name} is not a training config flopaudit can read",
                      file=path, hint=f"formats read: {', '.join(READERS)}; give format: to force one")


def read_training_config(path: Path, *, format: str | None = None,
                         options: ReadOptions = ReadOptions()) -> TrainingRun:
    """Read a framework config file statically (never executed) into a TrainingRun."""
    _load()
    text = read_text(path, ConfigError)
    if format is not None and format not in READERS:
        raise ConfigError(f"unknown training config format {format!r}", file=path,
                          hint=f"one of {', '.join(READERS)}")
    name = format or detect_format(path, text)
    return READERS[name].read(path, text, options)
