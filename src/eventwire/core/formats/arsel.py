"""Arsel-style sends (the Arsel Send Event API): ``{"event", "email" | "contact_id", "data"}``.

Exactly one of ``email`` and ``contact_id`` identifies the contact (``identity_conflict``
otherwise). An email with no profile yet creates one; an unknown ``contact_id`` is rejected
``unknown_contact`` (both resolved in core.identity). The source is ``source`` (an id, or
``{"id", "secret"}``), else the Kafka headers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from eventwire.core.formats.common import STRICT, SourceRef, dig, optional_sent_at, text
from eventwire.core.formats.model import Identity, ParsedEvent, ParsedMessage, ParseFailure
from eventwire.core.reasons import Code, Reason
from eventwire.core.validation import reasons_from

NAME = "arsel"


class _Payload(BaseModel):
    model_config = STRICT
    event: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, min_length=3, max_length=320)
    contact_id: str | None = Field(default=None, min_length=1, max_length=200)
    data: dict[str, Any] = Field(default_factory=dict)
    source: str | SourceRef | None = Field(default=None, union_mode="left_to_right")
    id: str | None = Field(default=None, min_length=1, max_length=200)
    sent_at: Any = None


def matches(document: dict[str, Any]) -> bool:
    return isinstance(document.get("event"), str) and any(
        key in document for key in ("data", "email", "contact_id")
    )


def parse(document: dict[str, Any]) -> ParsedMessage | ParseFailure:
    try:
        payload = _Payload.model_validate(document)
    except ValidationError as exc:
        return _failure(document, reasons_from(exc, ""))
    problems: list[Reason] = []
    if (payload.email is None) == (payload.contact_id is None):
        which = "both" if payload.email else "neither"
        problems.append(
            Reason(
                Code.IDENTITY_CONFLICT,
                "email",
                f"give exactly one of email and contact_id, not {which}",
            )
        )
    sent_at = optional_sent_at(payload.sent_at, "sent_at", problems)
    source_id, secret = _source(payload.source)
    event = ParsedEvent(
        payload.event, payload.data, "event", "data", id=payload.id, sent_at=sent_at
    )
    return ParsedMessage(
        format=NAME,
        source_id=source_id,
        secret=secret,
        events=[event],
        identity=Identity(email=payload.email, contact_id=payload.contact_id),
        problems=problems,
    )


def _source(source: str | SourceRef | None) -> tuple[str | None, str | None]:
    if isinstance(source, SourceRef):
        return source.id, source.secret
    return source, None


def _failure(document: dict[str, Any], reasons: list[Reason]) -> ParseFailure:
    type_ = text(document.get("event"))
    data = document.get("data", {})
    source = document.get("source")
    source_id = text(source) or text(dig(document, "source", "id"))
    partial = None
    if type_ and isinstance(data, dict):
        partial = ParsedMessage(
            NAME,
            source_id,
            text(dig(document, "source", "secret")),
            [ParsedEvent(type_, data, "event", "data")],
        )
    return ParseFailure(
        NAME,
        reasons,
        source_id=source_id,
        type=type_,
        event_id=text(document.get("id")),
        partial=partial,
    )
