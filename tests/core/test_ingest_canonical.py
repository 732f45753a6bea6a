"""Canonical messages through core.ingest: the accepted shape and every rejection code."""

import orjson
import pytest

from eventwire.core import ids
from eventwire.core.decode import Limits
from eventwire.core.ingest import Accepted, Rejected, ingest
from tests.core.factories import SECRET, order, raw, registry

LIMITS = Limits(max_bytes=2000, max_depth=8)
REGISTRY = registry()


def run(message):
    return ingest(message, REGISTRY, LIMITS)


def codes(outcome):
    assert isinstance(outcome, Rejected), outcome
    return [(r["code"], r["field"]) for r in outcome.record["reasons"]]


def test_accepted_event_has_exactly_the_spec_shape():
    outcome = run(raw(order(context={"device": "iPhone X"}, sent_at=1524776691259)))
    assert isinstance(outcome, Accepted)
    [event] = outcome.events
    assert event == {
        "id": ids.event_id("eventwire.raw", 1, 7, 0),
        "type": "order.completed",
        "source_id": "web",
        "profile_id": "p-1",
        "session_id": "s-1",
        "properties": {"order_id": "A1", "total": 12.5},
        "context": {"device": "iPhone X"},
        "sent_at": "2018-04-26T21:04:51.259Z",
        "received_at": "2025-11-24T16:00:00.123Z",
        "definition_version": 1,
        "format": "canonical",
        "builtin": False,
    }


def test_producer_id_is_kept_and_derived_ids_are_deterministic():
    assert run(raw(order(id="evt-42"))).events[0]["id"] == "evt-42"
    first = run(raw(order(), offset=9)).events[0]["id"]
    again = run(raw(order(), offset=9)).events[0]["id"]
    other = run(raw(order(), offset=10)).events[0]["id"]
    assert first == again != other


def test_replayed_message_keeps_the_ids_of_its_origin():
    replayed = raw(order(), offset=500, headers={"eventwire-origin": b"eventwire.raw/1/7"})
    assert run(replayed).events[0]["id"] == ids.event_id("eventwire.raw", 1, 7, 0)


def test_sent_at_rfc3339_is_normalised_to_utc():
    outcome = run(raw(order(sent_at="2026-11-24T10:00:00+01:00")))
    assert outcome.events[0]["sent_at"] == "2026-11-24T09:00:00.000Z"


def test_profile_less_option_drops_the_profile():
    outcome = run(raw(order(options={"profile_less": True})))
    assert outcome.events[0]["profile_id"] is None


def test_undeclared_type_is_accepted_from_a_source_that_allows_it():
    outcome = run(
        raw({"type": "thing.happened", "source": {"id": "backend"}, "properties": {"x": 1}})
    )
    assert isinstance(outcome, Accepted)
    assert outcome.events[0]["definition_version"] is None


def test_control_types_need_no_definition():
    outcome = run(raw(order(type="session.close", properties={})))
    assert isinstance(outcome, Accepted)


BIG = {"order_id": "A1", "total": 1, "pad": "x" * 3000}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (raw(b"{oops"), [("malformed_json", None)]),
        (raw(b'{"a": NaN}'), [("malformed_json", None)]),
        (raw(b'{"type": "\xff"}'), [("malformed_json", None)]),
        (raw(b"[1]"), [("unknown_format", None)]),
        (raw({"hello": "world"}), [("unknown_format", None)]),
        (raw(order(), headers={"format": b"protobuf"}), [("unknown_format", None)]),
        (raw(order(properties=BIG)), [("too_large", None)]),
        (
            raw(order(properties={"a": {"b": {"c": {"d": {"e": {"f": {"g": {}}}}}}}})),
            [("too_deep", None)],
        ),
        (raw(order(source={"id": "web", "secret": "nope"})), [("unauthorized", "source")]),
        (raw(order(source={"id": "web"})), [("unauthorized", "source")]),
        (raw(order(source={"id": "nobody"})), [("unauthorized", "source")]),
        (raw(order(source={"id": "off"})), [("unauthorized", "source")]),
        (raw(order(type="session_created")), [("reserved_event_type", "type")]),
        (raw(order(type="profile_updated")), [("reserved_event_type", "type")]),
        (raw(order(type="order.refunded")), [("unknown_event_type", "type")]),
        (raw(order(properties={"total": 1})), [("missing_field", "properties.order_id")]),
        (
            raw(order(properties={"order_id": "A", "total": "12"})),
            [("wrong_type", "properties.total")],
        ),
        (
            raw(order(properties={"order_id": "A", "total": -1})),
            [("invalid_value", "properties.total")],
        ),
        (
            raw(order(properties={"order_id": "A", "total": 1, "x": 1})),
            [("unknown_field", "properties.x")],
        ),
        (
            raw(
                order(
                    properties={
                        "order_id": "A",
                        "total": 1,
                        "items": [{"sku": "a"}, {}, {"sku": 1}],
                    }
                )
            ),
            [("missing_field", "properties.items.1.sku"), ("wrong_type", "properties.items.2.sku")],
        ),
        (raw({**order(), "colour": "red"}), [("unknown_field", "colour")]),
        (raw(order(type="")), [("invalid_value", "type")]),
        (raw(order(source={"secret": SECRET})), [("missing_field", "source.id")]),
        (raw(order(properties=[1])), [("wrong_type", "properties")]),
        (raw(order(session={"id": 5})), [("wrong_type", "session.id")]),
        (raw(order(sent_at="yesterday")), [("invalid_value", "sent_at")]),
        (raw(order(sent_at=True)), [("wrong_type", "sent_at")]),
        (
            raw(order(options={"requires_identity": True}, profile=None)),
            [("identity_required", "profile")],
        ),
        (raw(order(options={"debug": "yes"})), [("wrong_type", "options.debug")]),
    ],
)
def test_rejections(message, expected):
    assert sorted(codes(run(message)), key=str) == sorted(expected, key=str)


