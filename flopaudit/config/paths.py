"""Files a config names (``hf_config`` and the like): inside the repository, regular, and small.

A config comes from a pull request, so a path in it is untrusted: ``../../etc/passwd``, a
symbolic link out of the checkout, a FIFO that blocks ``open()`` forever, ``/dev/zero`` or a
1.5 GB JSON file must never be read. Every path a config names goes through :func:`config_file`,
which resolves it against the config's folder, follows links, and refuses what lies outside the
repository root (unless the person running flopaudit passes ``--allow-outside-paths``), what is
not a regular file, and what is larger than the cap of its kind.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from flopaudit.errors import InputError

#: The largest file a config may point at (an HF config.json is a few kB; the cap leaves room).
MAX_REFERENCED_BYTES = 4 * 2**20


def repository_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.git`` (a folder, or a worktree's file)."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def root_of(config_file: str | Path) -> Path:
    """The root that a config's paths must stay inside: its repository, else the config's own folder."""
    folder = Path(config_file).resolve().parent
    return repository_root(folder) or folder


def regular_file(path: Path, error: type[InputError] = InputError, *, limit: int, what: str = "file") -> os.stat_result:
    """``os.stat`` of ``path`` if it is a regular file of at most ``limit`` bytes; else ``error``.

    Checked before anything opens the file: opening a FIFO blocks, and a device never ends.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"{what} not found", file=path) from None
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror}", file=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{what} is a directory, not a file", file=path)
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if (
            stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)) else "a socket" if stat.S_ISSOCK(st.st_mode) \
            else "not a regular file"
        raise error(f"{what} is {kind}, not a regular file", file=path)
    if st.st_size > limit:
        raise error(f"{what} is {st.st_size:,} bytes, larger than the {limit:,} bytes allowed", file=path)
    return st


def resolve_named(value: str, config_path: str | Path) -> Path:
    """The real path of a file a config names: relative to the config's folder, links followed."""
    raw = Path(value)
    return Path(os.path.realpath(raw if raw.is_absolute() else Path(config_path).resolve().parent / raw))


def is_outside(value: str, config_path: str | Path) -> bool:
    """Whether a path named in a config resolves outside the config's repository root."""
    return not resolve_named(value, config_path).is_relative_to(root_of(config_path))


def config_file(value: str, config_path: str | Path, *, allow_outside: bool,
                limit: int = MAX_REFERENCED_BYTES) -> tuple[Path | None, str | None]:
    """Resolve a path named in a config; ``(path, None)`` when allowed, ``(None, why)`` when not.

    Relative paths are relative to the config's folder. Links are followed before the root is
    checked, so a link inside the repository that points out of it is refused too. The caller turns
    ``why`` into an error at the field's line.
    """
    resolved = resolve_named(value, config_path)
    root = root_of(config_path)
    if not allow_outside and not resolved.is_relative_to(root):
        return None, (f"'{value}' resolves to {resolved}, outside the repository root {root}; "
                      "a config may only name files inside its repository (the person running flopaudit "
                      "can pass --allow-outside-paths)")
    try:
        regular_file(resolved, InputError, limit=limit)
    except InputError as exc:
        return None, f"'{value}': {exc.message}"
    return resolved, None


__all__ = ["MAX_REFERENCED_BYTES", "config_file", "is_outside", "regular_file", "resolve_named", "repository_root", "root_of"]
