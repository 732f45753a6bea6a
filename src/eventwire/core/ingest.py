"""One raw message in, accepted events or one rejection out: the ingest stage
(docs/architecture.md, docs/formats.md, docs/definitions.md).

Pure and in two steps, so that a whole batch shares its Redis round trips:
``prepare`` decodes, detects the format, parses, authenticates and validates;
``finish`` puts the chosen profile on the events. Between the two, the identity step
(core.identity + redis_store.identities) turns claims into a profile id.

A message is accepted whole or rejected whole, so that every raw message ends up on exactly
one of ``events`` and ``rejected`` (docs/topics.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from eventwire.core import ids
from eventwire.core.decode import Limits, decode_document
from eventwire.core.event_types import BUILTIN_TYPES, CONTROL_TYPES
from eventwire.core.formats.common import flag
from eventwire.core.formats.detect import detect
from eventwire.core.formats.model import ParsedEvent, ParsedMessage, ParseFailure
from eventwire.core.identity import Choice, Lookups, choose
from eventwire.core.raw import OriginDict, RawMessage, header_text
from eventwire.core.reasons import Code, Reason, ReasonDict
from eventwire.core.redact import REDACTED, redacted_payload
from eventwire.core.registry import Registry
from eventwire.core.sources import Source
from eventwire.core.timestamps import iso_from_ms

# Set by `eventwire replay-rejected`: the message's ids derive from where it first arrived.
ORIGIN_HEADER = "eventwire-origin"


class EventRecord(TypedDict):
    """An accepted event as published on ``events`` (docs/topics.md)."""

    id: str
    type: str
    source_id: str
    profile_id: str | None
    session_id: str | None
    properties: dict[str, Any]
    context: dict[str, Any]
    sent_at: str | None
    received_at: str
    definition_version: int | None
    format: str
    builtin: bool
    # Only under a definition in observe mode, and only when there are some.
    violations: NotRequired[list[ReasonDict]]
    # Only in a validation's answer: the event would create its profile.
    new_profile: NotRequired[bool]


class RejectionRecord(TypedDict):
    """A rejected message as published on ``rejected`` (docs/topics.md)."""

    id: str
    event_id: str | None
    type: str | None
    source_id: str | None
    format: str | None
    received_at: str
    reasons: list[ReasonDict]
    payload: str
    origin: OriginDict


@dataclass(slots=True)
class Accepted:
    events: list[EventRecord]
    parsed: ParsedMessage
    publish: bool = True  # Tracardi's saveEvents: false processes without publishing


@dataclass(slots=True)
class Rejected:
    record: RejectionRecord


@dataclass(slots=True)
class Prepared:
    """A message that passed every check that needs no state; it waits for its profile."""

    raw: RawMessage
    document: dict[str, Any]
    parsed: ParsedMessage
    source: Source
    event_ids: list[str]
    versions: list[int | None]
    origin: tuple[str, int, int]
    # Per event: what a definition in observe mode found (accepted anyway); empty lists else.
    violations: list[list[Reason]]


Outcome = Accepted | Rejected


def prepare(raw: RawMessage, registry: Registry, limits: Limits) -> Prepared | Rejected:
    document = decode_document(raw.value, limits)
    if isinstance(document, Reason):
        return reject(raw, None, [document])
    fmt = detect(document, raw.header("format"))
    if isinstance(fmt, Reason):
        return reject(raw, document, [fmt])
    parsed = fmt.parse(document)
    if isinstance(parsed, ParseFailure):
        return _reject_parse_failure(raw, document, parsed, registry)
    if flag(raw.header("profile_less")):
        parsed.options.profile_less = True
    return check(raw, document, parsed, registry)


def finish(prepared: Prepared, profile: str | Reason | None) -> Outcome:
    """The accepted events, with ``profile`` (from the identity step) on each, or a rejection."""
    parsed = prepared.parsed
    if isinstance(profile, Reason):
        return _rejection(prepared.raw, prepared.document, parsed, prepared.event_ids, [profile])
    raw = prepared.raw
    received_at = iso_from_ms(raw.timestamp_ms)
    events: list[EventRecord] = [
        {
            "id": prepared.event_ids[position],
            "type": event.type,
            "source_id": prepared.source.id,
            "profile_id": profile,
            "session_id": parsed.session_id,
            "properties": event.properties,
            "context": event.context,
            "sent_at": event.sent_at,
            "received_at": received_at,
            "definition_version": prepared.versions[position],
            "format": parsed.format,
            "builtin": False,
        }
        for position, event in enumerate(parsed.events)
    ]
    for event_record, found in zip(events, prepared.violations, strict=True):
        if found:
            event_record["violations"] = [reason.as_dict() for reason in found]
    return Accepted(events, parsed, publish=parsed.options.save_events)


def ingest(raw: RawMessage, registry: Registry, limits: Limits) -> Outcome:
    """The whole stage for a world where every identity is new: for tests and dry runs."""
    prepared = prepare(raw, registry, limits)
    if isinstance(prepared, Rejected):
        return prepared
    choice = choose(prepared.parsed, Lookups(), prepared.origin)
    return finish(prepared, choice if isinstance(choice, Reason) else profile_of(choice, None))


def profile_of(choice: Choice, claimed: str | None) -> str | None:
    """The profile id a choice settles on, given what its primary claim found in Redis."""
    if choice.primary is not None:
        return claimed or choice.primary.candidate
    return choice.profile_id


def check(
    raw: RawMessage, document: dict[str, Any], parsed: ParsedMessage, registry: Registry
) -> Prepared | Rejected:
    """Authenticate the source and validate every event; all violations are reported together."""
    source_id = parsed.source_id or raw.header("source")
    # A replayed payload carries "[REDACTED]" where its secret was: take the header's then.
    secret = (
        parsed.secret if parsed.secret and parsed.secret != REDACTED else header_secret(raw.headers)
    )
    origin = origin_for_ids(raw)
    event_ids = [
        event.id or ids.event_id(origin[0], origin[1], origin[2], position)
        for position, event in enumerate(parsed.events)
    ]
    parsed.source_id = source_id
    source = registry.source(source_id) if source_id else None
    if source is None or not source.admits(secret):
        why = "names no source" if not source_id else "is not from a registered, enabled source"
        if source is not None and source.enabled:
            why = "has a missing or wrong secret for its source"
        reason = Reason(Code.UNAUTHORIZED, "source", f"the message {why}")
        return _rejection(raw, document, parsed, event_ids, [reason])
    reasons: list[Reason] = list(parsed.problems)
    if parsed.options.requires_identity and not parsed.identity.any():
        reasons.append(Reason(Code.IDENTITY_REQUIRED, "profile", "the event requires an identity"))
    versions: list[int | None] = []
    observed: list[list[Reason]] = []
    first_failing: int | None = None
    for position, event in enumerate(parsed.events):
        found, version, observing = _event_reasons(event, registry, source.allow_undeclared)
        versions.append(version)
        observed.append(found if observing else [])
        if found and not observing:
            if first_failing is None:
                first_failing = position
            reasons += found
    if reasons:
        return _rejection(raw, document, parsed, event_ids, reasons, first_failing or 0)
    return Prepared(raw, document, parsed, source, event_ids, versions, origin, observed)


def reject_prepared(prepared: Prepared, reasons: list[Reason]) -> Rejected:
    """A rejection of a message that passed every stateless check (e.g. a duplicate)."""
    return _rejection(prepared.raw, prepared.document, prepared.parsed, prepared.event_ids, reasons)


def _reject_parse_failure(
    raw: RawMessage, document: dict[str, Any], failure: ParseFailure, registry: Registry
) -> Rejected:
    reasons = list(failure.reasons)
    if failure.partial is not None:
        # Report the readable events' own violations too, but only to a trusted source.
        outcome = check(raw, document, failure.partial, registry)
        if isinstance(outcome, Rejected) and not _is_unauthorized(outcome):
            known = {reason.field for reason in reasons}
            reasons += [
                Reason(Code(r["code"]), r["field"], r["message"])
                for r in outcome.record["reasons"]
                if r["field"] not in known
            ]
    return reject(
        raw,
        document,
        reasons,
        fmt=failure.format,
        source_id=failure.source_id or raw.header("source"),
        type_=failure.type,
        event_id=failure.event_id or ids.event_id(*origin_for_ids(raw), 0),
    )


def _rejection(
    raw: RawMessage,
    document: dict[str, Any],
    parsed: ParsedMessage,
    event_ids: list[str],
    reasons: list[Reason],
    at: int = 0,
) -> Rejected:
    failing = parsed.events[at] if parsed.events else None
    return reject(
        raw,
        document,
        reasons,
        fmt=parsed.format,
        source_id=parsed.source_id,
        type_=failing.type if failing else None,
        event_id=event_ids[at] if event_ids else None,
    )


def _is_unauthorized(outcome: Rejected) -> bool:
    return any(r["code"] == Code.UNAUTHORIZED for r in outcome.record["reasons"])


def _event_reasons(
    event: ParsedEvent, registry: Registry, allow_undeclared: bool
) -> tuple[list[Reason], int | None, bool]:
    """The event's violations, its definition's version, and whether that definition only
    observes (its violations do not reject)."""
    type_ = event.type
    if type_ in BUILTIN_TYPES:
        message = f"{type_!r} is a built-in event type that only eventwire publishes"
        return [Reason(Code.RESERVED_EVENT_TYPE, event.type_path, message)], None, False
    if type_ in CONTROL_TYPES:
        return [], None, False
    definition = registry.definition(type_)
    if definition is None:
        if allow_undeclared:
            return [], None, False
        message = f"no definition for {type_!r}"
        return [Reason(Code.UNKNOWN_EVENT_TYPE, event.type_path, message)], None, False
    found = definition.validate(event.properties, event.properties_path)
    return found, definition.version, definition.observing


def header_secret(headers: Mapping[str, bytes]) -> str | None:
    """The secret from a ``secret`` header or ``authorization: ApiKey-v1 <key>`` (Talon.One),
    in a Kafka message's headers or those the HTTP collector will give it."""
    secret = header_text(headers, "secret")
    if secret:
        return secret
    authorization = header_text(headers, "authorization")
    if authorization:
        scheme, _, key = authorization.strip().partition(" ")
        if scheme.lower() in ("apikey-v1", "bearer") and key.strip():
            return key.strip()
    return None


def origin_for_ids(raw: RawMessage) -> tuple[str, int, int]:
    """Where ids derive from: the replay header's origin when present, else the message's."""
    replayed = raw.header(ORIGIN_HEADER)
    if replayed:
        topic, _, offset = replayed.rpartition("/")
        topic, _, partition = topic.rpartition("/")
        if topic and partition.isdigit() and offset.isdigit():
            return topic, int(partition), int(offset)
    return raw.topic, raw.partition, raw.offset


def reject(
    raw: RawMessage,
    document: dict[str, Any] | None,
    reasons: list[Reason],
    *,
    fmt: str | None = None,
    source_id: str | None = None,
    type_: str | None = None,
    event_id: str | None = None,
) -> Rejected:
    keep = document if not any(r.code is Code.TOO_DEEP for r in reasons) else None
    return Rejected(
        {
            "id": ids.rejection_id(raw.topic, raw.partition, raw.offset),
            "event_id": event_id,
            "type": type_,
            "source_id": source_id,
            "format": fmt,
            "received_at": iso_from_ms(raw.timestamp_ms),
            "reasons": [reason.as_dict() for reason in reasons],
            "payload": redacted_payload(raw.value, keep),
            "origin": raw.origin(),
        }
    )
