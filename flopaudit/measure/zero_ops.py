"""The explicit table of aten ops that flopaudit counts as 0 FLOP, each with the reason.

Three-way accounting (as fvcore does): every op that runs is either *counted* (it has a formula),
*known zero* (it is listed here), or *uncounted* (reported in ``uncounted_ops``). Nothing is zero
by omission: an op missing from this table and without a formula is reported, never dropped.

What "zero" means here is a convention, stated in every output: flopaudit counts the multiply-adds
of matrix products (2 FLOP each) and nothing else. So the table holds ops that do no arithmetic
(views, copies, indexing, allocation, random number generation) and ops whose arithmetic is
excluded by convention (elementwise maths, activations, reductions, normalisation, softmax, losses
and their backward). The embedding lookup is indexing, so it costs 0, as in PyTorch's counter,
Megatron-LM and fvcore. This module does not import torch.
"""

from __future__ import annotations

#: category -> why it is zero. Shown to users next to the number of calls per category.
CATEGORIES: dict[str, str] = {
    "view": "views and reshapes: no data moves",
    "memory": "allocation, copies, casts, concatenation: data moves, no arithmetic",
    "indexing": "gather/scatter/index/select and the embedding lookup: no arithmetic (0 by convention)",
    "elementwise": "pointwise maths and activations, forward and backward: excluded by convention",
    "reduction": "sums, means, max/min, cumulative sums, softmax: excluded by convention",
    "normalization": "layer/RMS/batch/group/weight norm, forward and backward: excluded by convention",
    "comparison": "comparisons, logical ops, masking and selection by condition: no multiply-add",
    "sorting": "sort, top-k, argmax: comparisons, no multiply-add",
    "random": "random number generation and dropout: no multiply-add",
    "loss": "loss functions (NLL, cross-entropy parts, MSE): excluded by convention",
    "scalar": "reading a scalar back to Python, assertions: no arithmetic",
    "resampling": "upsampling, interpolation, grid sampling and padding, forward and backward: "
                  "weighted copies, excluded by convention",
}

