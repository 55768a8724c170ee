"""The formula registry and the zero-FLOP table: pure functions over shapes, checked by hand."""

from __future__ import annotations

import re

import pytest

from flopaudit.measure import formulas
from flopaudit.measure.formulas import FORMULAS, register_formula
from flopaudit.measure.zero_ops import CATEGORIES, METADATA_OPS, ZERO_FLOP_OPS


def test_registry_refuses_duplicates_and_undocumented_formulas() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        @register_formula("aten._grouped_mm")
        def again(*args: object, **kwargs: object) -> int:
            """Not allowed twice."""
            return 0

    with pytest.raises(ValueError, match="docstring"):
        @register_formula("test.undocumented_op")
        def undocumented(*args: object, **kwargs: object) -> int:
            return 0

    assert "test.undocumented_op" not in FORMULAS


def test_every_formula_states_its_convention_in_one_line() -> None:
    for formula in FORMULAS.values():
        assert formula.convention and "\n" not in formula.convention
        assert formula.fn.__doc__.strip().splitlines()[0] == formula.convention


def test_the_gaps_named_by_the_issue_are_filled() -> None:
    for op in ("aten._scaled_dot_product_flash_attention_for_cpu",
               "aten._scaled_dot_product_flash_attention_for_cpu_backward",
               "aten._grouped_mm", "aten._transformer_encoder_layer_fwd",
               "aten._native_multi_head_attention"):
        assert op in FORMULAS


def test_sdpa_forward_and_backward_by_hand() -> None:
    # q [b=2, h=8, s_q=16, d=32], k/v [2, 2 kv heads (GQA), s_k=24, 32]
    q, k, v = (2, 8, 16, 32), (2, 2, 24, 32), (2, 2, 24, 32)
    # QK^T and PV: 2 x (2 * b*h * s_q * s_k * d) = 2 * (2*16*16*24*32) = 786,432
    assert formulas.sdpa_cpu_flop(q, k, v, 0.0, True) == 786_432
    # backward: 5 matmuls of the same size = 2.5 x forward = 1,966,080
    assert formulas.sdpa_cpu_backward_flop(q, q, k, v, q, (2, 8, 16)) == 1_966_080


def test_sdpa_formulas_agree_with_pytorchs() -> None:
    from torch.utils.flop_counter import sdpa_backward_flop_count, sdpa_flop_count

    q, k, v = (3, 12, 40, 64), (3, 4, 56, 64), (3, 4, 56, 48)
    assert formulas.sdpa_forward_flop(q, k, v) == sdpa_flop_count(q, k, v)
    grad_out = (3, 12, 40, 48)
    assert formulas.sdpa_backward_flop(q, k, v) == sdpa_backward_flop_count(grad_out, q, k, v)


def test_sdpa_rejects_incompatible_shapes() -> None:
    with pytest.raises(ValueError):
        formulas.sdpa_forward_flop((1, 6, 8, 16), (1, 4, 8, 16), (1, 4, 8, 16))  # 6 % 4 != 0


@pytest.mark.parametrize(("a", "b", "expected"), [
    # forward, routed tokens x K=16 times experts [G=3, 16, 32]: 2 * 48 * 16 * 32
    ((48, 16), (3, 16, 32), 49_152),
    # weight gradient, [K=16, M=48] x [48, N=32] split along M: 2 * 16 * 48 * 32
    ((16, 48), (48, 32), 49_152),
    # [G=3, M=8, K=16] x [16, N_total=96]: 2 * 8 * 16 * 96
    ((3, 8, 16), (16, 96), 24_576),
    # batched [G=3, 8, 16] x [3, 16, 32]: 2 * 3 * 8 * 16 * 32
    ((3, 8, 16), (3, 16, 32), 24_576),
])
def test_grouped_mm_layouts(a: tuple[int, ...], b: tuple[int, ...], expected: int) -> None:
    assert formulas.grouped_mm_flop(a, b, (3,)) == expected


