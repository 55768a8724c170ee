"""One short GPU check: MFU and counter overhead of a Llama-shaped ~1B model, bf16, 4 x 2048 tokens.

Prepared for a session with a lent GPU; it needs nothing but this repository and its venv, and
downloads nothing (the model is built from the config below, with random weights). It:

1. counts one training step on the GPU (flash/efficient SDPA kernels, PyTorch's formulas) and
   the same step on fake tensors (CPU kernels, flopaudit's formulas), and prints their ratio,
   which should be 1.000 (the same convention on both paths);
2. times the step with CUDA events after warm-up and prints achieved FLOP/s and MFU against
   the bf16 dense peak of the device in flopaudit/data/accelerators.yaml;
3. prints the counter's overhead: a counted step's wall time over an uncounted one.

Run: ``.venv/bin/python bench/cuda_check.py`` (expected to take about a minute; not yet run). Paste the printed
block into bench/README.md with the device name.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Llama 3.2 1B's shape (d=2048, 16 layers, 32 heads, 8 KV heads, SwiGLU 8192, vocab 128256, tied).
CONFIG = {
    "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 2048,
    "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
    "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 8192,
    "tie_word_embeddings": True, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
}
SEQ_LEN, BATCH = 2048, 4


def main() -> int:
    import torch

    from flopaudit.measure import ModelSource, profile

    if not torch.cuda.is_available():
        print("no CUDA device: nothing to measure")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(CONFIG))
        source = ModelSource(hf_config=path)
        gpu = profile(source, seq_len=SEQ_LEN, batch=BATCH, device="cuda", by_module_depth=0)
        fake = profile(source, seq_len=SEQ_LEN, batch=BATCH, device="meta", by_module_depth=0)
    cuda = gpu.cuda or {}
    train = gpu.forward_flop + (gpu.backward_flop or 0)
    print(f"torch {torch.__version__}; {cuda.get('device_name')} -> accelerators.yaml entry "
          f"{cuda.get('accelerator')}; {cuda.get('precision')} peak {cuda.get('peak_flops')}")
    print(f"model: Llama-shaped {gpu.parameters / 1e9:.2f}B parameters, {BATCH} x {SEQ_LEN} tokens, "
          f"forward + backward")
    print(f"attention kernels on the GPU: {', '.join(gpu.sdpa_path) or 'none'}")
    print(f"counted FLOP per step: {train:.4e} (GPU) vs {fake.forward_flop + fake.backward_flop:.4e} "
          f"(fake CPU), ratio {train / (fake.forward_flop + fake.backward_flop):.4f}")
    print(f"uncounted ops on the GPU: {gpu.uncounted_ops or 'none'}")
    print(f"step time: {cuda.get('step_seconds', float('nan')):.4f} s ({cuda.get('timing')})")
    print(f"achieved: {cuda.get('achieved_flops', float('nan')) / 1e12:.1f} TFLOP/s")
    mfu = cuda.get("mfu")
    print(f"MFU: {mfu:.1%}" if mfu is not None else "MFU: peak unknown for this device")
    print(f"counter overhead: counted step {cuda.get('counted_step_seconds', float('nan')):.3f} s / "
          f"uncounted {cuda.get('uncounted_step_seconds', float('nan')):.3f} s = "
          f"{cuda.get('counter_overhead', float('nan')):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
