"""Models that need more than token ids: encoder-decoder, vision, audio, text-image, factory inputs.

Each HF test builds a small but complete transformers architecture on fake tensors and checks
what it was fed (``details["inputs"]``) and, where the architecture is simple enough to write
out, its forward FLOP against a count by hand (2 FLOP per multiply-add, full attention).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flopaudit.errors import MeasureError, ModelSourceError
from flopaudit.measure import ModelSource, profile
from tests.conftest import run_cli
from tests.measure.conftest import ConfigFile

TEXT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
T5 = dict(model_type="t5", architectures=["T5ForConditionalGeneration"], d_model=32, d_kv=8, d_ff=64,
          num_layers=2, num_decoder_layers=2, num_heads=4, vocab_size=100, feed_forward_proj="relu")
BART = dict(model_type="bart", architectures=["BartForConditionalGeneration"], d_model=32, encoder_layers=2,
            decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
            decoder_ffn_dim=64, vocab_size=100, max_position_embeddings=64)
WHISPER = dict(model_type="whisper", architectures=["WhisperForConditionalGeneration"], d_model=32,
               encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4,
               encoder_ffn_dim=64, decoder_ffn_dim=64, vocab_size=100, num_mel_bins=8,
               max_source_positions=20, max_target_positions=16, pad_token_id=0, bos_token_id=1,
               eos_token_id=2, decoder_start_token_id=1)
VIT = dict(model_type="vit", architectures=["ViTModel"], image_size=32, patch_size=8, **TEXT)
DEIT = dict(model_type="deit", architectures=["DeiTModel"], image_size=32, patch_size=8, **TEXT)
SWIN = dict(model_type="swin", architectures=["SwinModel"], image_size=32, patch_size=4, embed_dim=16,
            depths=[1, 1], num_heads=[2, 2], window_size=4)
TOWERS = dict(text_config=dict(vocab_size=100, max_position_embeddings=16, **TEXT),
              vision_config=dict(image_size=32, patch_size=8, **TEXT))
CLIP = dict(model_type="clip", architectures=["CLIPModel"], projection_dim=16, **TOWERS)
SIGLIP = dict(model_type="siglip", architectures=["SiglipModel"], **TOWERS)
CLIP_VISION = dict(model_type="clip_vision_model", architectures=["CLIPVisionModel"], image_size=32,
                   patch_size=8, **TEXT)
WAV2VEC2 = dict(model_type="wav2vec2", architectures=["Wav2Vec2Model"], conv_dim=[16, 16], conv_kernel=[10, 3],
                conv_stride=[5, 2], num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4,
                do_stable_layer_norm=True, feat_extract_norm="layer", **TEXT)


def forward(config_file: ConfigFile, config: dict, **options: object):
    options = {"seq_len": 8, "batch": 2, "backward": False, "by_module_depth": 0, **options}
    return profile(ModelSource(hf_config=config_file(config)), **options)


def shapes(result) -> dict[str, list[int]]:
    return {name: spec["shape"] for name, spec in result.details["inputs"].items()}


# Encoder-decoder, d_model 32, 4 heads of 8, FFN 64 (two matrices), 2 + 2 layers, vocab 100, batch 2,
# 8 encoder and 8 decoder tokens (16 tokens each side):
#   projections 4 x 2*16*32*32 = 131,072; scores QK^T + PV: 2 x 2*2*4*8*8*8 = 16,384; FFN 2 x 2*16*32*64 = 131,072
#   encoder layer 131,072 + 16,384 + 131,072 = 278,528, x 2 = 557,056
#   decoder layer: self 147,456 + cross (same shapes) 147,456 + FFN 131,072 = 425,984, x 2 = 851,968
#   LM head 2*16*32*100 = 102,400; total 557,056 + 851,968 + 102,400 = 1,511,424
@pytest.mark.parametrize("config", [T5, BART], ids=["T5", "BART"])
def test_encoder_decoder_gets_decoder_ids(config_file: ConfigFile, config: dict) -> None:
    result = forward(config_file, config)
    assert shapes(result) == {"input_ids": [2, 8], "decoder_input_ids": [2, 8]}
    assert result.forward_flop == 1_511_424
    assert result.seq_len == 8 and not result.uncounted_ops
    assert any("8 encoder and 8 decoder tokens" in note for note in result.notes)


# decoder_len 4 (8 decoder tokens in all): decoder self-attention projections 4 x 2*8*32*32 = 65,536,
#   scores 2 x 2*2*4*4*4*8 = 4,096; cross: q and o 2 x 2*8*32*32 = 32,768, k and v over the 16 encoder
#   tokens 65,536, scores 2 x 2*2*4*4*8*8 = 8,192; FFN 2 x 2*8*32*64 = 65,536
#   decoder layer 69,632 + 106,496 + 65,536 = 241,664, x 2 = 483,328; LM head 2*8*32*100 = 51,200
#   total 557,056 + 483,328 + 51,200 = 1,091,584
def test_decoder_len_sets_the_decoder_side(config_file: ConfigFile) -> None:
    result = forward(config_file, T5, decoder_len=4)
    assert shapes(result) == {"input_ids": [2, 8], "decoder_input_ids": [2, 4]}
    assert result.forward_flop == 1_091_584


def test_decoder_len_on_a_decoder_only_model_is_an_error(config_file: ConfigFile) -> None:
    with pytest.raises(ModelSourceError, match="decoder_len is for encoder-decoder models"):
        forward(config_file, VIT, decoder_len=4)


# Whisper, same widths; 8 mel bins, 20 encoder positions (40 log-mel frames), batch 2, 8 decoder tokens:
#   conv1 8->32, kernel 3, 40 frames: 2*2*40*24*32 = 122,880; conv2 32->32, kernel 3, stride 2, 20 out: 2*2*20*96*32 = 245,760
#   encoder layer over 40 tokens: 4 x 2*40*32*32 = 327,680; scores 2 x 2*2*4*20*20*8 = 102,400; FFN 327,680
#     = 757,760, x 2 = 1,515,520
#   decoder layer: self 131,072 + 16,384; cross q, o 2 x 32,768, k, v over 40 tokens 2 x 81,920,
#     scores 2 x 2*2*4*8*20*8 = 40,960 -> 270,336; FFN 131,072: 548,864, x 2 = 1,097,728
#   output projection 2*16*32*100 = 102,400; total 122,880 + 245,760 + 1,515,520 + 1,097,728 + 102,400 = 3,084,288
def test_whisper_gets_thirty_seconds_of_log_mel_frames(config_file: ConfigFile) -> None:
    result = forward(config_file, WHISPER)
    assert shapes(result) == {"input_features": [2, 8, 40], "decoder_input_ids": [2, 8]}
    assert result.forward_flop == 3_084_288
    assert result.seq_len == 8  # per-token figures divide by the decoder tokens
    assert any("40 log-mel frames of 8 bins" in note for note in result.notes)


def test_whisper_decoder_longer_than_its_positions_is_refused(config_file: ConfigFile) -> None:
    with pytest.raises(ModelSourceError, match="decoder_len 32 exceeds the model's 16 positions"):
        forward(config_file, WHISPER, decoder_len=32)


# ViT, 32x32 images in 8x8 patches: 16 patches + the class token = 17 positions per image, batch 2 (34):
#   patch conv 2*2*16*(3*8*8)*32 = 393,216
#   layer: 4 x 2*34*32*32 = 278,528; scores 2 x 2*2*4*17*17*8 = 73,984; FFN 2 x 2*34*32*64 = 278,528
#     = 631,040, x 2 = 1,262,080; pooler on the class token 2*2*32*32 = 4,096
#   total 393,216 + 1,262,080 + 4,096 = 1,659,392
# DeiT adds a distillation token (18 positions, 36): layer 4 x 2*36*1024 = 294,912, scores
#   2 x 2*2*4*18*18*8 = 82,944, FFN 294,912 -> 672,768, x 2 = 1,345,536; total 393,216 + 1,345,536 + 4,096 = 1,742,848
@pytest.mark.parametrize(("config", "flop"), [(VIT, 1_659_392), (DEIT, 1_742_848)], ids=["ViT", "DeiT"])
def test_vision_models_get_pixel_values_at_the_config_image_size(config_file: ConfigFile, config: dict,
                                                                flop: int) -> None:
    result = forward(config_file, config)
    assert shapes(result) == {"pixel_values": [2, 3, 32, 32]}
    assert result.details["inputs"]["pixel_values"]["dtype"] == "float32"
    assert result.forward_flop == flop
    assert result.seq_len == 16  # per-token figures divide by the 4 x 4 patches of each image


def test_swin_gets_pixel_values(config_file: ConfigFile) -> None:
    result = forward(config_file, SWIN)
    assert shapes(result) == {"pixel_values": [2, 3, 32, 32]}
    assert result.seq_len == 64 and result.forward_flop > 0 and not result.uncounted_ops  # 8 x 8 patches of 4


# CLIP, text tower: batch 2 x 8 tokens: layer 131,072 + 16,384 + 131,072 = 278,528, x 2 = 557,056;
#   text projection 2*2*32*16 = 2,048
# vision tower: the ViT above without its pooler: 393,216 + 1,262,080; visual projection 2,048
# logits image x text: 2*2*2*16 = 128; total 557,056 + 2,048 + 393,216 + 1,262,080 + 2,048 + 128 = 2,216,576
def test_clip_gets_ids_and_pixels(config_file: ConfigFile) -> None:
    result = forward(config_file, CLIP)
    assert shapes(result) == {"input_ids": [2, 8], "pixel_values": [2, 3, 32, 32]}
    assert result.forward_flop == 2_216_576


def test_siglip_and_a_clip_vision_tower(config_file: ConfigFile) -> None:
    assert shapes(forward(config_file, SIGLIP)) == {"input_ids": [2, 8], "pixel_values": [2, 3, 32, 32]}
    # the vision tower alone: 393,216 + 1,262,080, no pooler matmul (CLIP pools with a layer norm)
    tower = forward(config_file, CLIP_VISION)
    assert shapes(tower) == {"pixel_values": [2, 3, 32, 32]}
    assert tower.forward_flop == 393_216 + 1_262_080


def test_clip_text_longer_than_its_positions_is_refused(config_file: ConfigFile) -> None:
    with pytest.raises(ModelSourceError, match="seq_len 32 exceeds the model's 16 positions"):
        forward(config_file, CLIP, seq_len=32)


# Wav2Vec2: 8 encoder frames from conv kernels [10, 3], strides [5, 2]: inverting each conv,
#   8 frames <- (8 - 1) * 2 + 3 = 17 <- (17 - 1) * 5 + 10 = 90 samples
def test_wav2vec2_gets_the_waveform_of_seq_len_frames(config_file: ConfigFile) -> None:
    result = forward(config_file, WAV2VEC2, backward=True)
    assert shapes(result) == {"input_values": [2, 90]}
    assert result.seq_len == 8
    assert not result.uncounted_ops  # its weight-normed position conv is normalisation, zero by convention


def test_the_inputs_are_in_the_json_and_the_text(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(T5))
    done = run_cli("profile", "--hf-config", str(config), "--seq-len", "8", "--decoder-len", "4",
                   "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["details"]["inputs"]["decoder_input_ids"]["shape"] == [1, 4]
    text = run_cli("profile", "--hf-config", str(config), "--seq-len", "8", "--decoder-len", "4")
    assert "decoder_input_ids [1, 4]" in text.stdout


# ------------------------------------------------------------------ factories returning their inputs

# _TwoInputs: the embedding is a lookup (0 FLOP); Linear(8, 16) on features [2, 8]: 2*2*8*16 = 512
def test_factory_returns_positional_inputs() -> None:
    result = profile(ModelSource(factory="tests.measure.factories:with_positional_inputs"), seq_len=None,
                     backward=False, by_module_depth=0)
    assert result.forward_flop == 512
    assert shapes(result) == {"arg0": [2, 6], "arg1": [2, 8]}
    assert (result.batch, result.seq_len) == (2, 6)  # from its token ids
    assert result.flop_per_token_forward == 512 / 12


# keyword inputs, features [3, 8]: 2*3*8*16 = 768; ids [3, 4]: 12 tokens
def test_factory_returns_keyword_inputs() -> None:
    result = profile(ModelSource(factory="tests.measure.factories:with_keyword_inputs"), seq_len=None,
                     backward=False, by_module_depth=0)
    assert result.forward_flop == 768
    assert shapes(result) == {"features": [3, 8], "ids": [3, 4]}
    assert (result.batch, result.seq_len) == (3, 4)


# Conv2d(3, 4, 3) on [2, 3, 8, 8]: 6 x 6 outputs, 2*2*36*(3*9)*4 = 15,552; no token ids: per sample
@pytest.mark.parametrize("device", ["meta", "cpu"])
def test_factory_image_input_counts_per_sample(device: str) -> None:
    result = profile(ModelSource(factory="tests.measure.factories:with_image_input"), seq_len=None,
                     device=device, backward=False, by_module_depth=0)
    assert result.forward_flop == 15_552
    assert (result.batch, result.seq_len) == (2, 1)
    assert any("per-token values are per sample" in note for note in result.notes)


def test_factory_inputs_that_are_not_tensors_are_refused() -> None:
    with pytest.raises(ModelSourceError, match="inputs a tensor, a tuple"):
        profile(ModelSource(factory="tests.measure.factories:with_bad_inputs"), seq_len=None,
                backward=False)


def test_factory_inputs_and_factory_input_contradict() -> None:
    with pytest.raises(ModelSourceError, match="factory_input would contradict them"):
        profile(ModelSource(factory="tests.measure.factories:with_positional_inputs", factory_input=[1, 4]),
                seq_len=None, backward=False)


def test_fvcore_refuses_keyword_inputs(config_file: ConfigFile) -> None:
    pytest.importorskip("fvcore")
    with pytest.raises(MeasureError, match="fvcore traces positional inputs only"):
        forward(config_file, T5, backend="fvcore")


def test_an_encoder_decoder_config_without_architectures_builds_the_whole_model(config_file: ConfigFile) -> None:
    # BART with no "architectures": the seq2seq class (encoder and decoder), not BartForCausalLM
    config = {key: value for key, value in BART.items() if key != "architectures"}
    result = forward(config_file, config)
    assert result.model == "BartForConditionalGeneration" and result.forward_flop == 1_511_424


def test_a_decoder_longer_than_the_position_table_is_refused(config_file: ConfigFile) -> None:
    with pytest.raises(ModelSourceError, match="decoder_len 80 exceeds the model's 64 positions"):
        forward(config_file, BART, decoder_len=80)
