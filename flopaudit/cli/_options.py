"""Options shared by ``check`` and ``report``, defined once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

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
    """``--policy``, ``--as-of``, ``--method``, ``--allow-outside-paths``: what decides an audit besides the config."""
    fn = click.option("--allow-outside-paths", is_flag=True,
                      help="Let a config name files (hf_config ...) outside its repository root; "
                           "also the project setting allow-outside-paths.")(fn)
    fn = click.option("--method", type=click.Choice(METHODS),
                      help="Use this method for each stage where it applies (default: the first available).")(fn)
    fn = click.option("--as-of", callback=lambda _c, _p, v: parse_date(v), metavar="DATE",
                      help="Judge policy status on DATE (default: the config's as_of, else today).")(fn)
    fn = click.option("--policy", "policies", multiple=True, metavar="ID_OR_PATH",
                      help="Judge this policy (built-in id or policy file); repeatable. "
                           "Default: the config's list, else every built-in.")(fn)
    return fn


def audit_settings(config: str, *, policies: tuple[str, ...], as_of: dt.date | None, method: str | None,
                   allow_outside_paths: bool, fail_on: str | None = None) -> dict[str, Any]:
    """Keyword arguments of ``audit_file`` for one config: its project settings, overridden by the flags given."""
    from flopaudit.config.settings import find_settings

    s = find_settings(config)
    # Where a value came from, for the notices: a flag is the operator's, a settings file is the repository's.
    where = f"project settings {s.file}"
    return {
        "policies": policies or s.policies,
        "as_of": as_of or s.as_of,
        "as_of_source": "--as-of" if as_of is not None else where,
        "policies_source": "--policy" if policies else where,
        "method": method or s.method,
        "fail_on": fail_on or s.fail_on or "indeterminate",
        "locked": s.lock,
        "settings_file": s.file,
        "allow_outside_paths": allow_outside_paths or s.allow_outside_paths,
    }
