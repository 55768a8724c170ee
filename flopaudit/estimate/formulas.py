"""Pure compute formulas over numbers. One multiply-add = 2 FLOP everywhere.

Each formula is registered by name in :data:`FORMULAS` (duplicates refused) and states its
convention in the first docstring line, which the outputs quote. Sources:

* Kaplan et al. 2020, "Scaling Laws for Neural Language Models", arXiv:2001.08361, §2.1: C = 6ND.
* Narayanan et al. 2021 (Megatron-LM, arXiv:2104.04473), Appendix: per layer forward
  24Bsh^2 + 4Bs^2h, logits 2BshV, backward = 2 x forward; Megatron-LM's
  ``num_floating_point_operations`` generalises it to GQA, SwiGLU and top-k MoE.
* Chowdhery et al. 2022 (PaLM, arXiv:2204.02311), Appendix B: 6N + 12LHQT per token.
* Hoffmann et al. 2022 (Chinchilla, arXiv:2203.15556), Appendix F: per-matmul forward count.
* European Commission, Guidelines on the scope of obligations for GPAI providers (C(2025) 5045),
  Annex A.2.1 (C = N x L x H x U) and A.2.2 (C ~ 6PD).
"""

from __future__ import annotations

from collections.abc import Callable

from flopaudit.estimate.registry import Registry

FORMULAS: Registry[Callable[..., float]] = Registry("formula")

#: FLOP per multiply-add: the convention of PyTorch's counter, Megatron-LM and PaLM.
FLOP_PER_MAC = 2
#: Forward + backward passes cost 3 x forward: backward computes activation and weight gradients.
TRAIN_PASSES = 3


@FORMULAS.register("6nd")
def six_nd(active_parameters: float, tokens: float) -> float:
    """6 FLOP per active parameter per training token (2 forward + 4 backward; Kaplan et al. 2020 §2.1)."""
    return 6.0 * active_parameters * tokens


@FORMULAS.register("generation")
def generation(active_parameters: float, tokens: float) -> float:
    """2 FLOP per active parameter per generated token (one forward pass, attention ignored)."""
    return 2.0 * active_parameters * tokens


@FORMULAS.register("hardware")
def hardware(devices: float, seconds: float, peak_flops: float, utilization: float) -> float:
    """devices x seconds x peak FLOP/s x utilisation (EU Guidelines Annex A.2.1, C = N·L·H·U)."""
    return devices * seconds * peak_flops * utilization


@FORMULAS.register("linear")
def linear(tokens: float, d_in: float, d_out: float) -> float:
    """2 x tokens x d_in x d_out: a dense projection, bias ignored."""
    return FLOP_PER_MAC * tokens * d_in * d_out


@FORMULAS.register("attention-core")
def attention_core(q_len: float, kv_len: float, heads: float, head_dim: float, causal: bool) -> float:
    """QK^T plus attention x V: 2 x 2 x q_len x kv_len x heads x head_dim; halved when causal."""
    full = 2 * FLOP_PER_MAC * q_len * kv_len * heads * head_dim
    return full / 2 if causal else full


@FORMULAS.register("ffn")
def ffn(tokens: float, d_model: float, d_ff: float, gated: bool) -> float:
    """Feed-forward block: 3 matrices d_model x d_ff when gated (SwiGLU/GeGLU), else 2."""
    return (3 if gated else 2) * linear(tokens, d_model, d_ff)


@FORMULAS.register("self-attention-block")
def self_attention_block(tokens: float, kv_len: float, d_model: float, heads: float, kv_heads: float,
                         head_dim: float, causal: bool) -> float:
    """Q, K, V and output projections (GQA: K and V have kv_heads) plus the attention core."""
    q = linear(tokens, d_model, heads * head_dim)
    kv = 2 * linear(tokens, d_model, kv_heads * head_dim)
    out = linear(tokens, heads * head_dim, d_model)
    return q + kv + out + attention_core(tokens, kv_len, heads, head_dim, causal)


