"""Verify policy files: schema, sources, dates, ids, and each policy's own fixtures (``tests:``).

``flopaudit policies verify DIR`` is the CI step of an organisation that keeps its own policy files
(or of flopaudit itself, on ``policies/``). Exit codes follow ``check``: 0 every file is valid and
every fixture gets its verdict; 1 a fixture got another verdict (or another deciding rule); 2 a
file is invalid or a fixture could not be judged. Every problem is reported, not only the first.

What is checked besides the schema (:mod:`flopaudit.policy.models`):

- **sources**: every citation has an ``http(s)`` URL; every rule, exclusion and obligation names
  its citation;
- **dates**: ``enacted`` is not after ``effective`` or ``ended``; a ``version`` written as a date is
  a real date;
- **ids**: no two files define (or override) the same id; a file reusing a built-in id must say
  ``overrides: <that id>`` (the loader refuses it otherwise); a built-in file is named after its id;
  obligation ids and fixture names are unique within a file;
- **fixtures**: each ``tests:`` entry is a config (inline mapping) audited against this policy
  alone; its verdict, and its deciding rule when ``rule`` is given, must match.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flopaudit.config.quantity import format_number
from flopaudit.config.yaml_source import YamlDocument, load_yaml
from flopaudit.errors import FlopauditError, PolicyError
from flopaudit.policy.judge import RuleCheck
from flopaudit.policy.loader import builtin_dir, load_policy_file, yaml_files
from flopaudit.policy.models import Policy, PolicyTest

_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_URL = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)

#: Makes a :class:`PolicyError` with a message at a path (keys and indexes) of the policy file.
Locate = Callable[..., PolicyError]


@dataclass(frozen=True)
class FixtureResult:
    """What one fixture of a policy got, against what it expects."""

    name: str
    line: int | None
    expected: str
    got: str
    expected_rule: str | None
    got_rule: str
    #: What the deciding rule compared: ``counted 1.000e26 against >= 1.000e26``.
    detail: str
    reasons: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """The verdict (and the deciding rule, when the fixture names one) match."""
        return self.got == self.expected and self.expected_rule in (None, self.got_rule)


@dataclass
class FileReport:
    """The verification of one policy file."""

    file: str
    policy_id: str | None = None
    errors: list[FlopauditError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fixtures: list[FixtureResult] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """2 invalid, 1 a fixture failed, 0 good."""
        if self.errors:
            return 2
        return 1 if any(not f.ok for f in self.fixtures) else 0


@dataclass
class VerifyReport:
    """The verification of every policy file given."""

    files: list[FileReport]

    @property
    def exit_code(self) -> int:
        """The worst exit code of the files (as ``check`` takes the worst config)."""
        return max((f.exit_code for f in self.files), default=0)


def policy_files(paths: Sequence[str | Path]) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files of each folder (not recursive) and each file given, in order."""
    out: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = yaml_files(path)
            if not found:
                raise PolicyError("no policy files (*.yaml, *.yml) in this folder", file=path)
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise PolicyError("no such file or folder", file=path)
    return out


def verify_paths(paths: Sequence[str | Path]) -> VerifyReport:
    """Verify every policy file under ``paths`` (folders or files)."""
    reports: list[FileReport] = []
    seen: dict[str, str] = {}
    for path in policy_files(paths):
        report = FileReport(str(path))
        reports.append(report)
        builtin = path.resolve().parent == builtin_dir().resolve()
        try:
            policy = load_policy_file(path, builtin=builtin)
        except FlopauditError as exc:
            report.errors.append(exc)
            continue
        doc = load_yaml(path, PolicyError)
        report.policy_id = policy.id
        at = _locator(doc)
        if builtin and policy.id != path.stem:
            report.errors.append(at(f"id: '{policy.id}' differs from the file name of this built-in policy", "id"))
        key = policy.overrides or policy.id
        if key in seen:
            report.errors.append(at(f"id: '{key}' is already defined by {seen[key]}; one of them would hide "
                                    "the other", "id"))
        else:
            seen[key] = str(path)
        report.errors.extend(source_problems(policy, at))
        report.errors.extend(date_problems(policy, at))
        report.errors.extend(id_problems(policy, at))
        if not policy.tests:
            report.warnings.append("no fixtures: add 'tests:' (a config and the verdict it must get) "
                                   "so this policy's thresholds are pinned")
        for i, test in enumerate(policy.tests):
            try:
                report.fixtures.append(run_fixture(policy, test, i, doc))
            except FlopauditError as exc:
                report.errors.append(exc)
    return VerifyReport(reports)


