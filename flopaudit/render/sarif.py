"""``--format sarif``: SARIF 2.1.0 for code-scanning dashboards; one rule per policy.

GitHub code scanning needs locations it can map onto the repository: every artifact URI is
relative to ``%SRCROOT%`` (the repository root of the first config, given in the run's
``originalUriBaseIds`` as a ``file://`` URI ending in ``/``), and a file outside that repository
gets an absolute ``file://`` URI; never a bare absolute path (SARIF 2.1.0 §3.4.3 and §3.14.14,
https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html; GitHub's upload requirements,
https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flopaudit import __version__
from flopaudit.audit import CONVENTION
from flopaudit.notices import CODES
from flopaudit.render import common as c
from flopaudit.render.safe import is_web_url, printable, uri_reference

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
#: The base id of every repository-relative artifact URI.
SRCROOT = "%SRCROOT%"
_LEVEL = {"above": "error", "indeterminate": "warning", "below": "none", "not-applicable": "none"}
#: Estimation warnings (cross-checks over 30% apart, uncounted ops, unavailable methods).
STAGE_RULE: dict[str, Any] = {
    "id": "stage-estimate-warning", "name": "Estimate warning",
    "shortDescription": {"text": "A stage's estimate needs a look"},
    "fullDescription": {"text": "A cross-check differs by more than 30% (the EU Guidelines' accuracy margin), "
                                "an op ran that the counter could not price, or an asked-for method did not apply."},
    "help": {"text": f"Convention: {CONVENTION}."},
}
def notice_rule(code: str) -> dict[str, Any]:
    """The SARIF rule of one notice code (what a config or command did to its own gate)."""
    return {"id": f"notice/{code}", "name": f"Gate notice: {code}", "shortDescription": {"text": CODES[code]},
            "fullDescription": {"text": CODES[code] + " Every output of flopaudit names it."},
            "help": {"text": f"Convention: {CONVENTION}."}}


_KIND = {"above": "fail", "indeterminate": "review", "below": "pass", "not-applicable": "notApplicable"}


def _rule(chk: Any) -> dict[str, Any]:
    p = chk.policy
    rule: dict[str, Any] = {
        "id": p.id, "name": p.short_name, "shortDescription": {"text": p.name},
        "fullDescription": {"text": "; ".join(r.description for r in p.rules)},
        "help": {"text": f"{p.instrument.identifier} ({', '.join(p.instrument.provisions)}). "
                         f"Convention: {CONVENTION}."},
        "properties": {"jurisdiction": p.jurisdiction.code, "version": p.version},
    }
    # A viewer makes helpUri a link: only an http(s) URL becomes one (a custom policy's javascript: never does).
    if is_web_url(p.citations[0].url):
        rule["helpUri"] = p.citations[0].url
    return rule


def source_root(results: Sequence["AuditResult"]) -> Path | None:
    """The repository root of the first config (None: it is in no repository)."""
    from flopaudit.config.paths import repository_root

    return repository_root(Path(results[0].loaded.file).resolve().parent) if results else None


def artifact(path: str, root: Path | None) -> dict[str, str]:
    """An ``artifactLocation``: relative to ``%SRCROOT%`` inside ``root``, else an absolute ``file://`` URI."""
    absolute = Path(path).resolve()
    if root is not None and absolute.is_relative_to(root):
        return {"uri": uri_reference(absolute.relative_to(root).as_posix()), "uriBaseId": SRCROOT}
    return {"uri": absolute.as_uri()}


