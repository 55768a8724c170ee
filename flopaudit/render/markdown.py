"""``--format markdown``: a summary for pull-request comments and GitHub step summaries.

Every text that comes from a config or a policy file goes through :mod:`flopaudit.render.safe`:
it shows literally (no raw HTML, links, images or table breaks), and a policy links to its
source only when the URL is http(s).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flopaudit.audit import CONVENTION
from flopaudit.render import common as c
from flopaudit.render import safe

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult


def _one(r: "AuditResult") -> list[str]:
    icon = "❌" if r.exit_code else "✅"
    lines = [f"## {icon} {safe.markdown(r.config.model.name)} ({safe.markdown_code(r.loaded.file)})", "",
             f"**{c.summary_line(r.exit_code, r.checks, r.fail_on)}** (exit {r.exit_code}) · "
             f"as of {r.as_of.isoformat()} · total {c.band(r.total_flop)} FLOP", "",
             "| policy | status | severity | threshold | counted | verdict | margin |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for chk in r.checks:
        verdict = c.VERDICT_LABEL[chk.verdict]
        verdict = f"**{verdict}**" if chk.gates and chk.verdict in ("above", "indeterminate") else verdict
        verdict += " (waived)" if chk.waiver is not None else ""
        lines.append(f"| {safe.markdown_link(chk.policy.id, chk.policy.citations[0].url)} | {c.status(chk)} | "
                     f"{c.severity(chk)} | {c.threshold(chk)} | {c.compared(chk)} | {verdict} | {c.margin(chk)} |")
    lines += ["", "| stage | kind | method | FLOP (band) | cross-checks |", "| --- | --- | --- | --- | --- |"]
    for s in r.stages:
        checks = ", ".join(f"{e.label or e.method} {c.flop(e.flop.central)}" for e in s.cross_checks) or "-"
        lines.append(f"| {safe.markdown(s.stage.name)} | {s.stage.kind} | {s.method} | {c.band(s.flop)} | "
                     f"{safe.markdown(checks)} |")
    warnings = [f"{s.stage.name}: {w}" for s in r.stages for w in s.warnings]
    warnings += [f"{chk.policy.id}: {why}" for chk in r.checks if chk.verdict == "indeterminate" and chk.in_force
                 for why in chk.reasons]
    if r.notices:
        lines += ["", f"**{c.NOTICES_TITLE}**", ""] + [f"- {safe.markdown(n)}" for n in c.notice_lines(r)]
    if r.loaded.ledgers:
        lines += ["", "**Measured during training**", ""] + [f"- {safe.markdown(t)}" for t in c.ledger_lines(r)]
    waivers = c.waiver_lines(r)
    if waivers:
        lines += ["", "**Waivers**", ""] + [f"- {safe.markdown(w)}" for w in waivers]
    if r.loaded.runs:
        lines += ["", "**Training configs**", ""] + [f"- {safe.markdown(t)}" for t in c.training_config_lines(r)]
    if warnings:
        lines += ["", "**Warnings**", ""] + [f"- {safe.markdown(w)}" for w in warnings]
    obligations = [f"{chk.policy.id}: {o}" for chk in r.checks if chk.in_force for o in chk.obligations]
    if obligations:
        lines += ["", "**Obligations triggered**", ""] + [f"- {safe.markdown(o)}" for o in obligations]
    lines += ["", f"<sub>{CONVENTION}; attention: {r.attention}.</sub>", ""]
    return lines


def render(results: Sequence["AuditResult"]) -> str:
    """Markdown text."""
    out = ["# flopaudit", ""]
    for r in results:
        out += _one(r)
    return "\n".join(out)
