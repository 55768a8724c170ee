"""Attention conventions on every path: eager bmm / baddbmm and fused kernels, sliding windows.

Every model here: batch 1 x n = 16 tokens, hidden 64, 4 heads; 2 FLOP per multiply-add. One
layer's attention over the full matrix is QK^T 2*n*n*(heads*d_qk) + PV 2*n*n*(heads*d_v);
with 4 x 16 = 64 for both, 2*16*16*64 * 2 = 65,536. Hand counts per convention:
- full: all n*n = 256 pairs;
- causal: exactly half (flop // 2), sliding windows too;
- window: the pairs the mask keeps. Causal global n(n+1)/2 = 136 of 256; causal window w = 4:
  sum_i min(i+1, 4) = 1+2+3 + 13*4 = 58 of 256; bidirectional window 3 (ModernBERT
  local_attention 4: |i-j| <= 2): rows 3+4+12*5+4+3 = 74 of 256.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
import transformers

from flopaudit.measure import ModelSource, profile
from flopaudit.measure.attention import (attended_pairs, bidirectional_pairs, causal_pairs, scaled_flop,
                                         self_attention_length, site_of)
from flopaudit.measure.counter import BACKWARD, FORWARD, FlopAuditMode

N = 16
LAYER_ATTENTION = 65_536  # 2*16*16*64 (QK^T) + 2*16*16*64 (PV)


def _llama() -> Any:
    return transformers.LlamaConfig(hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                                    num_attention_heads=4, num_key_value_heads=2, vocab_size=96,
                                    max_position_embeddings=64, tie_word_embeddings=False)


def _gemma2() -> Any:
    # layer 0 sliding (window 4), layer 1 global; logits soft-capped at 50 (attn_logit_softcapping)
    return transformers.Gemma2Config(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                     num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                                     vocab_size=96, sliding_window=4, max_position_embeddings=64,
                                     query_pre_attn_scalar=16)


def _gemma3() -> Any:
    return transformers.Gemma3TextConfig(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                                         vocab_size=96, sliding_window=4, max_position_embeddings=64,
                                         query_pre_attn_scalar=16,
                                         layer_types=["sliding_attention", "full_attention"])


def _qwen2() -> Any:
    # layer 0 global, layer 1 sliding (window 4: layers from max_window_layers on)
    return transformers.Qwen2Config(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                    num_attention_heads=4, num_key_value_heads=2, vocab_size=96,
                                    sliding_window=4, use_sliding_window=True, max_window_layers=1,
                                    max_position_embeddings=64)


def _gpt_neo() -> Any:
    # layer 0 global, layer 1 local (window_size 4, a causal window in its own mask buffer)
    return transformers.GPTNeoConfig(hidden_size=64, num_layers=2, num_heads=4, vocab_size=96,
                                     window_size=4, attention_types=[[["global", "local"], 1]],
                                     max_position_embeddings=64, bos_token_id=0, eos_token_id=0)


def _mistral() -> Any:
    return transformers.MistralConfig(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, vocab_size=96,
                                      sliding_window=4, max_position_embeddings=64,
                                      tie_word_embeddings=False)


def _deepseek_v3() -> Any:
    # MLA, every layer dense (first_k_dense_replace = layers): the attention is what is tested
    return transformers.DeepseekV3Config(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                         first_k_dense_replace=2, num_attention_heads=4,
                                         num_key_value_heads=4, q_lora_rank=32, kv_lora_rank=16,
                                         qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16,
                                         vocab_size=96, max_position_embeddings=64,
                                         tie_word_embeddings=False)


def _falcon(alibi: bool) -> Any:
    return transformers.FalconConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                     vocab_size=96, new_decoder_architecture=False, multi_query=True,
                                     alibi=alibi, bias=False, parallel_attn=True)


def _gpt2(upcast: bool) -> Any:
    # reorder_and_upcast_attn: eager QK^T through torch.baddbmm
    return transformers.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=96, n_positions=32,
                                   bos_token_id=0, eos_token_id=0, reorder_and_upcast_attn=upcast)


def _gpt_neox() -> Any:
    return transformers.GPTNeoXConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                      num_attention_heads=4, vocab_size=96, max_position_embeddings=64,
                                      bos_token_id=0, eos_token_id=0)


def _modernbert() -> Any:
    # layer 0 global, layers 1 and 2 local (local_attention 4: |i-j| <= 2), bidirectional
    return transformers.ModernBertConfig(hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                                         num_attention_heads=4, vocab_size=96, local_attention=4,
                                         global_attn_every_n_layers=3, max_position_embeddings=64,
                                         pad_token_id=0, bos_token_id=1, eos_token_id=2,
                                         cls_token_id=1, sep_token_id=2)


def _build(config: Any, impl: str) -> torch.nn.Module:
    config._attn_implementation = impl
    if isinstance(config, transformers.ModernBertConfig):
        return transformers.ModernBertForMaskedLM(config)
    return transformers.AutoModelForCausalLM.from_config(config)


def _forward(model: torch.nn.Module, attention: str) -> int:
    result = profile(ModelSource(module=model), seq_len=N, batch=1, device="meta", attention=attention,
                     backward=False)
    assert result.uncounted_ops == []
    return result.forward_flop


# Each case: the config, the attention implementations it runs, and the hand counts of the forward
# pass (batch 1 x 16 tokens) under full, causal and window. "matmuls" is everything but attention.
CASES: dict[str, tuple[Any, tuple[str, ...], dict[str, int]]] = {
    # per token per layer: q 2*64*64 8,192 + k,v 2*2*64*32 8,192 + o 8,192 + MLP 3*2*64*160 61,440
    #   = 86,016; x 2 + head 2*64*96 12,288 = 184,320; x 16 = 2,949,120 (matmuls)
    # full 2,949,120 + 2 x 65,536 = 3,080,192; causal + 2 x 32,768 = 3,014,656;
    # window (136/256) + 2 x 34,816 = 3,018,752
    "llama": (_llama, ("eager", "sdpa"), {"full": 3_080_192, "causal": 3_014_656, "window": 3_018_752}),
    # per token per layer: q 8,192 + k,v 8,192 + o 8,192 + MLP 3*2*64*96 36,864 = 61,440; x 2
    #   + tied head 12,288 = 135,168; x 16 = 2,162,688 (matmuls)
    # full + 131,072 = 2,293,760; causal + 65,536 = 2,228,224;
    # window: sliding layer 65,536*58/256 14,848 + global 34,816 = 49,664 -> 2,212,352
    "gemma2": (_gemma2, ("eager",), {"full": 2_293_760, "causal": 2_228_224, "window": 2_212_352}),
    # Gemma 3 and Qwen 2 (q/k/v biases: 0 FLOP): matmuls as Gemma 2, one sliding and one global layer
    "gemma3": (_gemma3, ("eager", "sdpa"), {"full": 2_293_760, "causal": 2_228_224, "window": 2_212_352}),
    "qwen2": (_qwen2, ("eager", "sdpa"), {"full": 2_293_760, "causal": 2_228_224, "window": 2_212_352}),
    # per token per layer: q, k, v 3*2*64*64 24,576 + out 8,192 + MLP 2*2*64*256 65,536 = 98,304;
    #   x 2 + tied head 12,288 = 208,896; x 16 = 3,342,336 (matmuls)
    # full + 131,072 = 3,473,408; causal + 65,536 = 3,407,872; window + 34,816 + 14,848 = 3,392,000
    "gpt_neo": (_gpt_neo, ("eager",), {"full": 3_473_408, "causal": 3_407_872, "window": 3_392_000}),
    # matmuls as Gemma 2 (untied head, same size) 2,162,688; both layers window 4:
    # full 2,293,760; causal 2,228,224; window 2 x 14,848 -> 2,192,384
    "mistral": (_mistral, ("eager", "sdpa"), {"full": 2_293_760, "causal": 2_228_224, "window": 2_192_384}),
    # per token per layer: q_a 2*64*32 4,096 + q_b 2*32*(4*24) 6,144 + kv_a 2*64*(16+8) 3,072
    #   + kv_b 2*16*(4*32) 4,096 + o 2*64*64 8,192 + MLP 3*2*64*96 36,864 = 62,464; x 2
    #   + head 12,288 = 137,216; x 16 = 2,195,456 (matmuls)
    # attention per layer: QK^T 2*16*16*(4*24) 49,152 + PV 2*16*16*(4*16) 32,768 = 81,920
    # full + 163,840 = 2,359,296; causal + 81,920 = 2,277,376; window 163,840*136/256 87,040 -> 2,282,496
    "deepseek_v3": (_deepseek_v3, ("eager", "sdpa"),
                    {"full": 2_359_296, "causal": 2_277_376, "window": 2_282_496}),
    # per token per layer: fused qkv (multi-query: 64 + 16 + 16) 2*64*96 12,288 + dense 8,192
    #   + MLP 2*2*64*256 65,536 = 86,016; x 2 + tied head 12,288 = 184,320; x 16 = 2,949,120
    # attention as Llama's: full 3,080,192; causal 3,014,656; window 3,018,752
    "falcon": (lambda: _falcon(False), ("eager", "sdpa"),
               {"full": 3_080_192, "causal": 3_014_656, "window": 3_018_752}),
    "falcon-alibi": (lambda: _falcon(True), ("eager", "sdpa"),
                     {"full": 3_080_192, "causal": 3_014_656, "window": 3_018_752}),
    # per token per layer: c_attn 2*64*192 24,576 + c_proj 8,192 + MLP 2*2*64*256 65,536 = 98,304;
    #   x 2 + tied head 12,288 = 208,896; x 16 = 3,342,336 (matmuls)
    # full + 131,072 = 3,473,408; causal + 65,536 = 3,407,872; window + 69,632 = 3,411,968
    "gpt2": (lambda: _gpt2(False), ("eager", "sdpa"),
             {"full": 3_473_408, "causal": 3_407_872, "window": 3_411_968}),
    "gpt2-baddbmm": (lambda: _gpt2(True), ("eager",),
                     {"full": 3_473_408, "causal": 3_407_872, "window": 3_411_968}),
    # per token per layer: qkv 24,576 + dense 8,192 + MLP 2*2*64*128 32,768 = 65,536; x 2
    #   + embed_out 12,288 = 143,360; x 16 = 2,293,760 (matmuls)
    # full + 131,072 = 2,424,832; causal + 65,536 = 2,359,296; window + 69,632 = 2,363,392
    "gpt_neox": (_gpt_neox, ("eager", "sdpa"), {"full": 2_424_832, "causal": 2_359_296, "window": 2_363_392}),
    # per token per layer: Wqkv 24,576 + Wo 8,192 + Wi (GLU, 2 x 96) 2*64*192 24,576
    #   + MLP Wo 2*96*64 12,288 = 69,632; x 3 + head dense 8,192 + decoder 12,288 = 229,376;
    #   x 16 = 3,670,016 (matmuls); attention 3 x 65,536 = 196,608
    # full 3,866,624; causal: bidirectional, nothing halved, 3,866,624;
    # window: global 65,536 + 2 local x 65,536*74/256 18,944 -> 3,670,016 + 103,424 = 3,773,440
    "modernbert": (_modernbert, ("eager", "sdpa"),
                   {"full": 3_866_624, "causal": 3_866_624, "window": 3_773_440}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_under_each_convention_matches_hand_count(name: str) -> None:
    make, impls, expected = CASES[name]
    for impl in impls:
        model = _build(make(), impl)
        counted = {convention: _forward(model, convention) for convention in expected}
        assert counted == expected, impl


def test_causal_eager_equals_causal_sdpa_and_backward_is_halved() -> None:
    eager, sdpa = _build(_llama(), "eager"), _build(_llama(), "sdpa")
    results = [profile(ModelSource(module=model), seq_len=N, batch=1, device="meta", attention="causal")
               for model in (eager, sdpa)]
    # forward: 2,949,120 matmuls + 2 layers x 65,536 / 2 = 3,014,656, whichever kernel ran
    assert results[0].forward_flop == results[1].forward_flop == 3_014_656
    # eager backward: matmuls 2 x 2,949,120 + per layer 4 bmm (dQ, dK, dP, dV) of 32,768 each,
    # halved: 2 layers x 65,536 = 131,072 -> 6,029,312. (SDPA's fused backward recomputes the
    # scores: 2.5 x 65,536 / 2 = 81,920 per layer -> 6,062,080.)
    assert results[0].backward_flop == 6_029_312
    assert results[1].backward_flop == 6_062_080
    details = results[0].details["attention"]
    assert details["convention"] == "causal"
    # 2 layers x (2 forward + 4 backward) bmm, every one halved
    assert details["modules"]["LlamaAttention (causal, global)"]["products"] == 12
    assert details["modules"]["LlamaAttention (causal, global)"]["scaled"] == 12
    assert any("LlamaAttention (causal, global): 12 of 12 calls" in note for note in results[0].notes)


def test_causal_counts_windows_as_half_and_says_so() -> None:
    result = profile(ModelSource(module=_build(_mistral(), "eager")), seq_len=N, batch=1, device="meta",
                     attention="causal", backward=False)
    assert any("sliding-window layers were halved" in note for note in result.notes)
    entry = result.details["attention"]["modules"]["MistralAttention (causal, window 4)"]
    # 2 layers x (QK^T, PV)
    assert (entry["window"], entry["products"], entry["scaled"], entry["fraction"]) == (4, 4, 4, 0.5)


def test_window_details_name_each_layer_kind() -> None:
    result = profile(ModelSource(module=_build(_gemma2(), "eager")), seq_len=N, batch=1, device="meta",
                     attention="window", backward=False)
    modules = result.details["attention"]["modules"]
    # sliding layer: 58 of 256 pairs; global layer: 136 of 256
    assert modules["Gemma2Attention (causal, window 4)"]["fraction"] == 58 / 256
    assert modules["Gemma2Attention (causal, global)"]["fraction"] == 136 / 256
    assert result.attention == "window"


# --------------------------------------------------------------------------- against the real masks


def _kept_pairs(mask: torch.Tensor | None) -> int | None:
    """Pairs an eager attention mask lets through (additive float masks: 0 kept; bool: True kept)."""
    if mask is None:
        return None
    plane = mask[0, 0] if mask.dim() == 4 else mask[0]
    return int((plane if plane.dtype == torch.bool else plane == 0).sum())


@pytest.mark.parametrize("make", [_mistral, _gemma2, _gemma3, _qwen2, _modernbert, _llama])
def test_pair_formula_equals_the_mask_transformers_builds(make: Any) -> None:
    model = _build(make(), "eager")
    seen: list[tuple[Any, int | None]] = []

    def hook(module: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        mask = kwargs.get("attention_mask", args[2] if len(args) > 2 else None)
        seen.append((site_of(module), _kept_pairs(mask)))

    attention = [m for m in model.modules() if site_of(m) is not None and not site_of(m).linear]
    handles = [m.register_forward_pre_hook(hook, with_kwargs=True) for m in attention]
    with torch.no_grad():
        model(torch.randint(3, 96, (1, N)))
    for handle in handles:
        handle.remove()
    assert len(seen) == len(attention) > 0
    for site, kept in seen:
        # a bidirectional global layer may run with no mask at all: every pair is kept
        kept = N * N if kept is None and not site.causal and site.window is None else kept
        assert attended_pairs(N, N, causal=site.causal, window=site.window) == kept, site


def test_pair_formula_equals_gpt_neo_local_mask_buffer() -> None:
    model = _build(_gpt_neo(), "eager")
    layers = [m for m in model.modules() if isinstance(m, transformers.models.gpt_neo.modeling_gpt_neo
                                                       .GPTNeoSelfAttention)]
    assert [m.attention_type for m in layers] == ["global", "local"]
    for module in layers:
        # GPT-Neo masks with its own boolean buffer (True: kept), not an attention_mask argument
        kept = int(module.bias[0, 0, :N, :N].sum())
        site = site_of(module)
        assert attended_pairs(N, N, causal=site.causal, window=site.window) == kept, site


# --------------------------------------------------------------------------- the pure formulas


def test_pair_formulas_by_hand() -> None:
    # causal n = 5: 1+2+3+4+5 = 15; window 2: 1+2+2+2+2 = 9
    assert causal_pairs(5, 5) == 15 and causal_pairs(5, 5, 2) == 9
    # a window as long as the sequence is the global mask
    assert causal_pairs(5, 5, 5) == 15 and bidirectional_pairs(5, 5, 5) == 25
    # 2 queries at the end of 5 keys (positions 3, 4): 4 + 5 = 9; window 2: 2 + 2 = 4
    assert causal_pairs(2, 5) == 9 and causal_pairs(2, 5, 2) == 4
    # bidirectional n = 5, window 2 (|i-j| <= 1): 2+3+3+3+2 = 13
    assert bidirectional_pairs(5, 5, 2) == 13
    # the same rows, 5 queries over 4 keys: 2+3+3+2+1 = 11
    assert bidirectional_pairs(5, 4, 2) == 11
    # 1,000 x 1,000 flop under window 2 causal, n = 5: 1,000 * 9 / 25 = 360; causal: 500
    assert scaled_flop(1000, 5, 5, convention="window", causal=True, window=2) == 360
    assert scaled_flop(1000, 5, 5, convention="causal", causal=True, window=2) == 500
    assert scaled_flop(1000, 5, 5, convention="causal", causal=False, window=None) == 1000
    # QK^T [16 x 8] @ [8 x 16], PV [16 x 16] @ [16 x 8], dK^T [8 x 16] @ [16 x 16]; a projection-like
    # [16 x 8] @ [8 x 32] is none of them
    assert self_attention_length(16, 8, 16) == self_attention_length(16, 16, 8) == 16
    assert self_attention_length(8, 16, 16) == 16 and self_attention_length(16, 8, 32) is None


def test_bmm_outside_attention_modules_and_projections_are_never_scaled() -> None:
    class Block(torch.nn.Module):
        is_causal = True

        def __init__(self) -> None:
            super().__init__()
            self.proj = torch.nn.Linear(8, 8, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            q = self.proj(x)                                   # [2, 16, 8]
            return torch.bmm(torch.bmm(q, q.transpose(1, 2)), q)

    block = Block()
    x = torch.randn(2, N, 8, requires_grad=True)
    mode = FlopAuditMode(block, attention="causal")
    with mode:
        (block(x) * 1.0).sum().backward()
        loose = torch.bmm(x, x.transpose(1, 2))                # outside the module: full
    # forward: proj 2*32*8*8 = 4,096; QK^T 2*2*16*8*16 = 8,192 / 2; PV 8,192 / 2; loose bmm 8,192
    assert mode.tally.total(FORWARD) == 4_096 + 4_096 + 4_096 + 8_192
    # backward: proj weight and input grads 2 x 4,096; 4 bmm of 8,192, each halved
    assert mode.tally.total(BACKWARD) == 8_192 + 4 * 4_096
    assert mode.attention_rule.unflagged_products == 1


# --------------------------------------------------------------------------- the command line


def test_profile_cli_window_in_text_and_json(tmp_path: Any) -> None:
    import json

    from click.testing import CliRunner

    from flopaudit.cli.profile import profile as profile_command

    config = {"model_type": "mistral", "architectures": ["MistralForCausalLM"], "hidden_size": 64,
              "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "vocab_size": 96, "sliding_window": 4,
              "max_position_embeddings": 64, "tie_word_embeddings": False}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    args = ["--hf-config", str(path), "--seq-len", str(N), "--no-backward", "--attention", "window"]
    data = json.loads(CliRunner().invoke(profile_command, [*args, "--format", "json"],
                                         catch_exceptions=False).stdout)
    # the Mistral case above, built from config.json (SDPA): 2,162,688 + 2 x 14,848
    assert data["forward_flop"] == 2_192_384 and data["attention"] == "window"
    assert data["details"]["attention"]["modules"]["MistralAttention (causal, window 4)"]["scaled"] == 2
    assert data["attention_kernels"]["aten._scaled_dot_product_flash_attention_for_cpu"]["windowed"] == 2
    text = " ".join(CliRunner().invoke(profile_command, args, catch_exceptions=False).stdout.split())
    assert "MistralAttention (causal, window 4): 2 of 2 calls" in text
    assert "attention='window'" in text


def test_config_counting_window_reaches_the_measured_and_transformer_methods(tmp_path: Any) -> None:
    import json

    from flopaudit.audit import audit
    from flopaudit.config.loader import load_config_text

    config = {"model_type": "mistral", "architectures": ["MistralForCausalLM"], "hidden_size": 64,
              "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "vocab_size": 96, "sliding_window": 4,
              "max_position_embeddings": 64, "tie_word_embeddings": False}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = audit(load_config_text(f"""
