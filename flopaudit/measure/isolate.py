"""Run code a model source names (a factory, remote modelling code) in a child process.

The code comes from the project being audited (in CI: the pull request), so it may exit, abort,
crash, hang or eat memory. It runs in a fresh interpreter (``multiprocessing`` "spawn") that

- starts its own session, so a timeout kills it and everything it started;
- writes its stdout and stderr to a file that is never shown (so nothing it prints reaches
  flopaudit's output), except for the last line when it ends abnormally;
- sets ``RLIMIT_AS`` (address space) to ``Limits.memory_bytes`` before it imports torch;
- returns its result as JSON in a file, never as a pickle: unpickling bytes the child wrote would
  run code in the parent.

Every way the child can end is a :class:`~flopaudit.errors.MeasureError` (exit 2) unless it
returned a result: a timeout, a signal, an exit status, an exception (``SystemExit`` and
``KeyboardInterrupt`` included) or exhausted memory. A flopaudit error raised in the child is
raised again in the parent, as the same class.

Example::

    data = run_isolated(work, source, options, describe="the factory 'pkg.mod:build'", limits=Limits())
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flopaudit import errors
from flopaudit.errors import FlopauditError, MeasureError, MissingDependencyError

#: Wall-clock seconds a child may take before it is killed.
DEFAULT_TIMEOUT_S = 300.0
#: The default memory limit never goes below this: torch alone maps about 1 GiB of address space.
MIN_MEMORY_BYTES = 4 * 2**30
#: A result file larger than this is refused unread.
MAX_RESULT_BYTES = 64 * 2**20
#: The one exit status of a child that wrote its result (or its error) and left.
_DONE = 0


def default_memory_bytes() -> int | None:
    """Half of physical memory, at least :data:`MIN_MEMORY_BYTES`; None where it is unknown."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    return max(physical // 2, MIN_MEMORY_BYTES)


@dataclass(frozen=True)
class Limits:
    """How long, and in how much memory, a child may run (``memory_bytes=None``: no limit)."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_bytes: int | None = field(default_factory=default_memory_bytes)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise MeasureError(f"the code timeout must be a positive number of seconds, not {self.timeout_s}")
        if self.memory_bytes is not None and self.memory_bytes <= 0:
            raise MeasureError(f"the code memory limit must be positive, not {self.memory_bytes}")

    def memory_text(self) -> str:
        """The memory limit for messages: ``8 GiB`` or ``no limit``."""
        return "no limit" if self.memory_bytes is None else f"{self.memory_bytes / 2**30:g} GiB"


def run_isolated(work: Callable[..., dict[str, Any]], *args: Any, describe: str,
                 limits: Limits) -> dict[str, Any]:
    """Run ``work(*args)`` in a child process and return the JSON object it returned.

    ``work`` must be a module-level function (the child imports it by name) returning a
    JSON-serialisable dict; ``args`` must pickle. ``describe`` names the code for messages
    ("the factory 'os:abort'").
    """
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="flopaudit-child-") as tmp:
        result_path, log_path = Path(tmp) / "result.json", Path(tmp) / "output.log"
        child = context.Process(target=_child, name="flopaudit-counting",
                                args=(str(result_path), str(log_path), limits.memory_bytes, work, args))
        try:
            child.start()
        except Exception as exc:  # noqa: BLE001 - any failure to start means nothing was counted
            raise MeasureError(f"cannot start a child process to count {describe}: "
                               f"{type(exc).__name__}: {exc}") from exc
        try:
            child.join(limits.timeout_s)
            timed_out = child.exitcode is None
        finally:
            _stop(child)
        if timed_out:
            raise MeasureError(f"{describe} did not finish within {limits.timeout_s:g} s",
                               hint="raise the limit with --code-timeout SECONDS")
        code = child.exitcode
        if code != _DONE or not result_path.is_file():
            raise MeasureError(_ending(describe, code, limits) + _last_output(log_path))
        return _outcome(_read(result_path, describe), describe, limits)


def _stop(child: Any) -> None:
    """Kill the child's session (its own process group), then the child itself; reap it."""
    if child.pid is not None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):
            pass
    if child.exitcode is None:
        child.kill()
    child.join()


def _ending(describe: str, code: int | None, limits: Limits) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        text = f"{describe} was killed by signal {name}"
        if -code == signal.SIGKILL:
            text += f" (the kernel's out-of-memory killer sends SIGKILL; memory limit: {limits.memory_text()})"
        return text
    return f"{describe} exited with status {code} before returning a result"


