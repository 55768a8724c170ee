"""Mixture of experts: every MoE family of transformers 5.24 counted at top-k, active parameters by hand.

Every tiny model below: 1 decoder layer, hidden d=32, 4 heads of 8 (GQA: 2 KV heads), vocabulary
64, untied head, batch 1 x 8 tokens, forward only, built on fake tensors. Hand count convention:
2 FLOP per multiply-add, biases and elementwise ops 0, full attention.

Shared per-token parts (GQA families):
  attention projections q 2*32*32 2,048 + k,v 2*2*32*16 2,048 + o 2,048 = 6,144
  attention scores (QK^T + PV over 8 tokens) 2*2*8*32 = 1,024; LM head 2*32*64 = 4,096
  -> 11,264 per token, 90,112 for 8 tokens.
An expert of width f on one token (gate, up, down): 3*2*32*f = 192*f; the router 2*32*E.
Parameters (GQA families): embedding 2,048, q,k,v,o 1,024+512+512+1,024 = 3,072, two RMSNorms 64,
final norm 32, head 2,048; experts 3*32*f per expert.
"""

from __future__ import annotations

from typing import Any

import pytest

from flopaudit.measure import ModelSource, moe, profile
from tests.measure.conftest import ROOT, ConfigFile

BASE = {"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 1, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 64, "max_position_embeddings": 64,
        "tie_word_embeddings": False}
TOP2_OF_4 = {"num_local_experts": 4, "num_experts_per_tok": 2}
MLA = {"n_routed_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 16, "n_shared_experts": 1,
       "first_k_dense_replace": 0, "kv_lora_rank": 16, "qk_nope_head_dim": 8, "qk_rope_head_dim": 4,
       "v_head_dim": 8, "n_group": 2, "topk_group": 1, "num_key_value_heads": 4}

