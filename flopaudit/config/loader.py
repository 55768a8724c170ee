"""Load a config file: safe YAML with positions, then the pydantic models, errors at their line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from flopaudit.config.models import Config
from flopaudit.config.yaml_source import YamlDocument, load_yaml, parse_yaml
from flopaudit.errors import ConfigError, InputError
from flopaudit.suggest import did_you_mean

if TYPE_CHECKING:
    from flopaudit.config.frameworks.base import TrainingRun


@dataclass
class LoadedConfig:
    """A validated config with the file it came from and the place of every field."""

    config: Config
    document: YamlDocument
    #: Framework config files read for ``training_config:`` stages, by stage name
    #: (:func:`flopaudit.config.training_config.resolve` fills them in).
    runs: dict[str, TrainingRun] = field(default_factory=dict)
    #: Compute ledgers (``ledger:`` stages) by stage name: :class:`flopaudit.ledger.records.LedgerSummary`.
    ledgers: dict[str, Any] = field(default_factory=dict)
    #: The config's bytes when it has no file to read them from again (``-``: stdin).
    source: bytes | None = None

    @property
    def file(self) -> str:
        """The path as the user gave it."""
        return self.document.file

    def error(self, message: str, *path: str | int, cls: type[InputError] = ConfigError) -> InputError:
        """An error located at ``path`` of this config."""
        line, col = self.document.position(path) or (None, None)
        return cls(f"{field_path(path)}: {message}" if path else message,
                   file=self.file, line=line, column=col)


def field_path(path: tuple[Any, ...] | list[Any]) -> str:
    """``training[0].hardware.count`` from ``("training", 0, "hardware", "count")``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_config(path: str | Path) -> LoadedConfig:
    """Read and validate a config file; raise :class:`ConfigError` naming the file, line and field."""
    return validate_document(load_yaml(Path(path), ConfigError))


def load_config_text(text: str, name: str = "<string>") -> LoadedConfig:
    """Validate config YAML given as text (for tests and the Python API)."""
    return validate_document(parse_yaml(text, name, ConfigError))


def validate_document(doc: YamlDocument) -> LoadedConfig:
    """Validate parsed YAML against :class:`Config`."""
    if doc.data is None:
        raise ConfigError("the config is empty (expected a mapping with 'model' and 'training')", file=doc.file)
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else f"a {type(doc.data).__name__}"
        raise ConfigError(f"the config must be a mapping with 'model' and 'training', not {kind}",
                          file=doc.file, line=1, column=1)
    try:
        config = Config.model_validate(doc.data)
    except ValidationError as exc:
        raise _first_error(exc, doc) from None
    return LoadedConfig(config, doc)


def _first_error(exc: ValidationError, doc: YamlDocument) -> ConfigError:
    """Turn the first pydantic error into ``file:line:col: field: message``."""
    errors = sorted(exc.errors(include_url=False),
                    key=lambda e: doc.position(_clean_loc(e)) or (10**9, 0))
    err = errors[0]
    loc = _clean_loc(err)
    message = _message(err, loc)
    line, col = doc.position(loc) or (None, None)
    where = field_path(loc)
    return ConfigError(f"{where}: {message}" if where else message, file=doc.file, line=line, column=col)


def _clean_loc(err: Any) -> tuple[Any, ...]:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    ctx = err.get("ctx") or {}
    if err["type"] == "located":
        loc += list(ctx.get("path", []))
    return tuple(loc)


def _message(err: Any, loc: tuple[Any, ...]) -> str:
    kind, msg, ctx = err["type"], err["msg"], err.get("ctx") or {}
    if kind == "missing":
        return f"missing required key '{loc[-1]}'" if loc else "missing required key"
    if kind == "literal_error":
        expected = [s.strip(" '") for s in ctx.get("expected", "").replace(" or ", ",").split(",")]
        given = str(err.get("input"))
        return f"'{given}' is not one of {', '.join(expected)}{did_you_mean(given, expected)}"
    if kind in ("model_type", "model_attributes_type", "mapping_type", "dict_type"):
        got = err.get("input")
        return f"expected a mapping of keys, got {type(got).__name__ if got is not None else 'nothing'}"
    if kind == "too_short" and isinstance(err.get("input"), list):
        return "needs at least one entry"
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return msg
