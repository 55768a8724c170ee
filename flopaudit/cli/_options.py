"""Options shared by ``check`` and ``report``, defined once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])

#: The estimation methods, in order of preference (kept equal to estimate.methods.METHOD_ORDER by a test).
METHODS = ("measured", "transformer", "6nd", "hardware", "declared")


def parse_date(value: str | None, param_hint: str = "--as-of") -> dt.date | None:
    """An ISO date, or a usage error (exit 2) naming the option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)", param_hint=param_hint) from None


def audit_options(fn: F) -> F:
    """``--policy``, ``--as-of`` and ``--method``: what decides an audit besides the config."""
    fn = click.option("--method", type=click.Choice(METHODS),
                      help="Use this method for each stage where it applies (default: the first available).")(fn)
    fn = click.option("--as-of", callback=lambda _c, _p, v: parse_date(v), metavar="DATE",
                      help="Judge policy status on DATE (default: the config's as_of, else today).")(fn)
    fn = click.option("--policy", "policies", multiple=True, metavar="ID_OR_PATH",
                      help="Judge this policy (built-in id or policy file); repeatable. "
                           "Default: the config's list, else every built-in.")(fn)
    return fn