def _last_output(log_path: Path) -> str:
    """``; its last output line: '...'`` from what the child printed, or nothing."""
    try:
        with log_path.open("rb") as log:
            log.seek(max(0, log_path.stat().st_size - 4096))
            lines = [line.strip() for line in log.read().decode("utf-8", "replace").splitlines()]
    except OSError:
        return ""
    last = next((line for line in reversed(lines) if line), "")
    return f"; its last output line: {last[:200]!r}" if last else ""


def _read(path: Path, describe: str) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_RESULT_BYTES:
            raise MeasureError(f"{describe} returned a result over {MAX_RESULT_BYTES // 2**20} MiB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MeasureError(f"{describe} returned an unreadable result: {exc}") from exc
    if not isinstance(data, dict):
        raise MeasureError(f"{describe} returned a malformed result")
    return data


def _outcome(data: dict[str, Any], describe: str, limits: Limits) -> dict[str, Any]:
    """The child's result, or the error it stands for."""
    if isinstance(data.get("ok"), dict):
        return data["ok"]
    if isinstance(data.get("error"), dict):
        raise _rebuild(data["error"], limits)
    if data.get("memory"):
        raise MeasureError(f"{describe} ran out of memory (limit {limits.memory_text()})",
                           hint="raise the limit with --code-memory GIB")
    if isinstance(data.get("raised"), str):
        detail = data.get("detail")
        detail = f" ({detail})" if isinstance(detail, str) and detail else ""
        raise MeasureError(f"{describe} raised {data['raised']}{detail} instead of returning a result")
    raise MeasureError(f"{describe} returned a malformed result")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _rebuild(data: dict[str, Any], limits: Limits) -> FlopauditError:
    """The flopaudit error the child raised, as the same class (MeasureError if unknown)."""
    cls = getattr(errors, str(data.get("class")), None)
    if not (isinstance(cls, type) and issubclass(cls, FlopauditError)):
        cls = MeasureError
    message = _text(data.get("message")) or "the child process failed"
    if data.get("memory"):
        message += f" (out of memory: the limit is {limits.memory_text()}; raise it with --code-memory GIB)"
    place = {"file": _text(data.get("file")), "line": _number(data.get("line")),
             "column": _number(data.get("column"))}
    if issubclass(cls, MissingDependencyError):
        extras = tuple(e for e in data.get("extras") or () if isinstance(e, str)) or "measure"
        return cls(_text(data.get("package")) or "torch", extras, _text(data.get("purpose")) or message, **place)
    return cls(message, hint=_text(data.get("hint")), **place)


# --------------------------------------------------------------------------- the child


def _out_of_memory(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, MemoryError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _error_dict(exc: FlopauditError) -> dict[str, Any]:
    data = {"class": type(exc).__name__, "message": exc.message, "file": exc.file, "line": exc.line,
            "column": exc.column, "hint": exc.hint, "memory": _out_of_memory(exc)}
    if isinstance(exc, MissingDependencyError):
        data.update(package=exc.package, extras=list(exc.extras), purpose=exc.purpose)
    return data


def _detail(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return "" if exc.code is None else f"exit status {exc.code}"
    return str(exc)[:200]


def _confine(log_path: str, memory_bytes: int | None) -> None:
    """Own session, output to the log (at the file-descriptor level), the memory limit, offline hub."""
    if hasattr(os, "setsid"):
        os.setsid()
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    if memory_bytes is not None:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})


def _child(result_path: str, log_path: str, memory_bytes: int | None,
           work: Callable[..., dict[str, Any]], args: tuple[Any, ...]) -> None:
    """The child's body: confine itself, run ``work``, write what happened, leave with status 0."""
    try:
        _confine(log_path, memory_bytes)
        payload: dict[str, Any] = {"ok": work(*args)}
    except FlopauditError as exc:
        payload = {"error": _error_dict(exc)}
    except MemoryError:
        payload = {"memory": True}
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt: all mean "no result"
        payload = {"raised": type(exc).__name__, "detail": _detail(exc)}
    try:
        text = json.dumps(payload, default=str)
        partial = result_path + ".part"
        with open(partial, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, result_path)
    except BaseException:  # noqa: BLE001 - no result written: the parent reports the exit status
        sys.stderr.write("flopaudit: the child could not write its result\n")
        os._exit(70)
    # Skip atexit handlers and finalizers the counted code may have registered.
    os._exit(_DONE)
