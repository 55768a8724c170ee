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
    """Registered format names, in detection order."""
    _load()
    return _in_module_order()


def _in_module_order() -> list[str]:
    """Registered formats in the order of ``_MODULES`` (not the order modules happened to be imported)."""
    order = {module: i for i, module in enumerate(_MODULES)}
    return sorted(READERS, key=lambda name: order.get(type(READERS[name]).__module__.rsplit(".", 1)[-1],
                                                       len(order)))


def detect_format(path: Path, text: str) -> str:
    """The one format that recognises ``path``; ConfigError when none does, or when several do."""
    _load()
    found = [name for name in _in_module_order() if READERS[name].detect(path, text)]
    if len(found) > 1:
        raise ConfigError(f"{path.name} reads as several training config formats ({', '.join(found)})",
                          file=path, hint="give format: (or --training-format) to say which")
    if not found:
        raise ConfigError(f"{path.name} is not a training config flopaudit can read",
                          file=path, hint=f"formats read: {', '.join(_in_module_order())}; "
                                          "give format: to force one")
    return found[0]


def read_training_config(path: Path, *, format: str | None = None,
                         options: ReadOptions = ReadOptions(), text: str | None = None) -> TrainingRun:
    """Read a framework config file statically (never executed) into a TrainingRun (``text``: its content, if read)."""
    _load()
    text = read_text(path, ConfigError) if text is None else text
    if format is not None and format not in READERS:
        raise ConfigError(f"unknown training config format {format!r}", file=path,
                          hint=f"one of {', '.join(READERS)}")
    name = format or detect_format(path, text)
    return READERS[name].read(path, text, options)
