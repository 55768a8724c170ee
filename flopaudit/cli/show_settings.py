"""``check --show-settings``: the resolved settings of each config, and where each one came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flopaudit.config.settings import KEYS, Settings

#: What each key is when neither a flag nor a settings file gives it.
DEFAULTS = {
    "lock": "nothing", "policies": "the config's policies, else every built-in", "policy-paths": "none",
    "as-of": "the config's as_of, else today", "fail-on": "indeterminate",
    "method": "the first available, per stage", "format": "text", "outputs": "none",
    "required-version": "any", "allow-code": "false", "allow-outside-paths": "false",
}
#: Settings key -> its flag (keys without one can only come from a settings file).
FLAGS = {"policies": "--policy", "as-of": "--as-of", "fail-on": "--fail-on", "method": "--method",
         "format": "--format", "outputs": "--output", "allow-code": "--allow-code",
         "allow-outside-paths": "--allow-outside-paths"}


def _shown(value: Any) -> str:
    """One value as text: lists comma-separated, booleans lower-case, pairs as FORMAT=FILE."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple, frozenset)):
        items = [f"{v[0]}={v[1]}" if isinstance(v, tuple) else str(v) for v in
                 (sorted(value) if isinstance(value, frozenset) else value)]
        return ", ".join(items) or "none"
    return str(value)


def _from_file(s: Settings, key: str) -> Any:
    """The value ``s`` holds for ``key`` (a key's field is its name with ``_`` for ``-``)."""
    return getattr(s, key.replace("-", "_"))


def describe(config: str, s: Settings, flags: Mapping[str, Any]) -> str:
    """Lines ``key = value  (source)`` for every settings key; the source is the flag, ``file:line`` or ``default``.

    ``flags`` maps a settings key to the value its flag was given (absent or None/empty: not given).
    """
    head = f"settings for {config}: " + (f"from {s.file}" if s.file else "no settings file (defaults)")
    rows = []
    for key in KEYS:
        given = flags.get(key)
        if given not in (None, (), False):
            rows.append((key, _shown(given), f"flag {FLAGS.get(key, '--' + key)}"))
        elif s.file is not None and key in s.lines:
            rows.append((key, _shown(_from_file(s, key)), f"{s.file}:{s.lines[key]}"))
        else:
            rows.append((key, DEFAULTS.get(key, "none"), "default"))
    width = max(len(k) for k, _, _ in rows)
    return "\n".join([head, *(f"  {k:<{width}} = {v}  ({src})" for k, v, src in rows)]) + "\n"


__all__ = ["DEFAULTS", "FLAGS", "describe"]
