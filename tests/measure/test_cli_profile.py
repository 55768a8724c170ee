"""``flopaudit profile``: options, the JSON contract of spec/results.md, the text tables, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from flopaudit.cli.profile import profile
from tests.conftest import run_cli
from tests.measure.conftest import HF_CONFIGS, ConfigFile
from tests.measure.test_hf_models import ATTENTION, LLAMA, TINY

SPEC_KEYS = ["model", "device", "seq_len", "batch", "parameters", "active_parameters", "forward_flop",
             "backward_flop", "flop_per_token_forward", "flop_per_token_train", "attention",
             "by_operator", "by_module", "uncounted_ops", "seconds"]


def invoke(*args: str) -> dict:
    outcome = CliRunner().invoke(profile, [*args, "--format", "json"], catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout)


def test_json_has_the_spec_keys_first_and_exact_counts(config_file: ConfigFile) -> None:
    path = config_file(LLAMA)
    data = invoke("--hf-config", str(path), "--seq-len", "16", "--batch", "2")
    assert list(data)[:len(SPEC_KEYS)] == SPEC_KEYS
    assert data["model"] == "LlamaForCausalLM" and data["device"] == "meta"
    assert data["forward_flop"] == TINY["llama"][1] + ATTENTION
    assert data["backward_flop"] == 2 * TINY["llama"][1] + 5 * ATTENTION // 2
    assert data["flop_per_token_train"] == (data["forward_flop"] + data["backward_flop"]) / 32
    assert data["macs"] == {"forward": data["forward_flop"] // 2, "backward": data["backward_flop"] // 2}
    assert data["uncounted_ops"] == []
    assert sum(data["by_operator"].values()) == data["forward_flop"] + data["backward_flop"]
    assert "model.layers.0" in data["by_module"] and "model.layers.0.mlp" not in data["by_module"]
    assert data["sdpa_path"] and "2 x multiply-add" in data["convention"]
    assert data["backend"] == "flopaudit"


def test_no_backward_and_causal(config_file: ConfigFile) -> None:
    path = config_file(LLAMA)
    data = invoke("--hf-config", str(path), "--seq-len", "16", "--batch", "2", "--no-backward",
                  "--attention", "causal")
    assert data["backward_flop"] is None and data["flop_per_token_train"] is None
    assert data["forward_flop"] == TINY["llama"][1] + ATTENTION // 2
    assert data["attention"] == "causal"


def test_factory_on_cpu_and_peer_backend() -> None:
    ours = invoke("--factory", "tests.measure.factories:tiny_decoder", "--seq-len", "12", "--batch", "2",
                  "--device", "cpu")
    theirs = invoke("--factory", "tests.measure.factories:tiny_decoder", "--seq-len", "12", "--batch", "2",
                    "--backend", "torch")
    # PyTorch's counter loses exactly the CPU attention kernel (18,432 forward, 2.5x backward)
    assert ours["forward_flop"] - theirs["forward_flop"] == 18_432
    assert ours["backward_flop"] - theirs["backward_flop"] == 46_080
    assert theirs["backend"] == "torch"


def test_seq_len_defaults_to_the_model_positions() -> None:
    data = invoke("--hf-config", str(HF_CONFIGS / "bert-large-uncased.json"), "--no-backward",
                  "--by-module", "0")
    assert data["seq_len"] == 512 and data["by_module"] == {}


def test_text_output_has_tables_uncounted_ops_and_convention(tmp_path: Path, config_file: ConfigFile) -> None:
    path = config_file(LLAMA)
    out = tmp_path / "profile.txt"
    outcome = CliRunner().invoke(profile, ["--hf-config", str(path), "--seq-len", "16", "--output", str(out)],
                                 catch_exceptions=False)
    assert outcome.exit_code == 0 and outcome.stdout == ""
    text = out.read_text()
    for part in ("LlamaForCausalLM", "By operator", "By module", "aten.mm", "model.layers.0",
                 "Uncounted ops: none", "Convention: FLOP = 2 x multiply-add"):
        assert part in text


def test_uncounted_ops_are_listed_in_text() -> None:
    outcome = CliRunner().invoke(profile, ["--factory", "tests.measure.test_counter:OpaqueModel",
                                           "--seq-len", "4", "--no-backward"], catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.output
    assert "Uncounted ops" in outcome.stdout and "flopaudit_test.opaque_matmul" in outcome.stdout
    # --no-backward: every heading says what was counted, and no backward column is shown
    assert ": one forward pass of " in outcome.stdout and "By operator (forward only)" in outcome.stdout
    assert "MACs (forward only)" in outcome.stdout and "backward FLOP" in outcome.stdout
    assert "not counted (--no-backward)" in outcome.stdout and "┃ backward ┃" not in outcome.stdout


def test_text_numbers_are_written_as_check_writes_them(config_file: ConfigFile) -> None:
    from flopaudit.cli.profile import _flop

    # 3 significant figures like check (render.common.flop): 41,000,000 -> 4.10e07; small counts in full
    assert (_flop(41_000_000), _flop(9_999), _flop(0), _flop(None)) == ("4.10e07", "9,999", "0", "-")


@pytest.mark.parametrize(("args", "message"), [
    ([], "exactly one of --hf-config"),
    (["--hf-config", "x.json", "--factory", "a:b"], "exactly one of --hf-config"),
    (["--hf-config", "does-not-exist.json"], "cannot read the HF config"),
    (["--factory", "nowhere_to_be_found:build"], "cannot import"),
])
def test_user_mistakes_exit_2_without_traceback(args: list[str], message: str) -> None:
    done = run_cli("profile", *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_model_that_needs_other_inputs_is_an_input_error(tmp_path: Path) -> None:
    # A time-series transformer takes past_values, which flopaudit does not make: exit 2 naming the
    # input and the way out (a factory returning its inputs), no "internal error".
    cfg = tmp_path / "config.json"
    cfg.write_text('{"model_type": "time_series_transformer", "prediction_length": 4, "d_model": 16}')
    proc = run_cli("profile", "--hf-config", str(cfg), "--seq-len", "16")
    assert proc.returncode == 2, proc.stdout
    assert "takes 'past_values', an input flopaudit cannot make yet" in proc.stderr
    assert "(module, inputs)" in proc.stderr and "internal error" not in proc.stderr


def test_default_seq_len_is_capped_by_the_config_class_defaults(tmp_path: Path) -> None:
    # BERT's config.json without max_position_embeddings: the BertConfig default (512) caps --seq-len.
    data = json.loads((HF_CONFIGS / "bert-large-uncased.json").read_text())
    data.pop("max_position_embeddings", None)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(data))
    proc = run_cli("profile", "--hf-config", str(cfg), "--no-backward", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["seq_len"] == 512
