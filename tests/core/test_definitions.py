"""Every type and constraint of docs/definitions.md: tables of properties → reasons (code, path)."""

import pytest
from pydantic import ValidationError

from eventwire.core.definitions.compiler import compile_definition
from eventwire.core.definitions.spec import DefinitionSpec

ORDER = DefinitionSpec.model_validate(
    {
        "name": "order.completed",
        "fields": [
            {"name": "order_id", "type": "string", "required": True, "max_length": 8},
            {"name": "total", "type": "number", "required": True, "minimum": 0, "maximum": 1000},
            {"name": "count", "type": "integer", "minimum": 1},
            {"name": "gift", "type": "boolean"},
            {"name": "placed_on", "type": "date"},
            {"name": "currency", "type": "string", "enum": ["EUR", "USD"]},
            {"name": "rating", "type": "integer", "enum": [1, 2, 3]},
            {"name": "code", "type": "string", "pattern": "^[A-Z]{3}$"},
            {"name": "tags", "type": "array", "max_length": 2, "items": {"type": "string"}},
            {
                "name": "items",
                "type": "array",
                "items": {
                    "type": "object",
                    "fields": [
                        {"name": "sku", "type": "string", "required": True},
                        {"name": "qty", "type": "integer", "minimum": 1},
                    ],
                },
            },
            {
                "name": "address",
                "type": "object",
                "additional_fields": "allow",
                "fields": [{"name": "city", "type": "string", "required": True}],
            },
            {"name": "meta", "type": "object"},
            {"name": "anything", "type": "array"},
        ],
    }
)
VALIDATOR = compile_definition(ORDER, 1)
BASE = {"order_id": "A1", "total": 10}


def reasons(props, prefix="properties"):
    return [(r.code.value, r.field) for r in VALIDATOR.validate(props, prefix)]


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"total": 0},
        {"total": 1000},
        {"total": 12.5},
        {"count": 3},
        {"gift": False},
        {"placed_on": "2026-11-24"},
        {"placed_on": "2026-11-24T09:00:00Z"},
        {"placed_on": "2026-11-24T09:00:00.123+02:00"},
        {"currency": "USD"},
        {"rating": 2},
        {"code": "ABC"},
        {"tags": ["a", "b"]},
        {"items": [{"sku": "x"}, {"sku": "y", "qty": 2}]},
        {"address": {"city": "Oslo", "zip": "0150"}},
        {"meta": {"free": {"form": [1]}}},
        {"anything": [1, "two", None]},
        {"order_id": "12345678"},
    ],
)
def test_valid(extra):
    assert reasons({**BASE, **extra}) == []


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"total": 1}, [("missing_field", "properties.order_id")]),
        ({}, [("missing_field", "properties.order_id"), ("missing_field", "properties.total")]),
        ({**BASE, "total": "12"}, [("wrong_type", "properties.total")]),
        ({**BASE, "total": True}, [("wrong_type", "properties.total")]),
        ({**BASE, "total": None}, [("wrong_type", "properties.total")]),
        ({**BASE, "total": -1}, [("invalid_value", "properties.total")]),
        ({**BASE, "total": 1000.5}, [("invalid_value", "properties.total")]),
        ({**BASE, "count": 1.5}, [("wrong_type", "properties.count")]),
        ({**BASE, "count": 2.0}, [("wrong_type", "properties.count")]),
        ({**BASE, "count": "2"}, [("wrong_type", "properties.count")]),
        ({**BASE, "count": 0}, [("invalid_value", "properties.count")]),
        ({**BASE, "gift": "true"}, [("wrong_type", "properties.gift")]),
        ({**BASE, "gift": 1}, [("wrong_type", "properties.gift")]),
        ({**BASE, "placed_on": "24/11/2026"}, [("invalid_value", "properties.placed_on")]),
        ({**BASE, "placed_on": "2026-13-01"}, [("invalid_value", "properties.placed_on")]),
        ({**BASE, "placed_on": "2026-11-24T09:00:00"}, [("invalid_value", "properties.placed_on")]),
        ({**BASE, "placed_on": 1732438800000}, [("wrong_type", "properties.placed_on")]),
        ({**BASE, "currency": "NOK"}, [("invalid_value", "properties.currency")]),
        ({**BASE, "currency": 1}, [("wrong_type", "properties.currency")]),
        ({**BASE, "rating": 4}, [("invalid_value", "properties.rating")]),
        ({**BASE, "rating": True}, [("wrong_type", "properties.rating")]),
        ({**BASE, "code": "abc"}, [("invalid_value", "properties.code")]),
        ({**BASE, "code": "ABCD"}, [("invalid_value", "properties.code")]),
        ({**BASE, "order_id": "123456789"}, [("invalid_value", "properties.order_id")]),
        ({**BASE, "tags": ["a", "b", "c"]}, [("invalid_value", "properties.tags")]),
        ({**BASE, "tags": ["a", 2]}, [("wrong_type", "properties.tags.1")]),
        ({**BASE, "tags": "a"}, [("wrong_type", "properties.tags")]),
        (
            {**BASE, "items": [{"sku": "a"}, {"sku": "b"}, {"qty": 1}]},
            [("missing_field", "properties.items.2.sku")],
        ),
        (
            {**BASE, "items": [{"sku": "a"}, {"sku": "b"}, {"sku": 7, "qty": 0}]},
            [("wrong_type", "properties.items.2.sku"), ("invalid_value", "properties.items.2.qty")],
        ),
        (
            {**BASE, "items": [{"sku": "a", "colour": "red"}]},
            [("unknown_field", "properties.items.0.colour")],
        ),
        ({**BASE, "items": ["a"]}, [("wrong_type", "properties.items.0")]),
        ({**BASE, "address": {"zip": "1"}}, [("missing_field", "properties.address.city")]),
        ({**BASE, "address": "Oslo"}, [("wrong_type", "properties.address")]),
        ({**BASE, "meta": []}, [("wrong_type", "properties.meta")]),
        ({**BASE, "surprise": 1}, [("unknown_field", "properties.surprise")]),
        (
            {"order_id": 5, "total": "x", "surprise": 1, "currency": "NOK"},
            [
                ("wrong_type", "properties.order_id"),
                ("wrong_type", "properties.total"),
                ("invalid_value", "properties.currency"),
                ("unknown_field", "properties.surprise"),
            ],
        ),
    ],
)
def test_violations(props, expected):
    assert sorted(reasons(props)) == sorted(expected)


