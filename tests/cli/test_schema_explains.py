"""The committed JSON Schemas explain every field and complete the closed vocabularies from the runtime tables."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from flopaudit.config.frameworks import formats
from flopaudit.config.kinds import MODALITIES, STAGE_KINDS
from flopaudit.estimate.accelerators import canonical_names
from flopaudit.policy.loader import builtin_policies
from flopaudit.policy.models import EXCLUSION_ITEMS
from tests.conftest import ROOT


def committed(kind: str) -> dict[str, Any]:
    return json.loads((ROOT / "schema" / f"{kind}.schema.json").read_text())


def properties(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(model, property, subschema)`` of the root and of every ``$defs`` model."""
    for model, node in [("<root>", schema), *schema["$defs"].items()]:
        for name, sub in node.get("properties", {}).items():
            yield model, name, sub


def is_object(sub: dict[str, Any]) -> bool:
    """Whether a property holds a model (a $ref, or a list or optional of them): it is explained, not exemplified."""
    text = json.dumps(sub)
    return '"$ref"' in text


def enums(sub: dict[str, Any]) -> list[list[str]]:
    """Every ``enum`` list inside a property's schema (through anyOf and items)."""
    found: list[list[str]] = []
    if "enum" in sub:
        found.append(sub["enum"])
    for key in ("anyOf", "items"):
        child = sub.get(key)
        for item in child if isinstance(child, list) else [child] if child else []:
            found += enums(item)
    return found


@pytest.mark.parametrize("kind", ["config", "policy"])
def test_every_property_has_a_description(kind: str) -> None:
    missing = [f"{m}.{p}" for m, p, sub in properties(committed(kind)) if not sub.get("description", "").strip()]
    assert not missing, f"properties of schema/{kind}.schema.json without a description: {missing}"


def test_every_config_value_field_has_examples() -> None:
    missing = [f"{m}.{p}" for m, p, sub in properties(committed("config"))
               if not is_object(sub) and not sub.get("examples")]
    assert not missing, f"config fields without examples: {missing}"


def test_number_fields_state_their_unit() -> None:
    schema = committed("config")["$defs"]
    assert "FLOP" in schema["Stage"]["properties"]["flop"]["description"]
    assert "tokens" in schema["Stage"]["properties"]["tokens"]["description"].lower()
    assert "hours" in schema["Hardware"]["properties"]["hours"]["description"].lower()
    assert "FLOP/s" in schema["Hardware"]["properties"]["peak_flops"]["description"]
    assert "USD" in schema["Organization"]["properties"]["annual_revenue_usd"]["description"]
    assert "count" in schema["ModelInfo"]["properties"]["parameters"]["description"]


def test_config_enums_equal_the_runtime_tables() -> None:
    import flopaudit.config.frameworks.torchtitan  # noqa: F401  (registered first: the schema must not care)
    schema = committed("config")
    defs = schema["$defs"]
    ids = list(builtin_policies())
    assert enums(defs["Stage"]["properties"]["kind"]) == [list(STAGE_KINDS)]
    assert enums(defs["ModelInfo"]["properties"]["modality"]) == [list(MODALITIES)]
    assert enums(defs["Hardware"]["properties"]["accelerator"]) == [canonical_names()]
    assert enums(schema["properties"]["policies"]) == [ids]
    assert enums(defs["Waiver"]["properties"]["policy"]) == [ids]
    assert enums(defs["TrainingConfigRef"]["properties"]["format"]) == [sorted(formats())]
    assert ids and "H100-SXM" in canonical_names()


def test_policy_enums_equal_the_runtime_tables() -> None:
    defs = committed("policy")
    assert enums(defs["properties"]["overrides"]) == [list(builtin_policies())]
    assert enums(defs["$defs"]["Accounting"]["properties"]["counts"]) == [list(STAGE_KINDS)]
    assert enums(defs["$defs"]["Rule"]["properties"]["counts"]) == [list(STAGE_KINDS)]
    assert enums(defs["$defs"]["Exclusion"]["properties"]["item"]) == [sorted(EXCLUSION_ITEMS)]
    assert enums(defs["$defs"]["Condition"]["properties"]["any_of"]) == [list(MODALITIES)]


def test_enums_refuse_what_the_loader_refuses_and_accept_what_it_accepts() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from flopaudit.config.loader import load_config_text
    from flopaudit.errors import ConfigError

    schema = committed("config")

    def doc(kind: str, accelerator: str, policy: str) -> dict[str, Any]:
        return {"model": {"name": "m", "parameters": "7B"}, "policies": [policy],
                "training": [{"name": "p", "kind": kind, "tokens": "1T",
                              "hardware": {"accelerator": accelerator, "count": 8, "hours": 10}}]}

    # a lower-case alias is a valid accelerator for the loader: the enum only completes, the string branch accepts
    good = doc("pretraining", "h100 sxm5", "us-ca-sb53")
    jsonschema.validate(good, schema)
    load_config_text(json.dumps(good))
    # a stage kind outside the table is refused by both
    bad = doc("pretrain", "H100-SXM", "us-ca-sb53")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    with pytest.raises(ConfigError):
        load_config_text(json.dumps(bad))


@pytest.mark.parametrize("kind", ["config", "policy"])
def test_every_default_is_a_valid_value_of_its_field(kind: str) -> None:
    # an editor inserts the default on completion: it must be what the field accepts (a number, not
    # the internal {"low": 1.0, "high": 1.0} of a quantity)
    jsonschema = pytest.importorskip("jsonschema")
    schema = committed(kind)
    for model, name, sub in properties(schema):
        if sub.get("default") is not None:
            jsonschema.Draft202012Validator({**sub, "$defs": schema["$defs"]}).validate(sub["default"])


@pytest.mark.parametrize("kind", ["config", "policy"])
def test_every_example_is_a_valid_value_of_its_field(kind: str) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = committed(kind)
    for model, name, sub in properties(schema):
        for example in sub.get("examples", []):
            field = {k: v for k, v in sub.items() if k != "examples"}
            try:
                jsonschema.Draft202012Validator({**field, "$defs": schema["$defs"]}).validate(example)
            except jsonschema.ValidationError as exc:
                raise AssertionError(f"{model}.{name}: example {example!r}: {exc.message}") from None


def test_every_bounded_config_field_states_its_bound() -> None:
    # tokens: Tokens = at most 1e17 (the README's "Bounds"); the hover text says so, with the reason
    bounded = [(m, p, sub) for m, p, sub in properties(committed("config")) if '"maximum"' in json.dumps(sub)]
    assert bounded
    missing = [f"{m}.{p}" for m, p, sub in bounded if "at most " not in sub["description"]]
    assert not missing, f"bounded fields whose description omits the bound: {missing}"
    tokens = committed("config")["$defs"]["Stage"]["properties"]["tokens"]["description"]
    assert tokens.endswith("at most 1e17 (3,000x the largest published training sets, about 3.6e13 tokens)")
