"""MaxText YAML: presets, file keys over presets, devices from the mesh, MaxText's own FLOP count."""

from __future__ import annotations

from pathlib import Path

import pytest

from flopaudit.config.frameworks import ReadOptions, detect_format, read_training_config
from flopaudit.errors import ConfigError
from tests.config.frameworks.helpers import FIXTURES, flopaudit_training_flop

LLAMA3 = FIXTURES / "maxtext_llama3_8b.yml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yml"
    path.write_text(text)
    return path


def test_llama3_8b_preset_tokens_batch_and_lines() -> None:
    run = read_training_config(LLAMA3)
    assert run.format == "maxtext" and detect_format(LLAMA3, LLAMA3.read_text()) == "maxtext"
    assert run.model_name == "llama3-8b"
    # devices = ici_fsdp_parallelism 64 x dcn_data_parallelism 1 (every other axis 1 in base.yml) = 64
    assert run.values["devices"].value == 64 and run.line_of("devices") == 9
    # global batch = per_device_batch_size 4 x 64 devices x gradient_accumulation_steps 2 = 512
    assert run.global_batch == 512
    # tokens = steps 10,000 x 512 x max_target_length 8,192 = 41,943,040,000
    assert run.tokens == 41_943_040_000
    assert (run.line_of("steps"), run.line_of("per_device_batch_size"), run.line_of("sequence_length"),
            run.line_of("gradient_accumulation_steps")) == (5, 6, 7, 8)
    # the dimensions come from the preset named on line 4
    assert run.values["d_model"].origin == "MaxText model_name llama3-8b (base_emb_dim)"
    assert run.line_of("d_model") == 4


def test_llama3_8b_parameters_equal_the_published_count() -> None:
    # attention 4096x4096 (q) + 2 x 4096x1024 (k, v) + 4096x4096 (o) = 41,943,040; FFN 3 x 4096 x 14,336
    # = 176,160,768; 32 layers x 218,103,808 = 6,979,321,856; embeddings + LM head 2 x 128,256 x 4,096
    # = 1,050,673,152; RMSNorm (2 x 32 + 1) x 4,096 = 266,240: total 8,030,261,248 (Meta's count)
    assert read_training_config(LLAMA3).parameters == 8_030_261_248


def test_maxtext_flop_is_flopaudit_causal_count() -> None:
    run = read_training_config(LLAMA3)
    assert run.framework_flop is not None and run.framework_flop.framework == "MaxText"
    # per token, 2 FLOP/MAC: qkv 2 x 4096 x (32 + 2 x 8) x 128 = 50,331,648; out 2 x 4096 x 4096 = 33,554,432;
    # FFN 2 x 14,336 x 4096 x 3 = 352,321,536; x 32 layers = 13,958,643,712; LM head 2 x 4096 x 128,256
    # = 1,050,673,152; x 3 passes = 45,027,950,592. Causal attention 4 x 8192 x 32 x 128 / 2 x 32 layers x 3
    # = 6,442,450,944. Total 51,470,401,536 per token x 41,943,040,000 tokens
    assert run.framework_flop.flop == pytest.approx(51_470_401_536 * 41_943_040_000, rel=1e-12)
    # MaxText halves attention for the causal mask: equal to flopaudit's causal count ...
    assert run.framework_flop.flop == pytest.approx(flopaudit_training_flop(run, causal=True), rel=1e-12)
    # ... and below flopaudit's full s x s count by the halved part, 6,442,450,944 per token
    full = flopaudit_training_flop(run, causal=False)
    assert full - run.framework_flop.flop == pytest.approx(6_442_450_944 * run.tokens, rel=1e-9)


def test_file_keys_override_the_preset() -> None:
    run = read_training_config(FIXTURES / "maxtext_mixtral_override.yml", options=ReadOptions(devices=16))
    assert run.architecture["layers"] == 16 and run.line_of("layers") == 4
    assert run.architecture["experts"] == 8 and run.architecture["experts_per_token"] == 2
    # tokens = 100 steps x (2 per device x 16 devices x 1) x 4,096 = 13,107,200
    assert run.tokens == 13_107_200
    # per layer: attention 41,943,040 + router 4096 x 8 = 32,768 + 8 experts x 176,160,768 = 1,451,261,952;
    # x 16 = 23,220,191,232; + 2 x 32,000 x 4,096 = 262,144,000; + RMSNorm 33 x 4,096 = 135,168
    assert run.parameters == 23_482_470_400


