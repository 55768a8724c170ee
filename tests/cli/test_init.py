"""``flopaudit init``: the starter config it writes (flags or answers on stdin) is one ``check`` accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from flopaudit import __version__
from flopaudit.cli.init import init
from flopaudit.config.starter import schema_reference
from tests.conftest import ROOT, run_cli


def check_json(path: Path) -> dict:
    """``flopaudit check PATH --format json`` through the real entry point; exit 0 or 1 (judged), never 2."""
    proc = run_cli("check", str(path), "--format", "json", "--as-of", "2026-12-01")
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_non_interactive_flags_write_a_config_check_accepts(tmp_path: Path) -> None:
    out = tmp_path / "audit" / "model.yaml"
    proc = run_cli("init", "--non-interactive", "--name", "Test 7B", "--parameters", "7B", "--tokens", "2T",
                   "--accelerator", "h100 sxm", "--devices", "512", "--hours", "720",
                   "--policy", "eu-ai-act-systemic-risk", "--policy", "us-ca-sb53", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.startswith("# yaml-language-server: $schema=https://raw.githubusercontent.com/flopaudit/flopaudit/"
                           f"v{__version__}/schema/config.schema.json\n")
    data = yaml.safe_load(text)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, json.loads((ROOT / "schema" / "config.schema.json").read_text()))
    # the accelerator is written under its table name, the numbers as given
    assert data["training"][0]["hardware"] == {"accelerator": "H100-SXM", "count": 512, "hours": 720}
    result = check_json(out)
    # 6nd: 6 x 7e9 parameters x 2e12 tokens = 8.4e22 FLOP
    assert result["total_flop"]["central"] == pytest.approx(8.4e22)
    # hardware cross-check: 512 x (720 x 3600 s) x 9.894e14 FLOP/s x 0.4 (middle of the default 0.3..0.5)
    #   = 1.327104e9 device-seconds x 9.894e14 x 0.4 = 5.2521e23
    hw = result["stages"][0]["estimates"][0]
    assert hw["method"] == "hardware" and hw["flop"]["central"] == pytest.approx(5.2521467904e23)
    # both chosen policies judged, both below (8.4e22 < 1e25 and < 1e26)
    assert {(c["policy"], c["verdict"]) for c in result["checks"]} == {
        ("eu-ai-act-systemic-risk", "below"), ("us-ca-sb53", "below")}


def test_interactive_answers_on_stdin_and_a_wrong_answer_asked_again(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    answers = "\n".join([
        "Mixtral test",        # model name
        "Mixtral-8x7B-v0.1",   # a preset instead of parameters
        "1e99",                # tokens above the bound: refused, asked again
        "1T",
        "",                    # no accelerator
        "eu-ai-act-systemic-risc",  # a misspelt policy id: refused with a hint, asked again
        "eu-ai-act-systemic-risk",
        "",                    # the default file name
    ]) + "\n"
    outcome = CliRunner().invoke(init, [], input=answers, catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.output
    assert "must be at most 1e17" in outcome.output
    assert "unknown policy 'eu-ai-act-systemic-risc' (did you mean 'eu-ai-act-systemic-risk'?)" in outcome.output
    data = yaml.safe_load((tmp_path / "flopaudit.yaml").read_text())
    # LitGPT's Mixtral-8x7B-v0.1 entry (litgpt/config.py): 32 layers, n_embd 4096, 32 heads, 8 query groups,
    # intermediate 14336 (LLaMAMoE: gated), vocab 32000, block_size 32768, 8 experts, 2 per token
    assert data["model"]["architecture"] == {
        "family": "decoder", "layers": 32, "d_model": 4096, "heads": 32, "kv_heads": 8, "d_ff": 14336,
        "ffn": "gated", "vocab": 32000, "context": 32768, "experts": 8, "experts_per_token": 2}
    assert "hardware" not in data["training"][0]
    assert data["policies"] == ["eu-ai-act-systemic-risk"]
    result = check_json(tmp_path / "flopaudit.yaml")
    # transformer formula from the preset, 2 of 8 experts active per token: the dense part of
    # 6 x N x D (N: total 46.7B, active 12.9B) is bounded by 6 x 46.7e9 x 1e12 = 2.8e23 above and
    # 6 x 12.9e9 x 1e12 = 7.7e22 below (attention adds a little); so between 7e22 and 2.8e23
    assert result["stages"][0]["method"] == "transformer"
    assert 7e22 < result["total_flop"]["central"] < 2.8e23


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "a.yaml"
    out.write_text("keep me\n")
    args = ["init", "--non-interactive", "--name", "m", "--parameters", "1B", "--tokens", "20B", "-o", str(out)]
    proc = run_cli(*args)
    assert proc.returncode == 2 and "exists; give --force" in proc.stderr and out.read_text() == "keep me\n"
    assert run_cli(*args, "--force").returncode == 0
    # 6 x 1e9 x 2e10 = 1.2e20 FLOP
    assert check_json(out)["total_flop"]["central"] == pytest.approx(1.2e20)


@pytest.mark.parametrize(("args", "message"), [
    (["--name", "m", "--tokens", "1T"], "--parameters or --preset is required"),
    (["--name", "m", "--parameters", "7B"], "--tokens is required"),
    (["--name", "m", "--parameters", "7B", "--tokens", "1T", "--accelerator", "H2000"],
     "unknown accelerator 'H2000' (did you mean 'H200'?)"),
    (["--name", "m", "--parameters", "7B", "--tokens", "1T", "--accelerator", "A100"], "--devices is required"),
    (["--name", "m", "--parameters", "7B", "--tokens", "1T", "--devices", "8"], "go with --accelerator"),
    (["--name", "m", "--parameters", "2e16", "--tokens", "1T"], "must be at most 1e15"),
    (["--name", "m", "--preset", "Llama-9"], "unknown preset 'Llama-9'"),
    (["--name", "m", "--parameters", "7B", "--tokens", "1T", "--policy", "nope"], "unknown policy 'nope'"),
    (["--name", "a\x1b[31mb", "--parameters", "7B", "--tokens", "1T"], "one line of printable characters"),
])
def test_non_interactive_refuses_a_missing_or_wrong_answer(args: list[str], message: str) -> None:
    proc = run_cli("init", "--non-interactive", *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_stdout_without_output_file() -> None:
    # a name YAML would misread unquoted (a colon, a hash, quotes, non-ASCII) comes back as written
    name = 'Modèle "X": v2 # final'
    proc = run_cli("init", "--non-interactive", "--name", name, "--parameters", "7B", "--tokens", "1T")
    assert proc.returncode == 0 and yaml.safe_load(proc.stdout)["model"] == {
        "name": name, "modality": ["text"], "parameters": "7B"}


def test_schema_reference_is_relative_inside_the_repository_else_the_release_url(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "schema").mkdir(parents=True)
    (root / "schema" / "config.schema.json").write_text("{}")
    (root / "configs" / "team").mkdir(parents=True)
    assert schema_reference(root / "configs" / "team", root) == "../../schema/config.schema.json"
    assert schema_reference(root, root) == "schema/config.schema.json"
    assert schema_reference(tmp_path, root) == (
        f"https://raw.githubusercontent.com/flopaudit/flopaudit/v{__version__}/schema/config.schema.json")


def test_an_existing_file_is_refused_before_any_question(tmp_path: Path) -> None:
    from flopaudit.errors import InputError

    out = tmp_path / "a.yaml"
    out.write_text("keep me\n")
    outcome = CliRunner().invoke(init, ["-o", str(out)], input="m\n")
    assert isinstance(outcome.exception, InputError) and "Model name" not in outcome.output
    assert out.read_text() == "keep me\n"
