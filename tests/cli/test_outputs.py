"""Issue 10 item 3: several outputs from one run, and the GitHub step summary."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, run_cli

LLAMA = "examples/llama-3.1-405b.yaml"  # crosses the EU's 1e25 on its as_of: exit 1


def test_several_formats_in_one_run_equal_the_single_runs(tmp_path: Path) -> None:
    sarif, md, junit = tmp_path / "fa.sarif", tmp_path / "out" / "summary.md", tmp_path / "r.xml"
    proc = run_cli("check", LLAMA, "--format", "github", "--output", f"sarif={sarif}",
                   "-o", f"markdown={md}", "--output", f"junit={junit}")
    assert proc.returncode == 1
    # Each file holds exactly what that format prints alone; stdout is the --format one.
    for fmt, path in (("sarif", sarif), ("markdown", md), ("junit", junit)):
        alone = run_cli("check", LLAMA, "--format", fmt)
        assert alone.returncode == 1 and path.read_text() == alone.stdout, fmt
    assert proc.stdout == run_cli("check", LLAMA, "--format", "github").stdout


def test_the_plain_output_file_still_works_beside_pairs(tmp_path: Path) -> None:
    main, extra = tmp_path / "main.json", tmp_path / "x.sarif"
    proc = run_cli("check", LLAMA, "--format", "json", "-o", str(main), "-o", f"sarif={extra}")
    assert proc.returncode == 1 and proc.stdout == ""
    assert json.loads(main.read_text())["exit_code"] == 1
    assert json.loads(extra.read_text())["version"] == "2.1.0"
    # A name with '=' whose prefix is no format is a plain file.
    odd = tmp_path / "a=b.txt"
    assert run_cli("check", LLAMA, "-o", str(odd)).returncode == 1 and odd.read_text().startswith("flopaudit ")


def test_output_usage_errors_exit_2(tmp_path: Path) -> None:
    proc = run_cli("check", LLAMA, "-o", str(tmp_path / "a"), "-o", str(tmp_path / "b"))
    assert proc.returncode == 2 and "a plain FILE given 2 times" in proc.stderr
    proc = run_cli("check", LLAMA, "-o", "sarif=")
    assert proc.returncode == 2 and "'sarif=': no file after 'sarif='" in proc.stderr


def test_annotations_are_printed_even_when_an_output_file_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()  # a folder where the SARIF file should go
    proc = run_cli("check", LLAMA, "--format", "github", "-o", f"sarif={tmp_path / 'taken'}")
    assert proc.returncode == 2 and "cannot write output" in proc.stderr
    assert proc.stdout.startswith("::error file=examples/llama-3.1-405b.yaml,")


def test_github_format_appends_the_markdown_summary_to_the_step_summary(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n")
    proc = run_cli("check", LLAMA, "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert proc.returncode == 1 and proc.stdout.startswith("::error ")
    markdown = run_cli("check", LLAMA, "--format", "markdown").stdout
    assert summary.read_text() == "earlier step\n" + markdown  # appended, not replaced
    # Other formats leave it alone; github without the variable writes no file.
    run_cli("check", LLAMA, "--format", "json", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text() == "earlier step\n" + markdown
    assert run_cli("check", LLAMA, "--format", "github", cwd=ROOT, env={"GITHUB_STEP_SUMMARY": ""}).returncode == 1


def test_a_config_that_cannot_be_judged_is_an_annotation_too_with_github(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  name: X\n  parameters: 70Q\ntraining: []\n")
    proc = run_cli("check", str(bad), "--format", "github")
    assert proc.returncode == 2
    # parameters: is line 3; the annotation goes to stdout (the runner reads it), the error line to stderr.
    assert proc.stdout == (f"::error file={bad},line=3,title=flopaudit%3A could not judge (exit 2)::"
                           "model.parameters: '70Q': unknown suffix 'Q' (use K, M, B or G, T, P, E)\n")
    assert proc.stderr.startswith(f"flopaudit: error: {bad}:3:3: model.parameters")
    assert run_cli("check", str(bad), "--format", "json").stdout == ""  # other formats: stderr only, as before