@FORMULAS.register("moe-ffn")
def moe_ffn(tokens: float, d_model: float, expert_d_ff: float, experts: float, top_k: float,
            shared_experts: float, gated: bool) -> float:
    """Router (d_model x experts) plus top-k routed and all shared experts per token; unused experts cost 0."""
    router = linear(tokens, d_model, experts)
    return router + (top_k + shared_experts) * ffn(tokens, d_model, expert_d_ff, gated)


@FORMULAS.register("mla-attention-block")
def mla_attention_block(tokens: float, kv_len: float, d_model: float, heads: float, q_lora_rank: int | None,
                        kv_lora_rank: float, qk_head_dim: float, qk_rope_head_dim: float, v_head_dim: float,
                        causal: bool) -> float:
    """Multi-head latent attention (DeepSeek-V2/V3): q_a/q_b (or q_proj), kv_a (latent + shared rope key), kv_b, o_proj, core QK^T over qk+rope dims and AV over v dims; core halved when causal."""
    qk = qk_head_dim + qk_rope_head_dim
    if q_lora_rank:
        q = linear(tokens, d_model, q_lora_rank) + linear(tokens, q_lora_rank, heads * qk)
    else:
        q = linear(tokens, d_model, heads * qk)
    kv_a = linear(tokens, d_model, kv_lora_rank + qk_rope_head_dim)
    kv_b = linear(tokens, kv_lora_rank, heads * (qk_head_dim + v_head_dim))
    out = linear(tokens, heads * v_head_dim, d_model)
    core = FLOP_PER_MAC * tokens * kv_len * heads * (qk + v_head_dim)
    return q + kv_a + kv_b + out + (core / 2 if causal else core)


def mla_attention_parameters(d_model: int, heads: int, q_lora_rank: int | None, kv_lora_rank: int,
                             qk_head_dim: int, qk_rope_head_dim: int, v_head_dim: int) -> int:
    """Weight parameters of one MLA block: q_a + q_b (or q_proj), kv_a (kv_lora + rope), kv_b, o_proj; norms excluded."""
    qk = qk_head_dim + qk_rope_head_dim
    q = d_model * q_lora_rank + q_lora_rank * heads * qk if q_lora_rank else d_model * heads * qk
    return (q + d_model * (kv_lora_rank + qk_rope_head_dim) + kv_lora_rank * heads * (qk_head_dim + v_head_dim)
            + heads * v_head_dim * d_model)


def norm_parameters(*, family: str, layers: int, d_model: int, q_lora_rank: int | None = None,
                    kv_lora_rank: int | None = None, mtp_layers: int = 0, decoder_layers: int | None = None) -> int:
    """RMSNorm weights (one per channel): 2 per layer (+ MLA's q_a/kv_a latent norms) and 1 final; an MTP layer adds its own 2 + enorm, hnorm and a final norm."""
    latent = (q_lora_rank or 0) + (kv_lora_rank or 0)
    per_layer = 2 * d_model + latent
    total = layers * per_layer + d_model
    if family == "encoder-decoder":
        total += (decoder_layers or layers) * (3 * d_model) + d_model  # self, cross, ffn norms + final
    return total + mtp_layers * (per_layer + 3 * d_model)


