"""Waivers: an acknowledged verdict that does not gate until the waiver expires.

A team that has crossed a threshold in force and done what the law asks (notified the regulator)
still wants the gate on every other pull request. A waiver names the policy, says why, and
expires; the waived check keeps its verdict and every output shows it as waived, but it does
not fail the gate. The rules (issue 10, item 1):

- ``policy``, ``reason`` and ``expires`` are required, ``reference`` is optional;
- a waiver applies while the audit's as-of date is on or before ``expires`` (the expiry day is
  the last day it waives); after it, the check gates again and every output says it expired and when;
- a waiver whose policy is unknown or not judged is a notice at its line (with did-you-mean);
- waivers come from the config (``waivers:``) and from project settings (``waivers``); for one
  policy the first waiver that is in force wins, the config's before the settings';
- a waiver changes only whether a check gates: a config that cannot be judged still exits 2.

The conventions follow checkov's skip comments and SARIF suppressions
(https://github.com/bridgecrewio/checkov/blob/main/docs/2.Basics/Suppressing%20and%20Skipping%20Policies.md)
and conftest's exceptions, counted apart "so you can detect when exceptions are being made"
(https://github.com/open-policy-agent/conftest/blob/master/docs/exceptions.md).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flopaudit.errors import SettingsError
from flopaudit.notices import Notice
from flopaudit.suggest import did_you_mean

if TYPE_CHECKING:
    from flopaudit.config.loader import LoadedConfig
    from flopaudit.policy.judge import PolicyCheck


@dataclass(frozen=True)
class Waiver:
    """One waiver and where it was written (``file``/``line`` of its entry)."""

    policy: str
    reason: str
    expires: dt.date
    reference: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def active_on(self, date: dt.date) -> bool:
        """Whether the waiver waives on ``date``: up to and including its ``expires`` day."""
        return date <= self.expires

    def label(self) -> str:
        """``reason (reference)``: the justification as every output prints it."""
        return f"{self.reason} ({self.reference})" if self.reference else self.reason

    def where(self) -> str:
        """``file:line`` of the entry, or an empty string."""
        from flopaudit.errors import format_location

        return format_location(self.file, self.line, None)

    def as_dict(self, date: dt.date) -> dict[str, Any]:
        """The JSON object of a waiver (results.md, ``checks[].waiver``)."""
        return {"policy": self.policy, "reason": self.reason, "reference": self.reference,
                "expires": self.expires.isoformat(), "expired": not self.active_on(date),
                "file": self.file, "line": self.line}


def from_config(loaded: "LoadedConfig") -> list[Waiver]:
    """The waivers of a loaded config, each at the line of its entry."""
    out = []
    for i, w in enumerate(loaded.config.waivers):
        line, column = loaded.document.position(("waivers", i)) or (None, None)
        out.append(Waiver(w.policy, w.reason, w.expires, w.reference, loaded.file, line, column))
    return out


def parse_settings(value: Any, path: Path, line: int | None) -> tuple[Waiver, ...]:
    """The ``waivers`` setting (a list of tables) of the settings file ``path``; errors at their line."""
    from pydantic import ValidationError

    from flopaudit.config.loader import _clean_loc, _message, field_path
    from flopaudit.config.models import Waiver as WaiverModel

    if value is None:
        return ()
    if not isinstance(value, list):
        raise SettingsError(f"waivers: expected a list of tables (policy, reason, expires), got {value!r}",
                            file=path, line=line)
    lines = _entry_lines(path, len(value), line)
    out = []
    for i, entry in enumerate(value):
        try:
            w = WaiverModel.model_validate(entry)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            loc = _clean_loc(err)
            where = field_path(("waivers", i, *loc))
            raise SettingsError(f"{where}: {_message(err, loc)}", file=path, line=lines[i]) from None
        if w.policy in [o.policy for o in out]:
            raise SettingsError(f"waivers[{i}]: a second waiver for '{w.policy}': give one per policy",
                                file=path, line=lines[i])
        out.append(Waiver(w.policy, w.reason, w.expires, w.reference, str(path), lines[i]))
    return tuple(out)


def _entry_lines(path: Path, count: int, line: int | None) -> list[int | None]:
    """The line of each ``waivers`` entry of a settings file (YAML positions, TOML ``[[...waivers]]`` headers)."""
    from flopaudit.config.yaml_source import parse_yaml, read_text

    text = read_text(path, SettingsError)
    if path.suffix != ".toml":
        doc = parse_yaml(text, str(path), SettingsError)
        return [(doc.position(("waivers", i)) or (line, None))[0] for i in range(count)]
    numbered = list(enumerate(text.splitlines(), 1))
    headers = [n for n, t in numbered if re.match(r"^\s*\[\[\s*tool\.flopaudit\.waivers\s*\]\]", t)]
    if len(headers) == count:
        return list(headers)
    # An inline array (waivers = [{policy = ...}, ...]): the lines that name a policy, after the key.
    inline = [n for n, t in numbered if line is not None and n >= line and re.search(r"\bpolicy\s*=", t)]
    return inline[:count] if len(inline) >= count else [line] * count


def choose(waivers: Sequence[Waiver], policy: str, date: dt.date) -> tuple[Waiver | None, Waiver | None, list[Waiver]]:
    """For one policy: the waiver that waives (first in force), the expired one shown instead, and the unused rest."""
    mine = [w for w in waivers if w.policy == policy]
    active = next((w for w in mine if w.active_on(date)), None)
    if active is not None:
        return active, None, [w for w in mine if w is not active]
    if not mine:
        return None, None, []
    latest = max(mine, key=lambda w: w.expires)
    return None, latest, [w for w in mine if w is not latest]


def apply(checks: Sequence["PolicyCheck"], waivers: Sequence[Waiver], date: dt.date,
          known: Collection[str]) -> list[Notice]:
    """Mark each waived check (``waiver``, ``gates`` false) and each expired one; the notices they give.

    ``known`` is every policy id flopaudit knows (built-in and judged), for the did-you-mean of an
    unknown id.
    """
    out: list[Notice] = []
    judged = {c.policy.id: c for c in checks}
    for check in checks:
        active, expired, unused = choose(waivers, check.policy.id, date)
        if active is not None:
            check.waiver = active
            out.append(_notice("waiver", active, _waived_text(check, active)))  # reads gates before it is lifted
            check.gates = False
        elif expired is not None:
            check.expired_waiver = expired
            out.append(_notice("waiver-expired", expired,
                               f"the waiver for '{check.policy.id}' expired on {expired.expires.isoformat()} "
                               f"(as of {date.isoformat()}): it no longer waives, and the check "
                               f"{'gates again' if check.gates else 'would not gate anyway'}; it said: "
                               f"{expired.label()}"))
        chosen = active or expired
        for w in unused:
            out.append(_notice("waiver-unmatched", w, f"the waiver for '{w.policy}' is not used: the one at "
                                                      f"{chosen.where() if chosen else '?'} applies"))
    for w in waivers:
        if w.policy in judged:
            continue
        if w.policy in known:
            text = (f"the waiver for '{w.policy}' matches no check: that policy is not judged for this config "
                    f"(judged: {', '.join(judged) or 'none'}); it waives nothing")
        else:
            text = (f"the waiver names an unknown policy '{w.policy}'{did_you_mean(w.policy, known)}; "
                    "it waives nothing")
        out.append(_notice("waiver-unmatched", w, text))
    return out


def _waived_text(check: "PolicyCheck", w: Waiver) -> str:
    verdict = {"above": "ABOVE", "indeterminate": "UNDECIDED", "below": "below",
               "not-applicable": "not applicable"}[check.verdict]
    effect = ("it does not fail the gate" if check.verdict in ("above", "indeterminate") and check.gates
              else "it changes nothing now (the check would not fail the gate anyway)")
    return (f"'{check.policy.id}' is waived until {w.expires.isoformat()}: {w.label()}; its verdict stays "
            f"{verdict}, but {effect}")


def _notice(code: str, w: Waiver, message: str) -> Notice:
    return Notice(code, message, w.file, w.line, w.column, w.policy)


__all__ = ["Waiver", "apply", "choose", "from_config", "parse_settings"]
