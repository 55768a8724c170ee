"""Each framework file is detected as its own format, the examples read, and a flopaudit config is none of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from flopaudit.config.frameworks import ReadOptions, detect_format, formats, read_training_config
from flopaudit.errors import ConfigError
from tests.conftest import EXAMPLES
from tests.config.frameworks.helpers import FIXTURES

CASES = [
    (FIXTURES / "maxtext_llama3_8b.yml", "maxtext"),
    (FIXTURES / "maxtext_custom.yml", "maxtext"),
    (FIXTURES / "litgpt_llama3_8b.yaml", "litgpt"),
    (FIXTURES / "litgpt_model_config.yaml", "litgpt"),
    (FIXTURES / "nanotron_llama_1b.yaml", "nanotron"),
    (FIXTURES / "hf_llama3" / "trainer_state.json", "hf-trainer-state"),
    (EXAMPLES / "frameworks" / "maxtext" / "llama3-8b.yml", "maxtext"),
    (EXAMPLES / "frameworks" / "litgpt" / "tinyllama.yaml", "litgpt"),
    (EXAMPLES / "frameworks" / "nanotron" / "llama-1b.yaml", "nanotron"),
    (EXAMPLES / "frameworks" / "hf" / "trainer_state.json", "hf-trainer-state"),
]


def test_all_four_formats_are_registered() -> None:
    assert {"maxtext", "litgpt", "nanotron", "hf-trainer-state"} <= set(formats())


@pytest.mark.parametrize(("path", "expected"), CASES, ids=[f"{p.parent.name}/{p.name}" for p, _ in CASES])
def test_detected_as_its_own_format(path: Path, expected: str) -> None:
    assert detect_format(path, path.read_text()) == expected


@pytest.mark.parametrize("path", [p for p, _ in CASES if p.is_relative_to(EXAMPLES)],
                         ids=lambda p: p.parent.name)
def test_examples_read_with_nothing_guessed(path: Path) -> None:
    # the trainer state records no sequence length: the example's README gives 4096
    options = ReadOptions(sequence_length=4096) if path.suffix == ".json" else ReadOptions()
    run = read_training_config(path, options=options)
    assert run.tokens == run.steps * run.global_batch * run.sequence_length
    assert run.parameters and run.framework_flop and run.framework_flop.flop > 0


def test_a_flopaudit_config_is_no_framework_format() -> None:
    path = EXAMPLES / "llama-3.1-405b.yaml"
    with pytest.raises(ConfigError, match="not a training config"):
        detect_format(path, path.read_text())
