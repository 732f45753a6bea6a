import pytest

from eventwire.core.triggers.expressions import ExpressionError, compile_expression

DOC = {
    "event": {
        "properties": {"total": 72.6, "qty": 3, "sku": "A-1", "items": [{"p": 2}], "zero": 0}
    },
    "profile": {"points": 40, "traits": {"tier": "gold"}},
    "session": {"attributes": {"url": "/x"}},
}


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        (10, 10),
        ("text", "text"),
        ("$$literal", "$literal"),
        (None, None),
        ("$event.properties.total", 72.6),
        ("$event.properties.items.0.p", 2),
        ("$profile.traits.tier", "gold"),
        ("$session.attributes.url", "/x"),
        ("$event.properties.missing", None),
        ({"$add": ["$event.properties.qty", 2, 0.5]}, 5.5),
        ({"$add": ["$profile.points", "$event.properties.qty"]}, 43),
        ({"$subtract": ["$profile.points", 15]}, 25),
        ({"$multiply": ["$event.properties.qty", 2.5]}, 7.5),
        ({"$multiply": [2, 3]}, 6),
        ({"$divide": [10, 4]}, 2.5),
        ({"$divide": [10, 5]}, 2),
        ({"$divide": [1, "$event.properties.zero"]}, None),
        ({"$round": "$event.properties.total"}, 73),
        ({"$round": [72.6251, 2]}, 72.63),
        ({"$round": 2.5}, 2),  # half to even, as MongoDB
        ({"$floor": "$event.properties.total"}, 72),
        ({"$ceil": "$event.properties.total"}, 73),
        ({"$add": ["$event.properties.sku", 1]}, None),
        ({"$add": ["$event.properties.missing", 1]}, None),
        ({"$round": {"$multiply": ["$event.properties.total", 1.5]}}, 109),
        (
            {"sku": "$event.properties.sku", "double": {"$multiply": ["$event.properties.qty", 2]}},
            {"sku": "A-1", "double": 6},
        ),
        (["$event.properties.qty", "x"], [3, "x"]),
    ],
)
def test_values(spec, value):
    assert compile_expression(spec, "amount")(DOC) == value


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("$customer.x", "amount: bad reference '$customer.x'"),
        ("$event", "bad reference '$event'"),
        ({"$pow": [2, 3]}, "unknown expression operator $pow"),
        ({"$add": [1]}, "amount.$add: takes 2 to any arguments, got 1"),
        ({"$divide": [1, 2, 3]}, "amount.$divide: takes 2 arguments, got 3"),
        ({"$add": [1, 2], "$subtract": [1, 2]}, "exactly one operator"),
        ({"$add": ["$nowhere.a", 1]}, "amount.$add.0: bad reference"),
    ],
)
def test_problems(spec, problem):
    with pytest.raises(ExpressionError) as caught:
        compile_expression(spec, "amount")
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_nothing_is_evaluated_as_python():
    hostile = "$event.__class__.__init__"
    assert compile_expression(hostile, "x")({"event": {}}) is None
    assert (
        compile_expression("__import__('os').system('true')", "x")(DOC)
        == "__import__('os').system('true')"
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"$round": 1e30},
        {"$multiply": [1e200, 1e200]},
        {"$add": [2**53, 2**53]},
        {"$floor": 1e300},
        {"$round": "$event.properties.huge"},
    ],
)
def test_results_past_json_exact_numbers_are_null(spec):
    assert compile_expression(spec, "amount")({"event": {"properties": {"huge": 10**30}}}) is None
