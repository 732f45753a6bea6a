"""Talon.One's Track Event payload (its integration API).

``{"sessionId", "profileId", "type", "attributes"}``: the attributes are the event's
properties and are also merged into the session's attributes. The payload names no source,
so the source comes from the Kafka header ``source`` and the key from
``authorization: ApiKey-v1 <key>`` (or the header ``secret``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from eventwire.core.formats.common import STRICT, text
from eventwire.core.formats.model import Identity, ParsedEvent, ParsedMessage, ParseFailure
from eventwire.core.validation import reasons_from

NAME = "talon"


class _Payload(BaseModel):
    model_config = STRICT
    sessionId: str = Field(min_length=1, max_length=200)
    profileId: str | None = Field(default=None, min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict)


def matches(document: dict[str, Any]) -> bool:
    return isinstance(document.get("type"), str) and (
        "sessionId" in document or "attributes" in document
    )


def parse(document: dict[str, Any]) -> ParsedMessage | ParseFailure:
    try:
        payload = _Payload.model_validate(document)
    except ValidationError as exc:
        type_ = text(document.get("type"))
        attributes = document.get("attributes", {})
        partial = None
        if type_ and isinstance(attributes, dict):
            event = ParsedEvent(type_, attributes, "type", "attributes")
            partial = ParsedMessage(NAME, None, None, [event])
        return ParseFailure(NAME, reasons_from(exc, ""), type=type_, partial=partial)
    event = ParsedEvent(payload.type, payload.attributes, "type", "attributes")
    return ParsedMessage(
        format=NAME,
        source_id=None,
        secret=None,
        events=[event],
        identity=Identity(profile_id=payload.profileId),
        session_id=payload.sessionId,
        session_attributes=dict(payload.attributes),
    )
