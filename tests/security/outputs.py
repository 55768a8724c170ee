"""Run one config through every output format of ``check`` (and the HTML report) and collect the texts."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import run_cli

FORMATS = ("text", "json", "markdown", "github", "sarif", "junit")


def every_output(config: str, tmp_path: Path, *args: str, cwd: Path | None = None) -> dict[str, str]:
    """Format name -> what ``check`` printed (``html``: the report, unescaped), after checking each parses."""
    out: dict[str, str] = {}
    codes = set()
    for fmt in FORMATS:
        kwargs = {"cwd": cwd} if cwd else {}
        proc = run_cli("check", config, "--format", fmt, *args, **kwargs)
        assert proc.returncode in (0, 1), proc.stderr
        assert "Traceback" not in proc.stderr
        codes.add(proc.returncode)
        if fmt in ("json", "sarif"):
            json.loads(proc.stdout)
        out[fmt] = proc.stdout
        if fmt == "markdown":  # what a reader sees: HTML entities and backslash escapes decoded
            out[fmt] = html.unescape(re.sub(r"\\(.)", r"\1", proc.stdout))
        if fmt == "junit":  # what a JUnit viewer shows: every text and attribute, XML entities decoded
            tree = ET.fromstring(proc.stdout)
            out[fmt] = "\n".join([*(el.text or "" for el in tree.iter()),
                                   *(v for el in tree.iter() for v in el.attrib.values())])
    assert len(codes) == 1, "every format must exit alike"
    report = tmp_path / "report.html"
    kwargs = {"cwd": cwd} if cwd else {}
    proc = run_cli("check", config, "--report", str(report), *args, **kwargs)
    assert proc.returncode in codes, proc.stderr
    out["html"] = html.unescape(report.read_text())
    return out


def assert_everywhere(outputs: dict[str, str], *needles: str) -> None:
    """Each needle is in every output (GitHub escapes ':' only in properties, so messages stay readable)."""
    for fmt, text in outputs.items():
        flat = " ".join(text.split())  # rich folds long lines
        for needle in needles:
            assert needle in flat, f"{needle!r} missing from the {fmt} output"
