"""Outcomes as Kafka records: which topic, which key, which bytes (SPEC §1).

Accepted events go to the internal topic keyed by profile (session for profile-less), so one
profile's events are processed in order by one replica; the process stage publishes them on
``events``. Rejections go straight to ``rejected``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

import orjson

from eventwire.core.formats.model import ParsedMessage
from eventwire.core.ingest import Accepted, EventRecord, Outcome
from eventwire.core.state import owner_tag
from eventwire.core.topics import Topics
from eventwire.core.triggers.effects import AutomationRecord, EffectRecord


@dataclass(frozen=True, slots=True)
class Output:
    topic: str
    key: bytes | None
    value: bytes


class Identities(TypedDict, total=False):
    email: str
    contact_id: str
    user_id: str
    client_id: str


class InternalRecord(TypedDict):
    """An accepted event on its way to the process stage."""

    event: EventRecord
    publish: bool
    session_attributes: dict[str, Any]
    traits: dict[str, Any]
    identities: Identities


def event_key(event: EventRecord) -> bytes:
    """Profile id, else session id (profile-less events), else the event's own id."""
    return (event["profile_id"] or event["session_id"] or event["id"]).encode()


def internal_record(event: EventRecord, parsed: ParsedMessage, publish: bool) -> InternalRecord:
    who = parsed.identity
    identities: Identities = {}
    if event["profile_id"]:
        for name, value in (
            ("email", who.email.strip().lower() if who.email else None),
            ("contact_id", who.contact_id),
            ("user_id", who.user_id),
            ("client_id", who.client_id),
        ):
            if value:
                identities[name] = value  # type: ignore[literal-required]
    traits: dict[str, Any] = {}
    if event["type"] == "profile.update":
        traits = dict(event["properties"])
    elif event["type"] == "profile.identify":
        found = event["properties"].get("traits")
        traits = dict(found) if isinstance(found, dict) else {}
    return {
        "event": event,
        "publish": publish,
        "session_attributes": parsed.session_attributes,
        "traits": traits,
        "identities": identities,
    }


def ingest_outputs(outcomes: Iterable[Outcome], topics: Topics) -> list[Output]:
    dumps = orjson.dumps
    records: list[Output] = []
    for outcome in outcomes:
        if isinstance(outcome, Accepted):
            for event in outcome.events:
                owner = owner_tag(event["profile_id"], event["session_id"]) or event["id"]
                record = internal_record(event, outcome.parsed, outcome.publish)
                records.append(Output(topics.internal, owner.encode(), dumps(record)))
        else:
            rejection = outcome.record
            key = rejection["source_id"].encode() if rejection["source_id"] else None
            records.append(Output(topics.rejected, key, dumps(rejection)))
    return records


def event_outputs(events: Iterable[EventRecord], topics: Topics) -> list[Output]:
    dumps = orjson.dumps
    return [Output(topics.events, event_key(event), dumps(event)) for event in events]


def process_outputs(
    events: Iterable[EventRecord],
    effects: Iterable[EffectRecord],
    automations: Iterable[AutomationRecord],
    topics: Topics,
) -> list[Output]:
    """Events (and built-ins), effects and automation starts, keyed by profile."""
    dumps = orjson.dumps
    records = event_outputs(events, topics)
    records += [
        Output(topics.effects, (e["profile_id"] or e["event_id"]).encode(), dumps(e))
        for e in effects
    ]
    records += [
        Output(topics.automations, (a["profile"].get("id") or a["event_id"]).encode(), dumps(a))
        for a in automations
    ]
    return records
