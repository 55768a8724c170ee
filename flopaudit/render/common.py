"""Wording shared by every output format, so text, Markdown, SARIF and HTML say the same thing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flopaudit.audit import CONVENTION
from flopaudit.config.quantity import format_number
from flopaudit.estimate.band import Band
from flopaudit.policy.judge import PolicyCheck

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult
    from flopaudit.estimate.stage import StageResult

VERDICT_LABEL = {"above": "ABOVE", "below": "below", "indeterminate": "UNDECIDED",
                 "not-applicable": "not applicable"}


def flop(x: float | None) -> str:
    """A FLOP figure in scientific notation with 3 significant figures."""
    if x is None:
        return "-"
    return f"{x:.2e}".replace("e+", "e") if x else "0"


def band(b: Band | None) -> str:
    """``4.1e25 (3.9e25..4.2e25)`` or just the value when exact."""
    if b is None:
        return "-"
    if b.is_exact:
        return flop(b.central)
    return f"{flop(b.central)} ({flop(b.low)}..{flop(b.high)})"


def threshold(check: PolicyCheck) -> str:
    """``> 1.00e25 FLOP`` (or FLOP/s for cluster rules)."""
    t = check.deciding.threshold
    if t is None:
        return "-"
    op = ">" if t.comparison == "gt" else ">="
    unit = "FLOP/s" if check.deciding.rule.metric == "cluster_peak_flops" else "FLOP"
    value = flop(t.low) if t.low == t.high else f"{flop(t.low)}..{flop(t.high)}"
    return f"{op} {value} {unit}"


def doublings(d: float) -> str:
    """Doublings (log2 of the margin) to one decimal, or to two significant figures when that reads 0.0."""
    if round(d, 1) != 0:
        return f"{d:+.1f} doublings"
    if d == 0:
        return "exactly at the threshold"
    return f"{d:+.2g} doublings"


def factor(x: float) -> str:
    """A ratio: ``4.1``, ``410``, and beyond 1,000 in the FLOP style (``1.19e3``), never ``1.19e+03``."""
    return f"{x:.3g}" if x < 1000 else flop(x)


def margin(check: PolicyCheck) -> str:
    """``4.1x over (+2.0 doublings)`` / ``2.4x under (-1.3 doublings)`` / ``1.19e3x under (-10.2 doublings)``."""
    m, d = check.margin, check.doublings
    if m is None or d is None:
        return "-"
    if m >= 1:
        return f"{factor(m)}x over ({doublings(d)})"
    return f"{factor(1 / m)}x under ({doublings(d)})"


def status_label(value: str) -> str:
    """A policy status as people read it: ``in force``, ``not yet effective`` (the JSON value ``in-force``)."""
    return value.replace("-", " ").replace("_", " ")


def status(check: PolicyCheck) -> str:
    """Status with whether it gates: ``in force`` / ``in force, waived until 2027-06-30 (does not gate)`` /
    ``in force, warning only (does not fail)`` / ``revoked (does not gate)``."""
    text = status_label(check.status)
    if not check.in_force:
        return f"{text} (does not gate)"
    if check.waiver is not None:
        return f"{text}, waived until {check.waiver.expires.isoformat()} (does not gate)"
    if check.severity == "warning":
        return f"{text}, warning only (does not fail)"
    if check.expired_waiver is not None:
        return f"{text}, waiver expired {check.expired_waiver.expires.isoformat()}"
    return text


def severity(check: PolicyCheck) -> str:
    """``error`` / ``warning``, with ``(project settings)`` when the settings set it."""
    return check.severity + (" (project settings)" if check.severity_source.startswith("project settings") else "")


def waiver_line(check: PolicyCheck) -> str:
    """``waived until D: reason (reference)`` / ``waiver expired on D, it no longer waives: ...`` / empty."""
    if check.waiver is not None:
        return f"waived until {check.waiver.expires.isoformat()}: {check.waiver.label()}"
    if check.expired_waiver is not None:
        w = check.expired_waiver
        return f"waiver expired on {w.expires.isoformat()}, it no longer waives: {w.label()}"
    return ""


def waiver_lines(result: "AuditResult") -> list[str]:
    """``policy: waived until ...`` for every check a waiver waives, or whose waiver expired."""
    return [f"{chk.policy.id}: {line}" for chk in result.checks if (line := waiver_line(chk))]


def crossing(check: PolicyCheck) -> bool:
    """Whether the verdict is one a gate can fail on (ABOVE or UNDECIDED) and the policy is in force."""
    return check.in_force and check.verdict in ("above", "indeterminate")


def compared(check: PolicyCheck) -> str:
    """The figure the deciding rule compared (counted FLOP, or cluster FLOP/s)."""
    value = check.deciding.counted
    if check.deciding.rule.metric == "cluster_peak_flops":
        return f"{band(value)} FLOP/s" if value else "-"
    return band(value if value is not None else check.counted_flop)


def convention(result: "AuditResult") -> str:
    """The FLOP convention and the attention convention of one result, in one line."""
    return f"{CONVENTION}; attention: {result.attention}"


def notice_lines(result: "AuditResult") -> list[str]:
    """``file:line: message`` for each notice: what the config or the command did to its own gate."""
    return [n.text() for n in result.notices]


NOTICES_TITLE = "Gate narrowed or changed (notices)"


def summary_line(exit_code: int, checks: list[PolicyCheck], fail_on: str) -> str:
    """One line that says why the gate passed or failed (waived and warning-only crossings named)."""
    crossed = [c.policy.id for c in checks if c.gates and c.verdict == "above"]
    undecided = [c.policy.id for c in checks if c.gates and c.verdict == "indeterminate"]
    waived = [f"{c.policy.id} (until {c.waiver.expires.isoformat()})" for c in checks
              if c.waiver is not None and crossing(c)]
    warned = [c.policy.id for c in checks if c.waiver is None and c.severity == "warning" and crossing(c)]
    extra = (f"; waived: {', '.join(waived)}" if waived else "") + \
        (f"; severity warning, not failing: {', '.join(warned)}" if warned else "")
    if exit_code == 0:
        more = f"; undecided but not failing (--fail-on {fail_on}): {', '.join(undecided)}" if undecided else ""
        head = "PASS: no policy that gates is crossed" if waived or warned else "PASS: no policy in force is crossed"
        return head + more + extra
    parts = []
    if crossed:
        parts.append(f"crossed: {', '.join(crossed)}")
    if undecided and fail_on == "indeterminate":
        parts.append(f"undecided: {', '.join(undecided)}")
    return "FAIL: " + "; ".join(parts) + extra


__all__ = ["NOTICES_TITLE", "VERDICT_LABEL", "band", "compared", "crossing", "flop", "format_number", "margin",
           "notice_lines", "severity", "status", "status_label", "summary_line", "threshold", "waiver_line", "waiver_lines"]


#: The numbers of a framework file a reviewer changes to change the training length, in order.
_LENGTH_KEYS = ("steps", "train_iters", "train_samples", "max_tokens", "tokens")


def display_path(path: "Path | str") -> str:
    """A path relative to the working directory when it is inside it (what CI annotations expect)."""
    import os
    from pathlib import Path

    absolute = Path(path).resolve()
    return os.path.relpath(absolute) if absolute.is_relative_to(Path.cwd().resolve()) else str(path)


def check_location(result: "AuditResult", check: PolicyCheck) -> tuple[str, int, int]:
    """Where a reviewer should look for ``check``: ``(file, line, column)``.

    When a counted stage came from a training framework's file (``training_config``), the line of
    that file's training length (steps, iterations, samples or tokens) of the largest such stage;
    else the config's ``model.name``.
    """
    runs = result.loaded.runs
    from_files = [s for s in result.stages if s.stage.name in runs and s.stage.name in check.counted_stages]
    if from_files:
        run = runs[max(from_files, key=lambda s: s.flop.central).stage.name]
        for key in (*_LENGTH_KEYS, *run.values):
            value = run.values.get(key)
            if value is not None and value.line:
                return display_path(run.path), value.line, 1
        return display_path(run.path), 1, 1
    line, column = result.loaded.document.position(("model", "name")) or (1, 1)
    return result.loaded.file, line, column


def training_config_line(result: "AuditResult", r: "StageResult") -> str | None:
    """``read from FILE (format): steps (line) x batch x sequence = tokens`` for a stage from a framework file."""
    run = result.loaded.runs.get(r.stage.name)
    if run is None:
        return None

    def at(name: str) -> str:
        value = run.values.get(name)
        return f" (line {value.line})" if value is not None and value.line else ""

    return (f"read from {display_path(run.path)} ({run.format}): {run.steps:,} steps{at('steps')} x "
            f"{run.global_batch:,} sequences{at('global_batch')} x {run.sequence_length:,} tokens"
            f"{at('sequence_length')} = {run.tokens:,} tokens")


def ledger_line(result: "AuditResult", r: "StageResult") -> str | None:
    """``measured during training (ledger FILE): steps on ranks, times, total; projection; vs estimate``."""
    s = result.loaded.ledgers.get(r.stage.name)
    if s is None:
        return None
    when = (f", {s.first.isoformat(timespec='seconds')} to {s.last.isoformat(timespec='seconds')}"
            if s.first and s.last else "")
    total = flop(s.total_flop) if s.total_flop is not None else "not counted in full"
    line = f"measured during training (ledger {s.path}): {s.steps:,} steps on {s.ranks} ranks{when}, {total} FLOP"
    if s.projection is not None:
        p = s.projection
        end = f" about {p.projected_end.date().isoformat()}" if p.projected_end else ""
        line += f"; projected {flop(p.projected_total_flop)} at {p.planned_steps:,} planned steps{end}"
    pre = [e for e in r.cross_checks if e.method in ("transformer", "6nd")]
    if pre and s.total_flop:
        e = pre[0]
        line += f"; {e.method} estimate {flop(e.flop.central)} ({s.total_flop / e.flop.central - 1:+.1%} measured vs estimate)"
    return line


def training_config_lines(result: "AuditResult") -> list[str]:
    """One line per stage read from a framework file: the file, its format, and where its length came from."""
    return [f"{r.stage.name}: {line}" for r in result.stages if (line := training_config_line(result, r))]


def ledger_lines(result: "AuditResult") -> list[str]:
    """One line per stage measured during training (``ledger:``): steps, ranks, times, projection."""
    return [f"{r.stage.name}: {line}" for r in result.stages if (line := ledger_line(result, r))]
