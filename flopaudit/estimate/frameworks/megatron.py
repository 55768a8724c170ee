"""Megatron-LM's ``num_floating_point_operations`` for a GPT (transformer) model, as pure functions.

Source: https://github.com/NVIDIA/Megatron-LM/blob/001b00c2734d8f0fad096fe48a382fedf755d321/megatron/training/training.py
(``num_floating_point_operations`` / ``transformer_flops``). Its conventions, against flopaudit's
``transformer`` formula: 3 passes x 2 FLOP per multiply-add; causal attention counted as half the
s x s scores (``/ 2 # causal mask``); logits counted over the *padded* vocabulary; embeddings 0; the MoE
router's d x experts matmul not counted; MLA adds ``q_lora_rank + kv_lora_rank`` (its norm "+1" terms)
per token and layer; each MTP layer adds ``3h`` (its norms) and ``2h^2`` (the eh projection) plus a
logit pass. Hybrid (Mamba) and linear-attention variants are not implemented here.
"""

from __future__ import annotations

SOURCE = ("https://github.com/NVIDIA/Megatron-LM/blob/001b00c2734d8f0fad096fe48a382fedf755d321/"
          "megatron/training/training.py")


def padded_vocab(vocab: int, divisible_by: int, tensor_parallel: int) -> int:
    """Megatron's ``_vocab_size_with_padding``: round the vocabulary up to divisible_by x tensor-parallel size."""
    multiple = divisible_by * tensor_parallel
    return -(-vocab // multiple) * multiple


def iterations(train_iters: int | None, train_samples: int | None, global_batch: int) -> int:
    """Optimizer steps: --train-iters, else --train-samples // --global-batch-size (Megatron floors)."""
    if train_iters is not None:
        return train_iters
    assert train_samples is not None
    return train_samples // global_batch


def num_floating_point_operations(*, batch_size: int, seq_length: int, num_layers: int, hidden_size: int,
                                  num_attention_heads: int, num_query_groups: int, kv_channels: int,
                                  ffn_hidden_size: int, swiglu: bool, padded_vocab_size: int,
                                  num_moe_layers: int = 0, moe_router_topk: int = 0,
                                  moe_ffn_hidden_size: int | None = None,
                                  moe_shared_expert_intermediate_size: int = 0,
                                  last_layer_is_moe: bool = False, mtp_num_layers: int = 0,
                                  multi_latent_attention: bool = False, q_lora_rank: int | None = None,
                                  kv_lora_rank: int = 0, qk_head_dim: int = 0, qk_pos_emb_head_dim: int = 0,
                                  v_head_dim: int = 0) -> float:
    """Megatron-LM training FLOP of one iteration of batch_size sequences: 3 x 2 x GEMMs, causal attention halved, padded-vocab logits, router not counted."""
    h, s = hidden_size, seq_length
    fb, fma = 3, 2
    ffn_factor = 3 if swiglu else 2
    num_dense = num_layers - num_moe_layers
    num_moe = num_moe_layers
    routed = moe_router_topk if num_moe_layers else 0
    if mtp_num_layers:
        num_moe += int(last_layer_is_moe) * mtp_num_layers
        num_dense += (1 - int(last_layer_is_moe)) * mtp_num_layers
    layers = num_layers + mtp_num_layers
    moe_ffn = moe_ffn_hidden_size if moe_ffn_hidden_size is not None else ffn_hidden_size
    if multi_latent_attention:
        heads = num_attention_heads
        if q_lora_rank is None:
            q_term = h * heads * (qk_head_dim + qk_pos_emb_head_dim)
        else:
            q_term = q_lora_rank * (h + heads * (qk_head_dim + qk_pos_emb_head_dim) + 1)
        attn = fb * fma * (q_term + kv_lora_rank * (h + heads * (qk_head_dim + v_head_dim) + 1)
                           + h * qk_pos_emb_head_dim + heads * v_head_dim * h
                           + s * heads * (qk_head_dim + qk_pos_emb_head_dim) / 2 + s * heads * v_head_dim / 2)
    else:
        q = kv_channels * num_attention_heads
        kv = kv_channels * num_query_groups
        attn = fb * fma * (h * (q + kv + kv) + q * s / 2 * 2 + q * h)
    mlp = fb * fma * h * (ffn_hidden_size * ffn_factor * num_dense + moe_ffn * routed * ffn_factor * num_moe
                          + moe_shared_expert_intermediate_size * ffn_factor * num_moe)
    mtp = fb * fma * mtp_num_layers * (3 * h + 2 * h * h)
    logits = fb * fma * h * padded_vocab_size * (mtp_num_layers + 1)
    return batch_size * s * (mlp + attn * layers + mtp + logits)
