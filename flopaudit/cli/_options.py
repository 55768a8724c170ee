"""Options shared by ``check`` and ``report``, defined once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from flopaudit.measure.isolate import Limits

F = TypeVar("F", bound=Callable[..., object])

#: The estimation methods, in order of preference (kept equal to estimate.methods.METHOD_ORDER by a test).
METHODS = ("measured", "transformer", "6nd", "hardware", "declared", "framework")


def parse_date(value: str | None, param_hint: str = "--as-of") -> dt.date | None:
    """An ISO date, or a usage error (exit 2) naming the option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)", param_hint=param_hint) from None


def code_limit_options(fn: F) -> F:
    """``--code-timeout`` and ``--code-memory``: the limits of the child process that runs model code."""
    fn = click.option("--code-memory", type=click.FloatRange(min=0), metavar="GIB",
                      help="Address-space limit of that child process, in GiB (default: half of "
                           "physical memory, at least 4; 0: no limit).")(fn)
    fn = click.option("--code-timeout", type=click.FloatRange(min=0, min_open=True), default=300.0,
                      show_default=True, metavar="SECONDS",
                      help="Wall-clock limit for counting a model whose code runs (a factory, remote "
                           "code) in its child process; past it the child is killed and the run exits 2.")(fn)
    return fn


def code_limits(code_timeout: float, code_memory: float | None) -> Limits:
    """The child-process limits the two options ask for."""
    from flopaudit.measure.isolate import Limits

    if code_memory is None:
        return Limits(timeout_s=code_timeout)
    return Limits(timeout_s=code_timeout, memory_bytes=int(code_memory * 2**30) if code_memory else None)


def audit_options(fn: F) -> F:
    """``--policy``, ``--as-of``, ``--method``, ``--allow-code`` with its limits and ``--allow-outside-paths``:
    what decides an audit besides the config."""
    fn = click.option("--allow-outside-paths", is_flag=True,
                      help="Let a config name files (hf_config ...) outside its repository root; "
                           "also the project setting allow-outside-paths.")(fn)
    fn = code_limit_options(fn)
    fn = click.option("--allow-code", is_flag=True,
                      help="Allow a config's model.factory: import that Python module (from the "
                           "working directory) and count its model in a child process. Without it "
                           "such a config exits 2 (unless --method picks a method that needs no "
                           "code). Give it only for code you trust; also the project setting allow-code.")(fn)
    fn = click.option("--method", type=click.Choice(METHODS),
                      help="Use this method for each stage where it applies (default: the first available).")(fn)
    fn = click.option("--as-of", callback=lambda _c, _p, v: parse_date(v), metavar="DATE",
                      help="Judge policy status on DATE (default: the config's as_of, else today).")(fn)
    fn = click.option("--policy", "policies", multiple=True, metavar="ID_OR_PATH",
                      help="Judge this policy (built-in id or policy file); repeatable. "
                           "Default: the config's list, else every built-in.")(fn)
    return fn


def framework_file_options(fn: F) -> F:
    """``--devices``, ``--vocab``, ``--sequence-length``, ``--training-format``: what a training
    framework's file given directly may leave to the outside world (never guessed)."""
    fn = click.option("--training-format", metavar="FORMAT",
                      help="Read a framework file in this format instead of detecting it.")(fn)
    fn = click.option("--sequence-length", type=click.IntRange(min=1), metavar="N",
                      help="Tokens per sequence, for a framework file that records none (trainer_state.json).")(fn)
    fn = click.option("--vocab", type=click.IntRange(min=1), metavar="N",
                      help="Vocabulary size, for a framework file that leaves it to the tokenizer.")(fn)
    fn = click.option("--devices", type=click.IntRange(min=1), metavar="N",
                      help="World size (accelerators), for a framework file that leaves it to the launcher.")(fn)
    return fn


def audit_settings(config: str, *, policies: tuple[str, ...], as_of: dt.date | None, method: str | None,
                   allow_outside_paths: bool, allow_code: bool = False, code_timeout: float = 300.0,
                   code_memory: float | None = None, fail_on: str | None = None,
                   settings: Settings | None = None) -> dict[str, Any]:
    """Keyword arguments of ``audit_file`` for one config: its project settings, overridden by the flags given.

    ``settings`` are the config's project settings when the caller has already found them.

    The organisation's policies (``policy-paths``) are judged besides the selection, unless
    ``--policy`` names exactly what to judge; either list may name them by id.
    """
    from flopaudit.config.settings import find_settings
    from flopaudit.policy.loader import load_policy_paths

    s = settings if settings is not None else find_settings(config)
    own = {p.id: p for p in load_policy_paths(s.policy_paths)}
    chosen = policies or s.policies
    # Where a value came from, for the notices: a flag is the operator's, a settings file is the repository's.
    where = f"project settings {s.file}"
    return {
        "policies": tuple(own.get(ref, ref) for ref in chosen),
        "extra_policies": () if policies else tuple(own.values()),
        "as_of": as_of or s.as_of,
        "as_of_source": "--as-of" if as_of is not None else where,
        "policies_source": "--policy" if policies else where,
        "method": method or s.method,
        "fail_on": fail_on or s.fail_on or "indeterminate",
        "locked": s.lock,
        "settings_file": s.file,
        "waivers": s.waivers,
        "severity": s.severity,
        "allow_outside_paths": allow_outside_paths or s.allow_outside_paths,
        "allow_code": allow_code or s.allow_code,
        "code_limits": code_limits(code_timeout, code_memory) if allow_code or s.allow_code else None,
    }
