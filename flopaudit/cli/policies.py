"""``flopaudit policies``: list the built-in policies; ``policies show ID`` prints one."""

from __future__ import annotations

import datetime as dt
import json

import click

from flopaudit.cli._options import parse_date


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
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f"Built-in policies (status on {date.isoformat()})", title_justify="left")
    for col in ("id", "jurisdiction", "status", "threshold", "name"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["id"], r["jurisdiction"], r["status"], r["threshold"], r["name"])
    Console(highlight=False).print(table)


@policies.command("show")
@click.argument("policy_id")
def show(policy_id: str) -> None:
    """Print one policy (built-in id or file) as YAML, with its sources."""
    import yaml

    from flopaudit.policy.loader import resolve_policy
    policy = resolve_policy(policy_id)
    click.echo(yaml.safe_dump(policy.model_dump(mode="json", exclude_defaults=True), sort_keys=False,
                              allow_unicode=True, width=100), nl=False)