def test_native_mha_by_hand() -> None:
    # query [B=2, L=10, E=16], key/value [2, S=6, 16]
    # in-proj 2*E*E*(B*L + 2*B*S) = 2*256*(20 + 24) = 22,528
    # scores + mix 2 * (2*B*L*S*E) = 2 * 3,840 = 7,680; out-proj 2*B*L*E*E = 10,240
    flop = formulas.native_mha_flop((2, 10, 16), (2, 6, 16), (2, 6, 16), 16, 4, (48, 16), (48,),
                                    (16, 16), (16,))
    assert flop == 22_528 + 7_680 + 10_240


def test_transformer_encoder_layer_by_hand() -> None:
    # src [B=2, L=10, E=16], FFN 16 -> 32 -> 16
    # weights: qkv 48*16 + proj 16*16 + ffn 32*16 + 16*32 = 768 + 256 + 512 + 512 = 2,048
    # 2 * 20 tokens * 2,048 = 81,920; attention 2 * (2*B*L*L*E) = 2 * 6,400 = 12,800
    flop = formulas.transformer_encoder_layer_flop(
        (2, 10, 16), 16, 4, (48, 16), (48,), (16, 16), (16,), False, False, 1e-5,
        (16,), (16,), (16,), (16,), (32, 16), (32,), (16, 32), (16,))
    assert flop == 81_920 + 12_800


def test_small_matmul_ops_by_hand() -> None:
    assert formulas.mv_flop((6, 5), (5,)) == 60            # 2 * 6 * 5
    assert formulas.addmv_flop((6,), (6, 5), (5,)) == 60
    assert formulas.dot_flop((7,), (7,)) == 14              # 2 * 7
    assert formulas.addr_flop((3, 4), (3,), (4,)) == 24     # 2 * 3 * 4
    assert formulas.addbmm_flop((4, 5), (2, 4, 3), (2, 3, 5)) == 240  # 2 * 2 * 4 * 3 * 5
    assert formulas.addmm_activation_flop((5,), (4, 3), (3, 5)) == 120  # 2 * 4 * 3 * 5
    assert formulas.int_mm_flop((32, 16), (16, 8)) == 8_192           # 2 * 32 * 16 * 8
    assert formulas.weight_int8pack_mm_flop((4, 16), (8, 16), (8,)) == 1_024  # 2 * 4 * 16 * 8
    assert formulas.mkldnn_linear_flop((2, 3, 16), (8, 16), None) == 1_536  # 2 * 6 * 16 * 8


def test_zero_table_is_categorised_and_disjoint_from_every_formula() -> None:
    from torch.utils.flop_counter import flop_registry

    torch_ops = {str(packet) for packet in flop_registry}
    assert set(ZERO_FLOP_OPS.values()) <= set(CATEGORIES)
    assert not set(ZERO_FLOP_OPS) & set(FORMULAS)
    assert not set(ZERO_FLOP_OPS) & torch_ops
    assert not METADATA_OPS & set(ZERO_FLOP_OPS)
    # nothing that multiplies matrices may ever be declared free
    matmul_like = re.compile(r"(?<![a-z])(b?mm|addb?mm|baddbmm|matmul|linear|conv\w*|einsum)|attention")
    # (upsample_linear1d is linear interpolation, in the resampling category: not a matmul)
    assert [op for op, category in ZERO_FLOP_OPS.items()
            if category != "resampling" and matmul_like.search(op.split(".", 1)[1])] == []
    assert all(re.search(r"upsample|grid_sampler|pad", op) for op, category in ZERO_FLOP_OPS.items()
               if category == "resampling")


def test_only_deliberate_corrections_override_pytorch() -> None:
    # flopaudit's formula wins where both exist. The one deliberate override corrects torch 2.13's
    # convolution_backward (it ignores groups in the weight gradient). If torch starts counting
    # another of our ops (e.g. pytorch#195801 for CPU SDPA), this fails: check the counts agree.
    from flopaudit.measure.counter import _TORCH_FORMULAS

    overlap = set(FORMULAS) & set(_TORCH_FORMULAS)
    assert overlap == {"aten.convolution_backward"}, f"torch now also counts {overlap}"
