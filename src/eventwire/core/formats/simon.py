"""Simon Data's custom event ingestion payload (its HTTP collect endpoint).

``partnerId`` is the source and ``partnerSecret`` its secret. ``type: track`` carries
``properties.eventName`` and the event's own ``properties.properties``. ``type: identify``
maps ``clientId`` to ``traits`` for a while (7 days), and is published as the control event
``profile.identify``. ``requiresIdentity`` defaults to true: an event then needs an email,
or a ``clientId`` with a live identify mapping (resolved in core.identity).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eventwire.core.formats.common import LENIENT, dig, optional_sent_at, text
from eventwire.core.formats.model import (
    Identify,
    Identity,
    Options,
    ParsedEvent,
    ParsedMessage,
    ParseFailure,
)
from eventwire.core.reasons import Code, Reason
from eventwire.core.validation import reasons_from

NAME = "simon"
IDENTIFY_TYPE = "profile.identify"
_OPEN = ConfigDict(extra="allow", strict=True)


class _Properties(BaseModel):
    model_config = LENIENT
    eventName: str = Field(min_length=1, max_length=200)
    requiresIdentity: bool = True
    properties: dict[str, Any] = Field(default_factory=dict)


class _Traits(BaseModel):
    model_config = _OPEN
    userId: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, min_length=3, max_length=320)


class _Context(BaseModel):
    model_config = _OPEN
    debug: bool = False


class _Payload(BaseModel):
    model_config = LENIENT
    partnerId: str = Field(min_length=1, max_length=200)
    partnerSecret: str | None = None
    clientId: str | None = Field(default=None, min_length=1, max_length=200)
    sentAt: Any = None
    type: Literal["track", "identify"]
    event: str | None = None
    properties: _Properties | None = None
    traits: _Traits = Field(default_factory=_Traits)
    context: _Context = Field(default_factory=_Context)


def matches(document: dict[str, Any]) -> bool:
    return "partnerId" in document


def parse(document: dict[str, Any]) -> ParsedMessage | ParseFailure:
    try:
        payload = _Payload.model_validate(document)
    except ValidationError as exc:
        return _failure(document, reasons_from(exc, ""))
    problems: list[Reason] = []
    sent_at = optional_sent_at(payload.sentAt, "sentAt", problems)
    traits = payload.traits.model_dump(exclude_none=True)
    identity = Identity(
        email=payload.traits.email, client_id=payload.clientId, user_id=payload.traits.userId
    )
    context = payload.context.model_dump()
    options = Options(debug=payload.context.debug)
    identify = None
    if payload.type == "identify":
        if payload.clientId is None:
            problems.append(Reason(Code.MISSING_FIELD, "clientId", "identify needs a clientId"))
        else:
            identify = Identify(payload.clientId, traits)
        properties = {"client_id": payload.clientId, "traits": traits}
        event = ParsedEvent(
            IDENTIFY_TYPE, properties, "type", "traits", context=context, sent_at=sent_at
        )
    elif payload.properties is None:
        missing = Reason(Code.MISSING_FIELD, "properties", "a track call needs properties")
        return _failure(document, [missing])
    else:
        track = payload.properties
        options.requires_identity = track.requiresIdentity
        event = ParsedEvent(
            track.eventName,
            track.properties,
            "properties.eventName",
            "properties.properties",
            context=context,
            sent_at=sent_at,
        )
    return ParsedMessage(
        format=NAME,
        source_id=payload.partnerId,
        secret=payload.partnerSecret,
        events=[event],
        identity=identity,
        options=options,
        traits=traits,
        identify=identify,
        problems=problems,
    )


def _failure(document: dict[str, Any], reasons: list[Reason]) -> ParseFailure:
    type_ = text(dig(document, "properties", "eventName"))
    properties = dig(document, "properties", "properties")
    source_id = text(document.get("partnerId"))
    partial = None
    if type_ and isinstance(properties, dict | None):
        event = ParsedEvent(
            type_, properties or {}, "properties.eventName", "properties.properties"
        )
        partial = ParsedMessage(NAME, source_id, text(document.get("partnerSecret")), [event])
    return ParseFailure(NAME, reasons, source_id=source_id, type=type_, partial=partial)
