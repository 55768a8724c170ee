"""Pydantic field types for config numbers (see :mod:`flopaudit.config.quantity`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, PlainSerializer, PlainValidator, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from flopaudit.config.quantity import Quantity, format_number, parse_count, parse_quantity

_NUMBER_TEXT = r"^\$?\s*[0-9.eE+_-]+\s*[KkMBGTPE]?(\s*\.\.\s*\$?\s*[0-9.eE+_-]+\s*[KkMBGTPE]?)?$"


def _serialize(q: Quantity) -> Any:
    return q.low if not q.is_range else f"{q.low!r}..{q.high!r}"


def _schema(description: str, allow_range: bool = True, money: bool = False) -> dict[str, Any]:
    pattern = _NUMBER_TEXT if allow_range else _NUMBER_TEXT.split("(\\s*\\.\\.")[0] + "$"
    if not money:
        pattern = pattern.replace(r"\$?\s*", "")
    return {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": pattern}],
            "description": description}


def _fraction(value: Any) -> Quantity:
    q = parse_quantity(value)
    if q.high > 1:
        raise ValueError(f"must be at most 1 (a fraction of peak), got {q}")
    return q


#: A positive number, SI suffix or ``low..high`` range allowed.
Num = Annotated[Quantity, PlainValidator(lambda v: parse_quantity(v)), PlainSerializer(_serialize),
                WithJsonSchema(_schema("A positive number: 405B, 15.6T, 3.8e25, or a range 14T..16T"))]
#: Money in USD: like :data:`Num`, and ``$500M`` is accepted.
Money = Annotated[Quantity, PlainValidator(lambda v: parse_quantity(v, money=True)), PlainSerializer(_serialize),
                  WithJsonSchema(_schema("US dollars: $500M, 5e8, or a range", money=True))]
#: A fraction in (0, 1], range allowed (utilisation).
Fraction = Annotated[Quantity, PlainValidator(_fraction), PlainSerializer(_serialize),
                     WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                                               {"type": "string", "pattern": r"^[0-9.]+(\s*\.\.\s*[0-9.]+)?$"}],
                                     "description": "A fraction of peak in (0, 1], or a range 0.38..0.43"})]
def _or_unknown(value: Any) -> Quantity | None:
    if value is None or (isinstance(value, str) and value.strip().lower() == "unknown"):
        return None
    return parse_quantity(value)


#: Like :data:`Num`, or the word ``unknown`` (read as None).
NumOrUnknown = Annotated[Quantity | None, PlainValidator(_or_unknown),
                         PlainSerializer(lambda q: "unknown" if q is None else _serialize(q)),
                         WithJsonSchema({"anyOf": [_schema("A positive number, or the word unknown"),
                                                   {"const": "unknown"}, {"type": "null"}]})]

#: A whole number >= 0 (SI suffix allowed, no range).
Count = Annotated[int, PlainValidator(lambda v: parse_count(v)),
                  WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0},
                                            {"type": "string", "pattern": r"^[0-9.]+[KkMBGTPE]?$"}]})]
#: A whole number >= 1 (SI suffix allowed, no range).
PosCount = Annotated[int, PlainValidator(lambda v: parse_count(v, allow_zero=False)),
                     WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1},
                                               {"type": "string", "pattern": r"^[0-9.]+[KkMBGTPE]?$"}]})]


@dataclass(frozen=True)
class AtMost:
    """Upper bound of a config number: ``Annotated[Num, AtMost(1e15, "why")]``.

    Every quantity has a physically meaningful range (README, "Bounds"): far above any real
    training run, far below where float arithmetic overflows. A value above it is a config error
    at the field's line, and the JSON Schema carries it as ``maximum``.
    """

    maximum: float
    why: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def _check(self, value: Any) -> Any:
        high = value.high if isinstance(value, Quantity) else value
        if high is not None and high > self.maximum:
            shown = value if isinstance(value, Quantity) else format_number(float(value))
            raise ValueError(f"must be at most {bound_text(self.maximum)} ({self.why}), got {shown}")
        return value

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = _with_maximum(dict(handler(schema)), self.maximum)
        described = out.get("description")
        out["description"] = (f"{described}; " if described else "") + \
            f"at most {bound_text(self.maximum)} ({self.why})"
        return out


def bound_text(x: float) -> str:
    """A bound as people write it: ``1e15``."""
    return f"{x:.0e}".replace("e+0", "e").replace("e+", "e")


def _with_maximum(schema: dict[str, Any], maximum: float) -> dict[str, Any]:
    """``schema`` with ``maximum`` on every numeric branch (nested ``anyOf`` included)."""
    if schema.get("type") in ("number", "integer"):
        return {**schema, "maximum": maximum}
    if "anyOf" in schema:
        return {**schema, "anyOf": [_with_maximum(dict(b), maximum) for b in schema["anyOf"]]}
    return schema
