"""Time of ``flopaudit check`` and ``flopaudit report`` as the number of stages doubles.

Generates configs of 1k, 2k, 4k and 8k stages in a temporary folder (a pre-training stage, then
fine-tuning stages: every other one from hardware alone, so the sensitivity analysis has a
utilisation range to vary; the others from tokens with a hardware cross-check), runs each command
once per size in a fresh process, and prints the times and time(2n) / time(n): about 2 when the
work is linear. Run: ``.venv/bin/python bench/stages.py [SIZES]``, e.g. ``bench/stages.py 500,1000``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (1000, 2000, 4000, 8000)


def config(n: int) -> str:
    """YAML of ``n`` stages (flow style, to stay under the 1 MB a config may be)."""
    lines = ["model: {name: Many stages, parameters: 7B}", "training:",
             "  - {name: pretraining, kind: pretraining, tokens: 2T, "
             "hardware: {accelerator: H100, count: 1024, device_hours: 1M}}"]
    for i in range(1, n):
        tokens = "" if i % 2 else f"tokens: {i}M, "
        lines.append(f"  - {{name: ft-{i}, kind: fine-tuning, {tokens}"
                     "hardware: {accelerator: H100, count: 8, device_hours: 10}}")
    lines.append("as_of: 2026-11-27")
    return "\n".join(lines) + "\n"


def _time(args: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "flopaudit", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"flopaudit {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return elapsed


def main() -> None:
    sizes = tuple(int(s) for s in sys.argv[1].split(",")) if len(sys.argv) > 1 else SIZES
    rows = []
    with tempfile.TemporaryDirectory(prefix="flopaudit-stages-") as tmp:
        for n in sizes:
            path = Path(tmp) / f"stages-{n}.yaml"
            path.write_text(config(n))
            check = _time(["check", str(path)])
            report = _time(["report", str(path), "-o", str(Path(tmp) / f"stages-{n}.html")])
            rows.append((n, check, report))
    print("one fresh process per command and size")
    print(f"  {'stages':>7}  {'check (s)':>10}  {'ratio':>6}  {'report (s)':>10}  {'ratio':>6}")
    for k, (n, check, report) in enumerate(rows):
        if k:
            prev = rows[k - 1]
            step = n / prev[0]
            ratios = f"{check / prev[1]:6.2f}  {report:10.2f}  {report / prev[2]:6.2f}"
            print(f"  {n:>7}  {check:10.2f}  {ratios}" + (f"   (size x{step:g})" if step != 2 else ""))
        else:
            print(f"  {n:>7}  {check:10.2f}  {'-':>6}  {report:10.2f}  {'-':>6}")


if __name__ == "__main__":
    main()
