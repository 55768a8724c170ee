"""Severity: whether a policy in force fails the gate (``error``) or is only shown (``warning``).

A policy file may say ``severity: error | warning``; without it guidance (``instrument.kind:
guidance``: the EU Guidelines' indicative 1e23 criterion) is a warning and every other
instrument an error, so that a policy file that forgets the key fails closed
(:attr:`flopaudit.policy.models.Policy.default_severity`). Project settings can raise or lower it
per policy (``severity = {eu-gpai-indicative = "error"}``); lowering one is a notice, since it
weakens the gate. A warning is shown and annotated (GitHub ``::warning``, SARIF level
``warning``) and never changes the exit code. Conventions as conftest's ``warn`` rules and
checkov's ``--soft-fail-on`` by severity
(https://github.com/open-policy-agent/conftest/blob/master/docs/index.md).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flopaudit.errors import SettingsError
from flopaudit.notices import Notice
from flopaudit.suggest import did_you_mean

if TYPE_CHECKING:
    from flopaudit.policy.models import Policy

SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class SeverityOverride:
    """A settings entry ``policy: level`` and where it was written."""

    policy: str
    level: str
    file: str | None = None
    line: int | None = None

    @property
    def source(self) -> str:
        """Where the override came from, as outputs name it."""
        return f"project settings {self.file}" if self.file else "project settings"


def parse_settings(value: Any, path: Path, line: int | None) -> dict[str, SeverityOverride]:
    """The ``severity`` setting (policy id -> error | warning) of the settings file ``path``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SettingsError(f"severity: expected a table of policy id = \"error\" or \"warning\", got {value!r}",
                            file=path, line=line)
    lines = _key_lines(path, list(value), line)
    out: dict[str, SeverityOverride] = {}
    for pid, level in value.items():
        if level not in SEVERITIES:
            raise SettingsError(f"severity.{pid}: '{level}' is not one of {', '.join(SEVERITIES)}"
                                f"{did_you_mean(str(level), SEVERITIES)}", file=path, line=lines[pid])
        out[str(pid)] = SeverityOverride(str(pid), level, str(path), lines[pid])
    return out


def _key_lines(path: Path, keys: list[str], line: int | None) -> dict[str, int | None]:
    """The line of each policy id under ``severity`` (YAML positions; in TOML the first line naming it)."""
    from flopaudit.config.yaml_source import parse_yaml, read_text

    text = read_text(path, SettingsError)
    if path.suffix != ".toml":
        doc = parse_yaml(text, str(path), SettingsError)
        return {k: (doc.position(("severity", k)) or (line, None))[0] for k in keys}
    numbered = list(enumerate(text.splitlines(), 1))
    out: dict[str, int | None] = {}
    for k in keys:
        hit = [n for n, t in numbered if re.search(rf'(^|[{{,\s])"?{re.escape(k)}"?\s*=', t)]
        out[k] = hit[0] if hit else line
    return out


def check_known(overrides: Mapping[str, SeverityOverride], known: Collection[str]) -> None:
    """Refuse an override for a policy flopaudit does not know (a typo must not silently do nothing)."""
    for pid, o in overrides.items():
        if pid not in known:
            raise SettingsError(f"severity: unknown policy '{pid}'{did_you_mean(pid, known)}; "
                                f"known: {', '.join(sorted(known))}", file=o.file, line=o.line)


def lowered(policies: Sequence["Policy"], overrides: Mapping[str, SeverityOverride]) -> list[Notice]:
    """A notice for each judged policy whose error severity the settings lower to warning."""
    out = []
    for p in policies:
        o = overrides.get(p.id)
        if o is not None and o.level == "warning" and p.default_severity == "error":
            out.append(Notice("severity-lowered", f"{o.source} lowers '{p.id}' from error to warning: a crossing "
                                                  "is shown and annotated but does not fail the gate",
                              o.file, o.line, None, p.id))
    return out


__all__ = ["SEVERITIES", "SeverityOverride", "check_known", "lowered", "parse_settings"]
