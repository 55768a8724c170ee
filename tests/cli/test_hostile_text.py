"""Issue 7, item 9: text from a config or a policy file is inert in every output format.

``configs/hostile-names.yaml`` names its model and stages with rich markup, HTML, a javascript:
Markdown link, a line break followed by a workflow command, and control characters;
``configs/hostile-policy.yaml`` does the same in every text of a custom policy and cites a
javascript: URL. Each format runs through the real CLI.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from flopaudit.audit import audit_file
from flopaudit.cli._output import FORMATS
from flopaudit.render import safe, text
from tests.conftest import ROOT, run_cli

HOSTILE = "tests/cli/configs/hostile-names.yaml"
POLICY = "tests/cli/configs/hostile-policy.yaml"
POLICIES = ("--policy", POLICY, "--policy", "eu-ai-act-systemic-risk")
NAMES = ("[/]", "[bold red]x", "<script>alert(1)</script>",
         "[x](javascript:alert(1)) | ![i](https://img.invalid/i.png)")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def command_lines(out: str) -> list[str]:
    """Lines a GitHub Actions runner would read as workflow commands (it strips leading whitespace)."""
    return [line for line in out.splitlines() if line.lstrip().startswith("::")]


@pytest.fixture(scope="module")
def outputs() -> dict[str, subprocess.CompletedProcess[str]]:
    return {fmt: run_cli("check", HOSTILE, *POLICIES, "--format", fmt) for fmt in FORMATS}


class _Links(HTMLParser):
    """Every tag and href of an HTML fragment, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]
        self.srcs += [v or "" for k, v in attrs if k == "src"]

    def handle_data(self, data: str) -> None:
        self.text += data


def parse_html(page: str) -> _Links:
    parser = _Links()
    parser.feed(page)
    return parser


@pytest.mark.parametrize("fmt", FORMATS)
def test_item9_every_format_judges_without_a_traceback(outputs: dict[str, subprocess.CompletedProcess[str]],
                                                       fmt: str) -> None:
    proc = outputs[fmt]
    # 6 x 70B x 20T = 8.4e24: above the hostile policy's 1e24, below the EU's 1e25.
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    assert "Traceback" not in proc.stdout
    assert not CONTROL.search(proc.stdout), "a control character reached the output"
    assert command_lines(proc.stdout) == [] or fmt == "github"


