"""Safe YAML reading that keeps the line and column of every node.

Only plain data is built: mappings, sequences, strings, numbers, booleans, null and dates.
Python tags, any other explicit tag, merge keys and duplicate keys are refused; aliases are
allowed but the expanded document is capped, so an alias bomb fails fast instead of eating memory.
Oversized and binary files are refused before parsing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from flopaudit.errors import InputError

MAX_BYTES = 1_000_000
MAX_NODES = 100_000
MAX_DEPTH = 64

Path_ = tuple[str | int, ...]

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_DECIMAL_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")


@dataclass
class YamlDocument:
    """Plain data plus where each piece of it stands in the file."""

    data: Any
    file: str
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Path_) -> tuple[int, int] | None:
        """Line and column (1-based) of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return None
            path = path[:-1]


def read_text(path: Path, error: type[InputError] = InputError) -> str:
    """Read a small UTF-8 text file, refusing missing, huge, binary and non-regular files with a clear message."""
    from flopaudit.config.paths import regular_file

    # A FIFO would block open() forever and a device never ends: only regular files are opened.
    regular_file(path, error, limit=MAX_BYTES)
    try:
        with path.open("rb") as fh:  # never more than the limit: /dev/zero must not fill memory
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise error("file not found", file=path) from None
    except IsADirectoryError:
        raise error("is a directory, not a file", file=path) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", file=path) from None
    if len(raw) > MAX_BYTES:
        raise error(f"file is larger than {MAX_BYTES:,} bytes, the most a config may be", file=path)
    if b"\0" in raw:
        raise error("binary file (contains NUL bytes), not YAML", file=path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text (byte {exc.start})", file=path) from None


def load_yaml(path: Path, error: type[InputError] = InputError) -> YamlDocument:
    """Parse one YAML document from ``path`` into plain data with positions."""
    text = read_text(path, error)
    return parse_yaml(text, str(path), error)


def parse_yaml(text: str, file: str, error: type[InputError] = InputError) -> YamlDocument:
    """Parse YAML ``text`` (named ``file`` in messages) into plain data with positions."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise error(f"YAML syntax error: {problem}", file=file,
                    line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise error(f"character {chr(exc.character)!r} is not allowed in YAML", file=file, line=line,
                    column=column) from None
    except yaml.YAMLError as exc:
        raise error(f"YAML error: {exc}", file=file) from None
    doc = YamlDocument(data=None, file=file)
    if node is None:
        return doc
    builder = _Builder(doc, error)
    doc.data = builder.build(node, (), 0)
    return doc


class _Builder:
    def __init__(self, doc: YamlDocument, error: type[InputError]) -> None:
        self.doc = doc
        self.error = error
        self.count = 0
        self.constructor = yaml.SafeLoader("")

    def fail(self, message: str, node: yaml.Node) -> InputError:
        m = node.start_mark
        return self.error(message, file=self.doc.file, line=m.line + 1, column=m.column + 1)

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(f"document expands to more than {MAX_NODES:,} nodes "
                            "(an alias bomb?); refusing to read it", node)
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH} levels", node)
        self.doc.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            if node.tag != _STD + "map":
                raise self.fail(f"tag '{node.tag}' is not allowed: only plain YAML data is read", node)
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _STD + "merge":
                    raise self.fail("merge keys ('<<') are not supported; write the keys out", key_node)
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.fail("a mapping key must be a plain scalar", key_node)
                key = self.scalar(key_node)
                key = key if isinstance(key, str) else str(key)
                if key in out:
                    raise self.fail(f"duplicate key '{key}'", key_node)
                self.doc.positions[path + (key,)] = (key_node.start_mark.line + 1,
                                                     key_node.start_mark.column + 1)
                out[key] = self.build(value_node, path + (key,), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _STD + "seq":
                raise self.fail(f"tag '{node.tag}' is not allowed: only plain YAML data is read", node)
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise self.fail(f"tag '{node.tag}' is not allowed: only plain YAML data is read", node)
        # YAML 1.1 reads 0100 as octal 64, 0x10 as 16 and 1:30 as 90: refuse them, never guess.
        if node.tag == _STD + "int" and not _DECIMAL_INT.match(node.value):
            raise self.fail(f"write {node.value!r} as a plain decimal number (YAML 1.1 would read it as "
                            f"{self.constructor.construct_object(node)})", node)
        if node.tag == _STD + "float" and ":" in node.value:
            raise self.fail(f"write {node.value!r} as a plain decimal number", node)
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            raise self.fail(f"invalid value {node.value!r}: {exc}", node) from None
        if isinstance(value, str) and (bad := _BIDI.search(value)):
            # Right-to-left overrides make a name display as something else (and spill into the report).
            raise self.fail(f"bidirectional control character U+{ord(bad.group()):04X} is not allowed", node)
        if isinstance(value, dt.datetime):
            return value.date() if value.time() == dt.time(0) else value
        return value
