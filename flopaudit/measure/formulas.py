"""flopaudit's own FLOP formulas for the aten ops that carry matmul work and PyTorch does not count.

``torch.utils.flop_counter`` (torch 2.13) has formulas for mm, addmm, bmm, baddbmm, _scaled_mm,
convolution (forward and backward) and the CUDA attention kernels. It has none for the CPU SDPA
kernel, ``_grouped_mm`` (the MoE expert path of transformers 5), the fused ``nn.TransformerEncoderLayer``
and ``nn.MultiheadAttention`` fast paths, nor for a handful of smaller matmul ops; it counts them
as 0 without saying so. This module fills exactly those gaps.

Conventions shared by every formula here (the same as ``torch.utils.flop_counter``):

- one multiply-add is 2 FLOP (``m * n * 2 * k`` for a matmul; MACs are FLOP / 2);
- bias additions, softmax, scaling, masking and activations inside a fused op are not counted;
- attention covers the full ``s_q x s_k`` score matrix (the causal and window conventions are
  applied by the counter, never by a formula: :mod:`flopaudit.measure.attention`).

Formulas are pure functions over shapes and plain values: every tensor argument arrives as a
tuple of ints (its shape), every other argument as it was passed, and the output shape(s) as the
keyword ``out_shape``. They never see tensor data, so they run the same on meta, fake and real
tensors. This module does not import torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from math import prod
from typing import Any

Shape = tuple[int, ...]
FormulaFn = Callable[..., int]


@dataclass(frozen=True)
class Formula:
    """One registered formula: the op it counts, the function, and its stated convention."""

    op: str
    fn: FormulaFn
    convention: str


#: op name (``"aten._grouped_mm"``, i.e. ``str(op_overload_packet)``) -> formula.
FORMULAS: dict[str, Formula] = {}


def register_formula(*ops: str) -> Callable[[FormulaFn], FormulaFn]:
    """Register ``fn`` as the FLOP formula of each op in ``ops``; refuse a second registration.

    The function must carry a docstring whose first line states its convention; that line is
    shown to users next to the count.
    """
    if not ops:
        raise ValueError("register_formula needs at least one op name")

    def decorate(fn: FormulaFn) -> FormulaFn:
        doc = (fn.__doc__ or "").strip().splitlines()
        if not doc or not doc[0].strip():
            raise ValueError(f"formula {fn.__name__} has no one-line docstring stating its convention")
        for op in ops:
            if "." not in op:
                raise ValueError(f"op name {op!r} must be namespaced, e.g. 'aten.mm'")
            if op in FORMULAS:
                raise ValueError(f"duplicate formula registration for {op}")
            FORMULAS[op] = Formula(op=op, fn=fn, convention=doc[0].strip())
        return fn

    return decorate


#: Fused attention kernels whose whole count is attention-score matmuls (QK^T, PV and, in the
#: backward, the recomputed scores, dP, dV, dQ, dK). ``attention="causal"``/``"window"`` scale
#: these calls, and eager attention's bmm, where the counter recognises them as causal or windowed
#: (:mod:`flopaudit.measure.attention`). The nn.MultiheadAttention / TransformerEncoderLayer fast
#: paths are never scaled: nothing in their arguments says whether the mask is causal.
ATTENTION_KERNELS: frozenset[str] = frozenset({
    # PyTorch's own formulas (torch.utils.flop_counter)
    "aten._scaled_dot_product_flash_attention",
    "aten._scaled_dot_product_flash_attention_backward",
    "aten._scaled_dot_product_efficient_attention",
    "aten._scaled_dot_product_efficient_attention_backward",
    "aten._scaled_dot_product_cudnn_attention",
    "aten._scaled_dot_product_cudnn_attention_backward",
    "aten._flash_attention_forward",
    "aten._flash_attention_backward",
    "aten._efficient_attention_forward",
    "aten._efficient_attention_backward",
    # flopaudit's formulas (below)
    "aten._scaled_dot_product_flash_attention_for_cpu",
    "aten._scaled_dot_product_flash_attention_for_cpu_backward",
    "aten._scaled_dot_product_fused_attention_overrideable",
    "aten._scaled_dot_product_fused_attention_overrideable_backward",
})


# --------------------------------------------------------------------------- matmul helpers


def matmul_flop(m: int, k: int, n: int, batch: int = 1) -> int:
    """2 FLOP per multiply-add of a [batch, m, k] x [batch, k, n] product."""
    return 2 * batch * m * k * n


def sdpa_forward_flop(q: Shape, k: Shape, v: Shape) -> int:
    """QK^T and PV over the full s_q x s_k matrix; GQA: key/value heads broadcast to the query heads."""
    b, h_q, s_q, d_q = q
    b_k, h_kv, s_k, d_k = k
    b_v, h_v, s_v, d_v = v
    if not (b == b_k == b_v and h_kv == h_v and d_q == d_k and s_k == s_v):
        raise ValueError(f"incompatible attention shapes q={q} k={k} v={v}")
    if h_kv == 0 or h_q % h_kv:
        raise ValueError(f"query heads {h_q} are not a multiple of key/value heads {h_kv}")
    return matmul_flop(s_q, d_q, s_k, b * h_q) + matmul_flop(s_q, s_k, d_v, b * h_q)


def sdpa_backward_flop(q: Shape, k: Shape, v: Shape) -> int:
    """Five s_q x s_k matmuls: recomputed QK^T, dP = dO V^T, dV = P^T dO, dQ = dS K, dK = dS^T Q."""
    b, h_q, s_q, d_q = q
    _, _, s_k, _ = k
    d_v = v[3]
    sdpa_forward_flop(q, k, v)  # shape checks only
    bh = b * h_q
    return (matmul_flop(s_q, d_q, s_k, bh)      # S = Q K^T (recomputed)
            + matmul_flop(s_q, d_v, s_k, bh)    # dP = dO V^T
            + matmul_flop(s_k, s_q, d_v, bh)    # dV = P^T dO
            + matmul_flop(s_q, s_k, d_q, bh)    # dQ = dS K
            + matmul_flop(s_k, s_q, d_q, bh))   # dK = dS^T Q


# --------------------------------------------------------------------------- attention kernels


@register_formula("aten._scaled_dot_product_flash_attention_for_cpu",
                  "aten._scaled_dot_product_fused_attention_overrideable")
def sdpa_cpu_flop(query: Shape, key: Shape, value: Shape, *args: Any, out_shape: Any = None,
                  **kwargs: Any) -> int:
    """Fused SDPA forward: 2 matmuls (QK^T, PV) over the full s_q x s_k matrix, 2 FLOP per MAC."""
    return sdpa_forward_flop(query, key, value)


@register_formula("aten._scaled_dot_product_flash_attention_for_cpu_backward",
                  "aten._scaled_dot_product_fused_attention_overrideable_backward")
def sdpa_cpu_backward_flop(grad_out: Shape, query: Shape, key: Shape, value: Shape, *args: Any,
                           out_shape: Any = None, **kwargs: Any) -> int:
    """Fused SDPA backward: 5 matmuls over the full s_q x s_k matrix (2.5x the forward), 2 FLOP per MAC."""
    return sdpa_backward_flop(query, key, value)


@register_formula("aten._native_multi_head_attention")
def native_mha_flop(query: Shape, key: Shape, value: Shape, embed_dim: int, num_head: int,
                    qkv_weight: Shape, qkv_bias: Shape | None, proj_weight: Shape,
                    proj_bias: Shape | None, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """nn.MultiheadAttention fast path: Q/K/V and output projections plus QK^T and PV (full matrix)."""
    *lead_q, l_q, e = query
    *_, l_k, _ = key
    batch = prod(lead_q)
    if qkv_weight != (3 * embed_dim, embed_dim) or e != embed_dim:
        raise ValueError(f"unexpected MHA shapes query={query} qkv_weight={qkv_weight}")
    # Q is projected over the query length, K and V over the key length; with q is k is v the
    # kernel does one packed [L, E] x [E, 3E] product, which is the same count.
    in_proj = matmul_flop(batch * l_q, e, e) + 2 * matmul_flop(batch * l_k, e, e)
    scores = matmul_flop(l_q, e, l_k, batch)  # all heads: H * (L x d x S), H * d = E
    mix = matmul_flop(l_q, l_k, e, batch)
    out_proj = matmul_flop(batch * l_q, e, proj_weight[0])
    return in_proj + scores + mix + out_proj


@register_formula("aten._transformer_encoder_layer_fwd")
def transformer_encoder_layer_flop(src: Shape, embed_dim: int, num_heads: int, qkv_weight: Shape,
                                   qkv_bias: Shape | None, proj_weight: Shape,
                                   proj_bias: Shape | None, use_gelu: bool, norm_first: bool,
                                   eps: float, norm_weight_1: Shape, norm_bias_1: Shape,
                                   norm_weight_2: Shape, norm_bias_2: Shape, ffn_weight_1: Shape,
                                   ffn_bias_1: Shape, ffn_weight_2: Shape, ffn_bias_2: Shape,
                                   *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """nn.TransformerEncoderLayer fast path: QKV, attention (full matrix), out-proj and the 2 FFN matmuls."""
    *lead, length, e = src
    tokens = prod(lead) * length
    weights = prod(qkv_weight) + prod(proj_weight) + prod(ffn_weight_1) + prod(ffn_weight_2)
    attention = matmul_flop(length, e, length, prod(lead)) + matmul_flop(length, length, e, prod(lead))
    return 2 * tokens * weights + attention


# --------------------------------------------------------------------------- grouped matmuls (MoE)


@register_formula("aten._grouped_mm", "aten._scaled_grouped_mm")
def grouped_mm_flop(mat_a: Shape, mat_b: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """Grouped matmul: 2 FLOP per MAC over every row of mat_a (= tokens x top-k for routed experts)."""
    # The group sizes live in the ``offs`` tensor, which is data (unknown under fake tensors).
    # The groups partition one dimension of the operands, so the total is shape-static: it is
    # the sum over groups of rows x K x N. Rows past offs[-1] (expert-parallel sentinels) are
    # counted too, an upper bound that transformers 5 never hits on one device.
    if len(mat_a) == 2 and len(mat_b) == 3:    # [M_total, K] x [G, K, N] -> [M_total, N]
        return matmul_flop(mat_a[0], mat_a[1], mat_b[2])
    if len(mat_a) == 2 and len(mat_b) == 2:    # [M, K_total] x [K_total, N] -> [G, M, N] (weight grad)
        return matmul_flop(mat_a[0], mat_a[1], mat_b[1])
    if len(mat_a) == 3 and len(mat_b) == 2:    # [G, M, K] x [K, N_total] -> [M, N_total]
        return matmul_flop(mat_a[1], mat_a[2], mat_b[1])
    if len(mat_a) == 3 and len(mat_b) == 3:    # [G, M, K] x [G, K, N] -> [G, M, N]
        return matmul_flop(mat_a[1], mat_a[2], mat_b[2], mat_a[0])
    raise ValueError(f"unsupported grouped matmul shapes {mat_a} x {mat_b}")


@register_formula("transformers.grouped_mm_fallback")
def transformers_grouped_mm_fallback_flop(input: Shape, weight: Shape, offs: Shape, *args: Any,
                                          out_shape: Any = None, **kwargs: Any) -> int:
    """transformers' grouped-mm fallback op: [S, K] x [G, K, N], 2 FLOP per MAC over all S rows."""
    return matmul_flop(input[0], input[1], weight[2])


