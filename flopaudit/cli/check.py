"""``flopaudit check CONFIG...``: the CI gate."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from flopaudit.cli._options import audit_options, audit_settings, framework_file_options
from flopaudit.cli._output import FORMATS, emit_all, plan
from flopaudit.errors import FlopauditError


@click.command()
@click.argument("configs", nargs=-1, required=True, metavar="CONFIG...")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format on stdout (or the plain --output FILE). Default: the project setting "
                   "format, else text.")
@click.option("--output", "-o", "outputs", multiple=True, metavar="[FORMAT=]FILE",
              help="FILE: write the --format output there instead of stdout. FORMAT=FILE: also write "
                   "FORMAT to FILE (repeatable, e.g. -o sarif=fa.sarif -o markdown=summary.md); "
                   "replaces the project setting outputs.")
@audit_options
@framework_file_options
@click.option("--fail-on", type=click.Choice(["above", "indeterminate", "never"]), default=None,
              help="Which verdicts of a policy in force fail the gate (exit 1). "
                   "Default: the project setting fail-on, else indeterminate.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML risk report to this file.")
@click.option("--show-settings", is_flag=True,
              help="Print the resolved settings of each CONFIG and where each came from (flag, "
                   "file:line or default), then exit 0 without checking.")
def check(configs: tuple[str, ...], fmt: str | None, outputs: tuple[str, ...], policies: tuple[str, ...],
          as_of: dt.date | None, method: str | None, allow_code: bool, code_timeout: float,
          code_memory: float | None, allow_outside_paths: bool, devices: int | None, vocab: int | None,
          sequence_length: int | None, training_format: str | None, fail_on: str | None,
          report_path: Path | None, show_settings: bool) -> None:
    """Estimate every stage of each CONFIG, judge every policy, and exit 0, 1 or 2.

    CONFIG is a file (a flopaudit config or a training framework's file), a directory (every
    flopaudit config under it: *.yaml/*.yml with a top-level training: key), a glob (expanded
    here when the shell did not, sorted), or - for a flopaudit config on stdin (named <stdin>;
    its paths are relative to the working directory).

    Project settings ([tool.flopaudit] in pyproject.toml, or .flopaudit.yaml, from the config's
    folder up to the repository root) give defaults; the flags override them.
    """
    from flopaudit.cli import _inputs
    from flopaudit.config.settings import find_settings

    configs = tuple(_inputs.expand(configs))  # directories, globs, '-' (stdin: <stdin>)
    stdin_text = _inputs.read_stdin() if _inputs.STDIN in configs and not show_settings else None
    settings = [find_settings(c) for c in configs]  # required-version is checked here (exit 2)
    if show_settings:
        from flopaudit.cli.show_settings import describe

        flags = {"policies": policies, "as-of": as_of, "fail-on": fail_on, "method": method, "format": fmt,
                 "outputs": outputs, "allow-code": allow_code, "allow-outside-paths": allow_outside_paths}
        click.echo("".join(describe(c, s, flags) for c, s in zip(configs, settings)), nl=False)
        sys.exit(0)
    where = plan(fmt, outputs, settings)

    from flopaudit.audit import audit
    from flopaudit.measure import progress  # imports neither torch nor rich

    try:
        with progress.shown():  # while a measured stage counts its model: stderr, only on a terminal
            results = [audit(_inputs.load(c, stdin_text, devices=devices, vocab=vocab,
                                          sequence_length=sequence_length, training_format=training_format),
                             **audit_settings(c, policies=policies, as_of=as_of, method=method,
                                              fail_on=fail_on, allow_code=allow_code,
                                              code_timeout=code_timeout, code_memory=code_memory,
                                              allow_outside_paths=allow_outside_paths, settings=s))
                       for c, s in zip(configs, settings)]
    except FlopauditError as exc:
        if where.main == "github":  # the error as an annotation on its line too, then exit 2 as always
            from flopaudit.render.github import error_annotation
            click.echo(error_annotation(exc))
        raise
    emit_all(where, results)
    if report_path is not None:
        from flopaudit.render.html import write_report
        write_report(results, report_path, command=["flopaudit", "check", *sys.argv[2:]])
        # stderr: stdout holds the --format output, which a pipe or a file must get alone
        click.echo(f"Report for {len(results)} config{'s' if len(results) != 1 else ''} written to "
                   f"{report_path}", err=True)
    sys.exit(max(r.exit_code for r in results))
