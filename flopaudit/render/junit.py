"""``--format junit``: JUnit XML, one test suite per config and one test case per policy.

Names and policy texts may hold characters XML 1.0 cannot (YAML's ``"\\x01"``), and line breaks
that would put ``::`` at the start of a log line: every attribute and text of the tree goes
through :func:`flopaudit.render.safe.plain` before it is written, so the file always parses and
never holds a workflow command.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from flopaudit.render import common as c
from flopaudit.render.safe import plain

if TYPE_CHECKING:
    from flopaudit.audit import AuditResult


def render(results: Sequence["AuditResult"]) -> str:
    """XML text: failures for policies that fail the gate, skipped for those that do not gate or apply."""
    root = ET.Element("testsuites", name="flopaudit")
    for r in results:
        suite = ET.SubElement(root, "testsuite", name=f"{r.config.model.name} ({r.loaded.file})")
        props = ET.SubElement(suite, "properties")
        for name, value in (("as_of", r.as_of.isoformat()), ("convention", c.convention(r)),
                            ("attention", r.attention)):
            ET.SubElement(props, "property", name=name, value=value)
        failures = skipped = 0
        for chk in r.checks:
            case = ET.SubElement(suite, "testcase", classname=f"flopaudit.{r.loaded.file}", name=chk.policy.id)
            detail = (f"counted {c.compared(chk)} vs {c.threshold(chk)}; {c.margin(chk)}; status {c.status(chk)}"
                      + ("\n" + "\n".join(chk.reasons) if chk.reasons else "")
                      + ("\n" + "\n".join(chk.obligations) if chk.obligations else ""))
            fails = chk.gates and (chk.verdict == "above" or (chk.verdict == "indeterminate"
                                                               and r.fail_on == "indeterminate"))
            if r.fail_on == "never":
                fails = False
            detail = f"severity {c.severity(chk)}; " + detail
            if chk.expired_waiver is not None:
                detail = f"{c.waiver_line(chk)}\n{detail}"
            if fails:
                failures += 1
                el = ET.SubElement(case, "failure", message=f"{c.VERDICT_LABEL[chk.verdict]}: {chk.policy.short_name}",
                                   type=chk.verdict)
                el.text = detail
            elif chk.waiver is not None:
                skipped += 1
                el = ET.SubElement(case, "skipped", message=f"{c.waiver_line(chk)}; verdict "
                                                            f"{c.VERDICT_LABEL[chk.verdict]}; {c.status(chk)}")
                el.text = detail
            elif not chk.in_force or chk.verdict == "not-applicable":
                skipped += 1
                ET.SubElement(case, "skipped", message=f"{c.VERDICT_LABEL[chk.verdict]}; {c.status(chk)}")
            else:
                out = ET.SubElement(case, "system-out")
                out.text = detail
        for n in r.notices:
            ET.SubElement(props, "property", name=f"notice:{n.code}", value=n.text())
        warnings = c.notice_lines(r) + [f"{s.stage.name}: {w}" for s in r.stages for w in s.warnings]
        if warnings:
            ET.SubElement(suite, "system-err").text = "\n".join(warnings)
        suite.set("tests", str(len(r.checks)))
        suite.set("failures", str(failures))
        suite.set("skipped", str(skipped))
        suite.set("errors", "0")
    for el in root.iter():
        el.attrib = {k: plain(v) for k, v in el.attrib.items()}
        el.text = plain(el.text) if el.text else el.text
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
