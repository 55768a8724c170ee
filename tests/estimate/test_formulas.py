"""The formulas against hand-derived numbers, published figures and the EU Guidelines' worked examples."""

from __future__ import annotations

import pytest

from flopaudit.config.loader import load_config_text
from flopaudit.estimate import formulas as f
from flopaudit.estimate.methods import METHODS, Context, arch_forward_per_token, arch_parameters
from flopaudit.estimate.registry import Registry
from flopaudit.estimate.stage import estimate_stage


def sig2(x: float) -> str:
    """Two significant figures, as the EU notification asks."""
    return f"{x:.1e}"


# --- EU Guidelines Annex A.3 worked examples (shared/research/policies.md §2.8) ---------------------
@pytest.mark.parametrize(("params", "tokens", "published"), [
    (3.8e9, 3.3e12, "7.5e+22"),    # A: 6 x 3.8e9 x 3.3e12 = 7.524e22
    (0.6e9, 36e12, "1.3e+23"),     # C: 6 x 0.6e9 x 36e12 = 1.296e23
    (1.54e9, 18e12, "1.7e+23"),    # D: 6 x 1.54e9 x 18e12 = 1.6632e23 (the Guidelines list 1.6e23 and 1.663e23)
    (1.7e9, 36e12, "3.7e+23"),     # E: 6 x 1.7e9 x 36e12 = 3.672e23
    (2.5e9, 12e12, "1.8e+23"),     # F: 6 x 2.5e9 x 12e12 = 1.8e23
])
def test_eu_guidelines_6pd_examples(params: float, tokens: float, published: str) -> None:
    assert sig2(f.six_nd(params, tokens)) == published


def test_eu_guidelines_example_g_epochs() -> None:
    # G: 2.6B params, 61B tokens x 164 epochs: 6 x 2.6e9 x 61e9 x 164 = 1.560624e23; the Guidelines say 1.5e23
    assert f.six_nd(2.6e9, 61e9 * 164) == pytest.approx(1.560624e23, rel=1e-12)


@pytest.mark.parametrize(("gpu_hours", "peak", "published"), [
    (200_000, 300e12, 1.08e23),    # B: 200,000 h x 3600 s x 300e12 x 0.5 = 1.08e23 (Guidelines: 1e23)
    (370_000, 989e12, 6.587e23),   # H: 370,000 h x 3600 s x 989e12 x 0.5 = 6.5866e23 (Guidelines: 6.5e23)
])
def test_eu_guidelines_hardware_examples(gpu_hours: float, peak: float, published: float) -> None:
    assert f.hardware(gpu_hours, 3600, peak, 0.5) == pytest.approx(published, rel=1e-3)


# --- published training compute from parameters and tokens alone (within 10%) ---------------------
@pytest.mark.parametrize(("name", "active", "tokens", "published"), [
    ("GPT-3", 175e9, 300e9, 3.14e23),            # Brown et al. 2020, Table D.1: 3.14e23
    ("Chinchilla", 70e9, 1.4e12, 5.76e23),       # Hoffmann et al. 2022, Table 3: 5.76e23
    ("PaLM 540B", 540e9, 780e9, 2.527e24),       # Chowdhery et al. 2022, Table 20 / §B: 2.527e24
    ("Llama 3.1 405B", 405e9, 15.6e12, 3.8e25),  # Llama 3 Herd paper §3.3: 3.8e25
    ("Falcon-180B", 180e9, 3.5e12, 3.76e24),     # Almazrouei et al. 2023: 3.76e24
    ("DeepSeek-V3", 37e9, 14.8e12, 3.4e24),      # 37B active, 14.8T tokens; Epoch AI: 3.4e24
])
def test_published_figures_within_10_percent(name: str, active: float, tokens: float, published: float) -> None:
    # 6 x N_active x D: GPT-3 3.15e23, Chinchilla 5.88e23, PaLM 2.527e24, Llama 3.79e25, Falcon 3.78e24, DSV3 3.29e24
    assert f.six_nd(active, tokens) == pytest.approx(published, rel=0.10), name


# --- the detailed transformer formula -----------------------------------------------------------------
def test_megatron_closed_form_matches() -> None:
    # Plain MHA, ffn = 4h, untied head: Megatron-LM (Narayanan et al. 2021) model FLOP per sequence
    # F = 72 B s l h^2 (1 + s/(6h) + V/(12 l h)) for forward+backward.
    l, h, s, V = 4, 256, 128, 1000
    expected = 72 * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h))
    per_seq = 3 * f.transformer_forward(family="decoder", layers=l, d_model=h, heads=4, kv_heads=4, head_dim=64,
                                        d_ff=4 * h, gated=False, vocab=V, seq_len=s, causal=False)
    assert per_seq == pytest.approx(expected, rel=1e-12)


