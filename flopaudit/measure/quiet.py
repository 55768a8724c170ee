"""Keep other libraries quiet while a model is counted (torch, transformers, the model's own code).

torch logs a full traceback (``failed while attempting to run meta for aten.mm``) before it
raises a shape error under fake tensors, and transformers logs and warns freely; none of it may
reach flopaudit's output, which is one result or one ``flopaudit: error:`` line. Inside
:func:`silenced` every ``logging`` record and every warning is dropped and Python-level writes
to ``sys.stdout``/``sys.stderr`` are discarded; the child process of
:mod:`flopaudit.measure.isolate` also redirects its file descriptors.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Drop all logging, warnings and Python-level printing inside; restore them afterwards."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)
