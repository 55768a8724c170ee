"""Count forward + backward of frontier-size models with no weights in memory, next to PyTorch's counter.

For each model, two fresh processes build the model from its config.json on fake tensors and
count one training step: one with flopaudit's counter, one with PyTorch's raw
``FlopCounterMode`` (``profile(..., backend="torch")``, same fake tensors, same model). Each
prints wall time (build + count) and its whole process's peak RSS (torch's import included);
this script prints them side by side with their ratios, and checks:

- flopaudit is no slower than FlopCounterMode (time ratio <= 1.10, a margin for timer noise);
- each flopaudit process peaks under 1 GiB;
- the MoE count is at least 6 x active parameters per token (attention only adds to 6N).

Run: ``.venv/bin/python bench/scale.py`` (about a minute and a half on 2 cores). Exit status 1 if a
check fails. Benchmarks print ratios; the tests never assert wall-clock times.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = [
    ("Llama 3.1 405B", ROOT / "tests/measure/hf_configs/llama-3.1-405b.json", 8192),
    ("DeepSeek-V3 671B", ROOT / "bench/configs/deepseek-v3.json", 4096),
]
GIB = 2**30


def child(config: str, seq_len: int, backend: str) -> None:
    """Count one model in this (fresh) process and print one JSON line."""
    sys.path.insert(0, str(ROOT))
    from flopaudit.measure import ModelSource, profile

    start = time.perf_counter()
    reuse = backend != "flopaudit-full"
    result = profile(ModelSource(hf_config=Path(config)), seq_len=seq_len, batch=1, device="meta",
                     backward=True, by_module_depth=1, backend="flopaudit" if not reuse else backend,
                     reuse_layers=reuse)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_rss": peak, "forward": result.forward_flop,
                      "backward": result.backward_flop, "per_token_train": result.flop_per_token_train,
                      "parameters": result.parameters, "active": result.active_parameters,
                      "uncounted": result.uncounted_ops, "by_operator": result.by_operator,
                      "layers": result.details.get("layers", {}).get("method")}))


def run(config: Path, seq_len: int, backend: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", str(config), str(seq_len), backend],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{backend} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    import torch
    import transformers

    print(f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"{sys.platform}, one process per run, fake tensors (no weights), batch 1, forward + backward")
    failures = []
    for name, config, seq_len in MODELS:
        ours = run(config, seq_len, "flopaudit")
        full = run(config, seq_len, "flopaudit-full")
        theirs = run(config, seq_len, "torch")
        print(f"\n{name} at {seq_len} tokens ({ours['parameters'] / 1e9:.1f}B parameters, "
              f"{ours['active'] / 1e9:.1f}B active)")
        print(f"  {'':24}{'flopaudit':>16}{'FlopCounterMode':>18}{'ratio':>9}")
        rows = [("wall time (s)", ours["seconds"], theirs["seconds"], "{:.2f}"),
                ("peak RSS (MiB)", ours["peak_rss"] / 2**20, theirs["peak_rss"] / 2**20, "{:.0f}"),
                ("forward FLOP", ours["forward"], theirs["forward"], "{:.4e}"),
                ("backward FLOP", ours["backward"], theirs["backward"], "{:.4e}")]
        for label, a, b, fmt in rows:
            print(f"  {label:24}{fmt.format(a):>16}{fmt.format(b):>18}{a / b:>9.3f}")
        six_n = 6 * ours["active"]
        print(f"  train FLOP per token      {ours['per_token_train']:.4e} = "
              f"{ours['per_token_train'] / six_n:.3f} x 6 x active parameters")
        missing = {op: flop for op, flop in ours["by_operator"].items() if op not in theirs["by_operator"]}
        print(f"  counted by flopaudit only: {missing or 'nothing'}")
        print(f"  uncounted ops (flopaudit): {ours['uncounted'] or 'none'}")
        same = ours["by_operator"] == full["by_operator"]
        print(f"  layers: {ours['layers']}; every layer run (--no-reuse-layers): {full['seconds']:.2f} s, "
              f"totals {'equal, operator by operator' if same else 'DIFFERENT'}; "
              f"time vs FlopCounterMode {ours['seconds'] / theirs['seconds']:.3f} (target <= 0.25)")
        if not same:
            failures.append(f"{name}: layer reuse changed the totals")
        if ours["seconds"] > 1.10 * theirs["seconds"]:
            failures.append(f"{name}: flopaudit slower than FlopCounterMode")
        if ours["peak_rss"] >= GIB:
            failures.append(f"{name}: flopaudit peaked at {ours['peak_rss'] / GIB:.2f} GiB")
        if ours["active"] < ours["parameters"] and ours["per_token_train"] < six_n:
            failures.append(f"{name}: MoE count below 6 x active parameters per token")
    print("\nchecks: " + ("all passed" if not failures else "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(main())