_VIEW = """
    alias as_strided as_strided_scatter diagonal expand expand_as lift_fresh movedim narrow permute
    reshape select slice split split_with_sizes squeeze swapaxes t transpose unbind unflatten
    unfold unsqueeze unsafe_split unsafe_split_with_sizes view view_as view_as_complex view_as_real
    _reshape_alias _unsafe_view chunk tensor_split flatten detach _conj _neg_view _fw_primal
    _make_dual _unpack_dual resolve_conj resolve_neg lift_fresh_copy transpose_ squeeze_ unsqueeze_ t_
    as_strided_ swapaxes_ swapdims_
"""
_MEMORY = """
    _to_copy clone contiguous copy copy_ empty empty_like empty_strided new_empty new_empty_strided
    new_full new_ones new_zeros full full_like ones ones_like zeros zeros_like zero_ fill fill_
    arange linspace logspace scalar_tensor _to_dense to cat stack hstack vstack concat concatenate
    repeat repeat_interleave tile roll flip pad constant_pad_nd reflection_pad1d reflection_pad2d
    replication_pad1d replication_pad2d _pad_circular detach_ set_ resize_ _copy_from
    _copy_from_and_resize lift _has_compatible_shallow_copy_type alias_copy view_copy
    permute_copy transpose_copy t_copy expand_copy slice_copy select_copy unsqueeze_copy
    squeeze_copy split_copy unbind_copy diagonal_copy as_strided_copy
    _efficientzerotensor tril_indices triu_indices eye
"""
_INDEXING = """
    embedding embedding_dense_backward embedding_backward _embedding_bag _embedding_bag_backward
    gather gather_backward scatter scatter_ scatter_add scatter_add_ scatter_reduce scatter_reduce_
    index index_put index_put_ _index_put_impl_ index_select index_select_backward index_add
    index_add_ index_copy index_copy_ index_fill index_fill_ take take_along_dim masked_select
    masked_scatter masked_scatter_ select_backward slice_backward slice_scatter select_scatter
    diagonal_scatter diagonal_backward unfold_backward one_hot nonzero nonzero_static
    _unsafe_index_put unique _unique2 unique_consecutive bincount histc searchsorted bucketize
    as_strided_backward _unsafe_index
"""
_ELEMENTWISE = """
    abs abs_ acos acosh add add_ addcdiv addcdiv_ addcmul addcmul_ asin asinh atan atan2 atanh
    bitwise_and bitwise_and_ bitwise_not bitwise_or bitwise_xor ceil clamp clamp_ clamp_max clamp_min clamp_min_
    clip complex conj_physical cos cosh deg2rad div div_ elu elu_backward erf erfc erfinv exp exp2
    exp_ expm1 floor floor_divide fmod frac gelu gelu_ gelu_backward glu glu_backward hardsigmoid
    hardsigmoid_backward hardswish hardswish_backward hardtanh hardtanh_ hardtanh_backward
    leaky_relu leaky_relu_ leaky_relu_backward lerp lerp_ log log10 log1p log2 log_sigmoid_forward
    log_sigmoid_backward logaddexp logit mish mish_backward mul mul_ nan_to_num neg neg_ pow pow_
    prelu _prelu_kernel _prelu_kernel_backward reciprocal reciprocal_ relu relu_ relu6 remainder
    round rrelu_with_noise rsqrt rsqrt_ rsub sigmoid sigmoid_ sigmoid_backward sign sgn silu silu_
    silu_backward sin sinh softplus softplus_backward sqrt sqrt_ square sub sub_ tan tanh tanh_
    tanh_backward threshold threshold_ threshold_backward trunc xlogy true_divide polar
    _foreach_add _foreach_add_ _foreach_mul _foreach_mul_ _foreach_div _foreach_div_
    _foreach_sqrt _foreach_addcmul_ _foreach_addcdiv_ _foreach_lerp_ _foreach_neg
    _foreach_copy_ _foreach_zero_ heaviside hypot i0 sinc signbit copysign
"""
_REDUCTION = """
    all amax amin aminmax any argmax argmin count_nonzero cumprod cumsum cummax cummin logcumsumexp
    logsumexp max max_pool1d max_pool2d max_pool2d_with_indices max_pool2d_with_indices_backward
    max_pool3d_with_indices max_pool3d_with_indices_backward avg_pool2d avg_pool2d_backward
    avg_pool3d avg_pool3d_backward adaptive_avg_pool2d _adaptive_avg_pool2d
    _adaptive_avg_pool2d_backward adaptive_max_pool2d adaptive_max_pool2d_backward mean median
    min nanmean nansum norm linalg_vector_norm _foreach_norm prod std std_mean sum sum_to_size var var_mean
    _softmax _softmax_backward_data _log_softmax _log_softmax_backward_data _safe_softmax softmax
    log_softmax special_logsumexp
"""
_NORMALIZATION = """
    native_layer_norm native_layer_norm_backward layer_norm native_batch_norm
    native_batch_norm_backward _native_batch_norm_legit _native_batch_norm_legit_no_training
    _native_batch_norm_legit_functional batch_norm_backward cudnn_batch_norm
    cudnn_batch_norm_backward miopen_batch_norm native_group_norm native_group_norm_backward
    _fused_rms_norm _fused_rms_norm_backward rms_norm group_norm instance_norm
    _batch_norm_with_update _batch_norm_with_update_functional _batch_norm_no_update
    _weight_norm_interface _weight_norm_interface_backward _weight_norm
"""
_COMPARISON = """
    eq eq_ ge gt isfinite isinf isnan isneginf isposinf le logical_and logical_not logical_or
    logical_xor lt masked_fill masked_fill_ maximum minimum ne where tril tril_ triu triu_
    equal allclose isclose fmax fmin is_nonzero is_same_size
"""
_SORTING = """
    sort argsort topk kthvalue msort mode
"""
_RANDOM = """
    bernoulli bernoulli_ native_dropout native_dropout_backward normal normal_ rand rand_like
    randint randint_like randn randn_like randperm uniform uniform_ exponential_ geometric_
    cauchy_ log_normal_ random_ multinomial _fused_dropout _masked_scale dropout
"""
_LOSS = """
    nll_loss_forward nll_loss_backward nll_loss2d_forward nll_loss2d_backward mse_loss
    mse_loss_backward l1_loss smooth_l1_loss smooth_l1_loss_backward huber_loss
    huber_loss_backward binary_cross_entropy binary_cross_entropy_backward
    binary_cross_entropy_with_logits kl_div
"""
_SCALAR = """
    _local_scalar_dense item _assert_async _assert_scalar _assert_tensor_metadata
    sym_constrain_range sym_constrain_range_for_size _functional_assert_async
    _functional_sym_constrain_range
"""

