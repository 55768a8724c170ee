"""Enums in the JSON Schema from the runtime tables, so an editor completes names and the schema never drifts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def enum_of(values: Callable[[], Sequence[str]], *, also: str | None = None) -> Callable[[dict[str, Any]], None]:
    """A JSON Schema hook: the field's string (or its items' strings) offered as ``enum`` of ``values()``.

    With ``also``, the names stay a completion list beside any other string (described by ``also``),
    because the loader accepts more spellings than the table lists; without it the enum is exact.
    ``values`` is called when the schema is generated, so the schema always equals the runtime table.
    """
    def offer(node: dict[str, Any]) -> None:
        names = list(values())
        strings: list[dict[str, Any]] = [{"type": "string", "enum": names}]
        if also:
            strings.append({"type": "string", "description": also})
        if node.get("type") == "array":
            offer(node["items"])
        elif "anyOf" in node:
            branches: list[dict[str, Any]] = []
            for branch in node["anyOf"]:
                if branch.get("type") == "string":
                    branches += strings
                else:
                    if branch.get("type") == "array":
                        offer(branch)
                    branches.append(branch)
            node["anyOf"] = branches
        elif node.get("type") == "string":
            if also:
                del node["type"]
                node["anyOf"] = strings
            else:
                node["enum"] = names

    return offer
