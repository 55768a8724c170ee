"""Regenerate the sample reports in ``reports/`` from ``examples/``: ``python -m flopaudit.render.samples``.

One report per example config, plus ``compare.html`` with two configs side by side (the command
the examples README shows). Paths are relative to the repository root, so the reports (which
record the config path and the command) are the same bytes on every machine. The staleness test
renders the same list and compares it with the files on disk.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPARE = ("compare.html", ("examples/gpt-3.yaml", "examples/palm-540b.yaml"))


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def jobs(root: Path = ROOT) -> list[tuple[str, tuple[str, ...]]]:
    """(report file name, config paths relative to ``root``) of every sample report."""
    singles = [(f"{p.stem}.html", (f"examples/{p.name}",)) for p in sorted((root / "examples").glob("*.yaml"))]
    return [*singles, COMPARE]


def render_samples(root: Path = ROOT) -> dict[str, str]:
    """Report path (relative to ``root``) -> HTML text, for every sample report."""
    from flopaudit.audit import audit_file
    from flopaudit.render.html import render_html

    out = {}
    with _cwd(root):
        for name, configs in jobs(root):
            target = f"reports/{name}"
            results = [audit_file(c) for c in configs]
            out[target] = render_html(results, ["flopaudit", "report", *configs, "-o", target])
    return out


def main(argv: list[str] | None = None) -> int:
    """Write every sample report (``--check``: only say which are stale, exit 1 if any)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a sample report is missing or stale")
    args = parser.parse_args(argv)
    stale = []
    for rel, text in render_samples().items():
        path = ROOT / rel
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(rel)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
    verb = "stale" if args.check else "written"
    print(f"{len(stale)} sample report(s) {verb}" + (": " + ", ".join(stale) if stale else ""))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
