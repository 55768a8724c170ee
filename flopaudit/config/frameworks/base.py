"""What a framework reader returns, and the registry of readers (one module per format).

A reader turns a training framework's own config file (a Megatron-LM launch script, a torchtitan
TOML, a MaxText/LitGPT/nanotron YAML, a Hugging Face ``trainer_state.json``) into a
:class:`TrainingRun`: the architecture, the training length and batch, and, for every number,
the line of the file it came from. Readers only read: nothing in a file is executed, imported
or fetched, and a file that would need executing (command substitution, ``source``) is refused
with its line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from flopaudit.errors import ConfigError


@dataclass(frozen=True)
class Value:
    """One number (or flag) a run depends on, and where it came from."""

    value: Any
    line: int | None  # 1-based line in the framework file; None when it did not come from the file
    origin: str  # what said it: "--num-layers", "[training] steps", "torchtitan flavor llama3/8B", "devices option"


@dataclass(frozen=True)
class FrameworkFlop:
    """The training FLOP the framework itself would report for the run (its published formula)."""

    framework: str  # "Megatron-LM", "torchtitan", "MaxText", "LitGPT", "nanotron", "Hugging Face Trainer"
    flop: float  # total over the run
    formula: str  # the framework's function, e.g. "num_floating_point_operations"
    source: str  # where the formula is published (URL to the framework's source at a tag)
    convention: str  # how it differs from flopaudit's count (causal halving, embeddings, logits, ...)


@dataclass(frozen=True)
class ReadOptions:
    """What the outside world supplies when the file does not say it (never guessed)."""

    devices: int | None = None  # world size (number of accelerators)
    vocab: int | None = None  # vocabulary size when the tokenizer decides it
    sequence_length: int | None = None  # tokens per sequence when the file records none (HF trainer_state.json)


@dataclass
class TrainingRun:
    """A training run as its framework config describes it."""

    format: str  # registry name of the reader
    path: Path
    architecture: dict[str, Any]  # keyword arguments of flopaudit.config.models.Architecture
    sequence_length: int
    global_batch: int  # sequences per optimizer step, over all data-parallel ranks
    steps: int  # optimizer steps
    tokens: int  # steps x global_batch x sequence_length
    values: dict[str, Value] = field(default_factory=dict)  # every number above (and more), by name
    model_name: str | None = None  # preset or model name when the file gives one
    parameters: int | None = None  # total parameters, when the reader can count them exactly
    active_parameters: int | None = None  # per token (mixture of experts)
    framework_flop: FrameworkFlop | None = None
    declared_flop: Value | None = None  # a FLOP total the run itself recorded (HF total_flos)
    notes: list[str] = field(default_factory=list)

    def line_of(self, name: str) -> int | None:
        """Line of the file the named number came from (None when it came from elsewhere)."""
        found = self.values.get(name)
        return found.line if found else None


class Reader(Protocol):
    """A framework config format."""

    name: str  # registry key and the ``format:`` value users write: "megatron", "torchtitan", ...
    label: str  # for people: "Megatron-LM launch script"

    def detect(self, path: Path, text: str) -> bool:
        """Whether ``text`` (the content of ``path``) is in this format; cheap and never raising."""

    def read(self, path: Path, text: str, options: ReadOptions) -> TrainingRun:
        """Read the run; ConfigError (with file and line) for anything missing, ambiguous or refused."""


class ReaderRegistry:
    """Readers by name; a second registration of a name raises."""

    def __init__(self) -> None:
        self._items: dict[str, Reader] = {}

    def register(self, reader: Reader) -> Reader:
        if reader.name in self._items:
            raise ValueError(f"duplicate framework reader registration for '{reader.name}'")
        self._items[reader.name] = reader
        return reader

    def __getitem__(self, name: str) -> Reader:
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)


READERS = ReaderRegistry()


def missing(what: str, path: Path, *, key: str, line: int | None = None) -> ConfigError:
    """The error for a number the file does not determine: it names the key that supplies it."""
    # the stage's own sequence_length supplies it; devices and vocab go under training_config
    where = "the stage's sequence_length: N" if key == "sequence_length" else f"training_config: {{{key}: N}}"
    flag = "--" + key.replace("_", "-")
    return ConfigError(f"{path.name} does not determine {what}", file=path, line=line,
                       hint=f"give it as {where} (or {flag} N when checking the file directly)")


def refused(what: str, path: Path, line: int) -> ConfigError:
    """The error for something that would need executing the file."""
    return ConfigError(f"{what}: flopaudit reads training configs statically and never runs them",
                       file=path, line=line)