def test_rejection_record_shape_and_redaction():
    message = raw(order(source={"id": "web", "secret": "wrong-secret"}, id="e-1"))
    outcome = run(message)
    assert isinstance(outcome, Rejected)
    record = outcome.record
    assert record == {
        "id": ids.rejection_id("eventwire.raw", 1, 7),
        "event_id": "e-1",
        "type": "order.completed",
        "source_id": "web",
        "format": "canonical",
        "received_at": "2025-11-24T16:00:00.123Z",
        "reasons": [
            {
                "code": "unauthorized",
                "field": "source",
                "message": "the message has a missing or wrong secret for its source",
            }
        ],
        "payload": record["payload"],
        "origin": {"topic": "eventwire.raw", "partition": 1, "offset": 7},
    }
    assert "wrong-secret" not in orjson.dumps(record).decode()
    assert orjson.loads(record["payload"])["source"]["secret"] == "[REDACTED]"


def test_all_violations_of_an_event_are_reported_together():
    message = raw(
        {
            "type": "order.completed",
            "source": {"id": "web", "secret": SECRET},
            "properties": {"total": "x", "extra": 1},
            "sent_at": "nope",
        }
    )
    assert sorted(codes(run(message)), key=str) == sorted(
        [
            ("invalid_value", "sent_at"),
            ("missing_field", "properties.order_id"),
            ("wrong_type", "properties.total"),
            ("unknown_field", "properties.extra"),
        ],
        key=str,
    )


def test_envelope_and_property_violations_are_reported_together():
    message = raw({**order(properties={"total": -1}), "session": {"id": 5}, "colour": 1})
    assert sorted(codes(run(message)), key=str) == sorted(
        [
            ("wrong_type", "session.id"),
            ("unknown_field", "colour"),
            ("missing_field", "properties.order_id"),
            ("invalid_value", "properties.total"),
        ],
        key=str,
    )


def test_an_untrusted_source_learns_nothing_about_definitions():
    message = raw({**order(properties={"total": -1}), "colour": 1, "source": {"id": "web"}})
    assert sorted(codes(run(message)), key=str) == [("unknown_field", "colour")]


def test_unparseable_payload_is_kept_redacted_by_pattern():
    text = b'{"type": "x", "source": {"id": "web", "secret": "leak-me"}, oops'
    record = run(raw(text)).record
    assert "leak-me" not in record["payload"]
    assert '"secret": "[REDACTED]"' in record["payload"]


def test_header_secrets_never_reach_the_record():
    message = raw(
        order(source={"id": "web"}, type="nope"), headers={"authorization": b"ApiKey-v1 hdr-secret"}
    )
    record = run(message).record
    assert "hdr-secret" not in orjson.dumps(record).decode()


def test_secret_from_authorization_header_admits_the_event():
    message = raw(
        order(source={"id": "web"}), headers={"authorization": f"ApiKey-v1 {SECRET}".encode()}
    )
    assert isinstance(run(message), Accepted)
    message = raw(order(source={"id": "web"}), headers={"secret": SECRET.encode()})
    assert isinstance(run(message), Accepted)


def test_rejection_of_a_malformed_message_has_no_event_id_but_a_stable_id():
    first = run(raw(b"{oops", offset=3)).record
    again = run(raw(b"{oops", offset=3)).record
    assert first["event_id"] is None
    assert first["id"] == again["id"] == ids.rejection_id("eventwire.raw", 1, 3)
