"""Tracardi's /track payload: one message, many events.

A missing profile id means a new profile for this message, unless the message is
profile-less (``options.profile_less`` or the ``profile_less`` header). ``saveEvents: false``
processes the events without publishing them. The payload's ``context`` becomes every event's
context, and its top-level ``properties`` are kept there as ``context.properties``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eventwire.core.formats.common import LENIENT, MAX_EVENTS, STRICT, Ref, SourceRef, dig, text
from eventwire.core.formats.model import Identity, Options, ParsedEvent, ParsedMessage, ParseFailure
from eventwire.core.reasons import Reason
from eventwire.core.validation import reasons_from

NAME = "tracardi"


class _ProfileRef(BaseModel):
    model_config = LENIENT
    id: str | None = Field(default=None, min_length=1, max_length=200)


class _Event(BaseModel):
    model_config = STRICT
    type: str = Field(min_length=1, max_length=200)
    id: str | None = Field(default=None, min_length=1, max_length=200)
    properties: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)


class _Options(BaseModel):
    # Tracardi has many options (debugger, profile, saveSession, ...): read a few, allow the rest.
    model_config = ConfigDict(extra="allow", strict=True)
    profile_less: bool = False
    saveEvents: bool = True
    debugger: bool = False


class _Payload(BaseModel):
    model_config = LENIENT
    source: SourceRef
    session: Ref
    profile: _ProfileRef | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    properties: dict[str, Any] = Field(default_factory=dict)
    events: list[_Event] = Field(min_length=1, max_length=MAX_EVENTS)
    options: _Options = Field(default_factory=_Options)
    profile_less: bool = False


def matches(document: dict[str, Any]) -> bool:
    return isinstance(document.get("events"), list) and isinstance(document.get("source"), dict)


def parse(document: dict[str, Any]) -> ParsedMessage | ParseFailure:
    try:
        payload = _Payload.model_validate(document)
    except ValidationError as exc:
        return _failure(document, reasons_from(exc, ""))
    context = dict(payload.context)
    if payload.properties:
        context["properties"] = payload.properties
    profile_less = payload.options.profile_less or payload.profile_less
    profile_id = payload.profile.id if payload.profile else None
    events = [
        ParsedEvent(
            type=event.type,
            properties=event.properties,
            type_path=f"events.{index}.type",
            properties_path=f"events.{index}.properties",
            id=event.id,
            context={**context, **event.context},
        )
        for index, event in enumerate(payload.events)
    ]
    return ParsedMessage(
        format=NAME,
        source_id=payload.source.id,
        secret=payload.source.secret,
        events=events,
        identity=Identity(profile_id=profile_id, new_profile=profile_id is None),
        session_id=payload.session.id,
        options=Options(
            profile_less=profile_less,
            debug=payload.options.debugger,
            save_events=payload.options.saveEvents,
        ),
    )


def _failure(document: dict[str, Any], reasons: list[Reason]) -> ParseFailure:
    raw_events = document.get("events")
    events = [
        ParsedEvent(e["type"], props, f"events.{i}.type", f"events.{i}.properties")
        for i, e in enumerate(raw_events if isinstance(raw_events, list) else [])
        if isinstance(e, dict)
        and text(e.get("type"))
        and isinstance(props := e.get("properties", {}), dict)
    ]
    source_id = text(dig(document, "source", "id"))
    partial = None
    if events:
        partial = ParsedMessage(NAME, source_id, text(dig(document, "source", "secret")), events)
    first = raw_events[0] if isinstance(raw_events, list) and raw_events else None
    return ParseFailure(
        NAME,
        reasons,
        source_id=source_id,
        type=text(first.get("type")) if isinstance(first, dict) else None,
        partial=partial,
    )
