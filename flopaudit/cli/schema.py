"""``flopaudit schema config|policy``: the JSON Schema of a config or policy file (for editors)."""

from __future__ import annotations

import json

import click


def json_schema(kind: str) -> dict:
    """The JSON Schema (draft 2020-12) of a config or a policy file."""
    if kind == "config":
        from flopaudit.config.models import Config as Model
        title = "flopaudit audit config"
    else:
        from flopaudit.policy.models import Policy as Model  # type: ignore[assignment]
        title = "flopaudit policy"
    schema = Model.model_json_schema()
    schema["title"] = title
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


@click.command()
@click.argument("kind", type=click.Choice(["config", "policy"]))
def schema(kind: str) -> None:
    """Print the JSON Schema of a config or a policy file."""
    click.echo(json.dumps(json_schema(kind), indent=2, sort_keys=True))
