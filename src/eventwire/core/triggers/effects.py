"""Effect and automation messages (docs/triggers.md), with deterministic ids."""

from __future__ import annotations

from typing import Any, TypedDict

from eventwire.core import ids
from eventwire.core.ingest import EventRecord


class EffectRecord(TypedDict):
    id: str
    type: str
    trigger_id: str
    event_id: str
    event_type: str
    profile_id: str | None
    session_id: str | None
    params: dict[str, Any]
    result: dict[str, Any]
    created_at: str


class AutomationRecord(TypedDict):
    id: str
    automation: str
    trigger_id: str
    event_id: str
    event_type: str
    profile: dict[str, Any]
    session_id: str | None
    event: dict[str, Any]
    created_at: str


def effect_id(event_id: str, trigger_id: str, action_index: int) -> str:
    return ids.derived_id("effect", event_id, trigger_id, action_index)


def effect_record(
    event: EventRecord,
    trigger_id: str,
    index: int,
    type_: str,
    params: dict[str, Any],
    result: dict[str, Any],
    basis: str | None = None,
) -> EffectRecord:
    """``basis``: what the id derives from, when not the event id (a producer's id, which
    another source may use too, is scoped by its source: see core.step_input)."""
    return {
        "id": effect_id(basis or event["id"], trigger_id, index),
        "type": type_,
        "trigger_id": trigger_id,
        "event_id": event["id"],
        "event_type": event["type"],
        "profile_id": event["profile_id"],
        "session_id": event["session_id"],
        "params": params,
        "result": result,
        "created_at": event["received_at"],
    }


def automation_record(
    event: EventRecord,
    trigger_id: str,
    index: int,
    automation: str,
    profile: dict[str, Any],
    basis: str | None = None,
) -> AutomationRecord:
    return {
        "id": ids.derived_id("automation", basis or event["id"], trigger_id, index),
        "automation": automation,
        "trigger_id": trigger_id,
        "event_id": event["id"],
        "event_type": event["type"],
        "profile": profile,
        "session_id": event["session_id"],
        "event": event["properties"],
        "created_at": event["received_at"],
    }
