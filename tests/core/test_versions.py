"""Definition versions, the breaking-change report, the JSON Schema view (docs/definitions.md)."""

import pytest

from eventwire.core.definitions.breaking import breaking_changes
from eventwire.core.definitions.json_schema import definition_schema
from eventwire.core.definitions.spec import DefinitionSpec
from eventwire.core.registry import Registry


def spec(*fields, additional="reject", description=None):
    return DefinitionSpec.model_validate(
        {
            "name": "order.completed",
            "fields": list(fields),
            "additional_fields": additional,
            "description": description,
        }
    )


TOTAL = {"name": "total", "type": "number", "required": True}


def test_a_changed_definition_is_version_two_and_version_one_stays_readable():
    registry, first = Registry().with_definition(spec(TOTAL))
    registry, second = registry.with_definition(spec(TOTAL, {"name": "note", "type": "string"}))
    assert (first.version, first.created) == (1, True)
    assert (second.version, second.created) == (2, True)
    assert second.breaking == []
    latest, v1, v2 = (
        registry.definition("order.completed"),
        registry.version("order.completed", 1),
        registry.version("order.completed", 2),
    )
    assert latest is not None
    assert v1 is not None
    assert v2 is not None
    assert latest.version == 2
    assert v1.validate({"total": 1}, "p") == []
    assert v1.validate({"total": 1, "note": "x"}, "p") != []
    assert v2.validate({"total": 1, "note": "x"}, "p") == []
    assert registry.version("order.completed", 3) is None


def test_same_fields_or_only_a_new_description_is_not_a_new_version():
    registry, _ = Registry().with_definition(spec(TOTAL))
    same, change = registry.with_definition(spec(TOTAL, description="now documented"))
    assert (change.version, change.created) == (1, False)
    assert same is registry


NOTE = {"name": "note", "type": "string"}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (spec(TOTAL), spec(TOTAL, NOTE), []),
        (
            spec(TOTAL),
            spec(TOTAL, {**NOTE, "required": True}),
            ["properties.note: new required field"],
        ),
        (spec(TOTAL, NOTE), spec(TOTAL), ["properties.note: field removed (now an unknown field)"]),
        (spec(TOTAL, NOTE, additional="allow"), spec(TOTAL, additional="allow"), []),
        (
            spec(TOTAL, additional="allow"),
            spec(TOTAL),
            ["properties: additional fields now rejected"],
        ),
        (
            spec(TOTAL, NOTE),
            spec(TOTAL, {**NOTE, "required": True}),
            ["properties.note: now required"],
        ),
        (spec({**TOTAL, "type": "integer"}), spec(TOTAL), []),
        (
            spec(TOTAL),
            spec({**TOTAL, "type": "integer"}),
            ["properties.total: type changed from number to integer"],
        ),
        (spec(TOTAL), spec({**TOTAL, "minimum": 0}), ["properties.total: minimum raised to 0"]),
        (spec({**TOTAL, "minimum": 5}), spec({**TOTAL, "minimum": 0}), []),
        (
            spec({**TOTAL, "maximum": 5}),
            spec({**TOTAL, "maximum": 4}),
            ["properties.total: maximum lowered to 4"],
        ),
        (
            spec({**NOTE, "enum": ["a", "b"]}),
            spec({**NOTE, "enum": ["a"]}),
            ["properties.note: enum allows fewer values"],
        ),
        (spec({**NOTE, "enum": ["a"]}), spec({**NOTE, "enum": ["a", "b"]}), []),
        (
            spec(NOTE),
            spec({**NOTE, "pattern": "^a"}),
            ["properties.note: pattern added or changed"],
        ),
        (
            spec({**NOTE, "max_length": 9}),
            spec({**NOTE, "max_length": 3}),
            ["properties.note: max_length lowered to 3"],
        ),
        (
            spec({"name": "items", "type": "array", "items": {"type": "object", "fields": [NOTE]}}),
            spec(
                {
                    "name": "items",
                    "type": "array",
                    "items": {"type": "object", "fields": [{**NOTE, "required": True}]},
                }
            ),
            ["properties.items.*.note: now required"],
        ),
    ],
)
def test_breaking_changes(old, new, expected):
    assert breaking_changes(old, new) == expected


def test_json_schema_view():
    schema = definition_schema(
        spec(
            {**TOTAL, "minimum": 0},
            {"name": "when", "type": "date"},
            {
                "name": "tags",
                "type": "array",
                "max_length": 3,
                "items": {"type": "string", "enum": ["a"]},
            },
            description="Paid.",
        ),
        2,
    )
    assert schema == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "order.completed",
        "description": "Paid.",
        "x-eventwire-version": 2,
        "type": "object",
        "properties": {
            "total": {"type": "number", "minimum": 0},
            "when": {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]},
            "tags": {"type": "array", "maxItems": 3, "items": {"type": "string", "enum": ["a"]}},
        },
        "required": ["total"],
        "additionalProperties": False,
    }
