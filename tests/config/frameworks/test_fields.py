"""The JSON line finder and the number checks every reader shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from flopaudit.config.frameworks.fields import Fields
from flopaudit.errors import ConfigError

TEXT = """{
  "note": "braces { and quotes \\" in a string",
  "global_step": 12,
  "nested": {"list": [1,
    {"deep": 2.5}]},
  "flag": true
}
"""


def test_json_keys_get_their_lines() -> None:
    f = Fields.from_json(Path("state.json"), TEXT)
    # the string with a brace and an escaped quote on line 2 does not shift later lines
    assert f.integer(("global_step",)).line == 3
    assert f.line(("nested", "list", 1, "deep")) == 5
    assert f.flag(("flag",)).line == 6


def test_bad_numbers_are_errors_at_their_line() -> None:
    f = Fields.from_json(Path("state.json"), TEXT)
    with pytest.raises(ConfigError, match="whole number") as err:
        f.integer(("nested", "list", 1, "deep"))
    assert err.value.line == 5
    with pytest.raises(ConfigError, match="whole number"):
        f.integer(("flag",))  # true is not 1


@pytest.mark.parametrize(("text", "message"), [('{"a": 1,', "invalid JSON"), ("[" * 100_000, "nested too deeply")])
def test_broken_json_is_a_config_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Fields.from_json(Path("state.json"), text)


def test_a_slipped_exponent_is_refused() -> None:
    f = Fields.from_json(Path("state.json"), '{"global_step": 1e300}')
    with pytest.raises(ConfigError, match="slipped exponent") as err:
        f.integer(("global_step",))
    assert err.value.line == 1