def _locator(doc: YamlDocument) -> Locate:
    """A function making a :class:`PolicyError` at a path of ``doc``."""
    def at(message: str, *path: str | int) -> PolicyError:
        line, col = doc.position(path) or (None, None)
        return PolicyError(message, file=doc.file, line=line, column=col)
    return at


def source_problems(policy: Policy, at: Locate) -> list[PolicyError]:
    """Citations without a web address, and rules, exclusions or obligations that cite nothing."""
    out = []
    for i, c in enumerate(policy.citations):
        if not _URL.match(c.url.strip()):
            out.append(at(f"citations[{i}].url: '{c.url}' is not an http(s) address; a reader must be "
                          "able to open the source", "citations", i, "url"))
    cited: Iterable[tuple[str, tuple[str | int, ...], str]] = [
        *((f"rules[{i}]", ("rules", i, "citation"), r.citation) for i, r in enumerate(policy.rules)),
        *((f"accounting.excludes[{i}]", ("accounting", "excludes", i, "citation"), e.citation)
          for i, e in enumerate(policy.accounting.excludes)),
        *((f"obligations[{i}]", ("obligations", i, "citation"), o.citation)
          for i, o in enumerate(policy.obligations)),
    ]
    for label, path, citation in cited:
        if not citation.strip():
            out.append(at(f"{label}.citation: empty; name the article or section it comes from", *path))
    return out


def date_problems(policy: Policy, at: Locate) -> list[PolicyError]:
    """Lifecycle dates out of order, and a date-like ``version`` that is no date."""
    out = []
    life = policy.lifecycle
    if life.enacted and life.effective and life.effective < life.enacted:
        out.append(at(f"lifecycle.effective: {life.effective} is before enacted ({life.enacted})",
                      "lifecycle", "effective"))
    if life.enacted and life.ended and life.ended < life.enacted:
        out.append(at(f"lifecycle.ended: {life.ended} is before enacted ({life.enacted})", "lifecycle", "ended"))
    if _DATE_LIKE.match(policy.version):
        try:
            dt.date.fromisoformat(policy.version)
        except ValueError:
            out.append(at(f"version: '{policy.version}' looks like a date but is not one", "version"))
    return out


def id_problems(policy: Policy, at: Locate) -> list[PolicyError]:
    """Obligation ids and fixture names used twice, and fixtures naming a rule the policy lacks."""
    out = []
    for label, key, ids in (("obligations", "id", [o.id for o in policy.obligations]),
                            ("tests", "name", [t.name for t in policy.tests])):
        for i, value in enumerate(ids):
            if value in ids[:i]:
                out.append(at(f"{label}[{i}].{key}: '{value}' is used twice", label, i, key))
    rules = [r.id for r in policy.rules]
    for i, test in enumerate(policy.tests):
        if test.rule is not None and test.rule not in rules:
            out.append(at(f"tests[{i}].rule: '{test.rule}' is not a rule of this policy; rules: {', '.join(rules)}",
                          "tests", i, "rule"))
    return out


def fixture_document(doc: YamlDocument, index: int) -> YamlDocument:
    """The ``config`` of fixture ``index`` as a document of its own, keeping its lines in the policy file."""
    prefix = ("tests", index, "config")
    data = doc.data["tests"][index]["config"]
    positions = {k[len(prefix):]: v for k, v in doc.positions.items() if k[:len(prefix)] == prefix}
    return YamlDocument(data=data, file=doc.file, positions=positions)


def run_fixture(policy: Policy, test: PolicyTest, index: int, doc: YamlDocument) -> FixtureResult:
    """Audit fixture ``index`` against ``policy`` alone; errors (exit 2) point into the policy file."""
    from flopaudit.audit import audit
    from flopaudit.config.loader import validate_document

    loaded = validate_document(fixture_document(doc, index))
    (check,) = audit(loaded, policies=[policy]).checks
    line = (doc.position(("tests", index)) or (None, None))[0]
    return FixtureResult(name=test.name, line=line, expected=test.verdict, got=check.verdict,
                         expected_rule=test.rule, got_rule=check.deciding.rule.id,
                         detail=_compared(check.deciding), reasons=tuple(check.reasons))


def _compared(rule: RuleCheck) -> str:
    """``counted 1.000e26 against >= 1.000e26`` (or ``..`` for a band), ``""`` when nothing was compared."""
    if rule.counted is None or rule.threshold is None:
        return ""
    c = rule.counted
    value = format_number(c.low) if c.low == c.high else f"{format_number(c.low)}..{format_number(c.high)}"
    return f"counted {value} against {rule.threshold.describe()}"
