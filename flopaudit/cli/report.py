"""``flopaudit report CONFIG... -o FILE.html [--pdf FILE.pdf]``: the self-contained HTML risk report.

Exits 0 whatever the verdicts (the report is for reading; ``check`` is the gate) and 2 when an
input cannot be judged, a file cannot be written, or ``--pdf`` finds no headless Chromium.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from flopaudit.cli._options import audit_options, audit_settings, framework_file_options


def reproduce_command(configs: tuple[str, ...], output: Path | None, policies: tuple[str, ...],
                      as_of: dt.date | None, method: str | None, timestamp: bool, allow_code: bool = False,
                      pdf: Path | None = None) -> list[str]:
    """The command line that writes the same report, options in a fixed order."""
    command = ["flopaudit", "report", *configs]
    if output is not None:
        command += ["-o", str(output)]
    if pdf is not None:
        command += ["--pdf", str(pdf)]
    for p in policies:
        command += ["--policy", p]
    if as_of is not None:
        command += ["--as-of", as_of.isoformat()]
    if method is not None:
        command += ["--method", method]
    if allow_code:
        command.append("--allow-code")
    if timestamp:
        command.append("--timestamp")
    return command


@click.command()
@click.argument("configs", nargs=-1, required=True, metavar="CONFIG...")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE.html", help="Write the report to this file.")
@click.option("--pdf", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.pdf",
              help="Also (or only) print the same page to this PDF, with headless Chromium (must be installed).")
@audit_options
@framework_file_options
@click.option("--timestamp", is_flag=True,
              help="Record the time of writing (UTC). Without it the same inputs give the same bytes.")
def report(configs: tuple[str, ...], output: Path, policies: tuple[str, ...], as_of: dt.date | None,
           method: str | None, allow_code: bool, code_timeout: float, code_memory: float | None,
           allow_outside_paths: bool, devices: int | None, vocab: int | None,
           sequence_length: int | None, training_format: str | None, timestamp: bool, pdf: Path | None) -> None:
    """Write a self-contained HTML risk report for one CONFIG, or several side by side.

    CONFIG is a file, a directory (every flopaudit config under it), a glob or - (stdin), as for check.
    """
    from flopaudit.audit import audit
    from flopaudit.cli import _inputs
    from flopaudit.measure import progress  # imports neither torch nor rich
    from flopaudit.render.html import render_html, write_html
    from flopaudit.render.pdf import find_browser, write_pdf

    if output is None and pdf is None:
        raise click.UsageError("give -o/--output FILE.html, --pdf FILE.pdf, or both")
    if pdf is not None:
        find_browser()  # before the audit: a missing browser is known at once

    configs = tuple(_inputs.expand(configs))  # directories, globs, '-' (stdin: <stdin>), as for check
    stdin_text = _inputs.read_stdin() if _inputs.STDIN in configs else None
    with progress.shown():  # while a measured stage counts its model: stderr, only on a terminal
        results = [audit(_inputs.load(c, stdin_text, devices=devices, vocab=vocab,
                                      sequence_length=sequence_length, training_format=training_format),
                         **audit_settings(c, policies=policies, as_of=as_of, method=method,
                                          allow_code=allow_code, code_timeout=code_timeout,
                                          code_memory=code_memory, allow_outside_paths=allow_outside_paths))
                   for c in configs]
    generated = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) if timestamp else None
    if as_of is None and all(r.config.as_of is None for r in results):
        # Judged as of today: the reproducing command must pin that date, or a later run differs.
        as_of = results[0].as_of
    command = reproduce_command(configs, output, policies, as_of, method, timestamp, allow_code=allow_code, pdf=pdf)
    html = render_html(results, command, generated_at=generated)  # once: it runs the sensitivity audits
    written = []
    if output is not None:
        write_html(html, output)
        written.append(str(output))
    if pdf is not None:
        write_pdf(html, pdf)
        written.append(str(pdf))
    click.echo(f"Report for {len(results)} config{'s' if len(results) != 1 else ''} written to {' and '.join(written)}")
