"""The zero-FLOP table covers ATen's pointwise, view, comparison, indexing and resampling ops.

Regressions (issue 8): ``aten.logical_and_`` and ``aten.upsample_nearest2d_backward`` were listed
as uncounted. The sweep below repeats the one that filled the table, over every op the
dispatcher knows, so an op of those families added by a torch upgrade fails here first.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import flop_registry

from flopaudit.measure.counter import BACKWARD, FORWARD, FlopAuditMode
from flopaudit.measure.formulas import FORMULAS
from flopaudit.measure.zero_ops import CATEGORIES, ZERO_FLOP_OPS

PRICED = {str(p) for p in flop_registry if isinstance(p, torch._ops.OpOverloadPacket)} | set(FORMULAS)


def _aten_packets() -> list[tuple[str, torch._ops.OpOverloadPacket]]:
    names = {n.split("::")[1].split(".")[0] for n in torch._C._dispatch_get_all_op_names()
             if n.startswith("aten::")}
    out = []
    for name in sorted(names):
        try:
            packet = getattr(torch.ops.aten, name)
        except (AttributeError, RuntimeError):
            continue
        if isinstance(packet, torch._ops.OpOverloadPacket):
            out.append((name, packet))
    return out


def test_every_pointwise_op_is_priced_or_zero() -> None:
    missing = [name for name, packet in _aten_packets()
               if f"aten.{name}" not in ZERO_FLOP_OPS and f"aten.{name}" not in PRICED
               and "nested" not in name
               and any(torch.Tag.pointwise in getattr(packet, o).tags for o in packet.overloads())]
    assert missing == []


def test_every_in_place_form_of_a_zero_op_is_zero() -> None:
    missing = [name for name, _ in _aten_packets()
               if name.endswith("_") and f"aten.{name[:-1]}" in ZERO_FLOP_OPS
               and f"aten.{name}" not in ZERO_FLOP_OPS and f"aten.{name}" not in PRICED]
    assert missing == []


def test_every_upsampling_and_grid_sampling_op_is_zero() -> None:
    family = [name for name, _ in _aten_packets() if "upsample" in name or name.startswith("grid_sampler")]
    assert family, "the sweep found no upsampling op: the op list is not what this test expects"
    assert [name for name in family if ZERO_FLOP_OPS.get(f"aten.{name}") != "resampling"] == []


def test_the_table_never_hides_a_priced_op() -> None:
    # a formula must win over the table: a matmul, a convolution or an attention kernel is never 0
    for op in ("aten.mm", "aten.bmm", "aten.addmm", "aten.convolution", "aten.convolution_backward",
               "aten._scaled_dot_product_flash_attention_for_cpu"):
        assert op not in ZERO_FLOP_OPS and op in PRICED
    assert set(ZERO_FLOP_OPS.values()) <= set(CATEGORIES)


def test_regressions_run_as_zero_and_matmuls_still_count() -> None:
    x = torch.randn(1, 2, 4, 4, requires_grad=True)
    w = torch.randn(4, 4, requires_grad=True)
    mask = torch.ones(4, dtype=torch.bool)
    with FlopAuditMode() as mode:
        mask.logical_and_(torch.zeros(4, dtype=torch.bool))
        up = F.interpolate(x, scale_factor=2, mode="nearest")           # upsample_nearest2d
        bil = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        y = (up + bil) @ w.repeat(2, 2)                                  # [1, 2, 8, 8] @ [8, 8]
        y.sum().backward()
    assert dict(mode.tally.uncounted) == {}
    # forward: 16 rows x 8 x 8 multiply-adds, 2 FLOP each = 2*16*8*8 = 2,048
    assert mode.tally.total(FORWARD) == 2_048
    # backward: input gradient and weight gradient, 2,048 each
    assert mode.tally.total(BACKWARD) == 4_096
    assert mode.tally.zero_calls["resampling"] >= 4  # nearest and bilinear, forward and backward
    assert mode.tally.zero_calls["comparison"] >= 1


def test_an_op_with_no_formula_and_no_entry_is_uncounted() -> None:
    lib = torch.library.Library("flopaudit_test", "DEF")  # noqa: F841 - kept alive for the test
    lib.define("mystery(Tensor x) -> Tensor")
    lib.impl("mystery", lambda x: x * 2, "CPU")
    with FlopAuditMode() as mode:
        torch.ops.flopaudit_test.mystery(torch.ones(3))
    assert dict(mode.tally.uncounted) == {"flopaudit_test.mystery": 1}


@pytest.mark.parametrize("op", ["aten._fft_r2c", "aten.linalg_eigh", "aten._linalg_svd"])
def test_genuinely_unpriced_arithmetic_is_not_in_the_table(op: str) -> None:
    assert op not in ZERO_FLOP_OPS