def _printable(value: Any) -> Any:
    """``value`` with every string in it made printable (dashboards show the texts as they are)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def _level(chk: Any) -> str:
    """The verdict's level for a check that fails on it (a waived one keeps it, with a suppression); a
    warning-severity check in force is at most ``warning``; one not in force ``note`` when above."""
    if chk.in_force and chk.severity == "error":
        return _LEVEL[chk.verdict]
    if chk.in_force:
        return "warning" if chk.verdict in ("above", "indeterminate") else "none"
    return "note" if chk.verdict == "above" else "none"


def _suppressions(chk: Any, r: "AuditResult") -> dict[str, Any]:
    """A waived check's ``suppressions``: one external, accepted suppression with the waiver's reason."""
    w = chk.waiver
    if w is None:
        return {}
    return {"suppressions": [{"kind": "external", "status": "accepted", "justification": w.label(),
                              "properties": w.as_dict(r.as_of)}]}


def render(results: Sequence["AuditResult"]) -> str:
    """A SARIF log with one run; results for every policy (pass ones with kind 'pass')."""
    rules: dict[str, dict[str, Any]] = {}
    sarif_results = []
    root = source_root(results)
    for r in results:
        here = artifact(r.loaded.file, root)
        for chk in r.checks:
            rules.setdefault(chk.policy.id, _rule(chk))
            level = _level(chk)
            file, line, column = c.check_location(r, chk)
            text = (f"{chk.policy.id}: {c.VERDICT_LABEL[chk.verdict]} — counted {c.compared(chk)} vs "
                    f"{c.threshold(chk)}, {c.margin(chk)}; status {c.status(chk)}")
            if chk.reasons:
                text += ". " + "; ".join(chk.reasons)
            w = chk.waiver or chk.expired_waiver
            if w is not None:
                text += f". Waiver ({'in force' if chk.waiver else 'expired'}): {w.label()}"
            sarif_results.append({
                "ruleId": chk.policy.id, "level": level, "kind": _KIND[chk.verdict] if level != "none" or
                chk.verdict in ("below", "not-applicable") else "informational",
                "message": {"text": text},
                "locations": [{"physicalLocation": {"artifactLocation": artifact(file, root),
                                                    "region": {"startLine": line, "startColumn": column}}}],
                "properties": {"verdict": chk.verdict, "status": chk.status, "gates": chk.gates,
                               "severity": chk.severity, "convention": c.convention(r),
                               "counted_flop": chk.counted_flop.as_dict(), "obligations": chk.obligations,
                               **({"waiver_expired": chk.expired_waiver.as_dict(r.as_of)}
                                  if chk.expired_waiver else {})},
                **_suppressions(chk, r),
            })
        for n in r.notices:
            rule = notice_rule(n.code)
            rules.setdefault(rule["id"], rule)
            sarif_results.append({
                "ruleId": rule["id"], "level": "warning", "kind": "review", "message": {"text": n.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": artifact(n.file, root) if n.file else here,
                    "region": {"startLine": n.line or 1, "startColumn": n.column or 1}}}],
                "properties": {"code": n.code, "policy": n.policy},
            })
        for i, stage in enumerate(r.stages):
            line, col = r.loaded.document.position(("training", i)) or (1, 1)
            for warning in stage.warnings:
                rules.setdefault(STAGE_RULE["id"], STAGE_RULE)
                sarif_results.append({
                    "ruleId": STAGE_RULE["id"], "level": "warning", "kind": "review",
                    "message": {"text": f"stage {stage.stage.name}: {warning}"},
                    "locations": [{"physicalLocation": {"artifactLocation": here,
                                                        "region": {"startLine": line, "startColumn": col}}}],
                })
    log = {
        "$schema": SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "flopaudit", "version": __version__,
                                "informationUri": "https://github.com/flopaudit/flopaudit",
                                "rules": [rules[k] for k in sorted(rules)]}},
            "invocations": [{"executionSuccessful": True,
                             "exitCode": max((r.exit_code for r in results), default=0)}],
            "results": sarif_results,
        }],
    }
    if root is not None:
        log["runs"][0]["originalUriBaseIds"] = {SRCROOT: {"uri": root.as_uri() + "/"}}
    return json.dumps(_printable(log), indent=2) + "\n"
