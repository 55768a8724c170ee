"""A stage read from the training framework's own file: ``training_config:``, ``check FILE``, ``import``.

The framework files are the examples in ``examples/frameworks/`` (copied into a temporary folder
where a test changes them). Their readers have their own tests in ``tests/config/frameworks/``;
these test what the config, ``check`` and every output do with a run once it is read.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

MAXTEXT = ROOT / "examples/frameworks/maxtext/llama3-8b.yml"
# MaxText llama3-8b example: 100,000 steps x (4 per device x 256 devices x 1 accumulation step)
# sequences x 8,192 tokens = 100,000 x 1,024 x 8,192 = 838,860,800,000 tokens
MAXTEXT_TOKENS = 838_860_800_000
LLAMA3_8B = 8_030_261_248  # published parameter count


def write(folder: Path, name: str, text: str) -> Path:
    (folder / ".git").mkdir(exist_ok=True)  # the folder is its own repository root
    path = folder / name
    path.write_text(text)
    return path


def config_for(folder: Path, extra_stage: str = "", extra_model: str = "") -> Path:
    shutil.copy(MAXTEXT, folder / "llama3-8b.yml")
    return write(folder, "audit.yaml", f"""
model:
  name: Llama 3 8B
{extra_model}
training:
  - name: pretraining
    kind: pretraining
    training_config: {{path: llama3-8b.yml}}
{extra_stage}
policies: [eu-gpai-indicative]
as_of: 2026-12-01
""")


def check_json(*args: str) -> dict:
    done = run_cli("check", *args, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def test_a_stage_gets_tokens_architecture_and_lines_from_its_framework_file(tmp_path: Path) -> None:
    data = check_json(str(config_for(tmp_path)))
    stage = data["stages"][0]
    assert stage["tokens"] == MAXTEXT_TOKENS
    assert data["model"]["parameters"] == LLAMA3_8B
    source = stage["training_config"]
    assert source["path"] == "llama3-8b.yml" and source["format"] == "maxtext"
    assert source["derived"]["steps"] == {"value": 100_000, "line": 8, "origin": "steps"}
    assert source["derived"]["sequence_length"]["line"] == 10
    # the framework's own formula is a cross-check named after it
    framework = next(e for e in stage["estimates"] if e["method"] == "framework")
    assert framework["label"] == "MaxText"
    assert any("calculate_tflops_training_per_device" in a for a in framework["assumptions"])


def test_the_same_numbers_in_the_config_agree_and_different_ones_are_errors(tmp_path: Path) -> None:
    agreeing = config_for(tmp_path, extra_stage="    tokens: 838860800000\n    sequence_length: 8192")
    assert check_json(str(agreeing))["stages"][0]["tokens"] == MAXTEXT_TOKENS
    conflicting = config_for(tmp_path, extra_stage="    tokens: 1T")
    done = run_cli("check", str(conflicting))
    assert done.returncode == 2
    # both places: the config's line and the framework file's line of the number it derived
    assert f"{conflicting}:9:5: training[0].tokens: 1T conflicts with 838,860,800,000 tokens " \
        "(100,000 steps x 1,024 sequences x 8,192 tokens) from" in done.stderr
    assert "llama3-8b.yml:8 (steps)" in done.stderr and "Traceback" not in done.stderr


def test_an_architecture_that_disagrees_with_the_file_is_an_error_naming_both(tmp_path: Path) -> None:
    cfg = config_for(tmp_path, extra_model="  architecture: {layers: 40, d_model: 4096, heads: 32, kv_heads: 8, "
                                           "head_dim: 128, d_ff: 14336, vocab: 128256}")
    done = run_cli("check", str(cfg))
    assert done.returncode == 2
    assert "model.architecture.layers: 40 conflicts with 32 from" in done.stderr
    assert "llama3-8b.yml:6 (MaxText model_name llama3-8b (base_num_decoder_layers))" in done.stderr


def test_parameters_within_rounding_agree(tmp_path: Path) -> None:
    # 8.03B is 8,030,000,000: 0.003% from the exact count, inside the 1% tolerance; 7B is 13% off
    parameters = check_json(str(config_for(tmp_path, extra_model="  parameters: 8.03B")))["model"]["parameters"]
    assert abs(parameters - 8.03e9) < 1
    done = run_cli("check", str(config_for(tmp_path, extra_model="  parameters: 7B")))
    assert done.returncode == 2 and "model.parameters: 7B conflicts with 8,030,261,248" in done.stderr


def test_a_framework_file_outside_the_repository_is_refused(tmp_path: Path) -> None:
    shutil.copy(MAXTEXT, tmp_path / "outside.yml")
    repo = tmp_path / "repo"
    repo.mkdir()
    cfg = write(repo, "audit.yaml", """
