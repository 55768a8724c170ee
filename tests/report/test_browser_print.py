"""Issue 12 in real headless Chromium: the one-page summary prints on one page, the landscape chart
has one point per catalogue model and fits a 390 px phone, the what-if table is there, and
``report --pdf`` writes a PDF whose pages and text pdftotext reads back.

Skipped with a reason when Debian's ``chromium`` (or, for the PDF checks, poppler's ``pdftotext``)
is missing; CI installs both (``.ci/run``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flopaudit.audit import audit_file
from flopaudit.context.reference import reference_models
from flopaudit.render.html import render_html
from flopaudit.render.pdf import write_pdf
from tests.report.test_browser import strip_csp

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

#: Run inside the framed page: measures the chart and the audited marker and hands the figures to the
#: wrapper page (the DOM Chromium dumps), as JSON in its body's data-probe attribute.
PROBE = """<script>addEventListener('load', () => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; };
  const svg = document.querySelector('svg.landscape');
  const marker = document.querySelector('g.model.audited path');
  const out = {scroll: document.documentElement.scrollWidth, view: document.documentElement.clientWidth,
               svg: box(svg), marker: box(marker),
               dots: [...document.querySelectorAll('g.model')].map(g => g.getAttribute('data-model')),
               whatif: document.querySelectorAll('table.what-if tbody tr').length};
  parent.document.body.setAttribute('data-probe', JSON.stringify(out));
})</script>"""


def pdftotext() -> str:
    """Path of poppler's pdftotext, or skip with the reason."""
    path = shutil.which("pdftotext")
    if path is None:
        pytest.skip("poppler's pdftotext is not installed (apt-get install poppler-utils); CI installs it")
    return path


def pages(pdf: Path) -> list[str]:
    """The PDF's text, one string per page (pdftotext ends every page with a form feed)."""
    text = subprocess.run([pdftotext(), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1]


@pytest.fixture(scope="module")
def llama_html() -> str:
    return render_html([audit_file(EXAMPLES / "llama-3.1-405b.yaml")], ["flopaudit", "report"])


def test_landscape_has_every_catalogue_model_and_fits_a_phone(browse) -> None:  # noqa: ANN001
    html = render_html([audit_file(EXAMPLES / "near-threshold.yaml")], ["x"])
    run = browse(strip_csp(html).replace("</body>", PROBE + "</body>"), window="500,1500", frame=390)
    found = re.search(r'data-probe="([^"]*)"', run.dom)
    assert found, "the probe did not run"
    probe = json.loads(found.group(1).replace("&quot;", '"'))
    # One point per catalogue model (each has a publication date: the schema requires it), plus this config.
    catalogue = reference_models()
    assert all(m.published for m in catalogue)
    assert sorted(probe["dots"]) == sorted([m.id for m in catalogue] + ["config-1"])
    # No sideways scrolling at 390 px: the page, the chart and the audited marker are all within the screen.
    assert probe["scroll"] <= 390, probe
    assert 0 <= probe["svg"][0] and probe["svg"][1] <= probe["view"], probe
    assert 0 <= probe["marker"][0] and probe["marker"][1] <= probe["view"], probe
    # The what-if table: 1e24, 1e25, 1e26, 1e27 and the threshold adjusted for algorithmic progress.
    assert probe["whatif"] == 5


@pytest.mark.parametrize("paper", ["Letter", "A4"])
def test_summary_prints_on_one_page(chromium: str, llama_html: str, tmp_path: Path,  # noqa: ARG001
                                    paper: str) -> None:
    # Chromium prints on Letter by default; for A4 the page size is set (the CSP, which allows only the
    # report's own stylesheet by its hash, is removed so that the extra rule applies).
    html = llama_html if paper == "Letter" else \
        strip_csp(llama_html).replace("</style>", "@media print { @page { size: A4; } }</style>")
    pdf = tmp_path / "llama.pdf"
    write_pdf(html, pdf)
    size = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout \
        if shutil.which("pdfinfo") else ""
    assert not size or f"({paper.lower()})" in size.lower(), size
    text = pages(pdf)
    assert len(text) > 2
    first = text[0]
    for expected in ("Compute-threshold risk report", "by 4.1x: notify the Commission", "Total compute",
                     "Biggest uncertainty", "Obligations and deadlines", "End of the summary"):
        assert expected in first, f"{expected!r} is not on page 1"
    # The summary ends on page 1 and the detail starts on a new page with its heading.
    assert not any("End of the summary" in p for p in text[1:])
    assert text[1].lstrip().startswith("1. Verdicts")


def test_report_pdf_from_the_command_line(chromium: str, tmp_path: Path) -> None:  # noqa: ARG001
    pdf, html = tmp_path / "out" / "near.pdf", tmp_path / "near.html"
    proc = subprocess.run([sys.executable, "-m", "flopaudit", "report", "examples/near-threshold.yaml",
                           "-o", str(html), "--pdf", str(pdf)], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert f"written to {html} and {pdf}" in proc.stdout
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = pages(pdf)
    # Summary on page 1, then one section per page at least: verdicts, headroom, stages, landscape,
    # sensitivity, context, provenance (7 sections after the summary).
    assert len(text) >= 8
    assert "Undecided against EU AI Act 1e25" in text[0]
    whole = "\n".join(text)
    for heading in ("1b. Headroom and what-if thresholds", "3. The landscape over time", "6. Provenance"):
        assert heading in whole


def test_report_pdf_without_chromium_exits_2_and_says_so(tmp_path: Path) -> None:
    # A PATH with only the Python interpreter's folder: no browser can be found there.
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {**os.environ, "PATH": str(bare)}
    proc = subprocess.run([sys.executable, "-m", "flopaudit", "report", "examples/gpt-3.yaml",
                           "--pdf", str(tmp_path / "r.pdf")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 2
    assert "--pdf needs headless Chromium" in proc.stderr and "apt-get install chromium" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "r.pdf").exists()
