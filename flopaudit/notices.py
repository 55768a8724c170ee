"""Notices: what a config (or the command) did to its own gate, shown in every output format.

A pull request that wants the gate to pass can narrow it without touching a number: judge fewer
policies, judge on another date, move a stage to a kind a policy does not count, or load a policy
file that replaces a built-in one. None of that is forbidden, but none of it may be silent. Each
such change becomes a :class:`Notice` with a stable ``code`` and the place in the file that made
it; every renderer (text, JSON, Markdown, GitHub, SARIF, JUnit, HTML) lists them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flopaudit.config.quantity import format_number
from flopaudit.errors import format_location

if TYPE_CHECKING:
    from flopaudit.config.loader import LoadedConfig
    from flopaudit.estimate.stage import StageResult
    from flopaudit.policy.judge import PolicyCheck
    from flopaudit.policy.models import Policy

#: Every notice code, with what it means (docs and SARIF rules are made from this table).
CODES: dict[str, str] = {
    "policies-excluded": "The config's 'policies' list leaves built-in policies unjudged.",
    "as-of": "Policies are judged on a date other than today, which can change whether they are in force.",
    "stage-not-counted": "A policy's accounting leaves a stage (and its FLOP) out of the counted figure.",
    "policy-override": "A policy file replaces a built-in policy of the same id.",
    "implausible-input": "An input is far outside the range real training runs have; it may steer the verdict.",
    "method-selected": "One estimation method was chosen explicitly; the others do not decide the verdict.",
    "code-allowed": "Code from the repository (a model factory or remote modelling code) was allowed to run.",
    "outside-paths-allowed": "Files outside the repository root were allowed to be read.",
    "waiver": "A waiver acknowledges a policy's verdict: the check keeps its verdict but does not gate until the "
              "waiver expires.",
    "waiver-expired": "A waiver has expired on the as-of date: it no longer waives, and the check gates again.",
    "waiver-unmatched": "A waiver names an unknown policy, or one that is not judged, or is shadowed by another: "
                        "it waives nothing.",
    "severity-lowered": "Project settings lower a policy from error to warning: a crossing is shown but does not "
                        "fail the gate.",
}


@dataclass(frozen=True)
class Notice:
    """One thing every output must say; ``file``/``line``/``column`` point at what caused it."""

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    #: The policy the notice concerns, if one.
    policy: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown notice code {self.code!r}")

    def location(self) -> str:
        """``file:line:col`` (as much as is known), or an empty string."""
        return format_location(self.file, self.line, self.column)

    def text(self) -> str:
        """``file:line:col: message`` as a compiler would print it."""
        where = self.location()
        return f"{where}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of one notice."""
        return {"code": self.code, "message": self.message, "file": self.file, "line": self.line,
                "column": self.column, "policy": self.policy}


def at(loaded: "LoadedConfig", code: str, message: str, *path: str | int, policy: str | None = None) -> Notice:
    """A notice located at ``path`` of a loaded config."""
    line, col = loaded.document.position(tuple(path)) or (None, None)
    return Notice(code, message, loaded.file, line, col, policy)


def excluded_policies(loaded: "LoadedConfig", builtin_ids: Sequence[str]) -> list[Notice]:
    """The built-in policies a config's own ``policies`` list leaves out."""
    chosen = loaded.config.policies
    if chosen is None:
        return []
    left_out = [pid for pid in builtin_ids if pid not in chosen]
    if not left_out:
        return []
    return [at(loaded, "policies-excluded",
               f"the config judges only {', '.join(chosen)}; built-in policies NOT judged: {', '.join(left_out)}",
               "policies")]


def method_selected(method: str, stages: Sequence["StageResult"], checks: Sequence["PolicyCheck"]) -> list[Notice]:
    """With ``--method``: which stages it decides, the estimates it overrules, and the thresholds they disagree on."""
    decided = [r.stage.name for r in stages if r.method == method]
    text = (f"--method {method}: only the {method} estimate decides "
            + (f"stage{'s' if len(decided) > 1 else ''} {', '.join(decided)}" if decided else "no stage"))
    fallback = [r.stage.name for r in stages if r.method != method]
    if fallback:
        text += f" (not available for {', '.join(fallback)}: every estimate of those counts)"
    overruled = [f"{r.stage.name}: " + ", ".join(f"{e.method} {format_number(e.flop.central)}" for e in r.cross_checks)
                 for r in stages if r.method == method and r.cross_checks]
    text += f"; estimates that do not decide: {'; '.join(overruled)}" if overruled else "; no other estimate was available"
    disagree = [f"{c.policy.id} ({rc.threshold.describe()})" for c in checks for rc in c.rules
                if rc.disagreement and rc.threshold is not None]
    if disagree:
        text += f"; they disagree with it on the side of the threshold of {', '.join(dict.fromkeys(disagree))}"
    return [Notice("method-selected", text)]


