"""The one error tree of flopaudit.

Every mistake a user can make, and every input flopaudit cannot judge, raises a subclass of
:class:`FlopauditError`. The CLI maps all of them to exit code 2 and prints ``file:line:col:
message`` (no traceback); exit code 1 is reserved for a crossed policy threshold.

::

    FlopauditError                  anything flopaudit reports as "could not be judged"
    ├── InputError                  a user input is wrong; carries its file and place
    │   ├── ConfigError             a training-run config (YAML) is invalid
    │   │   ├── SettingsError       project settings ([tool.flopaudit], .flopaudit.yaml) are invalid
    │   │   └── LedgerError         a compute ledger (JSON lines) is invalid, locked or inconsistent
    │   ├── PolicyError             a policy file or policy id is invalid
    │   ├── ModelSourceError        an hf_config / factory / module cannot be built
    │   ├── CodeNotAllowedError     a config names code to run, and --allow-code was not given
    │   └── MissingDependencyError  an optional extra (measure, hf) is not installed
    └── MeasureError                a real model could not be counted (or its child process failed)
"""

from __future__ import annotations

from pathlib import Path


def format_location(file: str | None, line: int | None, column: int | None) -> str:
    """``file:line:col`` (as much of it as is known), or an empty string without a file."""
    parts = [file] if file else []
    if file and line is not None:
        parts.append(str(line))
        if column is not None:
            parts.append(str(column))
    return ":".join(parts)


class FlopauditError(Exception):
    """Base of every error flopaudit raises on purpose (exit code 2)."""

    def __init__(self, message: str, *, file: str | Path | None = None,
                 line: int | None = None, column: int | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.column = column
        self.hint = hint

    def location(self) -> str:
        """``file:line:col`` (as much of it as is known), or an empty string."""
        return format_location(self.file, self.line, self.column)

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class InputError(FlopauditError):
    """A user input is wrong; the message names the field and the place."""


class ConfigError(InputError):
    """A training-run config is invalid (YAML, schema or values)."""


class SettingsError(ConfigError):
    """Project settings (``[tool.flopaudit]`` or ``.flopaudit.yaml``) are invalid."""


class LedgerError(ConfigError):
    """A compute ledger is invalid, held by another process, or does not fit the run resuming it."""


class PolicyError(InputError):
    """A policy file is invalid, or a policy id is unknown."""


class ModelSourceError(InputError):
    """A model source (HF config.json, factory, module) cannot be built."""


class CodeNotAllowedError(InputError):
    """A config names Python code to import and run (``model.factory``) and no consent was given."""


class MissingDependencyError(InputError):
    """An optional dependency is missing; the hint names the exact extras to install.

    ``extras`` is one extra (``"measure"``) or several (``("measure", "hf")``), installed together
    as ``pip install 'flopaudit[measure,hf]'``; ``extra`` is that bracket's text.
    """

    def __init__(self, package: str, extras: str | tuple[str, ...], purpose: str, *,
                 file: str | Path | None = None, line: int | None = None, column: int | None = None,
                 also: str | None = None) -> None:
        self.package = package
        self.extras = (extras,) if isinstance(extras, str) else tuple(extras)
        self.extra = ",".join(self.extras)
        self.purpose = purpose
        hint = f"pip install 'flopaudit[{self.extra}]'" + (f"; {also}" if also else "")
        super().__init__(f"{purpose} needs the optional package '{package}', which is not installed",
                         file=file, line=line, column=column, hint=hint)


class MeasureError(FlopauditError):
    """A real model could not be run or counted."""
