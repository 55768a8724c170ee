"""A transient progress line on stderr while a real model is imported, built and counted.

Counting code marks what it is doing with :func:`phase` (``"building LlamaForCausalLM on fake
tensors"``, ``"forward"``, ``"backward"``); that is a no-op unless a command turned the display
on with :func:`shown`, which it does only when stderr is a terminal. The line appears once a
measurement (the outermost phase) has lasted :data:`DELAY_SECONDS`, shows the phases in force
(outermost first, joined by ``" > "``) with the time elapsed, and is erased when that
measurement ends (rich's ``transient``), so nothing of it stays on the screen, in a log or in
any machine output: stdout is never written, and a stderr that is not a terminal gets nothing.

The console is bound when :func:`shown` is entered, before :func:`flopaudit.measure.quiet.silenced`
swaps ``sys.stderr`` for a sink, so the line still reaches the terminal while other libraries'
output is dropped. Importing this module imports neither rich nor torch; rich is imported when
the line is first drawn.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

#: A measurement shorter than this shows nothing.
DELAY_SECONDS = 1.0
#: Between the phases of the line.
SEPARATOR = " > "

_display: _Display | None = None


class _Display:
    """The line for one console: a stack of phases, drawn after ``delay`` seconds, erased at the end."""

    def __init__(self, console: Any, delay: float) -> None:
        self.console = console
        self.delay = delay
        self.phases: list[str] = []
        self.lock = threading.Lock()
        self.timer: threading.Timer | None = None
        self.progress: Any = None
        self.task: Any = None
        self.measurement = 0  # which outermost phase a timer was started for

    def push(self, text: str) -> None:
        """Enter a phase; the first one starts the clock."""
        with self.lock:
            self.phases.append(text)
            first = len(self.phases) == 1
            if first:
                self.measurement += 1
            if first and self.delay > 0:
                self.timer = threading.Timer(self.delay, self._draw, args=(self.measurement,))
                self.timer.daemon = True
                self.timer.start()
            elif not first:
                self._refresh()
        if first and self.delay <= 0:
            self._draw(self.measurement)

    def replace(self, text: str) -> None:
        """Change the innermost phase's text (``"layer 3 of 126"``); nothing when no phase is in force."""
        with self.lock:
            if self.phases:
                self.phases[-1] = text
                self._refresh()

    def pop(self) -> None:
        """Leave the innermost phase; leaving the last one erases the line."""
        with self.lock:
            if self.phases:
                self.phases.pop()
            if self.phases:
                self._refresh()
                return
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            if self.progress is not None:
                self.progress.stop()  # transient: the line is erased
                self.progress = self.task = None

    def _draw(self, measurement: int) -> None:
        with self.lock:
            # a timer that fired as its measurement ended must not draw the next one early
            if not self.phases or self.progress is not None or measurement != self.measurement:
                return
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            # redirect_*: False, so that silenced() keeps its own hold on sys.stdout and sys.stderr
            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                     console=self.console, transient=True, redirect_stdout=False,
                                     redirect_stderr=False)
            self.task = self.progress.add_task(self._text(), total=None)
            self.progress.start()

    def _refresh(self) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=self._text(), refresh=True)

    def _text(self) -> str:
        from rich.markup import escape

        return escape(SEPARATOR.join(self.phases))

    def close(self) -> None:
        """Erase the line and forget every phase (the end of :func:`shown`, however it ends)."""
        with self.lock:
            self.phases.clear()
        self.pop()


def wanted(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (the only place the line is ever drawn)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed or detached stream
        return False


@contextlib.contextmanager
def shown(console: Any = None, *, delay: float = DELAY_SECONDS) -> Iterator[None]:
    """Within, :func:`phase` draws on ``console``: by default a rich console on stderr, if a terminal.

    A ``console`` given (a ``rich.console.Console``; tests pass ``force_terminal=True``) is used as
    it is. Nested uses keep the outer display.
    """
    global _display
    if _display is not None:
        yield
        return
    if console is None:
        stream = sys.stderr
        if not wanted(stream):
            yield
            return
        from rich.console import Console

        console = Console(file=stream, highlight=False)
    _display = _Display(console, delay)
    try:
        yield
    finally:
        display, _display = _display, None
        display.close()


@contextlib.contextmanager
def phase(text: str) -> Iterator[None]:
    """Mark a phase of a measurement for the progress line (a no-op unless :func:`shown` is active)."""
    display = _display
    if display is None:
        yield
        return
    display.push(text)
    try:
        yield
    finally:
        display.pop()


def update(text: str) -> None:
    """Change the innermost phase's text, for steps inside one (a no-op without a display)."""
    if _display is not None:
        _display.replace(text)


@contextlib.contextmanager
def layers_of(model: Any, label: str) -> Iterator[None]:
    """Within, each call of a layer of ``model``'s outermost stacks shows ``label: layer k of n``.

    A stack is an ``nn.ModuleList`` of two or more modules that is not inside another stack's
    layer (so a layer's experts are not taken for layers). A global forward pre-hook, registered
    only while a display is on, updates the innermost phase; it changes nothing that is counted.
    """
    if _display is None:
        yield
        return
    import torch

    positions: dict[int, tuple[int, int]] = {}
    outer: list[str] = []
    for name, sub in model.named_modules():
        if not isinstance(sub, torch.nn.ModuleList) or len(sub) < 2:
            continue
        if any(name.startswith(prefix + ".") for prefix in outer):
            continue
        outer.append(name)
        for k, layer in enumerate(sub, 1):
            positions.setdefault(id(layer), (k, len(sub)))

    def hook(module: Any, args: Any) -> None:
        position = positions.get(id(module))
        if position is not None:
            update(f"{label}: layer {position[0]} of {position[1]}")

    handle = torch.nn.modules.module.register_module_forward_pre_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def where(device: str, fake: bool) -> str:
    """How a build is described: ``on fake tensors`` (meta), ``on the meta device``, ``on cpu``."""
    if device == "meta":
        return "on fake tensors" if fake else "on the meta device"
    return f"on {device}"