def code_allowed(loaded: "LoadedConfig") -> list[Notice]:
    """A notice when the config's model factory was allowed to run (``--allow-code`` or the setting)."""
    factory = loaded.config.model.factory
    if factory is None:
        return []
    return [at(loaded, "code-allowed", f"model.factory '{factory}' is Python code from the repository; it was "
                                       "allowed to run (--allow-code or the project settings), in a child process",
               "model", "factory")]


def settings_policies(settings: str, judged: Sequence[str], builtin_ids: Sequence[str]) -> list[Notice]:
    """The built-in policies that project settings' ``policies`` leave out (settings are in the repository too)."""
    left_out = [pid for pid in builtin_ids if pid not in judged]
    if not left_out:
        return []
    return [Notice("policies-excluded", f"{settings} judges only {', '.join(judged)}; built-in policies NOT "
                                        f"judged: {', '.join(left_out)}")]


def as_of(loaded: "LoadedConfig", date: dt.date, today: dt.date, source: str | None) -> list[Notice]:
    """A judging date other than today, from the config's ``as_of`` or from ``source`` (``--as-of``, settings).

    The message does not name today's date, so that the same inputs keep giving the same bytes.
    """
    if date == today:
        return []
    if source is not None:
        return [Notice("as-of", f"policies judged as of {date.isoformat()} ({source}), not today: "
                                "whether each policy is in force, and so gates, is decided for that date")]
    return [at(loaded, "as-of", f"the config sets as_of: {date.isoformat()}, not today: whether each policy "
                                "is in force, and so gates, is decided for that date", "as_of")]


def outside_paths(loaded: "LoadedConfig") -> list[Notice]:
    """A notice for each file the config names outside its repository root (read under --allow-outside-paths)."""
    from flopaudit.config.paths import is_outside, resolve_named, root_of

    named = [(("model", "hf_config"), loaded.config.model.hf_config)]
    return [at(loaded, "outside-paths-allowed",
               f"{'.'.join(path)} reads {resolve_named(value, loaded.file)}, outside the repository root "
               f"{root_of(loaded.file)} (allowed by --allow-outside-paths or the project settings)", *path)
            for path, value in named if value is not None and is_outside(value, loaded.file)]


def _exclusion_reason(policy: "Policy", stage_kind: str, public: bool) -> str:
    """Why ``policy`` leaves a stage of this kind out, with the citation of the rule that says so."""
    acc = policy.accounting
    item = "public-synthetic-data" if stage_kind == "synthetic-data" and public else stage_kind
    for exclusion in acc.excludes:
        if exclusion.item == item:
            return f"its accounting excludes {item}, {exclusion.citation}"
    rules = "; ".join(r.citation for r in policy.rules if r.citation) or policy.citations[0].label
    return f"it counts only {', '.join(acc.counts)}, {rules}"


def stages_not_counted(loaded: "LoadedConfig", stages: Sequence["StageResult"],
                       checks: Sequence["PolicyCheck"]) -> list[Notice]:
    """Per stage with FLOP, the judged policies whose accounting leaves it out, and why (one notice a stage)."""
    out: list[Notice] = []
    for i, r in enumerate(stages):
        if r.flop.high <= 0:
            continue
        why = [f"{chk.policy.id}: {_exclusion_reason(chk.policy, r.stage.kind, r.stage.public)}"
               for chk in checks if chk.verdict != "not-applicable" and r.stage.name in chk.excluded_stages]
        if why:
            out.append(at(loaded, "stage-not-counted",
                          f"stage '{r.stage.name}' ({r.stage.kind}, {format_number(r.flop.central)} FLOP) is NOT "
                          f"counted by {' / '.join(why)}", "training", i, "kind"))
    return out


def policy_overrides(policies: Sequence["Policy"], builtins: dict[str, "Policy"]) -> list[Notice]:
    """A notice for each policy file that replaces a built-in policy."""
    out: list[Notice] = []
    for p in policies:
        if p.overrides is None:
            continue
        base = builtins[p.overrides]
        out.append(Notice("policy-override",
                          f"policy '{p.id}' from {p.source or 'a policy file'} overrides the built-in "
                          f"'{base.id}' ({_bounds(base)} replaced by {_bounds(p)})",
                          p.source, policy=p.id))
    return out


def _bounds(policy: "Policy") -> str:
    parts = []
    for rule in policy.rules:
        op = ">" if rule.comparison == "gt" else ">="
        parts.append(f"{op} {format_number(rule.threshold)}" if rule.threshold is not None
                     else f"{op} {rule.relative_to_base:g} x base")
    return ", ".join(parts)


__all__ = ["CODES", "Notice", "as_of", "at", "code_allowed", "method_selected", "excluded_policies", "outside_paths", "policy_overrides",
           "settings_policies", "stages_not_counted"]