model:
  name: tiny mistral
  hf_config: {path}
  architecture: {{layers: 2, d_model: 64, heads: 4, kv_heads: 2, d_ff: 96, vocab: 96}}
training: [{{name: p, kind: pretraining, tokens: 1.6M, sequence_length: {N}}}]
counting: {{attention: window}}
as_of: 2026-11-27
"""), allow_outside_paths=True)
    stage = result.stages[0]
    assert result.attention == "window" and stage.method == "measured"
    # forward 2,192,384 (the Mistral case above); backward: matmuls 2 x 2,162,688 = 4,325,376 +
    # SDPA's fused backward 2.5 x 65,536 x 58/256 = 37,120 per layer, x 2 = 74,240;
    # 6,592,000 FLOP per 16 tokens = 412,000 per token x 1.6M tokens = 6.592e11
    assert stage.flop.central == pytest.approx(6.592e11, rel=1e-12)
    transformer = next(e for e in stage.estimates if e.method == "transformer")
    assert any("counted as causal" in note for note in transformer.assumptions)


def test_mistral_7b_window_at_8192_tokens_on_fake_tensors(tmp_path: Any) -> None:
    import json

    config = {"model_type": "mistral", "architectures": ["MistralForCausalLM"], "hidden_size": 4096,
              "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32,
              "num_key_value_heads": 8, "vocab_size": 32000, "sliding_window": 4096,
              "max_position_embeddings": 32768, "tie_word_embeddings": False}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = profile(ModelSource(hf_config=path), seq_len=8192, backward=False, attention="window")
    # matmuls per token per layer: q, o 2 x 2*4096*4096 67,108,864 + k, v 2*2*4096*1024 16,777,216
    #   + MLP 3*2*4096*14336 352,321,536 = 436,207,616; x 32 x 8192 = 114,349,209,288,704
    #   + head 2*4096*32000 x 8192 = 2,147,483,648,000 -> 116,496,692,936,704
    # attention per layer, full: 4 * 8192^2 * 4096 = 1,099,511,627,776; window 4096 keeps
    #   4096*4097/2 + (8192-4096)*4096 = 25,167,872 of 67,108,864 pairs: 412,350,414,848; x 32
    #   = 13,195,213,275,136 -> 129,691,906,211,840
    assert result.forward_flop == 116_496_692_936_704 + 13_195_213_275_136


@pytest.mark.parametrize("convention", ["causal", "window"])
def test_expert_bmm_in_backward_is_never_scaled_as_attention(convention: str, tmp_path: Any) -> None:
    """Regression: in backward, the module tracker can still list a finished self_attn (it was fed
    keyword tensors) while an expert's bmm runs; that bmm must not be halved or windowed."""
    import json

    config = {"model_type": "qwen3_moe", "architectures": ["Qwen3MoeForCausalLM"], "hidden_size": 64,
              "intermediate_size": 128, "moe_intermediate_size": 32, "num_experts": 8,
              "num_experts_per_tok": 2, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 96,
              "max_position_embeddings": 64, "tie_word_embeddings": False}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = profile(ModelSource(hf_config=path), seq_len=16, batch=2, attention=convention)
    # experts run as batched bmm (attention runs as fused SDPA, so every bmm is an expert's):
    # 32 tokens x top-2 x 3 products of 2*64*32 per layer, 2 layers = 2*2*3*(2*32*64*32) = 1,572,864
    # forward; backward is 2x (input and weight gradients) = 3,145,728; total 4,718,592
    assert result.by_operator["aten.bmm"] == 4_718_592