model: {name: x}
training:
  - {name: pretraining, kind: pretraining, training_config: {path: ../outside.yml}}
""")
    done = run_cli("check", str(cfg))
    assert done.returncode == 2 and "outside the repository root" in done.stderr
    assert "--allow-outside-paths" in done.stderr
    assert run_cli("check", str(cfg), "--allow-outside-paths").returncode in (0, 1)


def test_training_config_is_for_training_stages_and_counts_every_pass(tmp_path: Path) -> None:
    merge = write(tmp_path, "merge.yaml", """
model: {name: x, parameters: 1B}
training:
  - {name: m, kind: merge, source_flop: 1e20, training_config: {path: llama3-8b.yml}}
""")
    done = run_cli("check", str(merge))
    assert done.returncode == 2 and "training_config is for the training kinds" in done.stderr
    epochs = config_for(tmp_path, extra_stage="    epochs: 2")
    done = run_cli("check", str(epochs))
    assert done.returncode == 2 and "training[0].epochs: the training config's steps already count" in done.stderr


def test_a_missing_device_count_names_the_key_that_gives_it(tmp_path: Path) -> None:
    # A mesh axis of -1 takes "the rest of the devices": the file alone does not fix the world size.
    text = MAXTEXT.read_text().replace("ici_fsdp_parallelism: 128", "ici_fsdp_parallelism: -1")
    write(tmp_path, "llama3-8b.yml", text)
    done = run_cli("check", str(tmp_path / "llama3-8b.yml"))
    assert done.returncode == 2
    assert "does not determine the device count" in done.stderr and "--devices N" in done.stderr
    # given on the command line, the run is determined: 128 x 2 = 256 devices as in the example
    assert check_json(str(tmp_path / "llama3-8b.yml"), "--devices", "256")["stages"][0]["tokens"] == MAXTEXT_TOKENS


def test_check_a_framework_file_directly(tmp_path: Path) -> None:
    data = check_json(str(MAXTEXT))
    assert data["config"] == str(MAXTEXT)
    assert data["model"]["name"] == "llama3-8b" and data["stages"][0]["tokens"] == MAXTEXT_TOKENS
    done = run_cli("check", str(config_for(tmp_path)), "--devices", "8")
    assert done.returncode == 2 and "--devices is for a training framework's file given directly" in done.stderr


def test_import_round_trips_to_the_same_total(tmp_path: Path) -> None:
    shutil.copy(MAXTEXT, tmp_path / "llama3-8b.yml")
    (tmp_path / ".git").mkdir()
    out = tmp_path / "configs" / "llama3.yaml"
    done = run_cli("import", str(tmp_path / "llama3-8b.yml"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "path: ../llama3-8b.yml" in text and "format: maxtext" in text
    assert "#   steps: 100000 (steps, line 8)" in text
    imported = check_json(str(out))
    direct = check_json(str(tmp_path / "llama3-8b.yml"))
    assert imported["total_flop"] == direct["total_flop"]
    assert imported["stages"][0]["tokens"] == MAXTEXT_TOKENS


def test_annotations_point_at_the_framework_line_that_sets_the_length(tmp_path: Path) -> None:
    # 1,000,000 steps: 10x the example's 4.86e22 FLOP, above the EU's 1e23 indicative criterion
    cfg = config_for(tmp_path)
    (tmp_path / "llama3-8b.yml").write_text(MAXTEXT.read_text().replace("steps: 100000", "steps: 1000000"))
    github = run_cli("check", str(cfg), "--format", "github", cwd=tmp_path)
    # The indicative criterion is guidance: severity warning, so a warning annotation and exit 0.
    assert github.returncode == 0
    assert "::warning file=llama3-8b.yml,line=8,title=eu-gpai-indicative" in github.stdout
    sarif = json.loads(run_cli("check", str(cfg), "--format", "sarif", cwd=tmp_path).stdout)
    crossed = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "eu-gpai-indicative")
    location = crossed["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "llama3-8b.yml" and location["region"]["startLine"] == 8
    text = run_cli("check", str(cfg), cwd=tmp_path).stdout
    assert "read from llama3-8b.yml (maxtext): 1,000,000 steps (line 8)" in text


def test_a_trainer_state_never_reads_a_config_json_outside_its_repository(tmp_path: Path) -> None:
    # repo/trainer_state.json at the repository root: the parent's config.json is outside it and is
    # not read (a config.json beside the state, inside the repository, is).
    hf = ROOT / "examples/frameworks/hf"
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").mkdir()
    shutil.copy(hf / "trainer_state.json", repo / "trainer_state.json")
    shutil.copy(hf / "config.json", tmp_path / "config.json")
    done = run_cli("check", str(repo / "trainer_state.json"), "--sequence-length", "4096")
    assert done.returncode == 2 and "no config.json of the model next to trainer_state.json" in done.stderr
    shutil.copy(hf / "config.json", repo / "config.json")
    assert run_cli("check", str(repo / "trainer_state.json"), "--sequence-length", "4096").returncode in (0, 1)


EXAMPLES = [("megatron/llama3_8b.sh", []), ("torchtitan/llama3_8b.toml", ["--devices", "64"]),
            ("maxtext/llama3-8b.yml", []), ("litgpt/tinyllama.yaml", []), ("nanotron/llama-1b.yaml", []),
            ("hf/trainer_state.json", ["--sequence-length", "4096"])]


@pytest.mark.parametrize(("example", "flags"), EXAMPLES, ids=[e.split("/")[0] for e, _ in EXAMPLES])
def test_every_example_format_checks_directly_and_imports_to_the_same_total(tmp_path: Path, example: str,
                                                                            flags: list[str]) -> None:
    source = ROOT / "examples/frameworks" / example
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    if example.startswith("hf/"):
        shutil.copy(source.parent / "config.json", tmp_path / "config.json")
    (tmp_path / ".git").mkdir()
    direct = check_json(str(copy), *flags)
    assert direct["stages"][0]["training_config"]["format"] == example.split("/")[0].replace("hf", "hf-trainer-state")
    out = tmp_path / "audit.yaml"
    done = run_cli("import", str(copy), *flags, "-o", str(out))
    assert done.returncode == 0, done.stderr
    imported = check_json(str(out))
    assert imported["total_flop"] == direct["total_flop"]
    assert imported["stages"][0]["tokens"] == direct["stages"][0]["tokens"]
    assert any(e["method"] == "framework" for e in direct["stages"][0]["estimates"])


def test_detection_is_one_format_whatever_the_import_order(tmp_path: Path) -> None:
    # every example is recognised by exactly one reader (an ambiguous file would be refused)
    import importlib

    from flopaudit.config import frameworks

    importlib.import_module("flopaudit.config.frameworks.hf_trainer")  # imported first, detected last
    assert frameworks.formats() == ["megatron", "torchtitan", "maxtext", "litgpt", "nanotron", "hf-trainer-state"]
    for example, _ in EXAMPLES:
        path = ROOT / "examples/frameworks" / example
        assert frameworks.detect_format(path, path.read_text()) == example.split("/")[0].replace(
            "hf", "hf-trainer-state")
