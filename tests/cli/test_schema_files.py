"""The committed JSON Schemas for editors (``schema/*.json``) equal what ``flopaudit schema`` prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flopaudit.cli.schema import json_schema
from tests.conftest import ROOT


@pytest.mark.parametrize("kind", ["config", "policy"])
def test_committed_schema_is_up_to_date(kind: str) -> None:
    committed = json.loads((ROOT / "schema" / f"{kind}.schema.json").read_text())
    assert committed == json_schema(kind), f"run: flopaudit schema {kind} > schema/{kind}.schema.json"


def test_config_schema_forbids_unknown_keys() -> None:
    schema = json_schema("config")
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["Stage"]["additionalProperties"] is False
    assert Path(ROOT / "schema" / "config.schema.json").stat().st_size > 1000
