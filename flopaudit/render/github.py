"""``--format github``: GitHub Actions workflow commands (annotations on the config file).

A runner reads any output line that starts with ``::`` as a command, so no user text may break
a line: messages and properties are escaped as the workflow-command syntax asks, and the
closing summary line (which names the config file) is put on one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flopaudit.render import common as c
from flopaudit.render.safe import one_line, printable

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult
    from flopaudit.errors import FlopauditError
    from flopaudit.policy.judge import PolicyCheck


def _escape(text: str, *, prop: bool = False) -> str:
    # https://docs.github.com/actions/reference/workflow-commands-for-github-actions
    text = printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def _line(r: "AuditResult", *path: str | int) -> int:
    pos = r.loaded.document.position(path)
    return pos[0] if pos else 1


def annotation(level: str, file: str, line: int, title: str, message: str) -> str:
    """One ``::level file=...,line=...,title=...::message`` command."""
    return (f"::{level} file={_escape(file, prop=True)},line={line},title={_escape(title, prop=True)}"
            f"::{_escape(message)}")


def error_annotation(exc: "FlopauditError") -> str:
    """An input error (exit 2) as one ``::error`` command on its file and line (the run could not judge)."""
    where = f"file={_escape(exc.file, prop=True)},line={exc.line or 1}," if exc.file else ""
    text = exc.message + (f" ({exc.hint})" if exc.hint else "")
    return f"::error {where}title=flopaudit%3A could not judge (exit 2)::{_escape(text)}"


def level(r: "AuditResult", chk: "PolicyCheck") -> str:
    """``error`` for a check that fails the gate, ``warning`` for one in force that does not (a warning
    severity, or undecided under ``--fail-on above``), ``notice`` for a waived one or a policy not in force."""
    if chk.gates and (chk.verdict == "above" or r.fail_on == "indeterminate"):
        return "error"
    if chk.waiver is not None or not chk.in_force:
        return "notice"
    return "warning"


def render(results: Sequence["AuditResult"]) -> str:
    """Annotations: errors for crossed gating policies, warnings for undecided and warning-severity ones and
    cross-checks, notices for waived ones and policies not in force."""
    out: list[str] = []
    for r in results:
        for chk in r.checks:
            if chk.verdict not in ("above", "indeterminate"):
                continue
            msg = (f"{c.VERDICT_LABEL[chk.verdict]}: {c.compared(chk)} vs {c.threshold(chk)} "
                   f"({c.margin(chk)}); status {c.status(chk)}")
            if "severity" not in c.status(chk):
                msg += f"; severity {c.severity(chk)}"
            if waiver := c.waiver_line(chk):
                msg = f"{waiver[0].upper()}{waiver[1:]}\n{msg}"
            if chk.reasons:
                msg += "\n" + "\n".join(chk.reasons)
            if chk.obligations:
                msg += "\nObligations: " + "; ".join(chk.obligation_ids)
            file, line, _ = c.check_location(r, chk)
            out.append(annotation(level(r, chk), file, line, f"{chk.policy.id}: {chk.policy.short_name}", msg))
        for n in r.notices:
            out.append(annotation("warning", n.file or r.loaded.file, n.line or 1, f"flopaudit: {n.code}",
                                  n.message))
        for i, s in enumerate(r.stages):
            for w in s.warnings:
                out.append(annotation("warning", r.loaded.file, _line(r, "training", i),
                                      f"flopaudit: stage {s.stage.name}", w))
        out.append(one_line(f"{c.summary_line(r.exit_code, r.checks, r.fail_on)} ({r.loaded.file}, "
                            f"exit {r.exit_code}; {c.convention(r)})"))
    return "\n".join(out) + "\n"
