"""Session and profile rules (docs/topics.md, docs/guarantees.md) as data and pure functions: the
session status transitions, and the built-in events that the *facts* of one applied event cause.
A redelivered event replays its stored outputs, so its built-ins keep their ids.

Rules:

- The first event of a session id creates the session (``session_created``). Every later
  ordinary event of an open session updates it (``session_updated``), merges Talon.One
  attributes and counts toward ``event_count``.
- ``session.close`` / ``session.cancel`` / ``session.revoke`` move the session through
  ``TRANSITIONS`` and publish ``session_closed`` / ``session_cancelled`` /
  ``session_revoked``. A control that does not apply (closing a closed session, or a session
  never seen) changes nothing.
- An ordinary event for a closed, cancelled or revoked session is accepted and counted on the
  profile, but the session stays as it is: it is never reopened, and nothing is published
  for it. As in Talon.One, a closed session is final.
- Inactivity longer than EVENTWIRE_SESSION_TIMEOUT closes an open session (scheduler).
- The first event processed for a profile publishes ``profile_created``. ``profile.update``
  (properties are the traits to set) and Simon's ``profile.identify`` publish
  ``profile_updated`` with the traits that changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eventwire.core import ids
from eventwire.core.ingest import EventRecord

SESSION_CONTROLS = {
    "session.close": "close",
    "session.cancel": "cancel",
    "session.revoke": "revoke",
}

# (status, control) -> new status. Anything not listed is not a transition.
TRANSITIONS: Mapping[tuple[str, str], str] = {
    ("open", "close"): "closed",
    ("open", "cancel"): "cancelled",
    ("open", "revoke"): "revoked",
    ("closed", "cancel"): "cancelled",
    ("closed", "revoke"): "revoked",
    ("cancelled", "revoke"): "revoked",
}
STATUS_BUILTIN = {
    "closed": "session_closed",
    "cancelled": "session_cancelled",
    "revoked": "session_revoked",
}


def transition(status: str, control: str) -> str | None:
    return TRANSITIONS.get((status, control))


@dataclass(frozen=True, slots=True)
class Facts:
    """What applying one event did: the built-in events follow from it."""

    profile_created: bool = False
    session_created: bool = False
    session_updated: bool = False
    event_count: int = 0
    status_change: tuple[str, str] | None = None
    traits_changed: dict[str, Any] = field(default_factory=dict)


def builtin_event(
    cause: EventRecord, type_: str, properties: dict[str, Any], id_parts: tuple[str, ...]
) -> EventRecord:
    return {
        "id": ids.derived_id("builtin", type_, *id_parts),
        "type": type_,
        "source_id": cause["source_id"],
        "profile_id": cause["profile_id"],
        "session_id": cause["session_id"],
        "properties": properties,
        "context": {},
        "sent_at": None,
        "received_at": cause["received_at"],
        "definition_version": None,
        "format": "builtin",
        "builtin": True,
    }


def builtins_for(event: EventRecord, facts: Facts, basis: str | None = None) -> list[EventRecord]:
    """The built-in events one applied event causes, in the order they happened; their ids
    derive from ``basis`` (the event id unless given)."""
    out: list[EventRecord] = []
    cause = (basis or event["id"],)
    if facts.profile_created:
        out.append(builtin_event(event, "profile_created", {}, cause))
    if facts.session_created:
        out.append(builtin_event(event, "session_created", {"event_count": 1}, cause))
    elif facts.session_updated:
        out.append(
            builtin_event(event, "session_updated", {"event_count": facts.event_count}, cause)
        )
    if facts.status_change is not None:
        before, after = facts.status_change
        props = {"previous_status": before, "status": after, "reason": "control"}
        out.append(builtin_event(event, STATUS_BUILTIN[after], props, cause))
    if facts.traits_changed:
        out.append(builtin_event(event, "profile_updated", {"traits": facts.traits_changed}, cause))
    return out


def segment_event(
    cause: EventRecord, segment: str, entered: bool, id_parts: tuple[str, ...]
) -> EventRecord:
    """``segment_entered`` or ``segment_exited``; the id derives from ``id_parts`` (what
    changed the membership) and the segment, so a step applied again makes the same event."""
    type_ = "segment_entered" if entered else "segment_exited"
    change = "entered" if entered else "exited"
    return builtin_event(cause, type_, {"segment": segment}, (*id_parts, change, segment))


def session_timeout_closed(
    profile_id: str | None,
    session_id: str,
    event_count: int,
    closed_at: str,
    source_id: str,
) -> EventRecord:
    """``session_closed`` for inactivity; its id depends only on the session, which closes once."""
    cause: EventRecord = {
        "id": session_id,
        "type": "session_closed",
        "source_id": source_id,
        "profile_id": profile_id,
        "session_id": session_id,
        "properties": {},
        "context": {},
        "sent_at": None,
        "received_at": closed_at,
        "definition_version": None,
        "format": "builtin",
        "builtin": True,
    }
    props = {
        "previous_status": "open",
        "status": "closed",
        "reason": "timeout",
        "event_count": event_count,
    }
    return builtin_event(cause, "session_closed", props, ("timeout", session_id))
