"""nanotron YAML: model.model_config, tokens, parallelism.dp, nanotron's get_flops."""

from __future__ import annotations

from pathlib import Path

import pytest

from flopaudit.config.frameworks import detect_format, read_training_config
from flopaudit.errors import ConfigError
from tests.config.frameworks.helpers import FIXTURES, flopaudit_training_flop

LLAMA = FIXTURES / "nanotron_llama_1b.yaml"


def edited(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "config.yaml"
    text = LLAMA.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def test_global_batch_tokens_and_lines() -> None:
    run = read_training_config(LLAMA)
    assert run.format == "nanotron" and detect_format(LLAMA, LLAMA.read_text()) == "nanotron"
    # dp 64 x micro_batch_size 2 x batch_accumulation_per_replica 4 = 512 sequences
    assert run.global_batch == 512
    # 50,000 train_steps x 512 x 4,096 = 104,857,600,000 tokens
    assert run.tokens == 104_857_600_000
    assert (run.line_of("dp"), run.line_of("steps"), run.line_of("sequence_length"), run.line_of("layers")) == (
        24, 32, 31, 18)
    # world size dp 64 x tp 2 x pp 1
    assert run.values["devices"].value == 128


def test_parameters_of_a_tied_llama_3_2_1b_shape() -> None:
    # attention 2 x 2048^2 + 2 x 2048 x 512 = 10,485,760; FFN 3 x 2048 x 8192 = 50,331,648; x 16 layers
    # = 973,078,528; tied embedding 128,256 x 2,048 = 262,668,288; RMSNorm 33 x 2,048 = 67,584
    assert read_training_config(LLAMA).parameters == 1_235_814_400


def test_get_flops_is_flopaudit_full_attention_count() -> None:
    run = read_training_config(LLAMA)
    assert run.framework_flop is not None and run.framework_flop.formula == "get_flops"
    # per token: 3 x (2 x (973,078,528 matrices + 262,668,288 LM head) + 4 x 4096 x 32 x 64 x 16 attention)
    # = 3 x (2,471,493,632 + 536,870,912) = 9,025,093,632
    assert run.framework_flop.flop == pytest.approx(9_025_093_632 * run.tokens, rel=1e-12)
    assert run.framework_flop.flop == pytest.approx(flopaudit_training_flop(run, causal=False), rel=1e-12)


def test_missing_training_length_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tokens.train_steps") as err:
        read_training_config(edited(tmp_path, "  train_steps: 50000\n", ""))
    assert err.value.line == 28  # the tokens: mapping that lacks it


def test_untied_default_is_noted(tmp_path: Path) -> None:
    run = read_training_config(edited(tmp_path, "    tie_word_embeddings: true\n", ""))
    assert run.architecture["tied_embeddings"] is False
    assert any("tie_word_embeddings" in n for n in run.notes)
    # the LM head becomes its own 262,668,288 matrix
    assert run.parameters == 1_235_814_400 + 262_668_288


@pytest.mark.parametrize(("old", "new", "message", "line"), [
    ("    vocab_size: 128256\n", "    vocab_size: 128256\n    num_experts: 8\n", "mixture-of-experts", 23),
    ("  make_vocab_size_divisible_by: 1\n", "  make_vocab_size_divisible_by: 1000\n", "make_vocab_size", 22),
])
def test_refusals(tmp_path: Path, old: str, new: str, message: str, line: int) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        read_training_config(edited(tmp_path, old, new))
    assert err.value.line == line


def test_an_impossible_architecture_is_a_config_error(tmp_path: Path) -> None:
    # 32 query heads cannot share 5 key/value heads
    with pytest.raises(ConfigError, match="kv_heads"):
        read_training_config(edited(tmp_path, "num_key_value_heads: 8", "num_key_value_heads: 5"))


def test_attention_bias_refused_and_sliding_window_noted(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="attention_bias") as err:
        read_training_config(edited(tmp_path, "    hidden_act: silu\n", "    hidden_act: silu\n"
                                                                            "    attention_bias: true\n"))
    assert err.value.line == 13
    run = read_training_config(edited(tmp_path, "    hidden_act: silu\n", "    hidden_act: silu\n"
                                                                      "    sliding_window_size: 1024\n"))
    assert any("sliding_window_size" in n for n in run.notes)
