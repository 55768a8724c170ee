"""Models whose weight initialisers cannot run on fake tensors are built without initialising.

ModernBERT's initialiser calls ``trunc_normal_``, which reads a value (``.item()``): under fake
tensors that is a ``DataDependentOutputException``. Weights do not change FLOP, so flopaudit
builds on fake tensors (and for the CPU memory pre-check) with transformers' ``no_init_weights``.
"""

from __future__ import annotations

import pytest

from flopaudit.measure import ModelSource, profile
from tests.measure.conftest import ConfigFile

MODERNBERT = {"model_type": "modernbert", "architectures": ["ModernBertForMaskedLM"], "hidden_size": 64,
              "intermediate_size": 96, "num_hidden_layers": 3, "num_attention_heads": 4,
              "vocab_size": 96, "max_position_embeddings": 64, "global_attn_every_n_layers": 3,
              "local_attention": 8, "pad_token_id": 0}


@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_modernbert_builds_and_counts_exactly(device: str, config_file: ConfigFile) -> None:
    result = profile(ModelSource(hf_config=config_file(MODERNBERT)), seq_len=16, batch=1, device=device,
                     backward=False)
    # 16 tokens, d 64, 4 heads of 16, GLU MLP (Wi 64 -> 2*96, Wo 96 -> 64), full attention:
    # per layer Wqkv 2*16*64*192 393,216 + Wo 2*16*64*64 131,072 + QK^T and PV 2 * 2*16*16*64 65,536
    #   + Wi 2*16*64*192 393,216 + Wo 2*16*96*64 196,608 = 1,179,648; x 3 layers = 3,538,944
    # MLM head: dense 2*16*64*64 131,072 + decoder 2*16*64*96 196,608 -> 3,866,624
    assert result.forward_flop == 3_866_624
    assert result.uncounted_ops == []
