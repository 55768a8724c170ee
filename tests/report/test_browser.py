"""The reports in real headless Chromium: they render, they make no network request, markup stays text.

See ``conftest.py`` for how requests are detected (NetLog plus an unresolvable host map, with the
report's CSP removed so that nothing is hidden by it). Skipped with a reason when Debian's
``chromium`` is missing; CI installs it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flopaudit.audit import audit_file
from flopaudit.render.html import render_html

pytestmark = pytest.mark.browser
CONFIGS = Path(__file__).resolve().parent / "configs"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')
WIDTH_PROBE = ("<script>addEventListener('load', () => document.body.setAttribute("
               "'data-scroll-width', document.documentElement.scrollWidth))</script>")


def not_blank(png: Path) -> tuple[bool, str]:
    """Whether a screenshot shows something: many colours, and no single colour covering 98% of it."""
    image = pytest.importorskip("PIL.Image", reason="Pillow is needed to read screenshots").open(png)
    grey = image.convert("L")
    histogram = grey.histogram()
    top = max(histogram) / sum(histogram)
    colours = len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])
    return top < 0.98 and colours > 16, f"dominant shade covers {top:.1%}, {colours} colours"


def strip_csp(html: str) -> str:
    """The page without its Content-Security-Policy meta tag (exactly one must be there)."""
    stripped, n = CSP_META.subn("", html)
    assert n == 1, "the report must carry exactly one Content-Security-Policy meta tag"
    return stripped


def with_probe(html: str) -> str:
    """A copy of the page, without its CSP, that records the page's scroll width in the DOM."""
    return strip_csp(html).replace("</body>", WIDTH_PROBE + "</body>")


@pytest.fixture(scope="module")
def markup_report() -> str:
    """A report whose config and policy are full of script, event-handler and javascript: markup."""
    result = audit_file(CONFIGS / "markup.yaml",
                        policies=[str(CONFIGS / "markup-policy.yaml"), "eu-ai-act-systemic-risk"])
    return render_html([result], ["flopaudit", "report", "markup.yaml", "-o", "markup.html"])


def test_the_detector_sees_requests(browse) -> None:  # noqa: ANN001
    # Control: a page that loads an image, a stylesheet and a font from elsewhere.
    page = ("<!DOCTYPE html><html><head><link rel='stylesheet' href='https://style.invalid/a.css'>"
            "<style>@font-face{font-family:x;src:url(https://font.invalid/f.woff2)} body{font-family:x}</style>"
            "</head><body>text<img src='http://img.invalid/i.png'></body></html>")
    run = browse(page)
    hosts = {re.sub(r"^\w+://([^/]+)/.*$", r"\1", url) for url in run.requests}
    assert {"style.invalid", "img.invalid", "font.invalid"} <= hosts, run.requests


def test_the_markup_probe_sees_live_markup(browse) -> None:  # noqa: ANN001
    # Control: the same payloads, live, do leave their trace, so their absence below means something.
    page = ("<!DOCTYPE html><html><head><title>t</title></head><body><p>x</p>"
            "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">"
            "<script>document.title='pwned'</script></body></html>")
    dom = browse(page).dom
    assert re.search(r"<[a-z][^<>]*\sdata-pwned=", dom) and "<title>pwned</title>" in dom


@pytest.mark.parametrize("name", [*sorted(p.stem for p in EXAMPLES.glob("*.yaml")), "compare"])
def test_sample_report_renders_offline(browse, sample_reports: dict[str, str], name: str) -> None:  # noqa: ANN001
    html = sample_reports[f"reports/{name}.html"]
    run = browse(with_probe(html), window="1280,1600")
    assert run.requests == [], f"the page requested {run.requests}"
    ok, why = not_blank(run.screenshot)
    assert ok, f"blank screenshot: {why}"
    assert "Compute-threshold risk report" in run.dom
    assert re.search(r'data-scroll-width="(\d+)"', run.dom), "the page did not finish loading"
    width = int(re.search(r'data-scroll-width="(\d+)"', run.dom).group(1))
    assert width <= 1280, f"the page is {width}px wide at 1280px"


def test_report_reads_on_a_phone_and_in_dark_mode(browse, sample_reports: dict[str, str]) -> None:  # noqa: ANN001
    html = with_probe(sample_reports["reports/near-threshold.html"])
    phone = browse(strip_csp(sample_reports["reports/near-threshold.html"]), window="500,1500", frame=390)
    width = int(re.search(r'data-scroll-width="(\d+)"', phone.dom).group(1))
    assert width <= 390, f"the page overflows a phone screen: {width}px wide at 390px"
    assert phone.requests == []
    assert not_blank(phone.screenshot)[0]
    light = browse(html, window="1280,900")
    dark = browse(html, window="1280,900", extra=("--force-dark-mode", "--blink-settings=preferredColorScheme=0"))
    assert not_blank(dark.screenshot)[0]
    assert dark.screenshot.read_bytes() != light.screenshot.read_bytes(), "dark mode changed nothing"


def test_csp_allows_exactly_the_inline_stylesheet(browse, sample_reports: dict[str, str]) -> None:  # noqa: ANN001
    # With its CSP the page must look the same as without it: the CSP blocks nothing the report uses.
    html = sample_reports["reports/llama-3.1-405b.html"]
    with_csp = browse(html, window="1280,1200")
    without = browse(strip_csp(html), window="1280,1200")
    assert with_csp.requests == []
    assert with_csp.screenshot.read_bytes() == without.screenshot.read_bytes()


def test_markup_in_names_stays_text(browse, markup_report: str) -> None:  # noqa: ANN001
    # Loaded without the CSP: were any payload live, it would run and leave its trace in the DOM.
    run = browse(strip_csp(markup_report))
    dom = run.dom
    assert run.requests == []
    assert not re.search(r"<[a-z][^<>]*\sdata-pwned=", dom), "an injected handler ran"
    assert "<title>flopaudit risk report: &lt;script&gt;" in dom, "the title was changed or not escaped"
    assert not re.search(r"<script", dom, re.I), "a script element exists"
    assert not re.search(r"<(img|iframe|svg|b|i|u|em)\b[^>]*\s(on\w+|src)=", dom, re.I), "an injected element exists"
    assert not [h for h in re.findall(r'href="([^"]*)"', dom) if not h.startswith(("https:", "http:", "#"))], \
        "a link that is neither http(s) nor in-page"
    # The names are shown, as text.
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;Evil 7B" in dom
    assert "onerror=" in dom and "&lt;img src=x onerror=" in dom
    assert not_blank(run.screenshot)[0]