def test_item9_text_shows_every_name_literally(outputs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    out = outputs["text"].stdout
    assert re.search(r"^flopaudit \S+ · \[/\] · ", out)
    for name in ("[bold red]x", "<script>alert(1)</script>", "[x](javascript:alert(1))", "tell-[/]-the-board",
                 "Tell the board [/] <script>alert(1)</script>", "ctl \ufffd[2J\ufffd :smile:"):
        assert name in out, name
    assert "FAIL: crossed: hostile-threshold (exit 1)" in out


def test_item9_text_in_colour_styles_nothing_from_a_name() -> None:
    result = audit_file(ROOT / HOSTILE, policies=[str(ROOT / POLICY)])
    out = text.render([result], color=True)
    assert "\x1b[1m" in out  # the renderer's own styles are there
    assert "\x1b[2J" not in out and "\ufffd[2J" in out  # a stage name's ESC
    assert "\ufffd[31m" in out  # the obligation's ESC
    assert "[bold red]x" in out and "tell-[/]-the-board" in out


def test_item9_markdown_renders_names_as_text_and_links_only_http(
        outputs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    md = outputs["markdown"].stdout
    assert set(re.findall(r"<(/?\w+)", md)) <= {"br", "sub", "/sub"}, "only the renderer's own tags"
    rendered = parse_html(MarkdownIt("commonmark").enable("table").render(md))
    assert rendered.tags.isdisjoint({"script", "img", "b", "u", "i"})
    assert rendered.srcs == []
    assert rendered.hrefs == ["http://data.europa.eu/eli/reg/2024/1689/oj"], "the hostile policy is not linked"
    for name in NAMES:
        assert name in rendered.text, name
    assert "Tell the board [/] <script>alert(1)</script>" in rendered.text
    # The first cell of each stage row is the whole name: a pipe in it does not split the cell.
    page = MarkdownIt("commonmark").enable("table").render(md)
    first_cells = [html.unescape(c) for c in re.findall(r"<tr>\s*<td>(.*?)</td>", page)]
    assert NAMES[1] in first_cells and NAMES[3] in first_cells


def test_item9_github_output_has_one_command_per_annotation(
        outputs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    lines = outputs["github"].stdout.splitlines()
    commands = command_lines(outputs["github"].stdout)
    # The hostile policy is crossed (one error), the config's as_of is a notice (one warning) and one
    # stage's cross-checks disagree (one warning); then the summary line.
    assert len(commands) == 3 and len(lines) == 4
    for line in commands:
        assert re.fullmatch(r"::(error|warning) file=[^:,]+,line=\d+,title=[^:,]+::.+", line), line
    assert commands[1].startswith("::warning file=tests/cli/configs/hostile-names.yaml,line=30,title=flopaudit%3A as-of::")
    assert commands[2].startswith("::warning file=tests/cli/configs/hostile-names.yaml,line=")
    assert "title=flopaudit%3A stage two%0Alines%0A%3A%3Aerror file=x%2Cline=1%3A%3Ainjected %250A::" in commands[2]
    assert lines[3].startswith("FAIL: crossed: hostile-threshold")


def test_item9_junit_parses_and_keeps_the_names(outputs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    root = ET.fromstring(outputs["junit"].stdout)
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == f"[/] ({HOSTILE})"
    failure = next(c for c in suite.iter("testcase") if c.get("name") == "hostile-threshold").find("failure")
    assert failure is not None and failure.get("message") == "ABOVE: [bold]Hostile[/bold] | [x](javascript:alert(1))"
    assert "Tell the board [/] <script>alert(1)</script>" in (failure.text or "")
    assert "\ufffd" in (failure.text or "")  # the policy's ESC and U+0001, which XML 1.0 cannot hold
    assert "two\nlines\n:\u200b:error" in (suite.findtext("system-err") or "")


def test_item9_sarif_is_json_and_help_links_are_http(outputs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    log = json.loads(outputs["sarif"].stdout)
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert "helpUri" not in rules["hostile-threshold"]
    assert rules["eu-ai-act-systemic-risk"]["helpUri"] == "http://data.europa.eu/eli/reg/2024/1689/oj"
    assert rules["hostile-threshold"]["name"] == "[bold]Hostile[/bold] | [x](javascript:alert(1))"
    texts = [r["message"]["text"] for r in log["runs"][0]["results"]]
    assert any("two\nlines\n::error file=x,line=1::injected %0A" in t for t in texts)


def test_item9_html_report_links_only_http(tmp_path: Path) -> None:
    out = tmp_path / "hostile.html"
    proc = run_cli("report", HOSTILE, *POLICIES, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    page = out.read_text(encoding="utf-8")
    parsed = parse_html(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert all(h.startswith(("https://", "http://", "#")) for h in parsed.hrefs), parsed.hrefs
    assert not CONTROL.search(page)
    for name in NAMES:
        assert html.escape(name, quote=True) in page or html.escape(name, quote=False) in page, name
    assert "[click](javascript:alert(1))" in parsed.text  # the citation label, shown as text


def test_item9_error_messages_cannot_forge_a_workflow_command(tmp_path: Path) -> None:
    cfg = tmp_path / "dup.yaml"
    cfg.write_text('model: {name: m, parameters: 1B}\ntraining:\n'
                   '  - {name: "a\\n::error::forged \\e[2J", kind: pretraining, tokens: 1B}\n'
                   '  - {name: "a\\n::error::forged \\e[2J", kind: fine-tuning, tokens: 1B}\n')
    proc = run_cli("check", str(cfg))
    assert proc.returncode == 2
    assert f"{cfg}:4:" in proc.stderr and "duplicate stage name" in proc.stderr
    assert command_lines(proc.stderr) == [] and "\x1b" not in proc.stderr


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "file:///etc/passwd", "//evil.example/x",
    "http:/evil.example", "https://", "https://a.example/x y", "https://a.example/\nx", "", "ftp://a.example/",
])
def test_item9_only_http_urls_are_web_urls(url: str) -> None:
    assert not safe.is_web_url(url)
    assert "](" not in safe.markdown_link("label", url)


@pytest.mark.parametrize("url", ["https://eur-lex.europa.eu/eli/reg/2024/1689/oj", "HTTP://Example.com/a?b=c#d"])
def test_item9_http_urls_are_links(url: str) -> None:
    assert safe.is_web_url(url)
    assert safe.markdown_link("l", url) == f"[l]({url})"


def test_item9_markdown_link_targets_cannot_break_out() -> None:
    assert safe.markdown_link("a]b", "https://x.example/a_(b)|<c>") == "[a\\]b](https://x.example/a_%28b%29%7C%3Cc%3E)"
    assert safe.markdown_code("a`b``c") == "```a`b``c```"


def test_item9_markdown_text_stays_on_one_line() -> None:
    assert safe.markdown("a\r\n- b\r## c\n| d") == "a<br>- b<br>## c<br>\\| d"
    assert safe.markdown_code("a\r\nb") == "`a b`"
