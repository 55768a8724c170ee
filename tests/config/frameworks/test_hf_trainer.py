"""Hugging Face trainer_state.json + config.json: the executed run's record and HF's total_flos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flopaudit.config.frameworks import ReadOptions, detect_format, read_training_config
from flopaudit.errors import ConfigError
from tests.config.frameworks.helpers import FIXTURES, flopaudit_training_flop

LLAMA = FIXTURES / "hf_llama3" / "trainer_state.json"
CHECKPOINT = FIXTURES / "hf_run" / "checkpoint-300" / "trainer_state.json"
SEQ = ReadOptions(sequence_length=4096)


def test_tokens_recovered_from_total_flos() -> None:
    run = read_training_config(LLAMA, options=SEQ)
    assert run.format == "hf-trainer-state" and detect_format(LLAMA, LLAMA.read_text()) == "hf-trainer-state"
    assert run.model_name == "meta-llama/Meta-Llama-3-8B"
    # non-embedding parameters: 8,030,261,248 - embed_tokens 128,256 x 4,096 (525,336,576) = 7,504,924,672
    # (the untied lm_head stays in); total_flos / (6 x 7,504,924,672) = 131,072,000 tokens = 500 x 64 x 4,096
    assert (run.steps, run.tokens, run.global_batch) == (500, 131_072_000, 64)
    assert run.line_of("steps") == 7 and run.line_of("tokens") == 35
    assert run.parameters == 8_030_261_248
    assert run.declared_flop is not None and run.declared_flop.line == 35
    assert run.declared_flop.value == pytest.approx(6 * 7_504_924_672 * 131_072_000, rel=1e-15)


def test_total_flos_against_flopaudit() -> None:
    run = read_training_config(LLAMA, options=SEQ)
    assert run.framework_flop is not None
    assert run.framework_flop.flop == pytest.approx(run.declared_flop.value, rel=1e-12)
    # flopaudit per token (full attention): 3 x (2 x (6,979,321,856 + 525,336,576 LM head) + 4 x 4096 x 32 x 128
    # x 32) = 51,470,401,536; HF: 6 x 7,504,924,672 = 45,029,548,032. The gap 6,440,853,504 = attention
    # 3 x 4 x 4096 x 4096 x 32 (6,442,450,944) less the norms HF counts, 6 x 266,240 = 1,597,440
    gap = flopaudit_training_flop(run, causal=False) - run.declared_flop.value
    assert gap == pytest.approx(6_440_853_504 * run.tokens, rel=1e-9)


def test_checkpoint_layout_mixtral_and_recorded_tokens() -> None:
    run = read_training_config(CHECKPOINT, options=ReadOptions(sequence_length=2048))
    # config.json is one directory up; num_input_tokens_seen (line 4) gives the tokens: 300 x 32 x 2,048
    assert (run.tokens, run.line_of("tokens"), run.global_batch) == (19_660_800, 4, 32)
    assert (run.parameters, run.active_parameters) == (46_702_792_704, 12_879_925_248)
    # HF counts every expert: 6 x (46,702,792,704 - 32,000 x 4,096) = 6 x 46,571,720,704 per token
    assert run.framework_flop.flop == pytest.approx(6 * 46_571_720_704 * 19_660_800, rel=1e-12)
    assert run.framework_flop.flop == pytest.approx(run.declared_flop.value, rel=1e-12)
    assert any("max_steps 1,000" in n for n in run.notes)


def test_missing_sequence_length_names_the_key() -> None:
    with pytest.raises(ConfigError, match="sequence length") as err:
        read_training_config(LLAMA)
    assert "sequence_length" in (err.value.hint or "")


def test_sequence_length_that_does_not_divide_the_tokens() -> None:
    # 131,072,000 / (500 x 3,000) is not whole
    with pytest.raises(ConfigError, match="not a whole number of sequences"):
        read_training_config(LLAMA, options=ReadOptions(sequence_length=3000))


def copy_run(tmp_path: Path, **config_changes: object) -> Path:
    shutil.copy(LLAMA, tmp_path / "trainer_state.json")
    config = json.loads((LLAMA.parent / "config.json").read_text())
    config.update(config_changes)
    (tmp_path / "config.json").write_text(json.dumps(config, indent=2))
    return tmp_path / "trainer_state.json"


def test_config_json_of_another_model_is_detected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not the model this run trained") as err:
        read_training_config(copy_run(tmp_path, intermediate_size=14000), options=SEQ)
    assert err.value.line == 35


def test_unknown_model_type_and_missing_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model_type 'gpt2'") as err:
        read_training_config(copy_run(tmp_path, model_type="gpt2"), options=SEQ)
    assert err.value.file.endswith("config.json")
    (tmp_path / "config.json").unlink()
    with pytest.raises(ConfigError, match="no config.json"):
        read_training_config(tmp_path / "trainer_state.json", options=SEQ)


def test_model_numbers_name_their_config_json_line() -> None:
    run = read_training_config(LLAMA, options=SEQ)
    # Value.line is a line of trainer_state.json: config.json's own line (hidden_size on line 10) is in origin
    assert run.line_of("d_model") is None
    assert run.values["d_model"].origin == "config.json:10 hidden_size"


def test_devices_imply_the_gradient_accumulation() -> None:
    # global batch 64 = train_batch_size 8 (line 36) x 4 devices x 2 accumulation steps
    run = read_training_config(LLAMA, options=ReadOptions(sequence_length=4096, devices=4))
    assert run.values["gradient_accumulation_steps"].value == 2
    # 64 is not 8 x 3 devices x a whole number
    with pytest.raises(ConfigError, match="accumulation") as err:
        read_training_config(LLAMA, options=ReadOptions(sequence_length=4096, devices=3))
    assert err.value.line == 36
