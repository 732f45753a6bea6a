"""Draft definitions inferred from accepted events: types, required, enums, nested objects
and arrays, length hints, the counts beside each field, and a YAML draft that the config
format takes unchanged (and that accepts every event it was inferred from)."""

from __future__ import annotations

from eventwire.config_loader import load_yaml
from eventwire.core.definitions.compiler import compile_definition
from eventwire.core.definitions.infer import draft_yaml, infer_definition
from eventwire.core.definitions.spec import DefinitionSpec

EVENTS = [
    {
        "query": f"shoes size {i}",
        "results": i * 3,
        "score": 0.5 + i,
        "sort": ["relevance", "price", "newest"][i % 3],
        "logged_in": i % 2 == 0,
        "at": f"2026-11-2{i % 9}T10:00:00Z",
        "filters": {"brand": "acme", "max_price": 100} if i % 2 else {"brand": "zeta"},
        "tags": ["a", "b"][: i % 3],
        **({"coupon": "X1"} if i == 4 else {}),
        **({"odd name": 1} if i == 2 else {}),
    }
    for i in range(12)
]


def by_name(fields):
    return {f["name"]: f for f in fields}


def test_types_required_enums_and_nesting():
    draft = infer_definition("search.performed", EVENTS)
    d = draft.definition
    assert (d["name"], d["mode"], draft.events) == ("search.performed", "observe", 12)
    fields = by_name(d["fields"])
    assert fields["query"] == {
        "name": "query",
        "type": "string",
        "max_length": 64,
        "required": True,
    }
    assert fields["results"]["type"] == "integer"
    assert fields["score"]["type"] == "number"
    assert fields["sort"]["enum"] == ["newest", "price", "relevance"]
    assert fields["logged_in"]["type"] == "boolean"
    assert fields["at"]["type"] == "date"
    assert "required" not in fields["coupon"]
    brand, max_price = fields["filters"]["fields"]
    assert (brand["name"], brand["required"], brand["enum"]) == ("brand", True, ["acme", "zeta"])
    assert (max_price["type"], "required" in max_price) == ("integer", False)
    assert fields["tags"]["items"]["type"] == "string"
    assert draft.counts["coupon"].present == 1
    assert draft.counts["coupon"].total == 12
    assert draft.counts["filters.max_price"].present == 6
    assert draft.counts["sort"].distinct == 3
    assert draft.skipped == ["odd name"]


def test_mixed_types_take_the_most_common_and_say_what_else_was_seen():
    draft = infer_definition("t.x", [{"v": 1}, {"v": 2}, {"v": "three"}])
    [v] = draft.definition["fields"]
    assert v["type"] == "integer"
    assert draft.counts["v"].other_types == {"string": 1}


def test_the_yaml_draft_is_the_config_format_and_accepts_its_events():
    draft = infer_definition("search.performed", EVENTS)
    text = draft_yaml(draft, "the last 7 days")
    loaded = load_yaml(text)
    assert loaded == draft.definition
    spec = DefinitionSpec.model_validate(loaded)
    compiled = compile_definition(spec, 1)
    problems = [
        p
        for e in EVENTS
        for p in compiled.validate({k: v for k, v in e.items() if k != "odd name"}, "")
    ]
    assert problems == []
    assert "# 12/12, 12 distinct" in text
    assert "# skipped 'odd name'" in text
