"""An accepted event as the state step takes it: the event, plus what only the step needs
(identities and traits to record, Talon.One session attributes, its time as epoch ms)."""

from __future__ import annotations

from typing import Any, TypedDict

from eventwire.core.formats.model import ParsedMessage
from eventwire.core.ingest import EventRecord


class Identities(TypedDict, total=False):
    email: str
    contact_id: str
    user_id: str
    client_id: str
    anonymous_id: str


class StepInput(TypedDict):
    event: EventRecord
    # What the step id and the ids of what the event causes derive from: the event id when
    # eventwire derived it (unique by construction), "<source id>/<id>" when a producer gave
    # it, since two sources may both send id "1".
    basis: str
    at_ms: int  # received_at as epoch ms: the step never parses RFC 3339 text
    publish: bool
    session_attributes: dict[str, Any]
    traits: dict[str, Any]
    identities: Identities


def step_input(
    event: EventRecord, parsed: ParsedMessage, publish: bool, at_ms: int, producer_id: bool
) -> StepInput:
    who = parsed.identity
    identities: Identities = {}
    if event["profile_id"]:
        for name, value in (
            ("email", who.email.strip().lower() if who.email else None),
            ("contact_id", who.contact_id),
            ("user_id", who.user_id),
            ("client_id", who.client_id),
            ("anonymous_id", who.anonymous_id),
        ):
            if value:
                identities[name] = value  # type: ignore[literal-required]
    return {
        "event": event,
        "basis": f"{event['source_id']}/{event['id']}" if producer_id else event["id"],
        "at_ms": at_ms,
        "publish": publish,
        "session_attributes": parsed.session_attributes,
        "traits": traits_of(event),
        "identities": identities,
    }


def traits_of(event: EventRecord) -> dict[str, Any]:
    """The traits an event sets: ``profile.update``'s properties, ``profile.identify``'s."""
    if event["type"] == "profile.update":
        return dict(event["properties"])
    if event["type"] == "profile.identify":
        found = event["properties"].get("traits")
        return dict(found) if isinstance(found, dict) else {}
    return {}


def owner_tag(profile_id: str | None, session_id: str | None) -> str | None:
    """Whose keys an event's state lives under: its profile's, else its session's."""
    if profile_id:
        return profile_id
    if session_id:
        return f"s:{session_id}"
    return None
