"""LitGPT YAML: model_name presets, model_config, train.max_tokens / max_steps, LitGPT's estimate_flops."""

from __future__ import annotations

from pathlib import Path

import pytest

from flopaudit.config.frameworks import ReadOptions, detect_format, read_training_config
from flopaudit.errors import ConfigError
from tests.config.frameworks.helpers import FIXTURES, flopaudit_training_flop

LLAMA3 = FIXTURES / "litgpt_llama3_8b.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pretrain.yaml"
    path.write_text(text)
    return path


def test_max_tokens_gives_whole_optimizer_steps() -> None:
    run = read_training_config(LLAMA3)
    assert run.format == "litgpt" and detect_format(LLAMA3, LLAMA3.read_text()) == "litgpt"
    # 1e12 max_tokens // (global_batch_size 1,024 x max_seq_length 8,192 = 8,388,608) = 119,209 steps
    assert (run.steps, run.global_batch, run.sequence_length) == (119_209, 1024, 8192)
    # 119,209 x 8,388,608 = 999,997,571,072 tokens
    assert run.tokens == 999_997_571_072
    assert (run.line_of("global_batch"), run.line_of("steps"), run.line_of("sequence_length")) == (8, 11, 13)
    assert run.line_of("layers") == 2  # from the preset named on line 2


def test_litgpt_flooring_per_device_is_reported() -> None:
    # LitGPT: (1e12 // 128 devices) // (micro 2 x 8,192) = 476,837 micro-batches per device,
    # x 2 x 8,192 x 128 = 999,999,668,224 tokens: more than the whole steps counted
    notes = " ".join(read_training_config(LLAMA3).notes)
    assert "476,837 micro-batches" in notes and "999,999,668,224 tokens" in notes


def test_llama3_8b_parameters_via_the_preset() -> None:
    # 32 x (41,943,040 attention + 176,160,768 FFN) + 2 x 128,256 x 4,096 + 65 x 4,096 RMSNorm = 8,030,261,248
    assert read_training_config(LLAMA3).parameters == 8_030_261_248


def test_estimate_flops_against_flopaudit() -> None:
    run = read_training_config(LLAMA3)
    assert run.framework_flop is not None and run.framework_flop.formula == "estimate_flops"
    # LitGPT per token: 6 x 8,030,261,248 + 12 x 32 x 4,096 x 8,192 = 48,181,567,488 + 12,884,901,888
    assert run.framework_flop.flop == pytest.approx(61_066_469_376 * run.tokens, rel=1e-12)
    # flopaudit (full attention) counts no FLOP for the input embedding (128,256 x 4,096 = 525,336,576) or
    # the norms (266,240): LitGPT is higher by 6 x 525,602,816 = 3,153,616,896 per token (attention agrees,
    # n_embd = n_head x head_size)
    gap = run.framework_flop.flop - flopaudit_training_flop(run, causal=False)
    assert gap == pytest.approx(3_153_616_896 * run.tokens, rel=1e-9)


def test_mixtral_preset_max_steps_and_all_experts_in_litgpt() -> None:
    run = read_training_config(FIXTURES / "litgpt_mixtral_steps.yaml")
    # max_steps wins over max_tokens, as in LitGPT: 2,000 x 512 x 4,096 = 4,194,304,000 tokens
    assert (run.steps, run.tokens) == (2000, 4_194_304_000)
    assert any("ignores train.max_tokens" in n for n in run.notes)
    # 32 x (41,943,040 + 32,768 router + 8 x 176,160,768) + 2 x 32,000 x 4,096 + 65 x 4,096
    assert run.parameters == 46_702_792_704
    # active: 2 of 8 experts: 32 x (41,943,040 + 32,768 + 2 x 176,160,768) + 262,144,000 + 266,240
    assert run.active_parameters == 12_879_925_248
    # LitGPT uses every parameter: its count exceeds flopaudit's by 6 x (6 idle experts x 176,160,768 x 32
    # = 33,822,867,456 + input embedding 131,072,000 + norms 266,240) = 203,725,234,176 per token
    gap = run.framework_flop.flop - flopaudit_training_flop(run, causal=False)
    assert gap == pytest.approx(203_725_234_176 * run.tokens, rel=1e-9)


def test_model_config_with_biases_layernorm_and_block_size() -> None:
    run = read_training_config(FIXTURES / "litgpt_model_config.yaml")
    assert run.model_name == "tiny-neox" and run.architecture["ffn"] == "plain"
    # vocab 50,254 rounded up to padding_multiple 128: 393 x 128 = 50,304
    assert run.architecture["vocab"] == 50304
    # train.max_seq_length not set: the model's block_size 2,048 (line 4)
    assert (run.sequence_length, run.line_of("sequence_length")) == (2048, 4)
    # 100,000,000 // (64 x 2,048) = 762 steps; 762 x 131,072 = 99,876,864 tokens
    assert (run.steps, run.tokens) == (762, 99_876_864)
    # matrices: 6 x (4 x 512^2 + 2 x 512 x 2,048) = 18,874,368 + 2 x 50,304 x 512 = 51,511,296;
    # LayerNorm weight+bias (2 x 6 + 1) x 2 x 512 = 13,312; biases 6 x ((8 + 2 x 8) x 64 + 512 + 2,048 + 512)
    # = 27,648: 70,426,624
    assert run.parameters == 70_426_624
    assert any("LitGPT Config default" in n for n in run.notes)


def test_missing_vocab_names_the_key(tmp_path: Path) -> None:
    text = (FIXTURES / "litgpt_model_config.yaml").read_text().replace("  vocab_size: 50254\n", "")
    with pytest.raises(ConfigError, match="vocabulary") as err:
        read_training_config(write(tmp_path, text))
    assert "vocab" in (err.value.hint or "")
    # padding_multiple is not applied to a vocabulary given from outside
    assert read_training_config(write(tmp_path, text), options=ReadOptions(vocab=50304)).architecture["vocab"] == 50304


@pytest.mark.parametrize(("text", "message", "line"), [
    ("model_name: Llama-3-8b\ntrain:\n  global_batch_size: 8\n  max_tokens: 100000\n", "did you mean", 1),
    ("model_name: Llama-3-8B\ntrain:\n  max_tokens: 100000\n", "train.global_batch_size", None),
    ("model_name: Llama-3-8B\ntrain:\n  global_batch_size: 8\n", "train.max_tokens", None),
    ("model_name: Llama-3-8B\ntrain:\n  global_batch_size: 8\n  max_tokens: 1000\n", "less than one step", 4),
    ("model_config:\n  n_layer: 2\n  n_embd: 64\n  n_head: 4\n  vocab_size: 128\n  norm_qk: true\n"
     "train:\n  global_batch_size: 8\n  max_tokens: 100000\n  max_seq_length: 16\n", "norm_qk", 6),
])
def test_refusals(tmp_path: Path, text: str, message: str, line: int | None) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        read_training_config(write(tmp_path, text), format="litgpt")
    assert err.value.line == line


def test_llama31_405b_preset_parameters(tmp_path: Path) -> None:
    run = read_training_config(write(tmp_path, "model_name: Llama-3.1-405B\ntrain:\n  global_batch_size: 2048\n"
                                               "  max_steps: 10\n  max_seq_length: 8192\n"))
    # 126 x (570,425,344 + 2,617,245,696) + 2 x 128,256 x 16,384 + 253 x 16,384 (as Meta publishes)
    assert run.parameters == 405_853_388_800
    # max_seq_length 8,192 overrides the preset's block_size 131,072
    assert run.tokens == 10 * 2048 * 8192
