"""Malformed configs: each exits 2 with the file name and, where the error has a place, its line.

They run through the real CLI in a subprocess: no traceback may be printed and nothing may execute.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli

HERE = Path(__file__).parent / "malformed"
MARKER = Path("/tmp/flopaudit-pwned-marker")

# (file, line the message must name or None, fragment the message must contain)
CASES = [
    ("syntax_error.yaml", 4, "YAML syntax error"),
    ("empty.yaml", None, "the config is empty"),
    ("top_level_list.yaml", 1, "must be a mapping"),
    ("missing_name.yaml", 1, "model.name: missing required key 'name'"),
    ("typo_key.yaml", 7, "unknown key 'tokns' (did you mean 'tokens'?)"),
    ("negative.yaml", 3, "model.parameters: must be positive"),
    ("nan.yaml", 7, "training[0].tokens: NaN"),
    ("infinite.yaml", 7, "training[0].tokens: must be finite"),
    ("bad_suffix.yaml", 3, "unknown suffix 'X'"),
    ("reversed_range.yaml", 7, "range '16T..14T' is reversed"),
    ("utilization_above_one.yaml", 10, "utilization: must be at most 1"),
    ("duplicate_stage.yaml", 6, "duplicate stage name 'p'"),
    ("unknown_kind.yaml", 6, "unknown stage kind 'pretrainig' (did you mean 'pretraining'?)"),
    ("unknown_policy.yaml", 6, "unknown policy 'us-ca-sb35' (did you mean 'us-ca-sb53'?)"),
    ("alias_bomb.yaml", None, "alias bomb"),
    ("python_tag.yaml", 2, "tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
    ("nothing_to_estimate.yaml", 4, "nothing to estimate from"),
    ("active_above_total.yaml", 4, "active_parameters (8B) exceed parameters (7B)"),
    ("no_stages.yaml", 4, "training: needs at least one entry"),
    ("no_training_key.yaml", 1, "missing required key 'training'"),
    ("unknown_accelerator.yaml", 7, "unknown accelerator 'H100-SMX' (did you mean 'H100-SXM'?)"),
    ("duplicate_key.yaml", 4, "duplicate key 'parameters'"),
    ("huge_number.yaml", 3, "must be finite"),
    ("control_char.yaml", 1, "character '\\x01' is not allowed in YAML"),
    ("as_of_not_a_date.yaml", 4, "as_of: expected a date YYYY-MM-DD, got 0"),
    ("octal_number.yaml", 5, "write '0100' as a plain decimal number (YAML 1.1 would read it as 64)"),
    ("empty_policies.yaml", 4, "policies: needs at least one entry"),
    ("moe_encoder_decoder.yaml", 3, "mixture-of-experts layers are supported for family decoder and encoder"),
    ("missing_hf_config.yaml", 3, "model.hf_config: 'no-such-config.json': file not found"),
    ("rl_without_generated_tokens.yaml", 3, "needs generated_tokens"),
    ("synthetic_without_generator.yaml", 3, "needs generator_parameters"),
    ("bidi_override.yaml", 1, "bidirectional control character U+202E is not allowed"),
]


@pytest.mark.parametrize(("name", "line", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_malformed_config_exits_2_with_place(name: str, line: int | None, fragment: str) -> None:
    MARKER.unlink(missing_ok=True)
    path = f"tests/config/malformed/{name}"
    proc = run_cli("check", path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""
    message = proc.stderr.strip()
    prefix = f"flopaudit: error: {path}:" + (f"{line}:" if line else "")
    assert message.startswith(prefix), message
    assert fragment in message, message
    assert not MARKER.exists(), "a YAML tag executed code"


def test_binary_file(tmp_path: Path) -> None:
    binary = tmp_path / "model.yaml"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)))
    proc = run_cli("check", str(binary))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"flopaudit: error: {binary}: binary file"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_huge_file_is_refused_fast(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_text("# padding\n" * 200_000)
    proc = run_cli("check", str(huge))
    assert proc.returncode == 2
    assert "larger than the 1,000,000 bytes allowed" in proc.stderr


def test_dev_zero_is_refused_without_reading_it_all() -> None:
    proc = run_cli("check", "/dev/zero")
    assert proc.returncode == 2 and "a device, not a regular file" in proc.stderr


def test_missing_file() -> None:
    proc = run_cli("check", "does/not/exist.yaml")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "flopaudit: error: does/not/exist.yaml: file not found"


def test_one_bad_config_among_good_ones_still_exits_2() -> None:
    proc = run_cli("check", "examples/eu-guidelines-model-a.yaml", "tests/config/malformed/typo_key.yaml")
    assert proc.returncode == 2
