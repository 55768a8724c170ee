"""A training framework's file given where a flopaudit config is expected (``check train.sh``).

The file is audited as one pretraining stage whose ``training_config`` is that file: the
equivalent flopaudit config is written as text (what ``flopaudit import`` prints) and loaded as if
it stood next to the file, so paths, the repository root and every location stay the file's own.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from flopaudit.config.frameworks import detect_format, read_training_config
from flopaudit.config.frameworks.base import ReadOptions, TrainingRun
from flopaudit.config.loader import LoadedConfig, load_config, load_config_text, validate_document
from flopaudit.config.yaml_source import parse_yaml, read_text
from flopaudit.errors import ConfigError

#: Suffixes that are never a flopaudit config.
_FRAMEWORK_SUFFIXES = {".sh", ".bash", ".toml", ".json"}


def _framework_format(path: Path) -> tuple[str | None, str | None]:
    """``(format, text)``: the framework format of ``path`` and its text if read. The format is None for a
    flopaudit config, and ``""`` for a framework's file whose format is detected when it is read.

    ``.sh``, ``.toml`` and ``.json`` files are frameworks' (detected when read); a YAML file is
    flopaudit's when it has a top-level ``training`` key or no framework reader recognises it (the
    config loader then explains what it expected); other suffixes are flopaudit's.
    """
    suffix = path.suffix.lower()
    if suffix in _FRAMEWORK_SUFFIXES:
        return "", None
    if suffix not in {".yaml", ".yml"}:
        return None, None
    try:
        text = read_text(path, ConfigError)
    except ConfigError:
        return None, None  # the config loader reports it
    if re.search(r"^training\s*:", text, re.MULTILINE) or not text.strip():
        return None, text
    try:
        return detect_format(path, text), text
    except ConfigError:
        return None, text


def framework_flag(*, devices: int | None, vocab: int | None, sequence_length: int | None,
                   format: str | None) -> str | None:
    """The first of the flags for a framework's file given directly that was given, if any."""
    given = {"--devices": devices, "--vocab": vocab, "--sequence-length": sequence_length,
             "--training-format": format}
    return next((name for name, value in given.items() if value is not None), None)


def load_any(path: str | Path, *, devices: int | None = None, vocab: int | None = None,
             sequence_length: int | None = None, format: str | None = None) -> LoadedConfig:
    """A flopaudit config, or a framework file audited as one pretraining stage."""
    path = Path(path)
    detected, text = _framework_format(path)
    if detected is None:
        flag = framework_flag(devices=devices, vocab=vocab, sequence_length=sequence_length, format=format)
        if flag is not None:
            raise ConfigError(f"{flag} is for a training framework's file given directly; in a flopaudit "
                              "config give it under the stage's training_config", file=path)
        return load_config(path) if text is None else validate_document(parse_yaml(text, str(path), ConfigError))
    options = ReadOptions(devices=devices, vocab=vocab, sequence_length=sequence_length)
    run = read_training_config(path, format=format or detected or None, options=options, text=text)
    config = config_text(run, reference=path.name, devices=devices, vocab=vocab, format=format,
                         sequence_length=sequence_length)
    loaded = load_config_text(config, str(path))
    loaded.document.positions.clear()  # its lines are the framework file's, not this text's
    loaded.runs["pretraining"] = run  # read once: resolve() takes it instead of reading the file again
    return loaded


def config_text(run: TrainingRun, *, reference: str, devices: int | None, vocab: int | None,
                format: str | None, sequence_length: int | None = None, header: bool = False) -> str:
    """The flopaudit config equivalent to ``run``, pointing at it by ``reference`` (a relative path)."""
    ref: dict[str, object] = {"path": reference}
    if format is not None or header:
        ref["format"] = run.format
    if devices is not None:
        ref["devices"] = devices
    if vocab is not None:
        ref["vocab"] = vocab
    name = run.model_name or Path(reference).stem
    data = {"model": {"name": name},
            "training": [{"name": "pretraining", "kind": "pretraining", "training_config": ref,
                          **({"sequence_length": sequence_length} if sequence_length is not None else {})}]}
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)
    if not header:
        return body
    lines = [f"# Written by `flopaudit import` from {reference} ({run.format}). The numbers below come from",
             "# that file at each check; they are listed here for the reader, not read back:"]
    for key, value in sorted(run.values.items()):
        place = f"line {value.line}" if value.line else "not from the file"
        lines.append(f"#   {key}: {value.value!r} ({value.origin}, {place})")
    lines.append(f"#   tokens: {run.tokens:,} = {run.steps:,} steps x {run.global_batch:,} sequences x "
                 f"{run.sequence_length:,} tokens")
    if run.parameters is not None:
        lines.append(f"#   parameters: {run.parameters:,}" + (
            f" ({run.active_parameters:,} active)" if run.active_parameters not in (None, run.parameters) else ""))
    return "\n".join(lines) + "\n" + body


def relative_reference(target: Path, config_dir: Path) -> str:
    """``target`` as a path relative to the folder the config will be written in."""
    return Path(os.path.relpath(target.resolve(), config_dir.resolve())).as_posix()
