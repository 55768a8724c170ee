"""The fidelity table: flopaudit's dispatch count of real architectures next to a count by hand.

Each row builds a small but complete Hugging Face architecture from a config (real transformers
classes, real shapes, fake tensors: no weights), counts one forward pass with flopaudit, and
divides it by a count written out by hand from the architecture's matrix products. The hand
counts follow flopaudit's convention: 2 FLOP per multiply-add, matrix products only (norms,
activations, softmax, rotary, the embedding lookup and biases are 0), full attention (every
query x key pair) unless the row says otherwise, MoE experts at their top-k routing, LM heads
counted (tied or not). The inputs each model was fed are taken from the result itself.

Run: ``.venv/bin/python bench/fidelity.py`` (well under a minute on 2 cores). Prints the
table; exit status 1 if any ratio is not exactly 1.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
T, B = 16, 2          # sequence length and batch of every text row
N = T * B             # tokens per pass


def mm(rows: int, inner: int, cols: int) -> int:
    """FLOP of one [rows, inner] x [inner, cols] product: 2 per multiply-add."""
    return 2 * rows * inner * cols


def attention(seqs: int, q_len: int, k_len: int, heads: int, qk_dim: int, v_dim: int | None = None) -> int:
    """Scores (QK^T) and weighted values (PV) of ``heads`` heads over ``seqs`` sequences, every pair."""
    v_dim = qk_dim if v_dim is None else v_dim
    return seqs * heads * (mm(q_len, qk_dim, k_len) + mm(q_len, k_len, v_dim))


def decoder_layer(tokens: int, d: int, heads: int, kv: int, hd: int, ff: int, *, gated: bool = True,
                  seqs: int = B, seq: int = T) -> int:
    """One pre-norm decoder layer: q, k, v, o projections, attention, (gated) MLP."""
    proj = mm(tokens, d, heads * hd) + 2 * mm(tokens, d, kv * hd) + mm(tokens, heads * hd, d)
    mlp = (3 if gated else 2) * mm(tokens, d, ff)
    return proj + attention(seqs, seq, seq, heads, hd) + mlp


@dataclass(frozen=True)
class Row:
    """One architecture: its config, how it is fed, and its forward FLOP counted by hand."""

    name: str
    config: dict[str, Any]
    hand: int
    seq_len: int = T
    batch: int = B
    note: str = ""


def rows() -> list[Row]:
    """Every row of the table (the arithmetic of each hand count is in the comment above it)."""
    out: list[Row] = []
    # ---------------------------------------------------------------- decoder-only LMs
    # Llama: d 64, 2 layers, 4 heads x 16, 2 KV heads, SwiGLU 160, vocab 96, untied head
    out.append(Row("Llama", {
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64,
        "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 96, "max_position_embeddings": 64,
        "tie_word_embeddings": False},
        2 * decoder_layer(N, 64, 4, 2, 16, 160) + mm(N, 64, 96)))
    # Mistral: as Llama; its sliding window (8) is not applied under the full convention
    out.append(Row("Mistral", {
        "model_type": "mistral", "architectures": ["MistralForCausalLM"], "hidden_size": 64,
        "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 96, "max_position_embeddings": 64,
        "sliding_window": 8, "tie_word_embeddings": False},
        2 * decoder_layer(N, 64, 4, 2, 16, 160) + mm(N, 64, 96)))
    # Qwen3: head_dim 32 set apart from d/heads (q 64->128, k,v 64->64, o 128->64); q/k norms are 0
    out.append(Row("Qwen3", {
        "model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"], "hidden_size": 64,
        "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 96, "max_position_embeddings": 64,
        "tie_word_embeddings": False},
        2 * decoder_layer(N, 64, 4, 2, 32, 160) + mm(N, 64, 96)))
    # Phi-3: fused qkv_proj (64 -> 64 + 2*32) and gate_up_proj (64 -> 2*160): same products as Llama
    out.append(Row("Phi-3", {
        "model_type": "phi3", "architectures": ["Phi3ForCausalLM"], "hidden_size": 64,
        "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 96, "max_position_embeddings": 64,
        "original_max_position_embeddings": 64, "tie_word_embeddings": False,
        "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2},
        2 * decoder_layer(N, 64, 4, 2, 16, 160) + mm(N, 64, 96)))
    # Gemma 2: head_dim 32 (q 64->128), GeGLU 160, tied head; soft-capping and the sliding window
    # of alternate layers are elementwise / a mask: 0 and full pairs under the full convention
    out.append(Row("Gemma 2", {
        "model_type": "gemma2", "architectures": ["Gemma2ForCausalLM"], "hidden_size": 64,
        "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 96, "max_position_embeddings": 64,
        "sliding_window": 8},
        2 * decoder_layer(N, 64, 4, 2, 32, 160) + mm(N, 64, 96)))
    # Gemma 3 (text): as Gemma 2, plus q/k norms (0)
    out.append(Row("Gemma 3", {
        "model_type": "gemma3_text", "architectures": ["Gemma3ForCausalLM"], "hidden_size": 64,
        "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 96, "max_position_embeddings": 64,
        "sliding_window": 8},
        2 * decoder_layer(N, 64, 4, 2, 32, 160) + mm(N, 64, 96)))
    # GPT-2: 4 heads, fused c_attn 64->192, MLP 4d (not gated), tied head
    out.append(Row("GPT-2", {
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_embd": 64, "n_layer": 2,
        "n_head": 4, "vocab_size": 96, "n_positions": 32, "bos_token_id": 0, "eos_token_id": 0},
        2 * decoder_layer(N, 64, 4, 4, 16, 256, gated=False) + mm(N, 64, 96)))
    # GPT-NeoX: fused qkv, MLP 4*64 = 256 not gated, parallel residual (same products), untied head
    out.append(Row("GPT-NeoX", {
        "model_type": "gpt_neox", "architectures": ["GPTNeoXForCausalLM"], "hidden_size": 64,
        "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
        "vocab_size": 96, "max_position_embeddings": 64, "rotary_pct": 0.25},
        2 * decoder_layer(N, 64, 4, 4, 16, 256, gated=False) + mm(N, 64, 96)))
    # Falcon (7B-style): multi-query (1 KV head), parallel attention, MLP 4d, tied head
    out.append(Row("Falcon", {
        "model_type": "falcon", "architectures": ["FalconForCausalLM"], "hidden_size": 64,
        "num_hidden_layers": 2, "num_attention_heads": 4, "multi_query": True,
        "new_decoder_architecture": False, "parallel_attn": True, "bias": False,
        "vocab_size": 96, "max_position_embeddings": 64, "alibi": False},
        2 * decoder_layer(N, 64, 4, 1, 16, 256, gated=False) + mm(N, 64, 96)))
    # ---------------------------------------------------------------- encoders
    # BERT (masked LM): qkv 3x64->64, out 64->64, FFN 2 x 64<->128, MLM transform 64->64 + decoder 64->96
    out.append(Row("BERT", {
        "model_type": "bert", "architectures": ["BertForMaskedLM"], "hidden_size": 64,
        "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128,
        "vocab_size": 96, "max_position_embeddings": 32},
        2 * decoder_layer(N, 64, 4, 4, 16, 128, gated=False) + mm(N, 64, 64) + mm(N, 64, 96)))
    # ModernBERT (masked LM): fused Wqkv 64->192, Wo, GLU MLP Wi 64->2x96 and Wo 96->64, 3 layers
    # (2 local, 1 global: full pairs under the full convention), head dense 64->64 + decoder 64->96;
    # its initialiser cannot run on fake tensors, so it is built without one
    out.append(Row("ModernBERT", {
        "model_type": "modernbert", "architectures": ["ModernBertForMaskedLM"], "hidden_size": 64,
        "intermediate_size": 96, "num_hidden_layers": 3, "num_attention_heads": 4, "vocab_size": 96,
        "max_position_embeddings": 64, "global_attn_every_n_layers": 3, "local_attention": 8,
        "pad_token_id": 0},
        3 * (mm(N, 64, 192) + mm(N, 64, 64) + attention(B, T, T, 4, 16) + mm(N, 64, 192) + mm(N, 96, 64))
        + mm(N, 64, 64) + mm(N, 64, 96), note="built without weight init"))
    # ---------------------------------------------------------------- mixtures of experts
    # Mixtral: 4 experts of 96, top-2: router 64->4, 2 experts x 3 products per token
    out.append(Row("Mixtral", {
        "model_type": "mixtral", "architectures": ["MixtralForCausalLM"], "hidden_size": 64,
        "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "num_local_experts": 4, "num_experts_per_tok": 2,
        "vocab_size": 96, "max_position_embeddings": 64},
        2 * (decoder_layer(N, 64, 4, 2, 16, 0) + mm(N, 64, 4) + 2 * 3 * mm(N, 64, 96))
        + mm(N, 64, 96), note="top-2 of 4"))
    # Qwen3-MoE: 8 experts of 32, top-2, head_dim 16, no shared expert
    out.append(Row("Qwen3-MoE", {
        "model_type": "qwen3_moe", "architectures": ["Qwen3MoeForCausalLM"], "hidden_size": 64,
        "intermediate_size": 128, "moe_intermediate_size": 32, "num_experts": 8,
        "num_experts_per_tok": 2, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 96, "max_position_embeddings": 64,
        "tie_word_embeddings": False, "decoder_sparse_step": 1, "mlp_only_layers": []},
        2 * (decoder_layer(N, 64, 4, 2, 16, 0) + mm(N, 64, 8) + 2 * 3 * mm(N, 64, 32))
        + mm(N, 64, 96), note="top-2 of 8"))
    # OLMoE: 8 experts of 32, top-2, q/k norms (0), untied head
    out.append(Row("OLMoE", {
        "model_type": "olmoe", "architectures": ["OlmoeForCausalLM"], "hidden_size": 64,
        "intermediate_size": 32, "num_experts": 8, "num_experts_per_tok": 2,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "vocab_size": 96, "max_position_embeddings": 64, "tie_word_embeddings": False},
        2 * (decoder_layer(N, 64, 4, 2, 16, 0) + mm(N, 64, 8) + 2 * 3 * mm(N, 64, 32))
        + mm(N, 64, 96), note="top-2 of 8"))
    # DeepSeek-V3: MLA (q 64->32->4x24, kv 64->16+8, 16->4x(16+16), o 64->64), layer 0 dense MLP
    # 128, layer 1: router 64->8 + top-2 of 8 experts of 32 + 1 shared expert of 32, untied head
    mla = (mm(N, 64, 32) + mm(N, 32, 4 * 24) + mm(N, 64, 16 + 8) + mm(N, 16, 4 * (16 + 16))
           + mm(N, 4 * 16, 64) + attention(B, T, T, 4, 24, 16))
    out.append(Row("DeepSeek-V3", {
        "model_type": "deepseek_v3", "architectures": ["DeepseekV3ForCausalLM"],
        "hidden_size": 64, "intermediate_size": 128, "moe_intermediate_size": 32,
        "num_hidden_layers": 2, "first_k_dense_replace": 1, "num_attention_heads": 4,
        "num_key_value_heads": 4, "n_routed_experts": 8, "num_experts_per_tok": 2,
        "n_group": 2, "topk_group": 1, "n_shared_experts": 1, "q_lora_rank": 32,
        "kv_lora_rank": 16, "qk_nope_head_dim": 16, "qk_rope_head_dim": 8,
        "v_head_dim": 16, "vocab_size": 96, "max_position_embeddings": 64,
        "tie_word_embeddings": False},
        2 * mla + 3 * mm(N, 64, 128) + mm(N, 64, 8) + (2 + 1) * 3 * mm(N, 64, 32) + mm(N, 64, 96),
        note="MLA; top-2 of 8 + 1 shared"))
    # Llama 4 (text): 4 experts of 64, top-1, a shared expert of 64 on every layer, untied head;
    # HF runs every token through every expert: priced at the top-1 routing it trains with
    out.append(Row("Llama 4", {
        "model_type": "llama4_text", "architectures": ["Llama4ForCausalLM"], "hidden_size": 64,
        "intermediate_size": 64, "intermediate_size_mlp": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
        "num_local_experts": 4, "num_experts_per_tok": 1, "interleave_moe_layer_step": 1,
        "vocab_size": 96, "max_position_embeddings": 64, "tie_word_embeddings": False,
        "no_rope_layers": [1, 1], "attention_chunk_size": 64},
        2 * (decoder_layer(N, 64, 4, 2, 16, 0) + mm(N, 64, 4) + (1 + 1) * 3 * mm(N, 64, 64))
        + mm(N, 64, 96), note="top-1 of 4 + 1 shared"))
    # Encoder-decoder (fed input_ids and decoder_input_ids, 16 tokens each): d 64, 4 heads of 16,
    # plain FFN 128 (relu / gelu), 2 + 2 layers, head to 96 tokens; the decoder's cross-attention has
    # the self-attention's shapes (queries and keys are both 16 long)
    enc = 4 * mm(N, 64, 64) + attention(B, T, T, 4, 16) + 2 * mm(N, 64, 128)
    dec = 2 * (4 * mm(N, 64, 64) + attention(B, T, T, 4, 16)) + 2 * mm(N, 64, 128)
    out.append(Row("T5", {
        "model_type": "t5", "architectures": ["T5ForConditionalGeneration"], "d_model": 64, "d_kv": 16,
        "d_ff": 128, "num_layers": 2, "num_decoder_layers": 2, "num_heads": 4, "vocab_size": 96,
        "feed_forward_proj": "relu"}, 2 * enc + 2 * dec + mm(N, 64, 96), note="decoder 16 tokens"))
    out.append(Row("BART", {
        "model_type": "bart", "architectures": ["BartForConditionalGeneration"], "d_model": 64,
        "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4,
        "decoder_attention_heads": 4, "encoder_ffn_dim": 128, "decoder_ffn_dim": 128, "vocab_size": 96,
        "max_position_embeddings": 64}, 2 * enc + 2 * dec + mm(N, 64, 96), note="decoder 16 tokens"))
    # Whisper: 16 mel bins, 24 encoder positions (48 log-mel frames, "30 s" of this tiny model):
    # conv 16->64 (kernel 3) over 48 frames, conv 64->64 (kernel 3, stride 2) to 24; decoder 16
    # tokens whose cross-attention reads the 24 encoder positions
    frames = B * 24
    whisper_enc = 4 * mm(frames, 64, 64) + attention(B, 24, 24, 4, 16) + 2 * mm(frames, 64, 128)
    whisper_dec = (4 * mm(N, 64, 64) + attention(B, T, T, 4, 16) + 2 * mm(N, 64, 64)
                   + 2 * mm(frames, 64, 64) + attention(B, T, 24, 4, 16) + 2 * mm(N, 64, 128))
    out.append(Row("Whisper", {
        "model_type": "whisper", "architectures": ["WhisperForConditionalGeneration"], "d_model": 64,
        "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4,
        "decoder_attention_heads": 4, "encoder_ffn_dim": 128, "decoder_ffn_dim": 128, "vocab_size": 96,
        "num_mel_bins": 16, "max_source_positions": 24, "max_target_positions": 32, "pad_token_id": 0,
        "bos_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 1},
        mm(B * 48, 16 * 3, 64) + mm(frames, 64 * 3, 64) + 2 * whisper_enc + 2 * whisper_dec + mm(N, 64, 96),
        note="48 log-mel frames; decoder 16"))
    # ViT: 32x32 images in 8x8 patches (16 patches + class token = 17 positions), d 64, 4 heads,
    # FFN 128, patch conv as a product [16 patches, 3*8*8] x [192, 64], pooler on the class token
    vit_layer = 4 * mm(B * 17, 64, 64) + attention(B, 17, 17, 4, 16) + 2 * mm(B * 17, 64, 128)
    vision = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                  image_size=32, patch_size=8)
    out.append(Row("ViT", {"model_type": "vit", "architectures": ["ViTModel"], **vision},
                   mm(B * 16, 3 * 64, 64) + 2 * vit_layer + mm(B, 64, 64), note="image 32x32, patch 8"))
    # CLIP: the text tower (16 tokens, d 64, plain FFN 128) and the ViT tower above without a pooler
    # matmul, both projected to 32, then image x text logits
    text_layer = 4 * mm(N, 64, 64) + attention(B, T, T, 4, 16) + 2 * mm(N, 64, 128)
    out.append(Row("CLIP", {
        "model_type": "clip", "architectures": ["CLIPModel"], "projection_dim": 32,
        "text_config": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                        "intermediate_size": 128, "vocab_size": 96, "max_position_embeddings": 64},
        "vision_config": vision},
        2 * text_layer + mm(B, 64, 32) + mm(B * 16, 3 * 64, 64) + 2 * vit_layer + mm(B, 64, 32)
        + mm(B, 32, B), note="text 16 tokens + image 32x32"))
    return out


def count(row: Row, directory: Path) -> tuple[int, str]:
    """flopaudit's forward FLOP of one row, and what it fed the model."""
    from flopaudit.measure import ModelSource, profile
    from flopaudit.measure.result import fed_text

    path = directory / f"{row.name.replace(' ', '_')}.json"
    path.write_text(json.dumps(row.config))
    result = profile(ModelSource(hf_config=path), seq_len=row.seq_len, batch=row.batch,
                     backward=False, by_module_depth=0)
    if result.uncounted_ops:
        raise SystemExit(f"{row.name}: uncounted ops {result.uncounted_ops}")
    return result.forward_flop, fed_text(result.details["inputs"])


def main() -> int:
    sys.path.insert(0, str(ROOT))
    import torch
    import transformers

    print(f"torch {torch.__version__}, transformers {transformers.__version__}; forward FLOP on fake "
          "tensors, 2 FLOP per multiply-add, full attention, MoE at top-k routing")
    header = f"{'architecture':14}{'fed inputs':52}{'forward FLOP':>14}{'hand count':>14}{'ratio':>8}  note"
    print(header)
    print("-" * len(header))
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        for row in rows():
            try:
                flop, fed = count(row, Path(tmp))
            except Exception as exc:  # noqa: BLE001 - a bench row that cannot run is reported, not hidden
                print(f"{row.name:14}FAILED: {type(exc).__name__}: {str(exc)[:120]}")
                bad.append(row.name)
                continue
            ratio = flop / row.hand
            print(f"{row.name:14}{fed:52}{flop:>14,}{row.hand:>14,}{ratio:>8.4f}  {row.note}")
            if flop != row.hand:
                bad.append(row.name)
    print(f"\n{len(rows()) - len(bad)} of {len(rows())} exact" + (f"; not exact: {', '.join(bad)}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
