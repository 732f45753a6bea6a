"""The filter language of docs/triggers.md: tables per operator, errors, and a property test against
an independent reference interpreter."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventwire.core.triggers.filters import FilterError, compile_filter
from tests.core.triggers.reference_filter import matches as reference

DOC: dict[str, Any] = {
    "event": {
        "type": "order.completed",
        "properties": {
            "total": 60,
            "price": 59.5,
            "currency": "EUR",
            "gift": False,
            "note": None,
            "tags": ["sale", "new"],
            "scores": [70, 85, 92],
            "items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 3}],
            "matrix": [[1, 2], [3]],
        },
    },
    "session": {
        "attributes": {"url": "https://shop.example.com/Checkout?step=2"},
        "event_count": 4,
    },
    "profile": {"points": 120, "badges": ["gold"], "segments": [], "traits": {"tier": "vip"}},
}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # implicit $eq, numbers across int and float, booleans apart
        ({"event.properties.total": 60}, True),
        ({"event.properties.total": 60.0}, True),
        ({"event.properties.total": "60"}, False),
        ({"event.properties.gift": False}, True),
        ({"event.properties.gift": 0}, False),
        ({"event.properties.total": True}, False),
        # arrays: any element, or the whole array
        ({"event.properties.tags": "sale"}, True),
        ({"event.properties.tags": ["sale", "new"]}, True),
        ({"event.properties.tags": ["new", "sale"]}, False),
        ({"event.properties.items.sku": "B"}, True),
        ({"event.properties.items.1.sku": "B"}, True),
        ({"event.properties.items.0.sku": "B"}, False),
        ({"event.properties.matrix": [3]}, True),
        ({"event.properties.matrix": 3}, False),
        # null and missing
        ({"event.properties.note": None}, True),
        ({"event.properties.nothing": None}, True),
        ({"event.properties.total": None}, False),
        ({"event.properties.nothing": {"$ne": 5}}, True),
        ({"event.properties.nothing": {"$nin": [5]}}, True),
        ({"event.properties.nothing": {"$gt": 0}}, False),
        ({"event.properties.nothing": {"$exists": False}}, True),
        ({"event.properties.note": {"$exists": True}}, True),
        ({"event.properties.total": {"$exists": False}}, False),
        # $eq $ne
        ({"event.properties.currency": {"$eq": "EUR"}}, True),
        ({"event.properties.currency": {"$ne": "EUR"}}, False),
        ({"event.properties.tags": {"$ne": "sale"}}, False),
        ({"event.properties.tags": {"$ne": "old"}}, True),
        # ordering, within type brackets only
        ({"event.properties.total": {"$gt": 59}}, True),
        ({"event.properties.total": {"$gte": 60, "$lt": 61}}, True),
        ({"event.properties.total": {"$lte": 59.99}}, False),
        ({"event.properties.total": {"$gt": "1"}}, False),
        ({"event.properties.currency": {"$gt": "A"}}, True),
        ({"event.properties.currency": {"$gt": 1}}, False),
        ({"event.properties.gift": {"$lt": True}}, True),
        ({"event.properties.scores": {"$gt": 90}}, True),
        ({"event.properties.scores": {"$gt": 92}}, False),
        ({"event.properties.scores": {"$gt": 80, "$lt": 75}}, True),  # different elements may match
        ({"profile.points": {"$gte": 100}}, True),
        # $in $nin
        ({"event.properties.currency": {"$in": ["USD", "EUR"]}}, True),
        ({"event.properties.currency": {"$in": []}}, False),
        ({"event.properties.tags": {"$in": ["x", "new"]}}, True),
        ({"event.properties.nothing": {"$in": [None]}}, True),
        ({"event.properties.currency": {"$nin": ["USD"]}}, True),
        ({"event.properties.tags": {"$nin": ["new"]}}, False),
        # $regex (RE2)
        ({"session.attributes.url": {"$regex": "checkout"}}, False),
        ({"session.attributes.url": {"$regex": "checkout", "$options": "i"}}, True),
        ({"session.attributes.url": {"$regex": "^https://"}}, True),
        ({"event.properties.tags": {"$regex": "^ne"}}, True),
        ({"event.properties.total": {"$regex": "60"}}, False),
        # $size $all $elemMatch
        ({"event.properties.tags": {"$size": 2}}, True),
        ({"event.properties.tags": {"$size": 3}}, False),
        ({"profile.segments": {"$size": 0}}, True),
        ({"event.properties.currency": {"$size": 1}}, False),
        ({"event.properties.tags": {"$all": ["new", "sale"]}}, True),
        ({"event.properties.tags": {"$all": ["new", "old"]}}, False),
        ({"event.properties.tags": {"$all": []}}, False),
        ({"event.properties.currency": {"$all": ["EUR"]}}, True),
        ({"event.properties.scores": {"$elemMatch": {"$gt": 80, "$lt": 90}}}, True),
        ({"event.properties.scores": {"$elemMatch": {"$gt": 80, "$lt": 84}}}, False),
        ({"event.properties.items": {"$elemMatch": {"sku": "B", "qty": {"$gte": 2}}}}, True),
        ({"event.properties.items": {"$elemMatch": {"sku": "A", "qty": {"$gte": 2}}}}, False),
        # $not
        ({"event.properties.total": {"$not": {"$gt": 100}}}, True),
        ({"event.properties.total": {"$not": {"$gt": 10}}}, False),
        ({"event.properties.nothing": {"$not": {"$gt": 10}}}, True),
        ({"event.properties.currency": {"$not": "^E"}}, False),
        # logic
        ({"$and": [{"profile.points": {"$gt": 100}}, {"profile.badges": "gold"}]}, True),
        ({"$and": [{"profile.points": {"$gt": 100}}, {"profile.badges": "silver"}]}, False),
        ({"$or": [{"profile.points": {"$gt": 1000}}, {"profile.badges": "gold"}]}, True),
        ({"$or": [{"profile.points": {"$gt": 1000}}, {"profile.badges": "silver"}]}, False),
        ({"$nor": [{"profile.points": {"$gt": 1000}}, {"profile.badges": "silver"}]}, True),
        ({"$nor": [{"profile.traits.tier": "vip"}]}, False),
        (
            {
                "$or": [
                    {"$and": [{"event.type": "order.completed"}, {"profile.traits.tier": "vip"}]},
                    {"$nor": [{"session.event_count": {"$gte": 1}}]},
                ]
            },
            True,
        ),
        ({}, True),
    ],
)
def test_operators(spec, expected):
    compiled = compile_filter(spec)
    assert compiled.match(DOC) is expected
    assert reference(spec, DOC) is expected
    assert (compiled.explain(DOC) == []) is expected


DAY = 86_400_000
NOW = 100 * DAY
HISTORY_DOC = {
    **DOC,
    "now": NOW,
    "history": {"order.completed": [NOW - 40 * DAY, NOW - 2 * DAY, NOW - DAY, NOW]},
}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"$history": {"type": "order.completed", "within": "30d", "count": {"$gte": 3}}}, True),
        ({"$history": {"type": "order.completed", "within": "30d", "count": 3}}, True),
        ({"$history": {"type": "order.completed", "within": "1d", "count": {"$gte": 3}}}, False),
        ({"$history": {"type": "order.completed", "within": "90d", "count": 4}}, True),
        ({"$history": {"type": "page.viewed", "within": "90d", "count": 0}}, True),
        (
            {
                "$and": [
                    {"$history": {"type": "order.completed", "within": "7d", "count": {"$gt": 1}}},
                    {"profile.points": {"$gt": 100}},
                ]
            },
            True,
        ),
    ],
)
def test_history(spec, expected):
    compiled = compile_filter(spec)
    assert compiled.match(HISTORY_DOC) is expected
    assert reference(spec, HISTORY_DOC) is expected


def test_history_types_are_known_at_compile_time():
    compiled = compile_filter(
        {
            "$or": [
                {"$history": {"type": "a", "within": "1d", "count": 1}},
                {"$history": {"type": "b", "within": "1d", "count": 1}},
            ]
        }
    )
    assert compiled.history_types == {"a", "b"}


def test_explain_names_each_failed_condition():
    compiled = compile_filter(
        {
            "event.properties.total": {"$gte": 100},
            "profile.badges": "silver",
            "profile.points": {"$gt": 1},
        }
    )
    assert [f.as_dict() for f in compiled.explain(DOC)] == [
        {
            "path": "event.properties.total",
            "operator": "$gte",
            "message": "event.properties.total is 60; expected $gte 100",
        },
        {
            "path": "profile.badges",
            "operator": "$eq",
            "message": "profile.badges is ['gold']; expected $eq 'silver'",
        },
    ]
    assert compile_filter({"event.x": {"$exists": True}}).explain(DOC)[0].message == (
        "event.x is missing; expected $exists True"
    )


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"$where": "1"}, "when.$where: unknown operator $where"),
        ({"event.a": {"$near": 1}}, "when.event.a.$near: unknown operator $near"),
        ({"customer.a": 1}, "bad path 'customer.a'"),
        ({"event": 1}, "bad path 'event'"),
        ({"event..a": 1}, "bad path 'event..a'"),
        ({"event.a": {"$gt": [1]}}, "$gt compares with a number, string or boolean"),
        ({"event.a": {"$in": 1}}, "$in takes a list"),
        ({"event.a": {"$exists": 1}}, "$exists takes true or false"),
        ({"event.a": {"$size": -1}}, "$size takes a whole number"),
        ({"event.a": {"$regex": "(?=x)"}}, "$regex does not compile in RE2"),
        ({"event.a": {"$regex": "x", "$options": "g"}}, "$options takes any of i, m, s"),
        ({"event.a": {"$options": "i"}}, "$options goes with $regex"),
        ({"event.a": {"$not": 5}}, "$not takes an operator object"),
        ({"event.a": {"$gt": 1, "b": 2}}, "do not mix operators and fields"),
        ({"$and": []}, "$and takes a non-empty list"),
        ({"$or": {"a": 1}}, "$or takes a non-empty list"),
        ({"$history": {"type": "x", "within": "soon", "count": 1}}, "not a duration"),
        ({"$history": {"type": "x", "within": "1d"}}, "$history.count is required"),
        ([1], "a filter is an object"),
    ],
)
def test_invalid_filters_name_the_problem(spec, problem):
    with pytest.raises(FilterError) as caught:
        compile_filter(spec)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_at_once():
    with pytest.raises(FilterError) as caught:
        compile_filter({"$where": 1, "bad.path": 1, "event.a": {"$gt": [], "$size": "x"}})
    assert len(caught.value.problems) == 4


def test_regex_runs_in_linear_time():
    compiled = compile_filter({"event.s": {"$regex": "^(a+)+$"}})
    assert compiled.match({"event": {"s": "a" * 100_000 + "b"}}) is False


# --- property: the compiled filter agrees with the reference interpreter ------------------

KEYS = ["a", "b", "c"]
scalars = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.5, 1.0, 2.5, -1.0]),
    st.sampled_from(["x", "y", "ab", "B"]),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)
    ),
    max_leaves=8,
)
documents = st.fixed_dictionaries(
    {"event": st.dictionaries(st.sampled_from(KEYS), values, max_size=3)}
)
paths = st.lists(st.sampled_from([*KEYS, "0", "1"]), min_size=1, max_size=3).map(
    lambda parts: "event." + ".".join(parts)
)
operands = st.one_of(scalars, st.lists(scalars, max_size=2))
ordered = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, -1.0, "x", "ab", True]))
conditions = st.one_of(
    operands,
    st.fixed_dictionaries({"$eq": operands}),
    st.fixed_dictionaries({"$ne": operands}),
    st.fixed_dictionaries({"$in": st.lists(scalars, max_size=3)}),
    st.fixed_dictionaries({"$nin": st.lists(scalars, max_size=3)}),
    st.dictionaries(
        st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), ordered, min_size=1, max_size=1
    ),
    st.dictionaries(st.sampled_from(["$gt", "$lt"]), ordered, min_size=2, max_size=2),
    st.fixed_dictionaries({"$exists": st.booleans()}),
    st.fixed_dictionaries({"$size": st.integers(0, 3)}),
    st.fixed_dictionaries({"$all": st.lists(scalars, max_size=2)}),
    st.fixed_dictionaries({"$regex": st.sampled_from(["^a", "b$", "x", "[xy]"])}),
    st.fixed_dictionaries({"$regex": st.sampled_from(["^a", "b"]), "$options": st.just("i")}),
    st.fixed_dictionaries({"$not": st.fixed_dictionaries({"$gt": ordered})}),
    st.fixed_dictionaries({"$elemMatch": st.fixed_dictionaries({"$gte": st.integers(-3, 3)})}),
)
field_filters = st.dictionaries(paths, conditions, min_size=1, max_size=2)
filters = st.recursive(
    field_filters,
    lambda inner: st.dictionaries(
        st.sampled_from(["$and", "$or", "$nor"]),
        st.lists(inner, min_size=1, max_size=3),
        min_size=1,
        max_size=1,
    ),
    max_leaves=4,
)


@settings(max_examples=600, deadline=None)
@given(spec=filters, doc=documents)
def test_compiled_filters_agree_with_the_reference(spec, doc):
    compiled = compile_filter(spec)
    assert compiled.match(doc) == reference(spec, doc)
    assert (compiled.explain(doc) == []) == compiled.match(doc)
