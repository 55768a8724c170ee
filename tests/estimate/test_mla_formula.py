"""The MLA/MoE transformer formula against the counted forward pass of a tiny real DeepSeek-V3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flopaudit.estimate import formulas as f

pytest.importorskip("torch")
pytest.importorskip("transformers")

from flopaudit.measure import ModelSource, profile  # noqa: E402  (after the optional-dependency skip)

# written for this test: 2 layers (1 dense), MLA with a query latent, 8 routed experts top-2 + 1 shared
TINY_DEEPSEEK_V3 = {
    "model_type": "deepseek_v3", "architectures": ["DeepseekV3ForCausalLM"], "hidden_size": 64,
    "intermediate_size": 128, "moe_intermediate_size": 32, "num_hidden_layers": 2, "first_k_dense_replace": 1,
    "num_attention_heads": 4, "num_key_value_heads": 4, "n_routed_experts": 8, "num_experts_per_tok": 2,
    "n_group": 2, "topk_group": 1, "n_shared_experts": 1, "q_lora_rank": 32, "kv_lora_rank": 16,
    "qk_nope_head_dim": 16, "qk_rope_head_dim": 8, "v_head_dim": 16, "vocab_size": 96,
    "max_position_embeddings": 64}


def test_mla_forward_matches_the_counted_model(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(TINY_DEEPSEEK_V3))
    counted = profile(ModelSource(hf_config=path), seq_len=16, batch=2, device="meta").forward_flop
    per_sequence = f.transformer_forward(
        family="decoder", layers=2, d_model=64, heads=4, kv_heads=4, head_dim=16, d_ff=128, gated=True,
        vocab=96, seq_len=16, causal=False, experts=8, experts_per_token=2, shared_experts=1, expert_d_ff=32,
        dense_layers=1, q_lora_rank=32, kv_lora_rank=16, qk_rope_head_dim=8, v_head_dim=16)
    # per token and layer: q_a 2*64*32 = 4,096, q_b 2*32*4*24 = 6,144, kv_a 2*64*24 = 3,072,
    # kv_b 2*16*4*32 = 4,096, o 2*64*64 = 8,192, core 2*16*4*(24 + 16) = 5,120 -> 30,720 (x 2 layers);
    # dense FFN 3*2*64*128 = 49,152; MoE router 2*64*8 = 1,024 + 3 experts x 3*2*64*32 = 36,864;
    # head 2*64*96 = 12,288 -> 160,768 per token; x 16 tokens x 2 sequences = 5,144,576
    assert per_sequence * 2 == counted == 5_144_576
