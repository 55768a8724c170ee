"""MaxText's own training FLOP count, ``calculate_tflops_training_per_device``.

Source: https://github.com/AI-Hypercomputer/maxtext/blob/020763fe2b7f9141c0e2281e0a08d29874cc3843/src/MaxText/maxtext_utils.py
(``calculate_tflops_training_per_device``, ``calculate_ffn_mamtul_tflops_per_device``). Convention: 2 FLOP per
multiply-add, forward + backward = 3 x forward for every matmul, the attention scores halved for the
causal mask, the LM head (``embedding_flops``) counted, the embedding lookup not. For a mixture of
experts outside the DeepSeek/Llama 4 blocks it counts the router plus ``num_experts_per_tok`` experts of
width ``mlp_dim``. This module covers MaxText's default branch (llama2/mistral/mixtral decoder blocks,
no MLA, no sliding window, no DPO, no vision encoder).
"""

from __future__ import annotations


def ffn_matmul_flop(tokens: float, emb_dim: int, mlp_dim: int, activations: int) -> float:
    """One FFN per token at 2 FLOP/MAC: ``len(mlp_activations)`` input projections plus the output projection."""
    return 2 * tokens * mlp_dim * emb_dim * activations + 2 * tokens * mlp_dim * emb_dim


def training_flop_per_device_step(*, per_device_batch: float, seq_len: int, emb_dim: int, num_query_heads: int,
                                  num_kv_heads: int, head_dim: int, mlp_dim: int, activations: int,
                                  num_layers: int, vocab_size: int, num_experts: int = 1,
                                  num_experts_per_tok: int = 1, gradient_accumulation_steps: int = 1) -> float:
    """FLOP per device per optimizer step as MaxText counts it: 3 x (matmuls + causal-halved attention + LM head)."""
    tokens = per_device_batch * seq_len
    if num_experts > 1:
        gate = 2 * tokens * emb_dim * num_experts
        ffn = gate + ffn_matmul_flop(tokens, emb_dim, mlp_dim, activations) * num_experts_per_tok
    else:
        ffn = ffn_matmul_flop(tokens, emb_dim, mlp_dim, activations)
    qkv = 2 * tokens * emb_dim * (num_query_heads + 2 * num_kv_heads) * head_dim
    noncausal_attention = 4 * per_device_batch * seq_len ** 2 * num_query_heads * head_dim
    projection = 2 * tokens * emb_dim * num_query_heads * head_dim
    embedding = 2 * tokens * emb_dim * vocab_size
    learnable = ((ffn + qkv + projection) * num_layers + embedding) * 3
    attention = noncausal_attention / 2 * num_layers * 3
    return (learnable + attention) * gradient_accumulation_steps
