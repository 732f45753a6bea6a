"""The Segment spec (what Segment's, RudderStack's and Customer.io's SDKs send): one call, or a
``batch`` of calls, as one message.

- ``track`` is an event of type ``event`` with its ``properties``; ``page`` and ``screen``
  are ``page.viewed`` / ``screen.viewed`` with the call's ``name`` among the properties.
- ``identify`` updates the profile's traits: the control event ``profile.update``.
- ``group`` is the event ``group.identified`` (``group_id``, the group's ``traits``).
- ``alias`` links ``previousId`` (an earlier anonymous or user id) to the profile of
  ``userId``: the control event ``profile.alias``.
- ``messageId`` is the producer's event id, so an SDK's retry is absorbed as a duplicate.
- Identities: ``userId`` → user id, ``anonymousId`` → anonymous id, ``traits.email`` (or
  ``context.traits.email``) → email. A message is about one profile, so the calls of one
  batch must name the same user; the HTTP collector splits an SDK's batch per user.
- ``timestamp`` (else ``sentAt``) is the send time. The source is the write key: the HTTP
  collector passes it in the ``source`` header (basic auth's user).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eventwire.core.formats.common import LENIENT, MAX_EVENTS, optional_sent_at, text
from eventwire.core.formats.model import Identity, ParsedEvent, ParsedMessage, ParseFailure
from eventwire.core.reasons import Code, Reason
from eventwire.core.validation import reasons_from

NAME = "segment"
CALLS = ("track", "identify", "page", "screen", "group", "alias")
ALIAS_TYPE = "profile.alias"
UPDATE_TYPE = "profile.update"
PAGE_TYPES = {"page": "page.viewed", "screen": "screen.viewed"}
GROUP_TYPE = "group.identified"
_OPEN = ConfigDict(extra="allow", strict=False)
Id = str | int  # SDKs send ids as strings; some send numbers


class _Call(BaseModel):
    model_config = LENIENT
    type: Literal["track", "identify", "page", "screen", "group", "alias"]
    messageId: str | None = Field(default=None, min_length=1, max_length=200)
    userId: Id | None = None
    anonymousId: Id | None = None
    previousId: Id | None = None
    groupId: Id | None = None
    event: str | None = Field(default=None, min_length=1, max_length=200)
    name: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    traits: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    timestamp: Any = None
    sentAt: Any = None
    writeKey: str | None = None


class _Batch(BaseModel):
    model_config = LENIENT
    batch: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_EVENTS)
    sentAt: Any = None
    context: dict[str, Any] = Field(default_factory=dict)
    writeKey: str | None = None


def matches(document: dict[str, Any]) -> bool:
    if isinstance(document.get("batch"), list):
        return True
    return document.get("type") in CALLS and (
        "messageId" in document or "anonymousId" in document or "userId" in document
    )


def parse(document: dict[str, Any]) -> ParsedMessage | ParseFailure:
    if "batch" in document:
        try:
            batch = _Batch.model_validate(document)
        except ValidationError as exc:
            return ParseFailure(NAME, reasons_from(exc, ""))
        calls, prefix, shared = batch.batch, "batch.", batch.context
        write_key, sent_at = batch.writeKey, batch.sentAt
    else:
        calls, prefix, shared, write_key, sent_at = [document], "", {}, None, None
    parsed: list[tuple[_Call, str]] = []
    reasons: list[Reason] = []
    for i, raw in enumerate(calls):
        where = f"{prefix}{i}." if prefix else ""
        try:
            parsed.append((_Call.model_validate(raw), where))
        except ValidationError as exc:
            reasons += reasons_from(exc, where.rstrip("."))
    if reasons:
        return ParseFailure(NAME, reasons)
    return _message(parsed, shared, write_key, sent_at)


def _message(
    calls: list[tuple[_Call, str]], shared: dict[str, Any], write_key: str | None, sent_at: Any
) -> ParsedMessage | ParseFailure:
    problems: list[Reason] = []
    events = [_event(call, where, shared, sent_at, problems) for call, where in calls]
    identity, conflict = _identity(calls, shared)
    if conflict is not None:
        return ParseFailure(NAME, [conflict])
    if not identity.any():
        where = calls[0][1]
        problems.append(
            Reason(Code.IDENTITY_REQUIRED, f"{where}userId", "a call needs userId or anonymousId")
        )
    traits = {k: v for call, _ in calls if call.type == "identify" for k, v in call.traits.items()}
    source = write_key or next((c.writeKey for c, _ in calls if c.writeKey), None)
    return ParsedMessage(
        format=NAME,
        source_id=source,
        secret=None,
        events=events,
        identity=identity,
        traits=traits,
        problems=problems,
    )


def _event(
    call: _Call, where: str, shared: dict[str, Any], sent_at: Any, problems: list[Reason]
) -> ParsedEvent:
    when = optional_sent_at(call.timestamp or call.sentAt or sent_at, f"{where}timestamp", problems)
    context = {**shared, **call.context}
    common: dict[str, Any] = {"id": call.messageId, "context": context, "sent_at": when}
    if call.type == "track":
        if call.event is None:
            problems.append(Reason(Code.MISSING_FIELD, f"{where}event", "a track call needs event"))
        type_ = call.event or "track"
        return ParsedEvent(type_, call.properties, f"{where}event", f"{where}properties", **common)
    if call.type in PAGE_TYPES:
        properties = {**call.properties, **({"name": call.name} if call.name else {})}
        return ParsedEvent(
            PAGE_TYPES[call.type], properties, f"{where}type", f"{where}properties", **common
        )
    if call.type == "identify":
        return ParsedEvent(UPDATE_TYPE, call.traits, f"{where}type", f"{where}traits", **common)
    if call.type == "group":
        properties = {"group_id": _id(call.groupId), "traits": call.traits}
        return ParsedEvent(GROUP_TYPE, properties, f"{where}type", f"{where}traits", **common)
    if call.previousId is None or call.userId is None:
        problems.append(
            Reason(Code.MISSING_FIELD, f"{where}previousId", "alias needs previousId and userId")
        )
    properties = {"previous_id": _id(call.previousId), "user_id": _id(call.userId)}
    return ParsedEvent(ALIAS_TYPE, properties, f"{where}type", f"{where}previousId", **common)


def _identity(
    calls: list[tuple[_Call, str]], shared: dict[str, Any]
) -> tuple[Identity, Reason | None]:
    """One identity for the message; a batch whose calls are about two users is refused."""
    users = {_id(c.userId) for c, _ in calls if c.userId is not None}
    anonymous = {_id(c.anonymousId) for c, _ in calls if c.anonymousId is not None}
    keys = [user_key(c.userId, c.anonymousId) for c, _ in calls]
    if len(set(keys)) > 1:
        where = next(w for (_, w), k in zip(calls, keys, strict=True) if k != keys[0])
        return Identity(), Reason(
            Code.IDENTITY_CONFLICT,
            f"{where}userId",
            "the calls of one message are about more than one user: send a batch per user "
            "(the HTTP collector splits an SDK's batch by user)",
        )
    emails = [_email(c, shared) for c, _ in calls]
    email = next((e for e in emails if e), None)
    previous = next((_id(c.previousId) for c, _ in calls if c.type == "alias"), None)
    identity = Identity(
        email=email,
        user_id=next(iter(users), None),
        anonymous_id=next(iter(anonymous), None) or previous,
    )
    return identity, None


def _email(call: _Call, shared: dict[str, Any]) -> str | None:
    context_traits = call.context.get("traits") or shared.get("traits") or {}
    found = call.traits.get("email") or (
        context_traits.get("email") if isinstance(context_traits, dict) else None
    )
    return text(found)


def user_key(user_id: Any, anonymous_id: Any) -> str:
    """Whom a call is about, for grouping: its user id, else its anonymous id."""
    return f"u:{user_id}" if user_id is not None else f"a:{anonymous_id}"


def _id(value: Id | None) -> str | None:
    return None if value is None else str(value)


def split_by_user(document: dict[str, Any]) -> list[dict[str, Any]]:
    """A batch as one batch per user (calls unchanged, in order, the batch's own fields
    kept on each); anything else as it is. The HTTP collector writes each to ``raw``."""
    calls = document.get("batch")
    if not isinstance(calls, list) or len(calls) < 2:
        return [document]
    groups: dict[str, list[Any]] = {}
    for call in calls:
        key = (
            user_key(call.get("userId"), call.get("anonymousId")) if isinstance(call, dict) else ""
        )
        groups.setdefault(key, []).append(call)
    if len(groups) == 1:
        return [document]
    return [{**document, "batch": group} for group in groups.values()]
