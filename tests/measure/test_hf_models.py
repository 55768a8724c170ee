"""Hugging Face architectures, from config.json only: full-size against hand counts, tiny ones exact.

Convention of every hand count: 2 FLOP per multiply-add, full attention (QK^T and PV over the
whole sequence), LM head included, embedding lookup 0, biases and elementwise ops 0.
Full-size models run on fake tensors (no weights in memory); the slowest, Llama 3.1 405B at 2048
tokens, takes about 7 s of the suite on 2 cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flopaudit.measure import ModelSource, profile
from tests.measure.conftest import HF_CONFIGS, ConfigFile

# --------------------------------------------------------------------------- full size

FULL_SIZE = {
    # d=16384, 126 layers, 128 heads x 128, 8 KV heads, SwiGLU d_ff=53248, vocab 128256, T=2048:
    # per layer q 2*d*d 536,870,912 + k,v 2*2*d*1024 67,108,864 + o 536,870,912
    #   + MLP 3*2*d*53248 5,234,491,392 + attention 2*2*T*d 134,217,728 = 6,509,559,808
    # x 126 = 820,204,535,808; LM head 2*d*128256 = 4,202,692,608
    "llama-3.1-405b": (2048, 824_407_228_416),
    # d=4096, 32 layers, 32 heads, 8 KV heads, 8 experts top-2 with d_ff=14336, vocab 32000, T=2048:
    # per layer q,k,v,o 83,886,080 + attention 4*T*d 33,554,432 + router 2*d*8 65,536
    #   + 2 experts x 3*2*d*14336 704,643,072 = 822,149,120; x 32 = 26,308,771,840
    # LM head 2*d*32000 = 262,144,000
    "mixtral-8x7b": (2048, 26_570_915_840),
    # d=3584, 28 layers, 28 heads, 4 KV heads, 64 experts top-8 with d_ff=2560, shared expert
    # d_ff=20480 with a sigmoid gate, vocab 151936, T=2048:
    # per layer q 25,690,112 + k,v 7,340,032 + o 25,690,112 + attention 4*T*d 29,360,128
    #   + router 2*d*64 458,752 + 8 experts x 3*2*d*2560 440,401,920
    #   + shared 3*2*d*20480 440,401,920 + shared gate 2*d 7,168 = 969,350,144
    # x 28 = 27,141,804,032; LM head 2*d*151936 = 1,089,077,248
    "qwen2-57b-a14b": (2048, 28_230_881_280),
    # d=1600, 48 layers, 25 heads, d_ff=4d, vocab 50257 (tied head, still a matmul), T=1024:
    # per layer qkv 2*d*3d 15,360,000 + proj 2*d*d 5,120,000 + MLP 2*2*d*4d 40,960,000
    #   + attention 4*T*d 6,553,600 = 67,993,600; x 48 = 3,263,692,800; head 2*d*50257 = 160,822,400
    "gpt2-xl": (1024, 3_424_515_200),
    # d=1024, 24 layers, 16 heads, d_ff=4096, vocab 30522, T=512, BertForMaskedLM (no pooler):
    # per layer qkv 3*2*d*d 6,291,456 + out 2,097,152 + FFN 2*2*d*4096 16,777,216
    #   + attention 4*T*d 2,097,152 = 27,262,976; x 24 = 654,311,424
    # MLM head: transform 2*d*d 2,097,152 + decoder 2*d*30522 62,509,056
    "bert-large-uncased": (512, 718_917_632),
}


@pytest.mark.parametrize("name", sorted(FULL_SIZE))
def test_full_size_forward_per_token_matches_hand_count(name: str) -> None:
    seq_len, per_token = FULL_SIZE[name]
    result = profile(ModelSource(hf_config=HF_CONFIGS / f"{name}.json"), seq_len=seq_len, backward=False)
    assert result.flop_per_token_forward == pytest.approx(per_token, rel=0.01)
    assert result.forward_flop == per_token * seq_len  # in fact exact
    assert result.backward_flop is None and result.flop_per_token_train is None
    # no matmul or attention op went uncounted (in fact nothing did)
    assert result.uncounted_ops == []
    assert result.sdpa_path == ["aten._scaled_dot_product_flash_attention_for_cpu"]


def test_moe_active_parameters() -> None:
    mixtral = profile(ModelSource(hf_config=HF_CONFIGS / "mixtral-8x7b.json"), seq_len=16, backward=False)
    qwen = profile(ModelSource(hf_config=HF_CONFIGS / "qwen2-57b-a14b.json"), seq_len=16, backward=False)
    # Mixtral: 46.7B total, 12.9B active (Mistral's paper); Qwen2-57B-A14B: 57B total, 14B active
    assert mixtral.parameters == pytest.approx(46.7e9, rel=0.01)
    assert mixtral.active_parameters == pytest.approx(12.9e9, rel=0.01)
    assert qwen.parameters == pytest.approx(57.4e9, rel=0.01)
    assert qwen.active_parameters == pytest.approx(14.2e9, rel=0.01)
    assert mixtral.details["experts_implementation"] == "batched_mm"


# --------------------------------------------------------------------------- tiny versions, exact

LLAMA = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64,
         "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "vocab_size": 96, "max_position_embeddings": 64,
         "tie_word_embeddings": False}
MIXTRAL = {"model_type": "mixtral", "architectures": ["MixtralForCausalLM"], "hidden_size": 64,
           "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
           "num_key_value_heads": 2, "num_local_experts": 4, "num_experts_per_tok": 2,
           "vocab_size": 96, "max_position_embeddings": 64}
QWEN2_MOE = {"model_type": "qwen2_moe", "architectures": ["Qwen2MoeForCausalLM"], "hidden_size": 64,
             "intermediate_size": 128, "moe_intermediate_size": 32,
             "shared_expert_intermediate_size": 96, "num_experts": 8, "num_experts_per_tok": 2,
             "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
             "vocab_size": 96, "max_position_embeddings": 64, "tie_word_embeddings": False}
GPT2 = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_embd": 64, "n_layer": 2,
        "n_head": 4, "vocab_size": 96, "n_positions": 32, "bos_token_id": 0, "eos_token_id": 0}
BERT = {"model_type": "bert", "architectures": ["BertForMaskedLM"], "hidden_size": 64,
        "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128,
        "vocab_size": 96, "max_position_embeddings": 32}
DEEPSEEK_V3 = {"model_type": "deepseek_v3", "architectures": ["DeepseekV3ForCausalLM"],
               "hidden_size": 64, "intermediate_size": 128, "moe_intermediate_size": 32,
               "num_hidden_layers": 2, "first_k_dense_replace": 1, "num_attention_heads": 4,
               "num_key_value_heads": 4, "n_routed_experts": 8, "num_experts_per_tok": 2,
               "n_group": 2, "topk_group": 1, "n_shared_experts": 1, "q_lora_rank": 32,
               "kv_lora_rank": 16, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8,
               "v_head_dim": 16, "vocab_size": 96, "max_position_embeddings": 64}

# All tiny runs: batch 2 x seq 16 = 32 tokens. Attention, every model (d=64, 2 layers):
# 2 layers x 32 tokens x (QK^T + PV) 2*2*16*64 = 262,144 forward; its backward is 2.5x.
# Every matmul's backward here is 2x (input and weight gradients: the first layer's input is
# the embedding output, which needs a gradient too).
ATTENTION = 262_144
TINY = {
    # per token per layer: q 2*64*64 8,192 + k,v 2*2*64*32 8,192 + o 8,192 + MLP 3*2*64*160 61,440
    #   = 86,016; x 2 layers + head 2*64*96 12,288 = 184,320; x 32 tokens = 5,898,240
    "llama": (LLAMA, 5_898_240),
    # per token per layer: q,k,v,o 24,576 + router 2*64*4 512 + 2 experts x 3*2*64*96 73,728
    #   = 98,816; x 2 + head 12,288 = 209,920; x 32 = 6,717,440
    "mixtral": (MIXTRAL, 6_717_440),
    # per token per layer: q,k,v,o 24,576 + router 2*64*8 1,024 + 2 experts x 3*2*64*32 24,576
    #   + shared 3*2*64*96 36,864 + shared gate 2*64 128 = 87,168; x 2 + head 12,288 = 186,624; x 32
    "qwen2_moe": (QWEN2_MOE, 5_971_968),
    # per token per layer: qkv 2*64*192 24,576 + proj 8,192 + MLP 2*2*64*256 65,536 = 98,304;
    #   x 2 + tied head 12,288 = 208,896; x 32 = 6,684,672
    "gpt2": (GPT2, 6_684_672),
    # per token per layer: qkv 24,576 + out 8,192 + FFN 2*2*64*128 32,768 = 65,536; x 2
    #   + MLM transform 2*64*64 8,192 + decoder 12,288 = 151,552; x 32 = 4,849,664
    "bert": (BERT, 4_849_664),
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_tiny_architectures_exact_on_meta_and_cpu(name: str, config_file: ConfigFile) -> None:
    config, matmul = TINY[name]
    path = config_file(config)
    results = [profile(ModelSource(hf_config=path), seq_len=16, batch=2, device=device)
               for device in ("meta", "cpu")]
    for result in results:
        assert result.forward_flop == matmul + ATTENTION
        # backward: matmuls 2x, attention 2.5x
        assert result.backward_flop == 2 * matmul + 5 * ATTENTION // 2
        assert result.uncounted_ops == []
        assert result.by_phase == results[0].by_phase
    assert results[0].flop_per_token_train == (3 * matmul + 7 * ATTENTION // 2) / 32


def test_tiny_deepseek_v3_mla_and_shared_experts_fully_counted(config_file: ConfigFile) -> None:
    path = config_file(DEEPSEEK_V3)
    meta, cpu = (profile(ModelSource(hf_config=path), seq_len=16, batch=2, device=device)
                 for device in ("meta", "cpu"))
    assert meta.uncounted_ops == cpu.uncounted_ops == []
    assert meta.by_phase == cpu.by_phase
    assert meta.forward_flop > 0 and meta.backward_flop > meta.forward_flop


def test_causal_attention_halves_decoder_attention_only(config_file: ConfigFile) -> None:
    llama = config_file(LLAMA, "llama.json")
    for device in ("meta", "cpu"):
        result = profile(ModelSource(hf_config=llama), seq_len=16, batch=2, device=device,
                         attention="causal")
        # the attention half of 262,144 forward and of its 2.5x backward is dropped
        assert result.forward_flop == TINY["llama"][1] + ATTENTION // 2
        assert result.backward_flop == 2 * TINY["llama"][1] + 5 * ATTENTION // 4
        assert result.attention == "causal"
    bert = profile(ModelSource(hf_config=config_file(BERT, "bert.json")), seq_len=16, batch=2,
                   attention="causal")
    # BERT's attention is bidirectional: nothing is halved, and the result says so
    assert bert.forward_flop == TINY["bert"][1] + ATTENTION
    assert any("halved nothing" in note for note in bert.notes)


@pytest.mark.filterwarnings("ignore:.*torch.jit.*:DeprecationWarning")
def test_peer_backends_show_what_they_miss(config_file: ConfigFile) -> None:
    path: Path = config_file(LLAMA)
    torch_result = profile(ModelSource(hf_config=path), seq_len=16, batch=2, backend="torch")
    # PyTorch's FlopCounterMode counts the linear layers and silently drops the CPU SDPA kernel
    assert torch_result.forward_flop == TINY["llama"][1]
    assert torch_result.backward_flop == 2 * TINY["llama"][1]
    assert torch_result.uncounted_ops == []
    fvcore_result = profile(ModelSource(hf_config=path), seq_len=16, batch=2, backend="fvcore")
    # fvcore (MACs, doubled) traces the forward only and names what it skipped
    assert fvcore_result.backward_flop is None
    assert fvcore_result.forward_flop >= TINY["llama"][1]
    assert any("scaled_dot_product" in entry["op"] for entry in fvcore_result.uncounted_ops)
