"""Fixtures for the HTML report tests: rendered reports, and real headless Chromium (Debian's ``chromium``).

How the network test works, without DevTools:
- Chromium runs with ``--host-resolver-rules="MAP * ~NOTFOUND"``, so no request can leave the
  machine whatever the page does, and with ``--log-net-log``, so every request its network stack
  starts is written to a NetLog JSON file.
- A request the page makes carries the page's origin as its initiator (``"null"`` for a
  ``file://`` page); Chromium's own background requests (update checks, time sync) carry
  ``"not an origin"``. Page requests are the ``URL_REQUEST_START_JOB`` events of the first kind.
- The report is loaded with its Content-Security-Policy meta tag removed, so that a reference to
  anything outside the file would reach the network stack instead of being blocked by the CSP,
  and so be seen. A control page with external image, stylesheet, font and refresh proves that
  the detector sees each of them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = Path(__file__).resolve().parent / "configs"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND",
)

FRAME = ("<!DOCTYPE html><html><body style='margin:0'>"
         "<iframe id='f' src='page.html' style='border:0;width:{width}px;height:1500px'></iframe>"
         "<script>addEventListener('load', () => document.body.setAttribute('data-scroll-width', "
         "document.getElementById('f').contentDocument.documentElement.scrollWidth))</script></body></html>")


@dataclass
class BrowserRun:
    """What Chromium made of one page."""

    dom: str
    screenshot: Path
    requests: list[str]
    stderr: str


def page_requests(netlog: Path) -> list[str]:
    """URLs of the requests a page started, from a Chromium NetLog (browser-internal ones left out)."""
    text = netlog.read_text(encoding="utf-8", errors="replace").rstrip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:  # a log cut short: close the event list and the object
        data = json.loads(text.rstrip(",") + "]}")
    names = {v: k for k, v in data["constants"]["logEventTypes"].items()}
    urls = set()
    for event in data.get("events", []):
        params = event.get("params") or {}
        if (names.get(event["type"]) == "URL_REQUEST_START_JOB" and "url" in params
                and params.get("initiator") != "not an origin"):
            urls.add(params["url"])
    return sorted(urls)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's chromium, or skip the browser tests with the reason."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); CI installs it, "
                    "so the browser tests run there")
    return path


@pytest.fixture(scope="session")
def browse(chromium: str) -> Iterator[Callable[..., BrowserRun]]:
    """``browse(html, window="1280,2000", extra=(), frame=None)``: load a page in headless Chromium.

    ``frame=W``: load it in a W-pixel-wide iframe instead (headless windows are at least 500 pixels
    wide, phones are narrower); the wrapper records the framed page's scroll width in its DOM.
    """
    workdir = Path(tempfile.mkdtemp(prefix="flopaudit-browser-"))
    counter = iter(range(10**6))

    def run(html: str, *, window: str = "1280,2000", extra: tuple[str, ...] = (),
            frame: int | None = None) -> BrowserRun:
        d = workdir / str(next(counter))
        d.mkdir()
        page = d / "page.html"
        page.write_text(html, encoding="utf-8")
        if frame is not None:
            page = d / "frame.html"
            page.write_text(FRAME.format(width=frame), encoding="utf-8")
            extra = (*extra, "--allow-file-access-from-files")
        netlog, shot = d / "netlog.json", d / "shot.png"
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={d / 'profile'}", f"--log-net-log={netlog}",
               "--net-log-capture-mode=Default", f"--screenshot={shot}", f"--window-size={window}",
               *extra, "--dump-dom", page.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90,
                              env={**os.environ, "LANG": "C.UTF-8"})
        assert shot.is_file(), f"chromium wrote no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
        return BrowserRun(proc.stdout, shot, page_requests(netlog), proc.stderr)

    yield run
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def sample_reports() -> dict[str, str]:
    """Every sample report (``reports/*.html``) as ``make reports`` renders it, by relative path."""
    from flopaudit.render.samples import render_samples
    return render_samples(ROOT)
