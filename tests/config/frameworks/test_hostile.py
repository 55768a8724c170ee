"""Any value of the wrong kind anywhere in a framework file is a ConfigError (or read), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from flopaudit.config.frameworks import ReadOptions, read_training_config
from flopaudit.errors import ConfigError
from tests.config.frameworks.helpers import FIXTURES

YAML_FILES = ["maxtext_llama3_8b.yml", "maxtext_custom.yml", "litgpt_llama3_8b.yaml", "litgpt_model_config.yaml",
              "nanotron_llama_1b.yaml"]
BAD = ["x", [1], {"a": 1}, -1, 0, 0.5, 1e300, True, None]
OPTIONS = ReadOptions(devices=8, sequence_length=4096)


def leaves(data: Any, key: tuple = ()) -> list[tuple]:
    if isinstance(data, dict):
        return [k for name, value in data.items() for k in leaves(value, key + (name,))]
    return [key]


def replaced(data: Any, key: tuple, value: Any) -> Any:
    if not key:
        return value
    out = dict(data)
    out[key[0]] = replaced(data[key[0]], key[1:], value)
    return out


def read(path: Path, fmt: str | None) -> None:
    try:
        read_training_config(path, format=fmt, options=OPTIONS)
    except ConfigError:
        pass


@pytest.mark.parametrize("name", YAML_FILES)
def test_every_yaml_leaf_replaced_by_a_wrong_value(tmp_path: Path, name: str) -> None:
    data = yaml.safe_load((FIXTURES / name).read_text())
    fmt = name.split("_")[0]
    for key in leaves(data):
        for bad in BAD:
            path = tmp_path / name
            path.write_text(yaml.safe_dump(replaced(data, key, bad)))
            read(path, fmt)


def test_every_trainer_state_and_config_leaf_replaced(tmp_path: Path) -> None:
    source = FIXTURES / "hf_llama3"
    for file in ("trainer_state.json", "config.json"):
        data = json.loads((source / file).read_text())
        other = "config.json" if file == "trainer_state.json" else "trainer_state.json"
        (tmp_path / other).write_text((source / other).read_text())
        for key in leaves(data):
            for bad in BAD:
                (tmp_path / file).write_text(json.dumps(replaced(data, key, bad)))
                read(tmp_path / "trainer_state.json", "hf-trainer-state")
        (tmp_path / file).write_text((source / file).read_text())
