"""Every seed payload, as it stands, through the pure ingest stage; broken variants; detection."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from eventwire.config_loader import load_registry
from eventwire.core import ids
from eventwire.core.decode import Limits
from eventwire.core.formats.detect import detect
from eventwire.core.identity import candidate_profile_id
from eventwire.core.ingest import Accepted, Rejected, ingest
from eventwire.core.reasons import Reason
from tests.conftest import ROOT
from tests.core.factories import raw

SEEDS = ROOT / "tests" / "data" / "seeds"
REGISTRY = load_registry(ROOT / "tests" / "data" / "config")
LIMITS = Limits()
TALON_HEADERS = {"source": b"talon-app", "authorization": b"ApiKey-v1 953f4d85715c425cb48676"}
RECEIVED = "2025-11-24T16:00:00.123Z"


def seed(name: str) -> bytes:
    return (SEEDS / name).read_bytes()


def accepted(outcome) -> list[dict[str, Any]]:
    assert isinstance(outcome, Accepted), outcome
    return [dict(event) for event in outcome.events]


def codes(outcome) -> list[tuple[str, str | None]]:
    assert isinstance(outcome, Rejected), outcome
    return sorted(((r["code"], r["field"]) for r in outcome.record["reasons"]), key=str)


def run(value: bytes | dict, headers: dict[str, bytes] | None = None):
    return ingest(raw(value, headers=headers), REGISTRY, LIMITS)


def event_id(position: int) -> str:
    return ids.event_id("eventwire.raw", 1, 7, position)


# --- Tracardi ---------------------------------------------------------------------------


def test_tracardi_full_example_yields_two_events_for_the_profile():
    events = accepted(run(seed("tracardi_full.json")))
    base: dict[str, Any] = {
        "source_id": "source-id",
        "profile_id": "profile-id",
        "session_id": "session-id",
        "context": {},
        "sent_at": None,
        "received_at": RECEIVED,
        "format": "tracardi",
        "builtin": False,
    }
    assert events == [
        {
            **base,
            "id": event_id(0),
            "type": "purchase-order",
            "properties": {"product": "Nike shoes", "quantity": 1},
            "definition_version": 1,
        },
        {**base, "id": event_id(1), "type": "page-view", "properties": {}, "definition_version": 1},
    ]


@pytest.mark.parametrize("name", ["tracardi_required_only.json", "tracardi_with_options.json"])
def test_tracardi_without_profile_creates_one_per_message(name):
    events = accepted(run(seed(name)))
    new_profile = ids.derived_id("profile", "message", "eventwire.raw", 1, 7)
    assert [e["profile_id"] for e in events] == [new_profile, new_profile]
    assert [e["type"] for e in events] == ["purchase-order", "page-view"]


def test_tracardi_context_is_carried_to_every_event():
    events = accepted(run(seed("tracardi_with_context.json")))
    assert [e["context"] for e in events] == [{"device": "iPhone X"}] * 2


def test_tracardi_payload_properties_are_kept_in_the_context():
    doc = orjson.loads(seed("tracardi_full.json"))
    doc["properties"] = {"campaign": "autumn"}
    events = accepted(run(doc))
    assert events[0]["context"] == {"properties": {"campaign": "autumn"}}


@pytest.mark.parametrize(
    "where",
    [lambda d: d["options"].update(profile_less=True), lambda d: d.update(profile_less=True)],
)
def test_tracardi_profile_less_option_creates_no_profile(where):
    doc = orjson.loads(seed("tracardi_required_only.json"))
    doc.setdefault("options", {})
    where(doc)
    assert [e["profile_id"] for e in accepted(run(doc))] == [None, None]


def test_tracardi_profile_less_header_creates_no_profile():
    events = accepted(run(seed("tracardi_required_only.json"), {"profile_less": b"true"}))
    assert [e["profile_id"] for e in events] == [None, None]
    assert [e["session_id"] for e in events] == ["session-id", "session-id"]


def test_tracardi_save_events_false_processes_without_publishing():
    doc = orjson.loads(seed("tracardi_with_options.json"))
    doc["options"] = {"saveEvents": False}
    outcome = run(doc)
    assert isinstance(outcome, Accepted)
    assert outcome.publish is False
    assert len(outcome.events) == 2


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("session"), [("missing_field", "session")]),
        (lambda d: d["source"].pop("id"), [("missing_field", "source.id")]),
        (lambda d: d.update(events=[]), [("invalid_value", "events")]),
        (lambda d: d["events"][1].update(type=7), [("wrong_type", "events.1.type")]),
        (
            lambda d: d["events"][0]["properties"].update(quantity="1"),
            [("wrong_type", "events.0.properties.quantity")],
        ),
        (
            lambda d: d["events"][1].update(type="page-vue"),
            [("unknown_event_type", "events.1.type")],
        ),
        (
            lambda d: d["events"][0]["properties"].pop("product"),
            [("missing_field", "events.0.properties.product")],
        ),
        (
            lambda d: (
                d["events"][0]["properties"].update(quantity=0),
                d["events"][1].update(properties={"x": 1}),
            ),
            [
                ("invalid_value", "events.0.properties.quantity"),
                ("unknown_field", "events.1.properties.x"),
            ],
        ),
        (
            lambda d: d["events"].append({"type": "session_closed"}),
            [("reserved_event_type", "events.2.type")],
        ),
        (lambda d: d["options"].update(saveEvents="no"), [("wrong_type", "options.saveEvents")]),
        (lambda d: d["source"].update(id="nobody"), [("unauthorized", "source")]),
    ],
)
def test_tracardi_broken_variants(change, expected):
    doc = orjson.loads(seed("tracardi_full.json"))
    change(doc)
    assert codes(run(doc)) == sorted(expected, key=str)


def test_a_message_with_one_bad_event_is_rejected_whole_naming_the_bad_event():
    doc = orjson.loads(seed("tracardi_full.json"))
    doc["events"][1]["type"] = "page-vue"
    record = run(doc).record
    assert (record["type"], record["event_id"]) == ("page-vue", event_id(1))


# --- Talon.One --------------------------------------------------------------------------


def test_talon_seed_as_it_stands_is_malformed():
    assert codes(run(seed("talon_track_event.txt"), TALON_HEADERS)) == [("malformed_json", None)]


def test_talon_seed_with_its_closing_brace_is_accepted():
    outcome = run(seed("talon_track_event.fixed.json"), TALON_HEADERS)
    [event] = accepted(outcome)
    assert event == {
        "id": event_id(0),
        "type": "pageview",
        "source_id": "talon-app",
        "profile_id": "myprofileid",
        "session_id": "mysessionid",
        "properties": {"url": "some value"},
        "context": {},
        "sent_at": None,
        "received_at": RECEIVED,
        "definition_version": 1,
        "format": "talon",
        "builtin": False,
    }
    assert outcome.parsed.session_attributes == {"url": "some value"}


@pytest.mark.parametrize(
    ("headers", "change", "expected"),
    [
        ({}, None, [("unauthorized", "source")]),
        ({"source": b"talon-app"}, None, [("unauthorized", "source")]),
        (
            {"source": b"talon-app", "authorization": b"ApiKey-v1 nope"},
            None,
            [("unauthorized", "source")],
        ),
        (TALON_HEADERS, lambda d: d.pop("sessionId"), [("missing_field", "sessionId")]),
        (
            TALON_HEADERS,
            lambda d: d["attributes"].pop("url"),
            [("missing_field", "attributes.url")],
        ),
        (
            TALON_HEADERS,
            lambda d: d["attributes"].update(url=1),
            [("wrong_type", "attributes.url")],
        ),
        (
            TALON_HEADERS,
            lambda d: (d.pop("sessionId"), d["attributes"].update(url=1)),
            [("missing_field", "sessionId"), ("wrong_type", "attributes.url")],
        ),
        (
            TALON_HEADERS,
            lambda d: d.update(type="talon_session_created", attributes={}),
            [("unknown_event_type", "type")],
        ),
        (
            TALON_HEADERS,
            lambda d: d.update(type="session_created"),
            [("reserved_event_type", "type")],
        ),
    ],
)
def test_talon_broken_variants(headers, change, expected):
    doc = orjson.loads(seed("talon_track_event.fixed.json"))
    if change:
        change(doc)
    assert codes(run(doc, headers)) == sorted(expected, key=str)


# --- Simon ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["simon_custom_event.json", "simon_curl_event.json"])
def test_simon_seed_resolves_by_email(name):
    [event] = accepted(run(seed(name)))
    assert event == {
        "id": event_id(0),
        "type": "some_event",
        "source_id": "acme-partner",
        "profile_id": candidate_profile_id("email", "[email protected]"),
        "session_id": None,
        "properties": {"someProperty": "Some value"},
        "context": {"debug": True},
        "sent_at": "2018-04-26T21:04:51.259Z",
        "received_at": RECEIVED,
        "definition_version": 1,
        "format": "simon",
        "builtin": False,
    }


def test_simon_secret_never_appears_in_a_rejection():
    doc = orjson.loads(seed("simon_custom_event.json"))
    doc["properties"]["eventName"] = "nope"
    record = run(doc).record
    assert "acme-partner-secret" not in orjson.dumps(record).decode()


def test_simon_identify_becomes_a_profile_identify_event():
    doc = orjson.loads(seed("simon_custom_event.json"))
    doc.update(type="identify")
    del doc["properties"], doc["event"]
    outcome = run(doc)
    [event] = accepted(outcome)
    assert event["type"] == "profile.identify"
    assert event["properties"] == {
        "client_id": "92adbc3c-c22b-49bf-a9ae-11d9e8b3e6b4",
        "traits": {"userId": "97980cfea0067", "email": "[email protected]"},
    }
    assert outcome.parsed.identify is not None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("partnerSecret"), [("unauthorized", "source")]),
        (lambda d: d.update(partnerSecret="guess"), [("unauthorized", "source")]),
        (lambda d: d.update(type="page"), [("invalid_value", "type")]),
        (lambda d: d.pop("properties"), [("missing_field", "properties")]),
        (lambda d: d["properties"].pop("eventName"), [("missing_field", "properties.eventName")]),
        (
            lambda d: d["properties"]["properties"].update(someProperty=5),
            [("wrong_type", "properties.properties.someProperty")],
        ),
        (lambda d: d.update(sentAt="soon"), [("invalid_value", "sentAt")]),
        (lambda d: d["traits"].update(email=7), [("wrong_type", "traits.email")]),
        (
            lambda d: (d.pop("traits"), d.pop("clientId")),
            [("identity_required", "profile")],
        ),
        (
            lambda d: d["properties"].update(eventName="profile_created"),
            [("reserved_event_type", "properties.eventName")],
        ),
    ],
)
def test_simon_broken_variants(change, expected):
    doc = orjson.loads(seed("simon_custom_event.json"))
    change(doc)
    assert codes(run(doc)) == sorted(expected, key=str)


def test_simon_without_requires_identity_is_processed_without_profile():
    doc = orjson.loads(seed("simon_custom_event.json"))
    doc["properties"]["requiresIdentity"] = False
    del doc["traits"], doc["clientId"]
    assert accepted(run(doc))[0]["profile_id"] is None


def test_simon_client_id_only_without_a_mapping_is_identity_required():
    doc = orjson.loads(seed("simon_custom_event.json"))
    del doc["traits"]
    assert codes(run(doc)) == [("identity_required", "traits")]


# --- Arsel ------------------------------------------------------------------------------

ARSEL = {
    "event": "order.completed",
    "email": "Ada@Example.com",
    "data": {"order_id": "A-1", "total": 20},
    "source": {"id": "arsel-app", "secret": "arsel-key"},
}


def test_arsel_email_send_creates_the_profile_of_that_email():
    [event] = accepted(run(ARSEL))
    assert event["profile_id"] == candidate_profile_id("email", "ada@example.com")
    assert event["properties"] == {"order_id": "A-1", "total": 20}
    assert event["format"] == "arsel"


def test_arsel_source_as_a_string_with_the_secret_in_a_header():
    doc = {**ARSEL, "source": "arsel-app"}
    assert accepted(run(doc, {"secret": b"arsel-key"}))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"contact_id": "c-1"}, [("identity_conflict", "email")]),
        ({"email": None}, [("identity_conflict", "email")]),  # null is no email
        ({"data": {"order_id": "A-1"}}, [("missing_field", "data.total")]),
        ({"data": {"order_id": "A-1", "total": "20"}}, [("wrong_type", "data.total")]),
        ({"event": "order.cancelled"}, [("unknown_event_type", "event")]),
        ({"source": {"id": "arsel-app"}}, [("unauthorized", "source")]),
        ({"colour": "red"}, [("unknown_field", "colour")]),
    ],
)
def test_arsel_broken_variants(change, expected):
    doc = {**ARSEL, **change}
    assert codes(run(doc)) == sorted(expected, key=str)


def test_arsel_neither_email_nor_contact_is_a_conflict():
    doc = {k: v for k, v in ARSEL.items() if k != "email"}
    assert codes(run(doc)) == [("identity_conflict", "email")]


def test_arsel_unknown_contact_is_rejected():
    doc = {k: v for k, v in ARSEL.items() if k != "email"} | {"contact_id": "c-404"}
    assert codes(run(doc)) == [("unknown_contact", "contact_id")]


# --- Detection --------------------------------------------------------------------------

CANONICAL = {"type": "x", "source": {"id": "web"}}


@pytest.mark.parametrize(
    ("document", "header", "name"),
    [
        (CANONICAL, None, "canonical"),
        (orjson.loads(seed("tracardi_full.json")), None, "tracardi"),
        (orjson.loads(seed("talon_track_event.fixed.json")), None, "talon"),
        (orjson.loads(seed("simon_custom_event.json")), None, "simon"),
        (ARSEL, None, "arsel"),
        ({"type": "x", "attributes": {}}, None, "talon"),
        ({"event": "x", "contact_id": "c"}, None, "arsel"),
        # A header names the format whatever the shape.
        ({"hello": 1}, "arsel", "arsel"),
        (CANONICAL, "TALON", "talon"),
        (CANONICAL, " simon ", "simon"),
    ],
)
def test_detection(document, header, name):
    found = detect(document, header)
    assert not isinstance(found, Reason), found
    assert found.name == name


@pytest.mark.parametrize(
    ("document", "header", "says"),
    [
        ({"hello": "world"}, None, "fits no known format (top-level keys: hello)"),
        ({}, None, "fits no known format (top-level keys: none)"),
        ({**CANONICAL, "attributes": {}}, None, "fits both canonical and talon"),
        ({"event": "x", "data": {}, "partnerId": "p"}, None, "fits both simon and arsel"),
        (CANONICAL, "snowplow", "header format='snowplow' is not one of"),
    ],
)
def test_detection_refuses_unknown_and_ambiguous_shapes(document, header, says):
    found = detect(document, header)
    assert isinstance(found, Reason)
    assert found.code.value == "unknown_format"
    assert says in found.message


def test_a_header_settles_an_ambiguous_shape_and_the_format_gives_its_verdict():
    doc = {**CANONICAL, "source": {"id": "backend"}, "attributes": {}}
    assert codes(run(doc)) == [("unknown_format", None)]
    assert codes(run(doc, {"format": b"canonical"})) == [("unknown_field", "attributes")]
    del doc["attributes"]
    assert accepted(run(doc, {"format": b"canonical"}))[0]["format"] == "canonical"