def test_tiny_llama_forward_exact() -> None:
    # The counters.md tiny Llama: 2 layers, d=256, 4 heads, 2 KV heads (hd 64), ff=688 SwiGLU, vocab 1000, T=128.
    # per layer: q 2*128*256*256 = 16,777,216; k+v 2*(2*128*256*128) = 16,777,216; o 16,777,216;
    #   attention 2*2*128*128*4*64 = 16,777,216; ffn 3*2*128*256*688 = 135,266,304  -> 202,375,168
    # 2 layers = 404,750,336; head 2*128*256*1000 = 65,536,000 -> 470,286,336 per sequence of 128 tokens.
    # counters.md §6.1 measures 940,572,672 for batch 2 = 2 x 470,286,336.
    total = f.transformer_forward(family="decoder", layers=2, d_model=256, heads=4, kv_heads=2, head_dim=64,
                                  d_ff=688, gated=True, vocab=1000, seq_len=128, causal=False)
    assert total == 470_286_336


def test_llama2_70b_shape_matches_measured_counter() -> None:
    # counters.md §6.3: FlopCounterMode forward of the Llama-2-70B shape at B=1, T=4096 = 606,878,878,924,800.
    total = f.transformer_forward(family="decoder", layers=80, d_model=8192, heads=64, kv_heads=8, head_dim=128,
                                  d_ff=28672, gated=True, vocab=32000, seq_len=4096, causal=False)
    assert total == 606_878_878_924_800


def test_causal_halves_only_attention_core() -> None:
    kw = dict(family="decoder", layers=2, d_model=256, heads=4, kv_heads=2, head_dim=64, d_ff=688, gated=True,
              vocab=1000, seq_len=128)
    # full - causal = half the attention core = 2 layers x 16,777,216 / 2 = 16,777,216
    assert f.transformer_forward(**kw, causal=False) - f.transformer_forward(**kw, causal=True) == 16_777_216


def test_moe_counts_active_experts_only() -> None:
    # Mixtral-tiny of counters.md §6.4: 2 layers, d=256, ff=512, 8 experts top-2, 4 heads / 4 kv (hd 64),
    # vocab 1000, T=128, B=2, untied. Per sequence:
    # attention per layer: q,k,v,o 4 x 2*128*256*256 = 67,108,864; core 2*2*128*128*4*64 = 16,777,216
    # moe per layer: router 2*128*256*8 = 524,288; 2 experts x 3 x 2*128*256*512 = 201,326,592
    # layers: 2 x (67,108,864 + 16,777,216 + 524,288 + 201,326,592) = 571,473,920; head 65,536,000
    # -> 637,009,920 per sequence.
    total = f.transformer_forward(family="decoder", layers=2, d_model=256, heads=4, kv_heads=4, head_dim=64,
                                  d_ff=512, gated=True, vocab=1000, seq_len=128, causal=False, experts=8,
                                  experts_per_token=2, expert_d_ff=512)
    assert total == 637_009_920


def test_parameters_of_llama_405b_architecture() -> None:
    # Llama 3.1 405B: per layer attention 16384*(128*128)*2 + 2*16384*(8*128) = 570,425,344;
    # ffn 3*16384*53248 = 2,617,245,696; 126 layers x 3,187,671,040 = 401,646,551,040; embeddings
    # 2*128256*16384 = 4,202,692,608 -> 405,849,243,648 (Meta: 405B; norms are not counted here).
    yaml = """
model: {name: x, architecture: {layers: 126, d_model: 16384, heads: 128, kv_heads: 8, d_ff: 53248,
        vocab: 128256, context: 8192}}
training: [{name: p, kind: pretraining, tokens: 1}]
"""
    arch = load_config_text(yaml).config.model.architecture
    assert arch_parameters(arch, active=False) == 405_849_243_648


def test_transformer_method_llama_405b() -> None:
    # forward per token at s=8192: 2 x 401,646,551,040 (layer matmuls) + 2 x 16384 x 128256 (head)
    #   + 126 x 4 x 8192 x 128 x 128 (attention) = 803,293,102,080 + 4,202,692,608 + 67,645,734,912
    #   = 875,141,529,600; x 3 = 2,625,424,588,800 per token; x 15.6e12 tokens = 4.0957e25
    yaml = """
model: {name: x, architecture: {layers: 126, d_model: 16384, heads: 128, kv_heads: 8, d_ff: 53248,
        vocab: 128256, context: 8192}}
training: [{name: p, kind: pretraining, tokens: 15.6T}]
"""
    cfg = load_config_text(yaml).config
    assert arch_forward_per_token(cfg.model.architecture, 8192, False) == 875_141_529_600
    result = estimate_stage(cfg.training[0], Context(cfg.model))
    assert result.method == "transformer"
    assert result.flop.central == pytest.approx(2_625_424_588_800 * 15.6e12, rel=1e-12)


def test_registries_refuse_duplicates_and_missing_docstrings() -> None:
    with pytest.raises(ValueError, match="duplicate formula registration for '6nd'"):
        f.FORMULAS.register("6nd")(lambda n, d: 6 * n * d)
    reg: Registry = Registry("thing")
    with pytest.raises(ValueError, match="needs a docstring"):
        reg.register("x")(lambda: 0)
    assert list(METHODS) == ["measured", "transformer", "6nd", "hardware", "declared", "framework"]
    for name in f.FORMULAS:
        assert f.FORMULAS.doc(name), name
