"""Definitions in observe mode: a violating event is accepted with its violations listed on
it (code, dotted field, message), a valid one carries none, and switching a definition
between observe and enforce is a new version that breaks nothing in its fields."""

from eventwire.core.decode import Limits
from eventwire.core.definitions.spec import DefinitionSpec
from eventwire.core.ingest import Accepted, Rejected, ingest
from tests.core.factories import order, raw, registry

LIMITS = Limits(max_bytes=4000, max_depth=8)
FIELDS = [
    {"name": "order_id", "type": "string", "required": True},
    {"name": "total", "type": "number", "required": True, "minimum": 0},
]


def observing(mode: str = "observe"):
    reg, change = registry().with_definition(
        DefinitionSpec.model_validate({"name": "order.completed", "fields": FIELDS, "mode": mode})
    )
    return reg, change


def test_a_violating_event_is_accepted_with_every_violation_listed():
    reg, _ = observing()
    bad = order(properties={"total": "12", "colour": "red"})
    outcome = ingest(raw(bad), reg, LIMITS)
    assert isinstance(outcome, Accepted), outcome
    [event] = outcome.events
    assert event["properties"] == {"total": "12", "colour": "red"}
    assert sorted(event["violations"], key=lambda v: str(v["field"])) == [
        {
            "code": "unknown_field",
            "field": "properties.colour",
            "message": "field is not allowed here",
        },
        {
            "code": "missing_field",
            "field": "properties.order_id",
            "message": "required field is missing",
        },
        {"code": "wrong_type", "field": "properties.total", "message": "expected a number"},
    ]


def test_a_valid_event_under_observe_mode_carries_no_violations_key():
    reg, _ = observing()
    outcome = ingest(raw(order()), reg, LIMITS)
    assert isinstance(outcome, Accepted)
    [event] = outcome.events
    assert "violations" not in event


def test_the_same_event_is_rejected_under_enforce_mode():
    bad = order(properties={"total": "12"})
    outcome = ingest(raw(bad), registry(), LIMITS)
    assert isinstance(outcome, Rejected)
    assert {r["code"] for r in outcome.record["reasons"]} == {"missing_field", "wrong_type"}


def test_observe_mode_does_not_let_through_what_no_definition_decides():
    """Authentication and reserved types still reject: observe is about the fields only."""
    reg, _ = observing()
    unauthorized = order(source={"id": "web", "secret": "wrong-secret-999"})
    assert isinstance(ingest(raw(unauthorized), reg, LIMITS), Rejected)
    reserved = order(type="session_created")
    assert isinstance(ingest(raw(reserved), reg, LIMITS), Rejected)


def test_switching_between_observe_and_enforce_is_a_new_version_and_not_breaking():
    reg, first = observing("observe")
    reg, second = reg.with_definition(
        DefinitionSpec.model_validate({"name": "order.completed", "fields": FIELDS})
    )
    assert (second.created, second.breaking) == (True, [])
    assert second.version == first.version + 1
    assert reg.definition("order.completed").observing is False
