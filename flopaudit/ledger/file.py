"""The ledger file on disk: exclusive, append-only, one ``os.write`` and one ``fsync`` per record.

Opening takes an advisory ``fcntl.flock`` (exclusive, non-blocking) on the ledger itself and holds
it until closed, so a second process appending to the same ledger (a misconfigured restart, two
jobs given one path) is refused with a :class:`~flopaudit.errors.LedgerError` instead of
interleaving its records. The lock is released by the kernel when the process dies, so a job
killed with SIGKILL never leaves a stale lock behind.

Each record is one line written by a single ``os.write`` on an ``O_APPEND`` descriptor and made
durable with ``os.fsync`` before the call returns. A crash can therefore leave at most one torn
last line (no newline); opening the ledger again cuts it off.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

from flopaudit.errors import LedgerError
from flopaudit.ledger import records


class LedgerFile:
    """An open, locked ledger. Use :meth:`open`; close it (or use ``with``) to release the lock."""

    def __init__(self, path: Path, fd: int, state: records.State, cut: int) -> None:
        self.path = path
        self._fd: int | None = fd
        self.state = state
        #: bytes of a torn last line cut off when opening (0 if none)
        self.cut = cut

    @classmethod
    def open(cls, path: str | Path) -> LedgerFile:
        """Create or open ``path``, lock it, check its records and cut off a torn last line."""
        path = Path(path)
        existed = path.exists()
        try:
            if not existed and path.parent != Path(""):
                path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LedgerError(f"cannot open ledger: {exc.strerror}", file=path) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LedgerError("another process is appending to this ledger (it holds its lock)",
                                  file=path, hint="two jobs must not share one ledger; wait for the "
                                  "other to end, or give this run its own ledger path") from None
            data = _read_all(fd)
            parsed = records.parse(data, path)
            state = records.replay(parsed, path)
            cut = len(data) - parsed.complete
            if cut:
                os.ftruncate(fd, parsed.complete)
                os.fsync(fd)
            if not existed:
                _fsync_dir(path.parent)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, state, cut)

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line with a single ``os.write``, then ``fsync`` it."""
        if self._fd is None:
            raise LedgerError("the ledger is closed", file=self.path)
        line = records.encode(record)
        try:
            written = os.write(self._fd, line)
            if written != len(line):  # a full disk can write part of it: the torn line is cut on resume
                raise LedgerError(f"only {written} of {len(line)} bytes of a record were written "
                                  "(is the disk full?)", file=self.path)
            os.fsync(self._fd)
        except OSError as exc:
            raise LedgerError(f"cannot append to ledger: {exc.strerror}", file=self.path) from None

    def close(self) -> None:
        """Release the lock and close the file (idempotent)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __enter__(self) -> LedgerFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_all(fd: int) -> bytes:
    chunks = []
    offset = 0
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)


def _fsync_dir(directory: Path) -> None:
    """Make a newly created file's directory entry durable too (best effort where unsupported)."""
    try:
        fd = os.open(directory if str(directory) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
