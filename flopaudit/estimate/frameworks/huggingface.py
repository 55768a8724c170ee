"""The Hugging Face Trainer's FLOP record, ``total_flos``.

Source: https://github.com/huggingface/transformers/blob/v5.24.0/src/transformers/trainer.py
(``Trainer.floating_point_ops``: ``6 * inputs[main_input].numel() * model.num_parameters(exclude_embeddings=True)``,
summed over steps and ranks into ``state.total_flos`` by ``store_flos``) and ``modeling_utils.py``
(``num_parameters(exclude_embeddings=True)`` drops the weights of ``nn.Embedding`` modules only: an untied LM
head is an ``nn.Linear`` and stays in). Convention: 6 FLOP per non-embedding parameter per input token,
attention scores and values not counted, every expert of a mixture of experts counted.
"""

from __future__ import annotations


def floating_point_ops(input_tokens: float, non_embedding_parameters: int) -> float:
    """6 x input tokens x parameters outside nn.Embedding (the LM head of an untied model included)."""
    return 6 * input_tokens * non_embedding_parameters
