"""Reading numbers out of a parsed framework file, each with its line (shared by the YAML and JSON readers)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flopaudit.config.frameworks.base import Value
from flopaudit.config.yaml_source import YamlDocument
from flopaudit.errors import ConfigError

Key = tuple[str | int, ...]

#: No count in a training config comes near this (layers, widths, batches, steps, tokens per step): a larger
#: number is a slipped exponent, and refusing it keeps every FLOP product far from float overflow.
MAX_COUNT = 10**15


def dotted(key: Key) -> str:
    """``("tokens", "train_steps")`` as people write it: ``tokens.train_steps``."""
    return ".".join(str(k) for k in key)


@dataclass
class Fields:
    """A framework file's data with the line of every key (YAML positions or a JSON line finder)."""

    path: Path
    data: Any
    lines: dict[Key, int]

    @classmethod
    def from_yaml(cls, path: Path, doc: YamlDocument) -> "Fields":
        """Fields of a parsed YAML document (lines from its node positions)."""
        return cls(path, doc.data, {k: pos[0] for k, pos in doc.positions.items()})

    @classmethod
    def from_json(cls, path: Path, text: str) -> "Fields":
        """Fields of a JSON file; lines from the position of each ``"key":`` in the text."""
        try:
            data = json.loads(text)
            return cls(path, data, _json_lines(text, data))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON: {exc.msg}", file=path, line=exc.lineno, column=exc.colno) from None
        except RecursionError:
            raise ConfigError("JSON nested too deeply to be a trainer state or model config", file=path) from None

    def line(self, key: Key) -> int | None:
        """Line of ``key`` or of its nearest ancestor that has one."""
        key = tuple(key)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None

    def has(self, key: Key) -> bool:
        """Whether ``key`` is present and not null."""
        return self.raw(key) is not None

    def raw(self, key: Key) -> Any:
        """The value at ``key``, or None when any part of the path is absent."""
        node = self.data
        for part in key:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                return None
        return node

    def mapping(self, key: Key) -> dict[str, Any] | None:
        """The mapping at ``key`` (None when absent or null); ConfigError when it is something else."""
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(f"{dotted(key)} must be a mapping", key)
        return value

    def error(self, message: str, key: Key) -> ConfigError:
        """A ConfigError at the line of ``key``."""
        return ConfigError(message, file=self.path, line=self.line(key))

    def integer(self, key: Key, *, minimum: int = 1, origin: str | None = None) -> Value | None:
        """A whole number at ``key`` (at least ``minimum``), as a located Value; None when absent."""
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
            raise self.error(f"{dotted(key)} must be a whole number, got {value!r}", key)
        if value < minimum:
            raise self.error(f"{dotted(key)} must be at least {minimum}, got {value!r}", key)
        if value > MAX_COUNT:
            raise self.error(f"{dotted(key)} = {value!r} is more than {MAX_COUNT:.0e}: a slipped exponent?", key)
        return Value(int(value), self.line(key), origin or dotted(key))

    def number(self, key: Key, *, origin: str | None = None, maximum: float = MAX_COUNT) -> Value | None:
        """A positive number up to ``maximum`` at ``key`` (a fractional batch, a FLOP total); None when absent."""
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= maximum:
            raise self.error(f"{dotted(key)} must be a positive number up to {maximum:.0e}, got {value!r}", key)
        return Value(value, self.line(key), origin or dotted(key))

    def flag(self, key: Key, *, origin: str | None = None) -> Value | None:
        """A boolean at ``key``; None when absent."""
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise self.error(f"{dotted(key)} must be true or false, got {value!r}", key)
        return Value(value, self.line(key), origin or dotted(key))

    def text(self, key: Key, *, origin: str | None = None) -> Value | None:
        """A string at ``key``; None when absent."""
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(f"{dotted(key)} must be a string, got {value!r}", key)
        return Value(value, self.line(key), origin or dotted(key))


def _json_lines(text: str, data: Any) -> dict[Key, int]:
    """Line of each key of a JSON document, found by scanning the text in document order."""
    lines: dict[Key, int] = {}
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)

    def line_at(offset: int) -> int:
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    decoder = json.JSONDecoder()
    pos = 0

    def skip_ws(p: int) -> int:
        while p < len(text) and text[p] in " \t\r\n":
            p += 1
        return p

    def walk(p: int, key: Key) -> int:
        p = skip_ws(p)
        if text[p] == "{":
            p = skip_ws(p + 1)
            if text[p] == "}":
                return p + 1
            while True:
                p = skip_ws(p)
                name, p_end = decoder.raw_decode(text, p)
                lines[key + (name,)] = line_at(p)
                p = skip_ws(p_end)
                p = walk(p + 1, key + (name,))  # past ':'
                p = skip_ws(p)
                if text[p] == ",":
                    p += 1
                    continue
                return p + 1  # '}'
        if text[p] == "[":
            p = skip_ws(p + 1)
            if text[p] == "]":
                return p + 1
            i = 0
            while True:
                lines.setdefault(key + (i,), line_at(skip_ws(p)))
                p = skip_ws(walk(p, key + (i,)))
                i += 1
                if text[p] == ",":
                    p += 1
                    continue
                return p + 1
        _, p_end = decoder.raw_decode(text, p)
        return p_end

    if data is not None:
        walk(skip_ws(pos), ())
    return lines


def absent(what: str, path: Path, key: str, *, line: int | None = None) -> ConfigError:
    """The error for a number only the file itself can give (a dimension, a training length): it names the key."""
    return ConfigError(f"{path.name} does not set {key} ({what})", file=path, line=line,
                       hint=f"add {key}: to the file")
