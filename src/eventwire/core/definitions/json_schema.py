"""The JSON Schema (2020-12) view of a definition's properties (``GET .../schema``)."""

from __future__ import annotations

from typing import Any

from eventwire.core.definitions.spec import Additional, DefinitionSpec, ItemSpec

_TYPES = {
    "string": "string",
    "number": "number",
    "integer": "integer",
    "boolean": "boolean",
    "date": "string",
    "object": "object",
    "array": "array",
}


def definition_schema(spec: DefinitionSpec, version: int) -> dict[str, Any]:
    schema = _item_schema(spec.as_object(), "reject")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = spec.name
    schema["x-eventwire-version"] = version
    if spec.description:
        schema["description"] = spec.description
    return schema


def _item_schema(spec: ItemSpec, inherited: Additional) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _TYPES[spec.type]}
    if spec.description:
        schema["description"] = spec.description
    if spec.type == "date":
        schema["anyOf"] = [{"format": "date"}, {"format": "date-time"}]
    if spec.enum is not None:
        schema["enum"] = list(spec.enum)
    if spec.minimum is not None:
        schema["minimum"] = spec.minimum
    if spec.maximum is not None:
        schema["maximum"] = spec.maximum
    if spec.pattern is not None:
        schema["pattern"] = spec.pattern
    if spec.max_length is not None:
        schema["maxLength" if spec.type == "string" else "maxItems"] = spec.max_length
    if spec.type == "object" and spec.fields is not None:
        extra = spec.additional_fields or inherited
        schema["properties"] = {f.name: _item_schema(f, extra) for f in spec.fields}
        schema["required"] = [f.name for f in spec.fields if f.required]
        schema["additionalProperties"] = extra == "allow"
    if spec.type == "array" and spec.items is not None:
        schema["items"] = _item_schema(spec.items, inherited)
    return schema
