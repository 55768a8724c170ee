"""nanotron's own training FLOP count, ``get_flops`` of the Llama model.

Source: https://github.com/huggingface/nanotron/blob/03b83fc825418ac4f22d2fcea41514cdba6cedb9/src/nanotron/models/llama.py
(``get_flops``, called by ``LlamaModel.get_flops_per_sec`` with the global batch). Convention: 2 FLOP per
multiply-add; Q, K/V (grouped-query), output projection, a gated FFN (``4 x h x ffn`` up + gate, ``2 x ffn x h``
down), full s x s attention scores and values (not halved for the causal mask) and the LM head;
``model_flops = 3 x forward``. Head width is ``hidden_size // num_heads``.
"""

from __future__ import annotations


def get_flops(*, num_layers: int, hidden_size: int, num_heads: int, num_key_value_heads: int, vocab_size: int,
              seq_len: int, ffn_hidden_size: int, batch_size: int = 1) -> float:
    """Model FLOP of one optimizer step of ``batch_size`` sequences: 3 x (decoder + LM head forward)."""
    hd = hidden_size // num_heads
    L, b, s, h = num_layers, batch_size, seq_len, hidden_size
    qkv = 2 * L * b * s * h * num_heads * hd + 2 * L * b * s * h * 2 * num_key_value_heads * hd
    qk_logits = 2 * L * b * num_heads * s * hd * s
    v_logits = 2 * L * b * num_heads * s * s * hd
    attn_out = 2 * L * b * num_heads * s * hd * h
    ffn_1 = 4 * L * b * s * h * ffn_hidden_size
    ffn_2 = 2 * L * b * s * ffn_hidden_size * h
    lm_head = 2 * b * s * h * vocab_size
    return 3 * (qkv + qk_logits + v_logits + attn_out + ffn_1 + ffn_2 + lm_head)
