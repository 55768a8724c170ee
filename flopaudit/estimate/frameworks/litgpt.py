"""LitGPT's own training FLOP estimate, ``estimate_flops`` / ``flops_per_param``.

Source: https://github.com/Lightning-AI/litgpt/blob/d49df2089a7b8c6c84d562b1e6293a6c16530392/litgpt/utils.py
Convention: 2 FLOP per parameter per token for *every* parameter (embeddings, norms, biases and, for a
mixture of experts, all experts included: LitGPT calls it "a naive over estimation"), plus
``n_layer x 2 x 2 x n_embd x seq^2`` per sequence for attention (full s x s, not halved for the causal
mask, width ``n_embd`` rather than ``n_head x head_size``); training = 3 x that for trainable parameters.
"""

from __future__ import annotations


def flops_per_param(max_seq_length: int, n_layer: int, n_embd: int, n_params: int) -> float:
    """Forward FLOP of one sequence: 2 x n_params x seq plus n_layer x 4 x n_embd x seq^2 (attention, full)."""
    return 2 * n_params * max_seq_length + n_layer * 2 * 2 * (n_embd * max_seq_length ** 2)


def estimate_flops(max_seq_length: int, n_layer: int, n_embd: int, trainable_params: int,
                   frozen_params: int = 0) -> float:
    """Training FLOP of one sequence: 3 x forward for trainable parameters, 2 x forward for frozen ones (LitGPT)."""
    trainable = flops_per_param(max_seq_length, n_layer, n_embd, trainable_params)
    frozen = flops_per_param(max_seq_length, n_layer, n_embd, frozen_params) if frozen_params else 0
    return 3 * trainable + 2 * frozen