# family: (architecture, config keys, E, top-k, shared, forward FLOP, active parameters)
FAMILIES: dict[str, tuple[str, dict[str, Any], int, int, list[str], int, int]] = {
    # E=4, k=2, f=48: router 256 + 2 experts x 192*48 18,432 = 18,688; + 11,264 = 29,952 x 8 = 239,616
    # params 2,048+3,072+64+router 128+experts 4*3*32*48 18,432+32+2,048 = 25,824;
    # active = 25,824 - (1 - 2/4) x 18,432 = 16,608
    "mixtral": ("MixtralForCausalLM", TOP2_OF_4, 4, 2, [], 239_616, 16_608),
    # E=4, k=2, f=16, shared expert f=24 with a 32->1 sigmoid gate: router 256 + 2 x 192*16 6,144
    #   + shared 192*24 4,608 + gate 2*32 64 = 11,072; + 11,264 = 22,336 x 8 = 178,688
    # params: q,k,v biases 32+16+16 add 64 -> attention 3,136; experts 4*3*32*16 6,144; shared
    #   3*32*24 2,304 + gate 32: 2,048+3,136+64+128+6,144+2,336+32+2,048 = 15,936; active - 3,072 = 12,864
    "qwen2_moe": ("Qwen2MoeForCausalLM", {"num_experts": 4, "num_experts_per_tok": 2,
                                          "moe_intermediate_size": 16, "shared_expert_intermediate_size": 24},
                  4, 2, ["shared_expert", "shared_expert_gate"], 178_688, 12_864),
    # E=4, k=2, f=16: router 256 + 6,144 = 6,400; + 11,264 = 17,664 x 8 = 141,312
    # params: q_norm, k_norm 8+8: 2,048+3,072+16+64+128+6,144+32+2,048 = 13,552; active - 3,072 = 10,480
    "qwen3_moe": ("Qwen3MoeForCausalLM", {"num_experts": 4, "num_experts_per_tok": 2,
                                          "moe_intermediate_size": 16, "head_dim": 8},
                  4, 2, [], 141_312, 10_480),
    # E=4, k=2, f=48 as Mixtral: 239,616; params: q_norm 32 + k_norm 16 on top of Mixtral's 25,824
    #   = 25,872; active - 9,216 = 16,656
    "olmoe": ("OlmoeForCausalLM", {"num_experts": 4, "num_experts_per_tok": 2}, 4, 2, [], 239_616, 16_656),
    # MLA, 4 heads, q/k head 8+4=12, v head 8, kv_lora 16, no q_lora: per token q 2*32*48 3,072
    #   + kv_a 2*32*(16+4) 1,280 + kv_b 2*16*4*(8+8) 2,048 + o 2*32*32 2,048 = 8,448; router 256
    #   + 2 experts x 192*16 6,144 + 1 shared expert 192*16 3,072 = 9,472; head 4,096 -> 22,016 x 8
    #   = 176,128; attention QK^T 2*8*8*4*12 6,144 + PV 2*8*8*4*8 4,096 = 10,240 -> 186,368
    # params: attention 1,536+640+kv_a norm 16+1,024+1,024 = 4,240; experts 6,144; shared 1,536:
    #   2,048+4,240+64+128+6,144+1,536+32+2,048 = 16,240; active - 3,072 = 13,168
    "deepseek_v2": ("DeepseekV2ForCausalLM", {**MLA, "q_lora_rank": None}, 4, 2, ["shared_experts"],
                    186_368, 13_168),
    # as V2 but q through a rank-16 LoRA: q_a 2*32*16 1,024 + q_b 2*16*48 1,536 replace q's 3,072
    #   -> 8,448 - 512 = 7,936 per token; 186,368 - 8 x 512 = 182,272
    # params: q_a 512 + q_a norm 16 + q_b 768 replace 1,536 -> attention 4,000; 16,240 - 240 = 16,000
    #   (the router's correction bias is a buffer); active - 3,072 = 12,928
    "deepseek_v3": ("DeepseekV3ForCausalLM", {**MLA, "q_lora_rank": 16}, 4, 2, ["shared_experts"],
                    182_272, 12_928),
    # E=4, top-1, experts f=16, shared expert f=16 (intermediate_size); Llama4TextExperts runs all
    # 4 experts over every token, priced at 1/4: router 256 + 1 x 192*16 3,072 + shared 3,072
    #   = 6,400; + 11,264 = 17,664 x 8 = 141,312 (as executed the experts would be 4 x 3,072)
    # params 2,048+3,072+64+128+experts 4*1,536 6,144+shared 1,536+32+2,048 = 15,072;
    #   active = 15,072 - (3/4) x 6,144 = 10,464
    "llama4_text": ("Llama4ForCausalLM", {"num_local_experts": 4, "num_experts_per_tok": 1,
                                          "intermediate_size": 16, "intermediate_size_mlp": 48,
                                          "head_dim": 8},
                    4, 1, ["shared_expert"], 141_312, 10_464),
    # one attention layer with MoE (no Mamba), E=4, k=2, f=48: as Mixtral, 239,616; 25,824 / 16,608
    "jamba": ("JambaForCausalLM", {"num_experts": 4, "num_experts_per_tok": 2, "attn_layer_period": 1,
                                   "attn_layer_offset": 0, "expert_layer_period": 1,
                                   "expert_layer_offset": 0}, 4, 2, [], 239_616, 16_608),
    # E=4, k=2, f=48 (gate_up 2*32*96 + down 2*48*32 = 192*48 per expert): as Mixtral, 239,616
    # params: q,o 1,024+32 bias, k,v 512+16, sinks 4 -> 3,172; router 128+4; experts 12,288+384
    #   +6,144+128 = 18,944: 2,048+3,172+64+132+18,944+32+2,048 = 26,440; active - 9,472 = 16,968
    "gpt_oss": ("GptOssForCausalLM", {**TOP2_OF_4, "head_dim": 8}, 4, 2, [], 239_616, 16_968),
    # E=4, k=2, f=48: as Mixtral, 239,616; 25,824 / 16,608
    "granitemoe": ("GraniteMoeForCausalLM", TOP2_OF_4, 4, 2, [], 239_616, 16_608),
    # + a shared gated MLP of 24 beside the block: 192*24 = 4,608 per token: 239,616 + 36,864
    #   = 276,480; params + 3*32*24 2,304 = 28,128; active 16,608 + 2,304 = 18,912
    "granitemoeshared": ("GraniteMoeSharedForCausalLM", {**TOP2_OF_4, "shared_intermediate_size": 24},
                         4, 2, ["shared_mlp"], 276_480, 18_912),
    # E=4, k=2, f=48: as Mixtral, 239,616; LayerNorms carry biases: norms 128 + final 64
    #   -> 25,824 + 96 = 25,920; active - 9,216 = 16,704
    "phimoe": ("PhimoeForCausalLM", TOP2_OF_4, 4, 2, [], 239_616, 16_704),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_forward_flop_and_active_parameters_at_top_k(family: str, config_file: ConfigFile) -> None:
    arch, keys, experts, top_k, shared, forward, active = FAMILIES[family]
    path = config_file({"model_type": family, "architectures": [arch], **BASE, **keys})
    result = profile(ModelSource(hf_config=path), seq_len=8, batch=1, backward=False)
    assert result.forward_flop == forward
    assert result.active_parameters == active
    assert result.uncounted_ops == []
    (block,) = result.details["moe"]["blocks"].values()
    assert (block["experts"], block["top_k"], block["shared_experts"]) == (experts, top_k, shared)
    dense = family == "llama4_text"
    assert block["priced"] == (moe.DENSE if dense else moe.ROUTED)
    assert any("priced at top-1" in note for note in result.notes) is dense


def test_dense_llama4_experts_priced_at_top_k_in_backward_too(config_file: ConfigFile) -> None:
    # 3 layers of the tiny Llama 4 above: matmuls per token 3 x (6,144 + 6,400) + head 4,096
    # = 41,728, x 8 = 333,824; attention 3 x 8,192 = 24,576 -> forward 358,400.
    # Backward: matmuls 2x, the fused attention 2.5x: 667,648 + 61,440 = 729,088. As executed the
    # experts would add 3 layers x 8 tokens x 3 x 3,072 = 221,184 forward.
    arch, keys = FAMILIES["llama4_text"][:2]
    path = config_file({"model_type": "llama4_text", "architectures": [arch], **BASE, **keys,
                        "num_hidden_layers": 3})
    for device in ("meta", "cpu"):
        result = profile(ModelSource(hf_config=path), seq_len=8, batch=1, device=device)
        assert (result.forward_flop, result.backward_flop) == (358_400, 729_088)


def test_llama4_scout_active_parameters_and_forward() -> None:
    # Llama 4 Scout (text): d=5120, 48 layers, 40 heads x 128, 8 KV heads, 16 experts of 8192, top-1,
    # one shared expert of 8192 per layer, vocab 202048, untied.
    # Parameters per layer: q,o 2 x 26,214,400 + k,v 2 x 5,242,880 = 62,914,560; norms 10,240;
    #   router 81,920; experts 16 x 3 x 5120 x 8192 = 2,013,265,920; shared 125,829,120
    #   = 2,202,101,760; x 48 = 105,700,884,480; + embedding and head 2 x 1,034,485,760 + norm 5,120
    #   = 107,769,861,120. Active: less 48 x 15 x 125,829,120 = 90,596,966,400 -> 17,172,894,720.
    # Forward per token at T=256: q,k,v,o 125,829,120 + attention 4*256*5120 5,242,880 + router
    #   163,840 + routed top-1 251,658,240 + shared 251,658,240 = 634,552,320; x 48
    #   = 30,458,511,360; + head 2*5120*202048 2,068,971,520 = 32,527,482,880
    result = profile(ModelSource(hf_config=ROOT / "examples/hf/llama-4-scout-17b-16e.json"), seq_len=256,
                     backward=False, by_module_depth=0)
    assert result.parameters == 107_769_861_120
    assert result.active_parameters == 17_172_894_720
    assert result.flop_per_token_forward == 32_527_482_880
    # counted as executed, the experts would cost 16 x 251,658,240 per token and layer
    assert result.details["moe"]["blocks"]["Llama4TextMoe.Llama4TextExperts"]["blocks"] == 48


def test_priced_scales_only_inside_dense_modules() -> None:
    scales = {"Root.layers.0.experts": (1, 16)}
    # 1/16 of a 1,600-FLOP op inside the dense module; untouched elsewhere
    assert moe.priced(1_600, {"Root", "Root.layers.0", "Root.layers.0.experts"}, scales) == 100
    assert moe.priced(1_600, {"Root", "Root.layers.0.router"}, scales) == 1_600