@FORMULAS.register("transformer-forward")
def transformer_forward(*, family: str, layers: int, d_model: int, heads: int, kv_heads: int, head_dim: int,
                        d_ff: int, gated: bool, vocab: int, seq_len: int, causal: bool,
                        experts: int = 0, experts_per_token: int = 0, shared_experts: int = 0,
                        expert_d_ff: int | None = None, dense_layers: int = 0,
                        decoder_layers: int | None = None, q_lora_rank: int | None = None,
                        kv_lora_rank: int | None = None, qk_rope_head_dim: int = 0,
                        v_head_dim: int | None = None, mtp_layers: int = 0) -> float:
    """Forward FLOP of one sequence: every matmul at 2 FLOP/MAC, full s x s attention unless causal, LM head included, embedding lookup 0; MTP layers add a layer, the 2d->d projection and a head each."""
    s = seq_len
    ffn_dense = ffn(s, d_model, d_ff, gated)
    ffn_moe = moe_ffn(s, d_model, expert_d_ff or d_ff, experts, experts_per_token, shared_experts, gated) \
        if experts else ffn_dense
    moe_layers = layers - dense_layers if experts else 0

    def attention(attn_causal: bool) -> float:
        if kv_lora_rank:
            return mla_attention_block(s, s, d_model, heads, q_lora_rank, kv_lora_rank, head_dim,
                                       qk_rope_head_dim, v_head_dim or head_dim, attn_causal)
        return self_attention_block(s, s, d_model, heads, kv_heads, head_dim, attn_causal)

    def stack(n_layers: int, n_moe: int, attn_causal: bool) -> float:
        return n_layers * attention(attn_causal) + (n_layers - n_moe) * ffn_dense + n_moe * ffn_moe

    head = linear(s, d_model, vocab)
    if family == "encoder-decoder":
        n_dec = decoder_layers or layers
        encoder = stack(layers, 0, False)
        decoder = stack(n_dec, 0, causal)
        cross = n_dec * (linear(s, d_model, heads * head_dim) + 2 * linear(s, d_model, kv_heads * head_dim)
                         + linear(s, heads * head_dim, d_model) + attention_core(s, s, heads, head_dim, False))
        return encoder + decoder + cross + head
    # Encoders attend bidirectionally: the causal convention only applies to decoders.
    attn_causal = causal and family == "decoder"
    # An MTP layer is a transformer layer of the last layer's kind (Megatron-LM, DeepSeek-V3 §2.2).
    mtp_layer = attention(attn_causal) + (ffn_moe if moe_layers else ffn_dense) + linear(s, 2 * d_model, d_model)
    return stack(layers, moe_layers, attn_causal) + head + mtp_layers * (mtp_layer + head)


@FORMULAS.register("transformer-parameters")
def transformer_parameters(*, family: str, layers: int, d_model: int, heads: int, kv_heads: int,
                           head_dim: int, d_ff: int, gated: bool, vocab: int, tied_embeddings: bool,
                           experts: int = 0, experts_per_token: int = 0, shared_experts: int = 0,
                           expert_d_ff: int | None = None, dense_layers: int = 0,
                           decoder_layers: int | None = None, active: bool = False,
                           q_lora_rank: int | None = None, kv_lora_rank: int | None = None,
                           qk_rope_head_dim: int = 0, v_head_dim: int | None = None, mtp_layers: int = 0,
                           norms: bool = False) -> float:
    """Weight-matrix parameters (embeddings included, biases ignored, norms only when norms=True); active = top-k routed experts only; MTP layers share the embedding and head."""
    if kv_lora_rank:
        attn = mla_attention_parameters(d_model, heads, q_lora_rank, kv_lora_rank, head_dim, qk_rope_head_dim,
                                        v_head_dim or head_dim)
    else:
        attn = d_model * heads * head_dim * 2 + 2 * d_model * kv_heads * head_dim
    mats = 3 if gated else 2
    dense = mats * d_model * d_ff
    moe = dense
    if experts:
        routed = experts_per_token if active else experts
        moe = d_model * experts + (routed + shared_experts) * mats * d_model * (expert_d_ff or d_ff)
        body = layers * attn + dense_layers * dense + (layers - dense_layers) * moe
    else:
        body = layers * (attn + dense)
    if family == "encoder-decoder":
        n_dec = decoder_layers or layers
        body += n_dec * (2 * attn + dense)
    last_is_moe = bool(experts) and dense_layers < layers
    body += mtp_layers * (attn + (moe if last_is_moe else dense) + 2 * d_model * d_model)
    embeddings = vocab * d_model * (1 if tied_embeddings else 2)
    extra = norm_parameters(family=family, layers=layers, d_model=d_model, q_lora_rank=q_lora_rank,
                            kv_lora_rank=kv_lora_rank, mtp_layers=mtp_layers,
                            decoder_layers=decoder_layers) if norms else 0
    return float(body + embeddings + extra)
