"""``flopaudit policies``: list the built-in policies; ``show ID`` prints one; ``verify DIR`` checks files."""

from __future__ import annotations

import datetime as dt
import json

from typing import TYPE_CHECKING

import click

from flopaudit.cli._options import parse_date

if TYPE_CHECKING:
    from flopaudit.errors import FlopauditError
    from flopaudit.policy.verify import VerifyReport


@click.group(invoke_without_command=True)
@click.option("--as-of", metavar="DATE", help="Status on DATE (default: today).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def policies(ctx: click.Context, as_of: str | None, fmt: str) -> None:
    """List the built-in policies with status and threshold."""
    if ctx.invoked_subcommand is not None:
        return
    from flopaudit.policy.loader import builtin_policies
    from flopaudit.policy.status import status_on
    from flopaudit.render.common import flop

    date = parse_date(as_of) or dt.date.today()
    rows = []
    for p in builtin_policies().values():
        rule = p.rules[0]
        bound = f"{flop(rule.threshold)}" if rule.threshold else f"{rule.relative_to_base:.3g} x base"
        op = ">" if rule.comparison == "gt" else ">="
        rows.append({"id": p.id, "jurisdiction": p.jurisdiction.code, "status": status_on(p, date),
                     "threshold": f"{op} {bound}" + (f" (+{len(p.rules) - 1} more rule)" if len(p.rules) > 1 else ""),
                     "name": p.short_name, "source": p.citations[0].url})
    if fmt == "json":
        click.echo(json.dumps({"as_of": date.isoformat(), "policies": rows}, indent=2))
        return
    _policies_text(date, rows)


def _policies_text(date: dt.date, rows: list[dict[str, str]]) -> None:
    """The policy list as a table fitted to the width: ids and thresholds never broken.

    The column of the jurisdiction's code (JSON ``jurisdiction``) is headed ``region`` so that the
    table fits 80 columns.
    """
    import sys

    from rich.console import Console
    from rich.text import Text

    from flopaudit.render import layout
    from flopaudit.render.common import status_label
    from flopaudit.render.safe import plain

    columns = (layout.Column("id", wrap=False), layout.Column("region", wrap=False),
               layout.Column("status"), layout.Column("threshold", wrap=False),
               layout.Column("name"))
    cells = [[Text(plain(r["id"]), style="bold"), Text(plain(r["jurisdiction"])), Text(status_label(r["status"])),
              Text(plain(r["threshold"]).replace(" (+", "\n(+")), Text(plain(r["name"]))] for r in rows]
    width = layout.width(sys.stdout)
    console = Console(highlight=False, width=width, **({} if sys.stdout.isatty() else {"color_system": None}))
    with console.capture() as captured:
        console.print(layout.table(f"Built-in policies (status on {date.isoformat()})", columns, cells, width))
    click.echo("".join(line.rstrip() + "\n" for line in captured.get().splitlines()), nl=False,
               color=sys.stdout.isatty())


@policies.command("show")
@click.argument("policy_id")
def show(policy_id: str) -> None:
    """Print one policy (built-in id or file) as YAML, with its sources."""
    import yaml

    from flopaudit.policy.loader import resolve_policy
    policy = resolve_policy(policy_id)
    click.echo(yaml.safe_dump(policy.model_dump(mode="json", exclude_defaults=True), sort_keys=False,
                              allow_unicode=True, width=100), nl=False)


@policies.command("verify")
@click.argument("paths", nargs=-1, required=True, metavar="DIR_OR_FILE...")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify(paths: tuple[str, ...], fmt: str) -> None:
    """Validate policy files and run their fixtures (tests:); exit 0 good, 1 a fixture failed, 2 invalid.

    Checks the schema, sources (http(s) citations, every rule cited), dates, duplicate ids and ids
    that shadow a built-in policy without 'overrides:', then audits each fixture's config against
    its policy alone and compares the verdict.
    """
    import sys

    from flopaudit.policy.verify import verify_paths

    report = verify_paths(paths)
    if fmt == "json":
        click.echo(json.dumps(_verify_json(report), indent=2))
    else:
        _verify_text(report)
    sys.exit(report.exit_code)


def _verify_json(report: VerifyReport) -> dict[str, object]:
    """The verification as JSON: per file its errors, warnings and fixtures."""
    def error(e: FlopauditError) -> dict[str, object]:
        return {"file": e.file, "line": e.line, "column": e.column, "message": e.message}
    return {"exit_code": report.exit_code, "files": [
        {"file": f.file, "policy": f.policy_id, "exit_code": f.exit_code,
         "errors": [error(e) for e in f.errors], "warnings": f.warnings,
         "fixtures": [{"name": t.name, "line": t.line, "ok": t.ok, "expected": t.expected, "got": t.got,
                       "expected_rule": t.expected_rule, "rule": t.got_rule, "detail": t.detail,
                       "reasons": list(t.reasons)}
                      for t in f.fixtures]}
        for f in report.files]}


def _verify_text(report: VerifyReport) -> None:
    """One line per problem (``file:line:col: ...``), one per good file, and a summary."""
    from flopaudit.errors import format_location
    from flopaudit.render.safe import plain

    for f in report.files:
        for e in f.errors:
            click.echo(plain(f"{e.location() or f.file}: error: {e.message}"))
        for t in f.fixtures:
            if t.ok:
                continue
            got = t.got if t.got != t.expected else f"{t.got} decided by rule '{t.got_rule}'"
            want = t.expected if t.expected_rule is None else f"{t.expected} (rule '{t.expected_rule}')"
            why = "; ".join(x for x in (t.detail, *t.reasons[:1]) if x)
            why = f" ({why})" if why else ""
            click.echo(plain(f"{format_location(f.file, t.line, None)}: fixture '{t.name}': expected {want}, "
                             f"got {got}{why}"))
        for w in f.warnings:
            click.echo(plain(f"{f.file}: warning: {w}"))
        if f.exit_code == 0:
            click.echo(plain(f"{f.file}: ok ({f.policy_id}, {len(f.fixtures)} fixture"
                             f"{'' if len(f.fixtures) == 1 else 's'})"))
    fixtures = [t for f in report.files for t in f.fixtures]
    invalid = sum(1 for f in report.files if f.errors)
    failed = sum(1 for t in fixtures if not t.ok)
    verdict = {0: "PASS", 1: "FAIL", 2: "ERROR"}[report.exit_code]
    click.echo(f"{verdict}: {len(report.files)} policy file(s), {invalid} invalid; "
               f"{len(fixtures)} fixture(s), {failed} failed")
