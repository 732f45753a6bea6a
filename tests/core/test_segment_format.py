"""The Segment spec as an input format: single calls and batches, every call type, identities,
messageId as the producer id, and the refusals."""

from __future__ import annotations

from typing import Any

from eventwire.core.decode import Limits
from eventwire.core.formats.segment import split_by_user
from eventwire.core.ingest import Accepted, Rejected, ingest
from eventwire.core.sources import SourceSpec
from tests.core.factories import raw, registry

REGISTRY = registry().with_sources([SourceSpec(id="seg-key", allow_undeclared=True)])
KEY = {"source": b"seg-key"}


def run(document, headers=KEY):
    return ingest(raw(document, headers=headers), REGISTRY, Limits())


def test_a_track_call_is_an_event_with_its_message_id_and_identities():
    outcome = run(
        {
            "type": "track",
            "event": "Song Played",
            "messageId": "m-1",
            "userId": "u-1",
            "anonymousId": "a-1",
            "properties": {"title": "x"},
            "timestamp": "2026-11-30T10:00:00.000Z",
            "context": {"library": {"name": "analytics-python"}},
        }
    )
    assert isinstance(outcome, Accepted), outcome
    [event] = outcome.events
    assert (event["id"], event["type"], event["format"], event["source_id"]) == (
        "m-1",
        "Song Played",
        "segment",
        "seg-key",
    )
    assert event["properties"] == {"title": "x"}
    assert event["sent_at"] == "2026-11-30T10:00:00.000Z"
    who = outcome.parsed.identity
    assert (who.user_id, who.anonymous_id) == ("u-1", "a-1")


def test_a_batch_of_every_call_type_for_one_user():
    calls: list[dict[str, Any]] = [
        {"type": "identify", "userId": "u-1", "traits": {"email": "U@x.io", "plan": "pro"}},
        {"type": "page", "userId": "u-1", "name": "Home", "properties": {"url": "/"}},
        {"type": "screen", "userId": "u-1", "name": "Cart"},
        {"type": "group", "userId": "u-1", "groupId": 42, "traits": {"name": "Acme"}},
        {"type": "alias", "userId": "u-1", "previousId": "a-1"},
        {"type": "track", "userId": "u-1", "event": "Order Done", "properties": {}},
    ]
    for i, call in enumerate(calls):
        call["messageId"] = f"m-{i}"
    outcome = run({"batch": calls, "sentAt": "2026-11-30T10:00:00Z"})
    assert isinstance(outcome, Accepted), outcome
    assert [(e["type"], e["properties"]) for e in outcome.events] == [
        ("profile.update", {"email": "U@x.io", "plan": "pro"}),
        ("page.viewed", {"url": "/", "name": "Home"}),
        ("screen.viewed", {"name": "Cart"}),
        ("group.identified", {"group_id": "42", "traits": {"name": "Acme"}}),
        ("profile.alias", {"previous_id": "a-1", "user_id": "u-1"}),
        ("Order Done", {}),
    ]
    who = outcome.parsed.identity
    assert (who.email, who.user_id, who.anonymous_id) == ("U@x.io", "u-1", "a-1")
    assert outcome.parsed.traits == {"email": "U@x.io", "plan": "pro"}


def test_refusals_name_the_field():
    mixed = run(
        {
            "batch": [
                {"type": "track", "event": "a", "userId": "u-1"},
                {"type": "track", "event": "b", "userId": "u-2"},
            ]
        }
    )
    assert isinstance(mixed, Rejected)
    assert [(r["code"], r["field"]) for r in mixed.record["reasons"]] == [
        ("identity_conflict", "batch.1.userId")
    ]
    nobody = run({"type": "track", "event": "a", "messageId": "m"})
    assert [(r["code"], r["field"]) for r in nobody.record["reasons"]] == [
        ("identity_required", "userId")
    ]
    bad = run({"batch": [{"type": "jump", "userId": "u"}]}, headers={**KEY, "format": b"segment"})
    assert [(r["code"], r["field"]) for r in bad.record["reasons"]] == [
        ("invalid_value", "batch.0.type")
    ]
    unknown = run({"type": "track", "event": "a", "userId": "u"}, headers={"source": b"nope"})
    assert [r["code"] for r in unknown.record["reasons"]] == ["unauthorized"]


def test_an_sdk_batch_is_split_per_user_with_its_calls_unchanged():
    calls = [
        {"type": "track", "event": "a", "userId": "u-1"},
        {"type": "track", "event": "b", "anonymousId": "x"},
        {"type": "track", "event": "c", "userId": "u-1"},
    ]
    at = "2026-11-30T10:00:00Z"
    parts = split_by_user({"batch": calls, "sentAt": at})
    assert parts == [
        {"batch": [calls[0], calls[2]], "sentAt": at},
        {"batch": [calls[1]], "sentAt": at},
    ]
    assert all(isinstance(run(part), Accepted) for part in parts)
