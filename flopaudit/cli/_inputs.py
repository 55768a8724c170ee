"""The CONFIG arguments of ``check`` and ``report``: files, directories, globs and ``-`` (stdin).

- A file is taken as it is: a flopaudit config, or a training framework's file audited as one
  pretraining stage.
- A directory stands for every flopaudit config under it (``*.yaml`` / ``*.yml`` with a top-level
  ``training:`` key), in sorted path order, skipping hidden folders (``.git``) and not following
  linked folders. Training
  frameworks' files in it are not picked up: name them one by one.
- A glob (``configs/*.yaml``, ``configs/**/*.yml``) that the shell left unexpanded (quoted, or
  Windows) is expanded here, sorted; a match that is a directory is expanded as above.
- ``-`` reads one flopaudit config from stdin. Its errors name it ``<stdin>``; the paths in it
  are relative to the working directory, and its repository root and project settings are the
  working directory's.

A directory or glob that gives no config is an error (exit 2), never an empty check.
"""

from __future__ import annotations

import glob
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from flopaudit.errors import ConfigError, InputError

if TYPE_CHECKING:
    from flopaudit.config.loader import LoadedConfig

#: The location name of a config read from stdin, in every message and output.
STDIN = "<stdin>"
_GLOB = re.compile(r"[*?\[]")
_TRAINING = re.compile(r"^training\s*:", re.MULTILINE)


def _is_config(path: Path) -> bool:
    """Whether a YAML file found in a directory is a flopaudit config (a top-level ``training:`` key)."""
    from flopaudit.config.yaml_source import read_text

    try:
        return bool(_TRAINING.search(read_text(path, ConfigError)))
    except ConfigError:
        return False  # unreadable, huge or binary: not a config we were asked for by name


def configs_under(folder: Path) -> list[str]:
    """The flopaudit configs under ``folder``, sorted; hidden folders and linked folders are not entered,
    and a linked file counts only when it resolves inside the folder's repository root (a pull
    request may hold links; a loop of them must not hang the walk)."""
    from flopaudit.config.paths import repository_root

    root = repository_root(folder) or folder.resolve()
    found = []
    for here, dirs, files in os.walk(folder):  # followlinks=False
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            path = Path(here) / name
            if path.suffix.lower() not in (".yaml", ".yml"):
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                continue
            if path.is_file() and _is_config(path):
                found.append(str(path))
    return sorted(found)


def expand(arguments: Sequence[str]) -> list[str]:
    """The config files ``arguments`` stand for, in order, each once (``-`` for stdin)."""
    out: list[str] = []
    for arg in arguments:
        if arg == "-":
            if STDIN in out:
                raise InputError("'-' (stdin) given twice: stdin holds one config")
            out.append(STDIN)
            continue
        path = Path(arg)
        if path.is_dir():
            found = configs_under(path)
            if not found:
                raise InputError("no flopaudit config (*.yaml or *.yml with a top-level 'training:' key) "
                                 "under this directory; name a framework's file directly", file=arg)
            out.extend(found)
        elif not path.exists() and _GLOB.search(arg):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                raise InputError("no file matches this pattern", file=arg)
            for match in matches:
                out.extend(configs_under(Path(match)) if Path(match).is_dir() else [match])
        else:
            out.append(arg)  # a file, or a missing one the loader reports at its name
    seen: set[str] = set()
    unique = []
    for item in out:  # "./c.yaml" and "c.yaml" are one file
        key = os.path.normpath(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def read_stdin() -> str:
    """The text on stdin, with the limits of a config file (size, UTF-8, no NUL)."""
    from flopaudit.config.yaml_source import MAX_BYTES

    raw = sys.stdin.buffer.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"stdin holds more than {MAX_BYTES:,} bytes, the most a config may be", file=STDIN)
    if b"\0" in raw:
        raise ConfigError("binary input (contains NUL bytes), not YAML", file=STDIN)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", file=STDIN) from None


def load(config: str, stdin_text: str | None, *, devices: int | None, vocab: int | None,
         sequence_length: int | None, training_format: str | None) -> LoadedConfig:
    """Load one expanded CONFIG: ``<stdin>`` from ``stdin_text``, anything else from its file."""
    if config != STDIN:
        from flopaudit.config.direct import load_any

        return load_any(config, devices=devices, vocab=vocab, sequence_length=sequence_length,
                        format=training_format)
    from flopaudit.config.direct import framework_flag

    flag = framework_flag(devices=devices, vocab=vocab, sequence_length=sequence_length, format=training_format)
    if flag is not None:
        raise ConfigError(f"{flag} is for a training framework's file given directly; stdin holds a "
                          "flopaudit config, which gives it under the stage's training_config", file=STDIN)
    from flopaudit.config.loader import load_config_text

    loaded = load_config_text(stdin_text or "", STDIN)
    loaded.source = (stdin_text or "").encode("utf-8")
    return loaded


__all__ = ["STDIN", "configs_under", "expand", "load", "read_stdin"]