def test_mixtral_preset_total_and_active(tmp_path: Path) -> None:
    run = read_training_config(write(tmp_path, "model_name: mixtral-8x7b\nsteps: 10\nper_device_batch_size: 1\n"
                                               "max_target_length: 4096\n"), options=ReadOptions(devices=8))
    # 32 layers x 1,451,261,952 + 262,144,000 + 65 x 4,096 = 46,702,792,704 (Mistral's 46.7B)
    assert run.parameters == 46_702_792_704
    # active: 32 x (41,943,040 + 32,768 + 2 x 176,160,768) + 262,144,000 + 266,240 = 12,879,925,248
    assert run.active_parameters == 12_879_925_248
    # MaxText counts the router and 2 experts per token: again flopaudit's causal count
    assert run.framework_flop.flop == pytest.approx(flopaudit_training_flop(run, causal=True), rel=1e-12)


def test_written_out_model_fractional_batch_and_tied_embeddings() -> None:
    run = read_training_config(FIXTURES / "maxtext_custom.yml", options=ReadOptions(devices=32))
    assert run.architecture["ffn"] == "plain" and run.architecture["tied_embeddings"] is True
    # per_device_batch_size 0.5 x 32 devices = 16 sequences; 2,000 x 16 x 2,048 = 65,536,000 tokens
    assert (run.global_batch, run.tokens) == (16, 65_536_000)
    # attention 2 x 1024 x 16 x 64 + 2 x 1024 x 4 x 64 = 2,621,440; FFN 2 x 1024 x 4096 = 8,388,608;
    # x 12 layers = 132,120,576; tied embedding 50,304 x 1,024 = 51,511,296; norms 25 x 1,024 = 25,600
    assert run.parameters == 183_657_472
    assert any("base.yml" in note for note in run.notes)


def test_fractional_global_batch_is_refused_at_its_line() -> None:
    # 0.5 per device x 3 devices = 1.5 sequences
    with pytest.raises(ConfigError, match="not a whole number") as err:
        read_training_config(FIXTURES / "maxtext_custom.yml", options=ReadOptions(devices=3))
    assert err.value.line == 12


def test_missing_devices_names_the_key() -> None:
    # ici_fsdp_parallelism: -1 leaves the mesh to be filled by the real device count
    with pytest.raises(ConfigError, match="device count") as err:
        read_training_config(FIXTURES / "maxtext_mixtral_override.yml")
    assert "devices" in (err.value.hint or "")


def test_devices_option_contradicting_the_mesh_is_an_error() -> None:
    with pytest.raises(ConfigError, match="contradicts") as err:
        read_training_config(LLAMA3, options=ReadOptions(devices=128))
    assert err.value.line == 9


def test_missing_vocab_and_training_length_name_their_keys(tmp_path: Path) -> None:
    text = (FIXTURES / "maxtext_custom.yml").read_text()
    no_vocab = write(tmp_path, text.replace("vocab_size: 50304\n", ""))
    with pytest.raises(ConfigError, match="vocabulary") as err:
        read_training_config(no_vocab, options=ReadOptions(devices=32))
    assert "vocab" in (err.value.hint or "")
    assert read_training_config(no_vocab, options=ReadOptions(devices=32, vocab=50304)).parameters == 183_657_472
    no_steps = write(tmp_path, text.replace("steps: 2000\n", ""))
    with pytest.raises(ConfigError, match="steps") as err:
        read_training_config(no_steps, options=ReadOptions(devices=32))
    assert "steps" in (err.value.hint or "")


@pytest.mark.parametrize(("text", "message", "line"), [
    ("model_name: llama3-8bb\n", "did you mean 'llama3-8b'", 1),
    ("model_name: llama3-8b\nglobal_parameter_scale: 2\n", "global_parameter_scale", 2),
    ("base_emb_dim: 64\ndecoder_block: deepseek\n", "decoder_block 'deepseek'", 2),
    ("model_name: llama3-8b\nbase_config: other.yml\n", "base_config", 2),
    ("model_name: llama3-8b\nuse_dpo: true\n", "DPO", 2),
    ("model_name: llama3-8b\nmtp_num_layers: 1\n", "multi-token prediction", 2),
])
def test_refusals_point_at_their_line(tmp_path: Path, text: str, message: str, line: int) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        read_training_config(write(tmp_path, text + "steps: 1\nper_device_batch_size: 1\nmax_target_length: 8\n"),
                             format="maxtext", options=ReadOptions(devices=1))
    assert err.value.line == line


def test_llama31_405b_preset_parameters(tmp_path: Path) -> None:
    run = read_training_config(write(tmp_path, "model_name: llama3.1-405b\nsteps: 1\nper_device_batch_size: 1\n"
                                               "max_target_length: 8192\n"), options=ReadOptions(devices=16384))
    # per layer: 2 x 16,384^2 + 2 x 16,384 x 1,024 = 570,425,344 attention + 3 x 16,384 x 53,248 = 2,617,245,696
    # FFN; x 126 = 401,646,551,040; + 2 x 128,256 x 16,384 = 4,202,692,608; + RMSNorm 253 x 16,384 = 4,145,152
    assert run.parameters == 405_853_388_800
