"""``flopaudit accelerators``: the built-in table, every device once, with peaks per precision and sources."""

from __future__ import annotations

import json

import yaml

from flopaudit.estimate.accelerators import DATA_FILE
from tests.conftest import run_cli


def test_json_lists_every_table_entry_with_its_sources() -> None:
    proc = run_cli("accelerators", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    raw = yaml.safe_load(DATA_FILE.read_text())
    assert [a["name"] for a in out["accelerators"]] == [e["name"] for e in raw["accelerators"]]
    h100 = next(a for a in out["accelerators"] if a["name"] == "H100-SXM")
    # NVIDIA H100 SXM5 datasheet: 1,979 TFLOP/s bf16 with 2:4 sparsity, so dense 989.4 TFLOP/s
    assert h100["peak_flops"]["bf16"] == 9.894e14 and h100["default_precision"] == "bf16"
    assert "H100" in h100["aliases"] and all(s.startswith("https://") for s in h100["sources"])
    assert all(a["sources"] for a in out["accelerators"])
    assert out["sources"][0]["url"] == "https://epoch.ai/data/machine-learning-hardware"


def test_text_table_marks_the_default_precision_and_names_sources() -> None:
    proc = run_cli("accelerators")
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines() if line[:1].isalnum()}
    # V100: fp16 1.25e14 (default, Volta has no bf16) and fp32 1.57e13; columns bf16 fp16 fp8 tf32 fp32 int8
    assert rows["V100"][1:] == ["NVIDIA", "-", "1.25e14*", "-", "-", "1.57e13", "-"]
    assert "https://epoch.ai/data/machine-learning-hardware" in proc.stdout