@register_formula("transformers.grouped_mm_fallback_backward")
def transformers_grouped_mm_fallback_backward_flop(input: Shape, weight: Shape, offs: Shape,
                                                   grad_output: Shape, *args: Any,
                                                   out_shape: Any = None, **kwargs: Any) -> int:
    """Backward of the fallback: input grad dO W^T and weight grad X^T dO, [S, K] x [K, N] each."""
    return 2 * matmul_flop(input[0], input[1], weight[2])


# --------------------------------------------------------------------------- smaller matmul ops


@register_formula("aten.mv")
def mv_flop(mat: Shape, vec: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """Matrix-vector product [m, k] x [k]: 2 FLOP per MAC."""
    return matmul_flop(mat[0], mat[1], 1)


@register_formula("aten.addmv")
def addmv_flop(self_shape: Shape, mat: Shape, vec: Shape, *args: Any, out_shape: Any = None,
               **kwargs: Any) -> int:
    """Matrix-vector product [m, k] x [k] plus a vector: 2 FLOP per MAC, the addition ignored."""
    return matmul_flop(mat[0], mat[1], 1)


@register_formula("aten.dot", "aten.vdot")
def dot_flop(a: Shape, b: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """Inner product of two length-n vectors: 2n FLOP."""
    return 2 * a[0]


@register_formula("aten.addr")
def addr_flop(self_shape: Shape, vec1: Shape, vec2: Shape, *args: Any, out_shape: Any = None,
              **kwargs: Any) -> int:
    """Outer product of an m- and an n-vector added to a matrix: 2 FLOP per element."""
    return 2 * vec1[0] * vec2[0]


@register_formula("aten.addbmm")
def addbmm_flop(self_shape: Shape, batch1: Shape, batch2: Shape, *args: Any, out_shape: Any = None,
                **kwargs: Any) -> int:
    """Batch-summed [b, m, k] x [b, k, n] plus a matrix: 2 FLOP per MAC, the additions ignored."""
    return matmul_flop(batch1[1], batch1[2], batch2[2], batch1[0])


@register_formula("aten._addmm_activation")
def addmm_activation_flop(self_shape: Shape, mat1: Shape, mat2: Shape, *args: Any,
                          out_shape: Any = None, **kwargs: Any) -> int:
    """addmm fused with ReLU/GELU: 2 FLOP per MAC of [m, k] x [k, n]; bias and activation ignored."""
    return matmul_flop(mat1[0], mat1[1], mat2[1])


@register_formula("aten._int_mm")
def int_mm_flop(mat1: Shape, mat2: Shape, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """int8 matmul [m, k] x [k, n]: 2 operations per multiply-add, like floating point."""
    return matmul_flop(mat1[0], mat1[1], mat2[1])


@register_formula("aten._weight_int8pack_mm")
def weight_int8pack_mm_flop(mat1: Shape, weight: Shape, *args: Any, out_shape: Any = None,
                            **kwargs: Any) -> int:
    """Weight-only int8 linear [m, k] x [n, k]^T: 2 FLOP per MAC, the scales ignored."""
    return matmul_flop(mat1[0], mat1[1], weight[0])


@register_formula("aten.mkldnn_linear")
def mkldnn_linear_flop(x: Shape, weight: Shape, *args: Any, out_shape: Any = None,
                       **kwargs: Any) -> int:
    """oneDNN linear [.., k] x [n, k]^T: 2 FLOP per MAC, the bias ignored."""
    return matmul_flop(prod(x[:-1]), x[-1], weight[0])


# --------------------------------------------------------------------------- corrections and RNNs


@register_formula("aten.convolution_backward")
def convolution_backward_flop(grad_out: Shape, x: Shape, w: Shape, bias_sizes: Any, stride: Any, padding: Any,
                              dilation: Any, transposed: bool, output_padding: Any, groups: int,
                              output_mask: Any, *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """Each of grad_input and grad_weight costs the forward's multiply-adds, groups included (2 FLOP each)."""
    # The weight [C_out, C_in/groups, *k] already carries the groups; the forward visits every
    # kernel element at every position of the non-transposed output (the input, when transposed).
    spatial = x[2:] if transposed else grad_out[2:]
    forward = 2 * grad_out[0] * math.prod(w) * math.prod(spatial)
    return forward * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


def _rnn_gates(mode: int) -> int:
    # cuDNN/mkldnn mode numbers: 0 RNN_RELU, 1 RNN_TANH, 2 LSTM, 3 GRU
    return {0: 1, 1: 1, 2: 4, 3: 3}.get(int(mode), 4)


@register_formula("aten.mkldnn_rnn_layer")
def mkldnn_rnn_layer_flop(x: Shape, w0: Shape, w1: Shape, *args: Any, out_shape: Any = None,
                          **kwargs: Any) -> int:
    """One RNN/LSTM/GRU layer and direction: 2 FLOP per multiply-add of the input and hidden projections per step."""
    # x [T, B, I] (or [B, T, I]); w0 [gates*H, I], w1 [gates*H, H]: per step B x (w0 + w1) MACs.
    steps_times_batch = x[0] * x[1]
    return 2 * steps_times_batch * (math.prod(w0) + math.prod(w1))


@register_formula("aten.mkldnn_rnn_layer_backward")
def mkldnn_rnn_layer_backward_flop(x: Shape, w1: Shape, w2: Shape, *args: Any, out_shape: Any = None,
                                   **kwargs: Any) -> int:
    """Backward of one RNN layer: input, hidden and weight gradients, 2 x the forward's multiply-adds."""
    return 2 * mkldnn_rnn_layer_flop(x, w1, w2)
