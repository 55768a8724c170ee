"""The HTML report as text: self-contained, deterministic, escaped, and saying what the terminal says."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest

from flopaudit.audit import audit_file
from flopaudit.render import common as c
from flopaudit.render.html import render_html, write_report

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CONFIGS = Path(__file__).resolve().parent / "configs"


@pytest.fixture(scope="module")
def near() -> str:
    return render_html([audit_file(EXAMPLES / "near-threshold.yaml")], ["flopaudit", "report", "x"])


@pytest.fixture(scope="module")
def llama() -> str:
    return render_html([audit_file(EXAMPLES / "llama-3.1-405b.yaml")], ["flopaudit", "report", "x"])


def test_self_contained_with_a_strict_csp(llama: str) -> None:
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', llama).group(1)
    assert "default-src 'none'" in csp and "unsafe" not in csp
    style = re.search(r"<style>(.*?)</style>", llama, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp, "the CSP must allow exactly the inline stylesheet"
    assert llama.count("<style>") == 1
    assert not re.search(r"<script|<link|<img|<iframe|<object|@import|url\(", llama, re.I)
    assert not re.search(r"\sstyle=|\son\w+=", llama), "no inline style or event-handler attributes"
    # The only URLs are links to sources (anchors), never resources the page loads.
    for tag, url in re.findall(r"<(\w+)[^>]*?\s(?:src|href|xlink:href)=\"([^\"]*)\"", llama):
        assert tag == "a" and (url.startswith(("https://", "http://", "#"))), (tag, url)


def test_same_inputs_same_bytes() -> None:
    result = audit_file(EXAMPLES / "pipeline-synthetic-rl.yaml")
    again = audit_file(EXAMPLES / "pipeline-synthetic-rl.yaml")
    assert render_html([result], ["flopaudit"]) == render_html([again], ["flopaudit"])


def test_timestamp_only_when_asked(llama: str) -> None:
    assert "no timestamp recorded" in llama
    stamped = render_html([audit_file(EXAMPLES / "llama-3.1-405b.yaml")], ["flopaudit"],
                          generated_at=dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc))
    assert "2026-11-27T12:00:00+00:00" in stamped


def test_says_what_the_terminal_says(llama: str) -> None:
    result = audit_file(EXAMPLES / "llama-3.1-405b.yaml")
    assert c.summary_line(result.exit_code, result.checks, result.fail_on) in llama
    for check in result.checks:
        assert c.threshold(check).replace(">", "&gt;") in llama
        assert c.margin(check).split(" (")[0] in llama
        assert c.VERDICT_LABEL[check.verdict] in llama


def test_verdict_row_has_everything_the_issue_asks_for(llama: str) -> None:
    row = re.search(r'<tr class="gates">\s*<td data-label="Policy"><strong>EU AI Act 1e25</strong>.*?</tr>',
                    llama, re.S)
    assert row, "no verdict row for the EU AI Act"
    text = row.group(0)
    for expected in ("EU", "in force since 2025-08-02", "&gt; 1.00e25 FLOP", "4.10e25", "▲ ABOVE",
                     "4.1x over", "+2.0 doublings", "notify-commission", "within 14 days",
                     'href="http://data.europa.eu/eli/reg/2024/1689/oj"'):
        assert expected in text, expected


def test_status_is_never_colour_alone(llama: str) -> None:
    # Every verdict badge carries an icon and a word; statuses are words.
    badges = re.findall(r'<span class="verdict v-[\w-]+">([^<]*)</span>', llama)
    assert badges and all(re.match(r"[▲▼◆–] \w", b) for b in badges)
    assert "revoked on 2025-01-20" in llama and "vetoed on 2024-09-29" in llama
    assert "not yet effective (from 2027-01-01)" in llama and "judged, never gates" in llama


def test_near_threshold_is_undecided_and_says_what_decides_it(near: str) -> None:
    assert "◆ Undecided (binding): EU AI Act 1e25" in near
    decide = re.search(r'<div class="decide" id="config-1-why-eu-ai-act-systemic-risk">(.*?)</div>', near, re.S)
    assert decide, "no 'what decides it' box for the undecided EU verdict"
    text = decide.group(1)
    assert "straddles the threshold" in text
    assert "low end: 0.3: below" in text and "high end: 0.45: ABOVE" in text
    assert re.search(r"above 0\.38\d gives ABOVE", text), text


def test_inference_compute_next_to_training(near: str) -> None:
    # 2 x 70e9 x 2,000 x 20e6 x 365 = 2.04e24 FLOP, 0.208 of the 9.85e24 training compute.
    assert "2.04e24 FLOP of inference over 365 days, 0.208x the training compute" in near


def test_several_configs_side_by_side() -> None:
    html = render_html([audit_file(EXAMPLES / "gpt-3.yaml"), audit_file(EXAMPLES / "palm-540b.yaml")], ["x"])
    table = re.search(r'<h3 id="side-by-side">.*?</table>', html, re.S).group(0)
    assert "<th scope=\"col\">GPT-3 175B</th><th scope=\"col\">PaLM 540B</th>" in table
    assert "3.23e23" in table and "2.56e24" in table
    chart = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "GPT-3 175B (config 1)" in chart and "PaLM 540B (config 2)" in chart


def test_names_are_escaped_everywhere() -> None:
    result = audit_file(CONFIGS / "markup.yaml", policies=[str(CONFIGS / "markup-policy.yaml")])
    html = render_html([result], ["flopaudit", "report", "<script>x</script>"])
    assert "<script" not in html.lower()
    assert not re.search(r"<(img|iframe|svg|b|i|u|em)\b[^>]*\s(on\w+|src)=", html)
    assert "javascript:" not in "".join(re.findall(r'href="([^"]*)"', html))
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;Evil 7B" in html
    assert "Click &lt;em&gt;me&lt;/em&gt; <span class=\"mono\">javascript:" in html  # shown, not linked


def test_write_report_creates_folders(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "r.html"
    write_report([audit_file(EXAMPLES / "chinchilla.yaml")], out, command=["flopaudit", "check", "x"])
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<code>flopaudit check x</code>" in text


def test_provenance(llama: str) -> None:
    result = audit_file(EXAMPLES / "llama-3.1-405b.yaml")
    policy_file = ROOT / "policies" / "eu-ai-act-systemic-risk.yaml"
    for expected in ("flopaudit 0.1.0", result.config_sha256(), hashlib.sha256(policy_file.read_bytes()).hexdigest(),
                     "as of 2026-11-27", "1 multiply-add = 2 FLOP", "attention full", "2024-06-13",
                     "reference_models.yaml", "efficiency_factors.yaml"):
        assert expected in llama, expected


def test_sample_reports_are_well_formed(sample_reports: dict[str, str]) -> None:
    from collections import Counter
    from html.parser import HTMLParser

    void = {"meta", "br", "img", "link", "hr", "line", "circle", "rect", "path"}

    class Checker(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []
            self.errors: list[str] = []
            self.ids: Counter[str] = Counter()

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.ids.update(v for k, v in attrs if k == "id" and v)
            if tag not in void:
                self.stack.append(tag)

        def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.ids.update(v for k, v in attrs if k == "id" and v)

        def handle_endtag(self, tag: str) -> None:
            if tag in void:
                return
            if not self.stack or self.stack[-1] != tag:
                self.errors.append(f"</{tag}> at {self.getpos()} closes <{self.stack[-1] if self.stack else ''}>")
                while self.stack and self.stack.pop() != tag:
                    pass
            else:
                self.stack.pop()

    for name, html in sample_reports.items():
        checker = Checker()
        checker.feed(html)
        assert not checker.errors and not checker.stack, (name, checker.errors[:3], checker.stack[:3])
        assert not [i for i, n in checker.ids.items() if n > 1], (name, "duplicate ids")
        assert html.startswith('<!DOCTYPE html>\n<html lang="en">')


def test_side_by_side_shows_each_configs_own_threshold_when_they_differ() -> None:
    # Llama has no base model (modifier not applicable); the fine-tune is judged against 3.8e25 / 3.
    html = render_html([audit_file(EXAMPLES / "llama-3.1-405b.yaml"),
                        audit_file(EXAMPLES / "downstream-finetune.yaml")], command=["flopaudit"])
    assert "per config" in html and "threshold &gt; 1.27e25 FLOP" in html


def test_reproduce_command_pins_the_date_a_config_left_open(tmp_path: Path) -> None:
    from tests.conftest import run_cli
    cfg = tmp_path / "open.yaml"
    cfg.write_text("model: {name: m, parameters: 1B}\ntraining: [{name: p, kind: pretraining, tokens: 1B}]\n")
    out = tmp_path / "r.html"
    assert run_cli("report", str(cfg), "-o", str(out)).returncode == 0
    assert f"--as-of {dt.date.today().isoformat()}" in out.read_text()
