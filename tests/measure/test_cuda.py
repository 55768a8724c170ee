"""CUDA timing (skipped without a GPU) and the accelerator lookup it uses (runs anywhere)."""

from __future__ import annotations

import pytest
import torch

from flopaudit.estimate.accelerators import match_device_name
from flopaudit.measure import ModelSource, profile

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.parametrize(("device_name", "expected"), [
    ("NVIDIA H100 80GB HBM3", "H100-SXM"),
    ("NVIDIA H100 PCIe", "H100-PCIe"),
    ("NVIDIA H200", "H200"),
    ("NVIDIA GH200 480GB", "GH200"),
    ("NVIDIA A100-SXM4-80GB", "A100"),
])
def test_device_names_match_the_accelerator_table(device_name: str, expected: str) -> None:
    acc = match_device_name(device_name)
    assert acc is not None and acc.name == expected
    assert acc.peak_flops["bf16"] > 1e14


def test_unknown_device_gives_none() -> None:
    assert match_device_name("Vendor Y9") is None


@needs_cuda
@pytest.mark.cuda
def test_cuda_profile_reports_mfu_and_counter_overhead() -> None:
    result = profile(ModelSource(factory="tests.measure.factories:tiny_decoder"), seq_len=128, batch=4,
                     device="cuda")
    meta = profile(ModelSource(factory="tests.measure.factories:tiny_decoder"), seq_len=128, batch=4)
    # CUDA runs the flash/efficient kernels (PyTorch's formulas), CPU the CPU kernel (ours): the
    # same convention, so the same count
    assert result.forward_flop == meta.forward_flop
    assert result.backward_flop == meta.backward_flop
    cuda = result.cuda
    assert cuda is not None and cuda["step_seconds"] > 0 and cuda["counter_overhead"] > 0
    assert cuda["precision"] in ("bf16", "fp16")
    if cuda["peak_flops"]:
        assert 0 < cuda["mfu"] < 1
