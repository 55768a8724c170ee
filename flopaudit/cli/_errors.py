"""One top-level error handler: flopaudit errors exit 2 with ``file:line:col: message``, never a traceback."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Iterator

import click

from flopaudit.errors import FlopauditError
from flopaudit.render.safe import plain

EXIT_INPUT = 2
EXIT_INTERRUPT = 130


def _say(text: str) -> None:
    # Messages quote names from the config: no control character or workflow command gets through.
    click.echo(f"flopaudit: error: {plain(text)}", err=True)


@contextlib.contextmanager
def error_handler() -> Iterator[None]:
    """Map every exception to an exit code; set FLOPAUDIT_DEBUG=1 to see tracebacks of internal errors."""
    try:
        yield
    except FlopauditError as exc:
        _say(str(exc))
        sys.exit(EXIT_INPUT)
    except click.exceptions.Exit:
        raise
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_INPUT)
    except click.exceptions.Abort:
        sys.exit(EXIT_INTERRUPT)
    except KeyboardInterrupt:
        _say("interrupted")
        sys.exit(EXIT_INTERRUPT)
    except BrokenPipeError:
        sys.exit(EXIT_INPUT)
    except Exception as exc:
        if os.environ.get("FLOPAUDIT_DEBUG"):
            traceback.print_exc()
        _say(f"internal error: {type(exc).__name__}: {exc} (please report it; "
             "set FLOPAUDIT_DEBUG=1 for the traceback)")
        sys.exit(EXIT_INPUT)
