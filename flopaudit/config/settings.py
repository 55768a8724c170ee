"""Project settings: ``[tool.flopaudit]`` in ``pyproject.toml``, or a ``.flopaudit.yaml``.

Settings are looked up from a config's folder upward to the repository root; the closest file
that has them wins (in one folder, ``.flopaudit.yaml`` before ``pyproject.toml``). Command-line
flags override them. They are how a repository fixes what its configs may not change::

    [tool.flopaudit]
    lock = ["policies", "as-of"]   # a config's own policies: / as_of: is an error
    fail-on = "indeterminate"
    policy-paths = ["compliance/policies"]          # the organisation's own policy files, judged too
    outputs = ["sarif=fa.sarif", "markdown=summary.md"]
    required-version = ">=0.1,<0.2"

Unknown keys and wrong types are errors at their line, like a config's. Every path a settings
file names (a policy file, a policy folder, an output file) is relative to the settings file's
folder and must stay inside the repository: a pull request can edit the settings too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flopaudit.config.paths import repository_root
from flopaudit.config.yaml_source import parse_yaml, read_text
from flopaudit.errors import SettingsError
from flopaudit.suggest import did_you_mean

#: What ``lock`` can name, and the config key each one stops a config from setting.
LOCKABLE = {"policies": "policies", "as-of": "as_of", "counting": "counting", "waivers": "waivers"}
#: Every settings key and the type it takes.
KEYS = {"lock": list, "policies": list, "policy-paths": list, "as-of": str, "fail-on": str, "method": str,
        "format": str, "outputs": list, "required-version": str, "allow-code": bool,
        "allow-outside-paths": bool,
        "waivers": object, "severity": object}  # waivers, severity: checked by flopaudit.policy.waivers/.severity
FILES = (".flopaudit.yaml", "pyproject.toml")


@dataclass(frozen=True)
class Settings:
    """Resolved project settings; ``file`` is where they came from (None: no settings file)."""

    file: str | None = None
    lock: frozenset[str] = frozenset()
    policies: tuple[str, ...] = ()
    as_of: dt.date | None = None
    fail_on: str | None = None
    method: str | None = None
    allow_code: bool = False
    allow_outside_paths: bool = False
    #: Files and folders of the organisation's own policies (absolute; every ``*.yaml`` of a folder).
    policy_paths: tuple[Path, ...] = ()
    #: The format written to stdout (as ``--format``).
    format: str | None = None
    #: ``(format, file)`` pairs written besides it (as ``--output FORMAT=FILE``), files absolute.
    outputs: tuple[tuple[str, Path], ...] = ()
    #: A PEP 440 specifier that flopaudit's own version must satisfy (checked when the settings are read).
    required_version: str | None = None
    #: key -> line in ``file``
    lines: dict[str, int] = field(default_factory=dict)
    #: Waivers (flopaudit.policy.waivers.Waiver) and severity overrides (policy id -> SeverityOverride).
    waivers: tuple[Any, ...] = ()
    severity: dict[str, Any] = field(default_factory=dict)


def find_settings(config_file: str | Path) -> Settings:
    """The settings that apply to ``config_file``: the closest settings file up to the repository root."""
    folder = Path(config_file).resolve().parent
    root = repository_root(folder) or folder
    for here in (folder, *folder.parents):
        for name in FILES:
            path = here / name
            if path.is_file():
                found = _read(path)
                if found is not None:
                    return found
        if here == root:
            break
    return Settings()


def _read(path: Path) -> Settings | None:
    """Settings in ``path``; None for a ``pyproject.toml`` with no ``[tool.flopaudit]`` table."""
    text = read_text(path, SettingsError)
    if path.name == "pyproject.toml":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"invalid TOML: {exc}", file=path) from None
        table = data.get("tool", {}).get("flopaudit")
        if table is None:
            return None
        return _validate(table, path, _toml_lines(text))
    doc = parse_yaml(text, str(path), SettingsError)
    if doc.data is None:
        return _validate({}, path, {})
    lines = {str(k[0]): pos[0] for k, pos in doc.positions.items() if len(k) == 1}
    return _validate(doc.data, path, lines)


def _toml_lines(text: str) -> dict[str, int]:
    """Line of each key of the ``[tool.flopaudit]`` table (tomllib gives no positions)."""
    lines: dict[str, int] = {}
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"^\s*\[([^\]]+)\]\s*(#.*)?$", line)
        if header:
            inside = header.group(1).strip() == "tool.flopaudit"
            continue
        key = re.match(r'^\s*"?([A-Za-z0-9_-]+)"?\s*=', line)
        if inside and key:
            lines.setdefault(key.group(1), number)
    return lines


def _validate(table: Any, path: Path, lines: dict[str, int]) -> Settings:
    def fail(key: str | None, message: str) -> SettingsError:
        return SettingsError(message, file=path, line=lines.get(key or "", 1 if key is None else None))

    if not isinstance(table, dict):
        raise fail(None, "flopaudit settings must be a table of keys")
    # First: settings written for a newer flopaudit may use keys this one does not know.
    if isinstance(table.get("required-version"), str):
        check_required_version(table["required-version"], fail)
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KEYS:
            raise fail(key, f"unknown setting '{key}'{did_you_mean(str(key), KEYS)}; known: {', '.join(KEYS)}")
        want = KEYS[key]
        if not isinstance(value, want) or (want is list and not all(isinstance(v, str) for v in value)):
            kind = {list: "a list of strings", str: "a string", bool: "true or false"}[want]
            raise fail(key, f"{key}: expected {kind}, got {value!r}")
        values[key] = value
    for item in values.get("lock", []):
        if item not in LOCKABLE:
            raise fail("lock", f"lock: '{item}' cannot be locked{did_you_mean(item, LOCKABLE)}; "
                               f"lockable: {', '.join(LOCKABLE)}")
    as_of = None
    if "as-of" in values:
        try:
            as_of = dt.date.fromisoformat(values["as-of"])
        except ValueError:
            raise fail("as-of", f"as-of: '{values['as-of']}' is not a date (YYYY-MM-DD)") from None
    from flopaudit.audit import FAIL_ON
    from flopaudit.estimate.methods import METHOD_ORDER
    from flopaudit.policy.severity import parse_settings as parse_severity
    from flopaudit.policy.waivers import parse_settings as parse_waivers

    choices = {"fail-on": FAIL_ON, "method": METHOD_ORDER}
    for key, allowed in choices.items():
        if key in values and values[key] not in allowed:
            raise fail(key, f"{key}: '{values[key]}' is not one of {', '.join(allowed)}"
                            f"{did_you_mean(values[key], allowed)}")
    from flopaudit.cli._output import FORMATS

    if "format" in values and values["format"] not in FORMATS:
        raise fail("format", f"format: '{values['format']}' is not one of {', '.join(FORMATS)}"
                             f"{did_you_mean(values['format'], FORMATS)}")
    inside = _inside(path, fail)
    policies = tuple(str(inside("policies", v, must_exist=True)) if _is_policy_file(v) else v
                     for v in values.get("policies", []))
    policy_paths = tuple(inside("policy-paths", v, must_exist=True) for v in values.get("policy-paths", []))
    outputs = []
    for pair in values.get("outputs", []):
        fmt, eq, file = pair.partition("=")
        if not eq or not file or fmt not in FORMATS:
            raise fail("outputs", f"outputs: '{pair}' is not FORMAT=FILE with FORMAT one of {', '.join(FORMATS)}"
                                  f"{did_you_mean(fmt, FORMATS) if eq else ''}")
        outputs.append((fmt, inside("outputs", file, must_exist=False)))
    required = values.get("required-version")
    return Settings(file=str(path), lock=frozenset(values.get("lock", [])),
                    policies=policies, as_of=as_of, fail_on=values.get("fail-on"),
                    method=values.get("method"), allow_code=values.get("allow-code", False),
                    allow_outside_paths=values.get("allow-outside-paths", False), policy_paths=policy_paths,
                    format=values.get("format"), outputs=tuple(outputs), required_version=required,
                    lines=lines,
                    waivers=parse_waivers(values.get("waivers"), path, lines.get("waivers")),
                    severity=parse_severity(values.get("severity"), path, lines.get("severity")))


def _is_policy_file(ref: str) -> bool:
    """A ``policies`` entry that names a file (a ``.yaml``/``.yml`` path), not a policy id."""
    return ref.endswith((".yaml", ".yml")) or "/" in ref


def _inside(path: Path, fail: Callable[[str | None, str], SettingsError]) -> Callable[..., Path]:
    """A resolver of the paths a settings file names: relative to its folder, inside its repository."""
    folder = path.resolve().parent
    root = repository_root(folder) or folder

    def resolve(key: str, value: str, *, must_exist: bool) -> Path:
        target = (folder / value).resolve()
        if not target.is_relative_to(root):
            raise fail(key, f"{key}: '{value}' is outside the repository ({root}); a settings file may "
                            "only name files inside it")
        if must_exist and not target.exists():
            raise fail(key, f"{key}: '{value}' not found (relative to {folder})")
        return target
    return resolve


def check_required_version(spec: str, fail: Callable[[str | None, str], SettingsError]) -> None:
    """Raise unless flopaudit's version satisfies the PEP 440 specifier ``spec`` (e.g. ``>=0.1,<0.2``)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from flopaudit import __version__

    try:
        wanted = SpecifierSet(spec)
    except InvalidSpecifier:
        raise fail("required-version", f"required-version: '{spec}' is not a version specifier "
                                       "(PEP 440, e.g. '>=0.1,<0.2')") from None
    if not wanted.contains(__version__, prereleases=True):
        raise fail("required-version", f"required-version: these settings require flopaudit {spec}; "
                                       f"this is flopaudit {__version__} (install a matching version)")


__all__ = ["FILES", "KEYS", "LOCKABLE", "Settings", "SettingsError", "check_required_version", "find_settings"]
