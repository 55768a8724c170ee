"""``report --pdf FILE.pdf``: the same HTML page printed to PDF by headless Chromium (``--print-to-pdf``).

The page's print stylesheet decides the layout: the one-page summary alone on page 1, each section
from a new page. Chromium is found on ``PATH`` as ``chromium``, ``chromium-browser``,
``google-chrome`` or ``google-chrome-stable``; without one the command stops with exit code 2 and
says how to install it. The browser runs with no network (every host resolves to nothing), no
profile of the user's (a temporary one) and no header or footer on the pages.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from flopaudit.errors import FlopauditError, InputError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-pdf-header-footer",
         "--host-resolver-rules=MAP * ~NOTFOUND")
TIMEOUT_S = 180


class PdfError(FlopauditError):
    """Chromium ran but wrote no PDF (or did not finish in time)."""


def find_browser() -> str:
    """The path of a Chromium-family browser on PATH, or an :class:`InputError` saying how to get one."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path is not None:
            return path
    raise InputError("--pdf needs headless Chromium, and none is on PATH (looked for "
                     + ", ".join(BROWSERS) + ")",
                     hint="install it (Debian/Ubuntu: apt-get install chromium) or write HTML only with -o")


def write_pdf(html: str, path: str | Path) -> None:
    """Print ``html`` to the PDF file ``path`` with headless Chromium (parent folders created)."""
    browser = find_browser()
    path = Path(path).resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write the PDF: {exc.strerror}", file=path) from None
    with tempfile.TemporaryDirectory(prefix="flopaudit-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        out = Path(tmp) / "report.pdf"
        cmd = [browser, *FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}", f"--print-to-pdf={out}", page.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PdfError(f"{browser} did not finish printing the PDF within {TIMEOUT_S} s") from None
        if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            raise PdfError(f"{browser} wrote no PDF (exit {proc.returncode}): {last}")
        try:
            shutil.copyfile(out, path)
        except OSError as exc:
            raise InputError(f"cannot write the PDF: {exc.strerror}", file=path) from None
