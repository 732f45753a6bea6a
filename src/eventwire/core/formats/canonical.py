"""The canonical format: one event per message, eventwire's own shape (docs/formats.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from eventwire.core.formats.common import STRICT, SourceRef, optional_sent_at
from eventwire.core.formats.model import Identity, Options, ParsedEvent, ParsedMessage, ParseFailure
from eventwire.core.reasons import Reason
from eventwire.core.validation import reasons_from

NAME = "canonical"


class _ProfileRef(BaseModel):
    model_config = STRICT
    id: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, min_length=3, max_length=320)
    contact_id: str | None = Field(default=None, min_length=1, max_length=200)
    client_id: str | None = Field(default=None, min_length=1, max_length=200)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)


class _SessionRef(BaseModel):
    model_config = STRICT
    id: str = Field(min_length=1, max_length=200)


class _Options(BaseModel):
    model_config = STRICT
    profile_less: bool = False
    requires_identity: bool = False
    debug: bool = False


class _Envelope(BaseModel):
    model_config = STRICT
    id: str | None = Field(default=None, min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=200)
    source: SourceRef
    profile: _ProfileRef | None = None
    session: _SessionRef | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    sent_at: Any = None  # RFC 3339 or epoch ms; checked below for a precise reason
    options: _Options | None = None


def matches(document: dict[str, Any]) -> bool:
    """Shape test: a ``type`` string and a ``source`` object, and no batch of events."""
    return (
        isinstance(document.get("type"), str)
        and isinstance(document.get("source"), dict)
        and "events" not in document
    )


def parse(document: dict[str, Any]) -> ParsedMessage | ParseFailure:
    try:
        envelope = _Envelope.model_validate(document)
    except ValidationError as exc:
        return _failure(document, reasons_from(exc, ""))
    problems: list[Reason] = []
    sent_at = optional_sent_at(envelope.sent_at, "sent_at", problems)
    profile = envelope.profile or _ProfileRef()
    options = envelope.options or _Options()
    event = ParsedEvent(
        type=envelope.type,
        properties=envelope.properties,
        type_path="type",
        properties_path="properties",
        id=envelope.id,
        context=envelope.context,
        sent_at=sent_at,
    )
    return ParsedMessage(
        format=NAME,
        source_id=envelope.source.id,
        secret=envelope.source.secret,
        events=[event],
        identity=Identity(
            profile.id, profile.email, profile.contact_id, profile.client_id, profile.user_id
        ),
        session_id=envelope.session.id if envelope.session else None,
        options=Options(
            profile_less=options.profile_less,
            requires_identity=options.requires_identity,
            debug=options.debug,
        ),
        problems=problems,
    )


def _failure(document: dict[str, Any], reasons: list[Reason]) -> ParseFailure:
    source = document.get("source")
    source_id = source.get("id") if isinstance(source, dict) else None
    type_ = document.get("type")
    event_id = document.get("id")
    properties = document.get("properties", {})
    partial = None
    if isinstance(type_, str) and isinstance(properties, dict):
        secret = source.get("secret") if isinstance(source, dict) else None
        partial = ParsedMessage(
            format=NAME,
            source_id=source_id if isinstance(source_id, str) else None,
            secret=secret if isinstance(secret, str) else None,
            events=[ParsedEvent(type_, properties, "type", "properties")],
        )
    return ParseFailure(
        NAME,
        reasons,
        source_id=source_id if isinstance(source_id, str) else None,
        type=type_ if isinstance(type_, str) else None,
        event_id=event_id if isinstance(event_id, str) else None,
        partial=partial,
    )
