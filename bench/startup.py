"""Cold-start time of ``flopaudit check`` on a formula-only config, next to bare ``python -c pass``.

Prints medians of N fresh processes and their ratio. Run: ``.venv/bin/python bench/startup.py [N]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = "examples/eu-guidelines-model-a.yaml"


def _time(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    bare = _time([sys.executable, "-c", "pass"], runs)
    check = _time([sys.executable, "-m", "flopaudit", "check", CONFIG, "--format", "json"], runs)
    helps = _time([sys.executable, "-m", "flopaudit", "--help"], runs)
    print(f"median of {runs} cold starts")
    print(f"  python -c pass                 {bare * 1000:7.1f} ms")
    print(f"  flopaudit --help               {helps * 1000:7.1f} ms  ({helps / bare:.1f}x bare python)")
    print(f"  flopaudit check {CONFIG}  {check * 1000:7.1f} ms  ({check / bare:.1f}x bare python)")


if __name__ == "__main__":
    main()