def test_paths_take_the_format_prefix():
    assert reasons({"total": 1}, "events.3.properties") == [
        ("missing_field", "events.3.properties.order_id")
    ]
    assert reasons({"total": 1}, "") == [("missing_field", "order_id")]


def test_messages_are_human_and_never_echo_the_value():
    [reason] = VALIDATOR.validate({**BASE, "currency": "s3cr3t-value"}, "properties")
    assert "must be one of" in reason.message
    assert "s3cr3t-value" not in reason.message


def test_additional_fields_allow_at_top_level():
    spec = DefinitionSpec(name="x", additional_fields="allow", fields=[])
    assert compile_definition(spec, 1).validate({"anything": 1}, "properties") == []


def test_nested_objects_inherit_additional_fields_unless_they_say_otherwise():
    spec = DefinitionSpec.model_validate(
        {
            "name": "x",
            "additional_fields": "allow",
            "fields": [
                {"name": "a", "type": "object", "fields": []},
                {"name": "b", "type": "object", "fields": [], "additional_fields": "reject"},
            ],
        }
    )
    found = compile_definition(spec, 1).validate({"a": {"x": 1}, "b": {"y": 1}}, "p")
    assert [(r.code.value, r.field) for r in found] == [("unknown_field", "p.b.y")]


@pytest.mark.parametrize(
    ("field", "problem"),
    [
        ({"name": "a", "type": "boolean", "minimum": 1}, "minimum applies to number and integer"),
        ({"name": "a", "type": "number", "pattern": "x"}, "pattern applies to string"),
        (
            {"name": "a", "type": "integer", "max_length": 2},
            "max_length applies to string and array",
        ),
        ({"name": "a", "type": "string", "fields": []}, "fields applies to object"),
        ({"name": "a", "type": "string", "items": {"type": "string"}}, "items applies to array"),
        ({"name": "a", "type": "object", "enum": [1]}, "enum applies to"),
        (
            {"name": "a", "type": "integer", "enum": [1, "2"]},
            "every enum value must be of type integer",
        ),
        (
            {"name": "a", "type": "integer", "enum": [True]},
            "every enum value must be of type integer",
        ),
        (
            {"name": "a", "type": "number", "minimum": 5, "maximum": 1},
            "minimum is greater than maximum",
        ),
        ({"name": "a", "type": "string", "pattern": "(?=x)y"}, "pattern does not compile"),
        ({"name": "a", "type": "string", "pattern": "([a"}, "pattern does not compile"),
        ({"name": "a", "type": "text"}, "Input should be"),
        ({"name": "a.b", "type": "string"}, "String should match pattern"),
        ({"name": "a", "type": "string", "colour": 1}, "Extra inputs"),
    ],
)
def test_invalid_definitions_are_refused_with_the_problem(field, problem):
    with pytest.raises(ValidationError) as caught:
        DefinitionSpec.model_validate({"name": "x", "fields": [field]})
    assert problem in str(caught.value)


def test_every_problem_of_a_definition_is_named():
    with pytest.raises(ValidationError) as caught:
        DefinitionSpec.model_validate(
            {
                "name": "bad name!",
                "fields": [
                    {"name": "a", "type": "text"},
                    {"name": "b", "type": "boolean", "minimum": 1, "pattern": "x"},
                ],
            }
        )
    text = str(caught.value)
    assert caught.value.error_count() == 3
    assert "minimum applies" in text
    assert "pattern applies" in text


def test_duplicate_field_names_are_refused():
    with pytest.raises(ValidationError, match="unique"):
        DefinitionSpec.model_validate(
            {
                "name": "x",
                "fields": [{"name": "a", "type": "string"}, {"name": "a", "type": "string"}],
            }
        )