# The sweep of ATen's op list (torch 2.13, ``torch._C._dispatch_get_all_op_names()``): every op
# tagged ``pointwise`` and every in-place form of an op above, views, and the resampling family,
# that the lists above had missed. tests/measure/test_zero_ops.py repeats the sweep, so a torch
# upgrade that adds such an op fails a test instead of reaching users as "uncounted".
_SWEPT_ELEMENTWISE = """
    __ilshift__ __ixor__ __lshift__ __rshift__ __xor__ _conj_physical _foreach_neg_
    _foreach_sqrt_ acos_ acosh_ angle asin_ asinh_ atan2_ atan_ atanh_ bitwise_left_shift
    bitwise_left_shift_ bitwise_not_ bitwise_or_ bitwise_right_shift bitwise_right_shift_
    bitwise_xor_ ceil_ celu celu_ clamp_max_ clip_ conj_physical_ copysign_ cos_ cosh_ deg2rad_
    digamma digamma_ dropout_ elu_ erf_ erfc_ erfinv_ exp2_ expm1_ float_power float_power_
    floor_ floor_divide_ fmod_ frac_ frexp gcd hardshrink hardsigmoid_ hardswish_ heaviside_
    hypot_ i0_ igamma igamma_ igammac igammac_ lcm ldexp ldexp_ lgamma lgamma_ log10_ log1p_
    log2_ log_ logaddexp2 logit_ logit_backward mish_ mvlgamma mvlgamma_ nan_to_num_ nextafter
    nextafter_ polygamma polygamma_ positive rad2deg rad2deg_ relu6_ remainder_ round_ rrelu
    rrelu_with_noise_ selu selu_ sgn_ sign_ sin_ sinc_ sinh_ softshrink special_airy_ai
    special_bessel_j0 special_bessel_j1 special_bessel_y0 special_bessel_y1
    special_chebyshev_polynomial_t special_chebyshev_polynomial_u special_chebyshev_polynomial_v
    special_chebyshev_polynomial_w special_entr special_erfcx special_hermite_polynomial_h
    special_hermite_polynomial_he special_i0e special_i1 special_i1e
    special_laguerre_polynomial_l special_legendre_polynomial_p special_log_ndtr
    special_modified_bessel_i0 special_modified_bessel_i1 special_modified_bessel_k0
    special_modified_bessel_k1 special_ndtri special_scaled_modified_bessel_k0
    special_scaled_modified_bessel_k1 special_shifted_chebyshev_polynomial_t
    special_shifted_chebyshev_polynomial_u special_shifted_chebyshev_polynomial_v
    special_shifted_chebyshev_polynomial_w special_spherical_bessel_j0 special_xlog1py
    special_zeta square_ tan_ true_divide_ trunc_ xlogy_ gcd_ lcm_ rrelu_
"""
_SWEPT_COMPARISON = """
    ge_ gt_ le_ logical_and_ logical_not_ logical_or_ logical_xor_ lt_ ne_
"""
_SWEPT_REDUCTION = """
    cumprod_ cumsum_
"""
_SWEPT_VIEW = """
    conj imag real
"""
_SWEPT_MEMORY = """
    narrow_copy pin_memory split_with_sizes_copy unfold_copy
"""
_SWEPT_RESAMPLING = """
    _grid_sampler_2d_cpu_fallback _grid_sampler_2d_cpu_fallback_backward _upsample_bicubic2d_aa
    _upsample_bicubic2d_aa_backward _upsample_bilinear2d_aa _upsample_bilinear2d_aa_backward
    _upsample_lanczos2d_aa _upsample_lanczos2d_aa_backward _upsample_nearest_exact1d
    _upsample_nearest_exact1d_backward _upsample_nearest_exact2d
    _upsample_nearest_exact2d_backward _upsample_nearest_exact3d
    _upsample_nearest_exact3d_backward cudnn_grid_sampler cudnn_grid_sampler_backward
    grid_sampler grid_sampler_2d grid_sampler_2d_backward grid_sampler_3d
    grid_sampler_3d_backward reflection_pad1d_backward reflection_pad2d_backward
    reflection_pad3d reflection_pad3d_backward replication_pad1d_backward
    replication_pad2d_backward replication_pad3d replication_pad3d_backward upsample_bicubic2d
    upsample_bicubic2d_backward upsample_bilinear2d upsample_bilinear2d_backward
    upsample_linear1d upsample_linear1d_backward upsample_nearest1d upsample_nearest1d_backward
    upsample_nearest2d upsample_nearest2d_backward upsample_nearest3d
    upsample_nearest3d_backward upsample_trilinear3d upsample_trilinear3d_backward
"""


def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for category, names in (("view", _VIEW), ("memory", _MEMORY), ("indexing", _INDEXING),
                            ("elementwise", _ELEMENTWISE), ("reduction", _REDUCTION),
                            ("normalization", _NORMALIZATION), ("comparison", _COMPARISON),
                            ("sorting", _SORTING), ("random", _RANDOM), ("loss", _LOSS),
                            ("scalar", _SCALAR), ("elementwise", _SWEPT_ELEMENTWISE),
                            ("comparison", _SWEPT_COMPARISON), ("reduction", _SWEPT_REDUCTION),
                            ("view", _SWEPT_VIEW), ("memory", _SWEPT_MEMORY),
                            ("resampling", _SWEPT_RESAMPLING)):
        for name in names.split():
            op = f"aten.{name}"
            if op in table:
                raise ValueError(f"{op} is listed twice in the zero-FLOP table")
            table[op] = category
    return table


#: op name (``str(op_overload_packet)``, e.g. ``"aten.view"``) -> category of :data:`CATEGORIES`.
ZERO_FLOP_OPS: dict[str, str] = _table()

#: Dispatcher queries that are not computations at all (size/stride/device lookups). The counter
#: lets them through without recording them, as ``torch.utils.flop_counter`` does.
METADATA_OPS: frozenset[str] = frozenset({
    "aten.sym_is_contiguous", "aten.is_contiguous", "aten.is_strides_like_format",
    "aten.is_non_overlapping_and_dense", "aten.size", "aten.sym_size", "aten.stride",
    "aten.sym_stride", "aten.storage_offset", "aten.sym_storage_offset", "aten.numel",
    "aten.sym_numel", "aten.dim", "prim.layout",
})
