"""A profile as other systems see it: an Arrow schema, or a JSON Schema document.

Decimals with a declared ``scale`` become Arrow decimals (exact money); without
one they become float64. Dates and datetimes become Arrow dates and timestamps.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from atomnb.profiles.model import Element, ElementType, Profile

__all__ = ["arrow_type", "to_arrow_schema", "to_json_schema"]

DECIMAL_PRECISION = 38


def arrow_type(element: Element) -> pa.DataType:
    """The Arrow type of one element (a list type when it repeats)."""
    if element.type is ElementType.RECORD:
        base: pa.DataType = pa.struct([pa.field(c.name, arrow_type(c)) for c in element.children])
    else:
        base = _scalar(element)
    return pa.list_(base) if element.repeating else base


def _scalar(element: Element) -> pa.DataType:
    match element.type:
        case ElementType.STRING:
            return pa.string()
        case ElementType.INTEGER:
            return pa.int64()
        case ElementType.DECIMAL:
            if element.scale is not None:
                return pa.decimal128(DECIMAL_PRECISION, element.scale)
            return pa.float64()
        case ElementType.BOOLEAN:
            return pa.bool_()
        case ElementType.DATE:
            return pa.date32()
        case ElementType.DATETIME:
            zoned = element.mask is None or "%z" in element.mask
            return pa.timestamp("us", tz="UTC" if zoned else None)
        case ElementType.TIME:
            return pa.time64("us")
        case _:
            raise AssertionError(element.type)


def to_arrow_schema(profile: Profile) -> pa.Schema:
    return pa.schema([pa.field(e.name, arrow_type(e)) for e in profile.elements])


_JSON_TYPES = {
    ElementType.STRING: {"type": "string"},
    ElementType.INTEGER: {"type": "integer"},
    ElementType.DECIMAL: {"type": "number"},
    ElementType.BOOLEAN: {"type": "boolean"},
    ElementType.DATE: {"type": "string", "format": "date"},
    ElementType.DATETIME: {"type": "string", "format": "date-time"},
    ElementType.TIME: {"type": "string", "format": "time"},
}


def _json_schema(element: Element) -> dict[str, Any]:
    if element.type is ElementType.RECORD:
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {c.name: _json_schema(c) for c in element.children},
        }
        required = [c.name for c in element.children if c.mandatory]
        if required:
            schema["required"] = required
    else:
        schema = dict(_JSON_TYPES[element.type])
        if element.min_length is not None:
            schema["minLength"] = element.min_length
        if element.max_length is not None:
            schema["maxLength"] = element.max_length
        if element.enum is not None:
            schema["enum"] = list(element.enum)
    if not element.mandatory:
        schema = {"anyOf": [schema, {"type": "null"}]} if not element.repeating else schema
    if element.description:
        schema["description"] = element.description
    if element.repeating:
        array: dict[str, Any] = {"type": "array", "items": schema}
        if element.min_occurs:
            array["minItems"] = element.min_occurs
        if element.max_occurs is not None:
            array["maxItems"] = element.max_occurs
        return array
    return schema


def to_json_schema(profile: Profile) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) describing one document of the profile."""
    root = Element(profile.name, ElementType.RECORD, children=profile.elements, mandatory=True)
    schema = _json_schema(root)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": profile.name,
        **schema,
    }
