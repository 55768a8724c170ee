"""torchtitan's training FLOP per token (``get_nparams_and_flops``), as pure functions.

Source: https://github.com/pytorch/torchtitan/blob/01c01c88fe7a58a250e7adf6ddc3b7a3857597f4/torchtitan/models/utils.py
(``get_nparams_and_active_nparams``, ``quadratic_attention_flops_per_token``). Per token:
``6 x active non-embedding parameters + 6 x layers x heads x (qk_head_dim + v_head_dim) x seq_len``
(for GQA models qk = v = head_dim: the 12·l·h·q·t term). Its conventions, against flopaudit's
``transformer`` formula: every parameter counts 2 FLOP per pass, norms included; routed experts
weighted by top_k / experts; the input embedding table excluded (unless tied to the output head);
attention over the full s x s matrix ("we follow the convention and do not account for sparsity in
causal attention"); backward recomputation not counted.
"""

from __future__ import annotations

SOURCE = ("https://github.com/pytorch/torchtitan/blob/01c01c88fe7a58a250e7adf6ddc3b7a3857597f4/"
          "torchtitan/models/utils.py")


def flop_per_token(*, active_non_embedding_parameters: int, layers: int, heads: int, qk_head_dim: int,
                   v_head_dim: int, seq_len: int) -> float:
    """torchtitan: 6 x active non-embedding parameters + 6 x l x h x (qk + v head dims) x seq_len per token (full attention)."""
    return 6.0 * active_non_embedding_parameters + 6.0 * layers * heads * (qk_head_dim + v_head_dim) * seq_len
