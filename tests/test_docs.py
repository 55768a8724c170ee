"""The project documents itself: every config field is in docs/config.md, and the docs link only inside the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def schema_fields(node: object, defs: dict, seen: set[str] | None = None) -> set[str]:
    """Every property name of the JSON Schema, through $ref, anyOf and items."""
    seen = set() if seen is None else seen
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name not in seen:
                seen.add(name)
                found |= schema_fields(defs[name], defs, seen)
        for key, value in node.get("properties", {}).items():
            found.add(key)
            found |= schema_fields(value, defs, seen)
        for key in ("anyOf", "oneOf", "allOf", "items", "additionalProperties"):
            child = node.get(key)
            for item in child if isinstance(child, list) else [child]:
                found |= schema_fields(item, defs, seen)
    return found


def test_every_config_field_is_documented() -> None:
    schema = json.loads((ROOT / "schema/config.schema.json").read_text())
    fields = schema_fields(schema, schema.get("$defs", {}))
    assert {"model", "training", "training_config", "decoder_length", "counting"} <= fields
    text = "\n".join(p.read_text() for p in (DOCS / "config.md", DOCS / "architecture.md"))
    # a field is documented where it appears as a YAML key ("name:") or in backquotes
    undocumented = sorted(f for f in fields
                          if not re.search(rf"(^|[\s{{,])({re.escape(f)}):|`{re.escape(f)}`", text, re.MULTILINE))
    assert not undocumented, f"fields of schema/config.schema.json missing from docs/config.md: {undocumented}"


def test_readme_and_docs_never_send_readers_outside_the_repository() -> None:
    # users of the repository never see ../shared/: the reference lives in docs/
    for path in [ROOT / "README.md", *DOCS.glob("*.md")]:
        text = path.read_text()
        assert "shared/spec" not in text and "shared/research" not in text, path
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (path.parent / target).exists(), f"{path.name} links to a missing {target}"


def test_every_built_in_policy_is_in_the_results_reference() -> None:
    ids = sorted(p.stem for p in (ROOT / "policies").glob("*.yaml"))
    text = (DOCS / "results.md").read_text()
    assert ids and not [i for i in ids if f"| `{i}` |" not in text]


def test_every_command_is_in_the_results_reference() -> None:
    from flopaudit.cli.app import COMMANDS

    text = (DOCS / "results.md").read_text()
    assert not [name for name in COMMANDS if f"`flopaudit {name}" not in text]


def test_test_files_have_unique_names() -> None:
    # pytest imports test modules by basename (no packages): two test_x.py in different folders break collection
    names = [p.name for p in (ROOT / "tests").rglob("test_*.py")]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
