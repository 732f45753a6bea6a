"""One raw message in, accepted events or one rejection out: the whole ingest stage as a pure
function (SPEC §0 ingest, §2-§5). A message is accepted whole or rejected whole, so that
every raw message ends up on exactly one of ``events`` and ``rejected`` (SPEC §1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from eventwire.core import ids
from eventwire.core.decode import Limits, decode_document
from eventwire.core.event_types import BUILTIN_TYPES, CONTROL_TYPES
from eventwire.core.formats.detect import detect
from eventwire.core.formats.model import ParsedMessage, ParseFailure
from eventwire.core.raw import OriginDict, RawMessage
from eventwire.core.reasons import Code, Reason, ReasonDict
from eventwire.core.redact import redacted_payload
from eventwire.core.registry import Registry
from eventwire.core.timestamps import iso_from_ms

# Set by `eventwire replay-rejected`: the message's ids derive from where it first arrived.
ORIGIN_HEADER = "eventwire-origin"


class EventRecord(TypedDict):
    """An accepted event as published on ``events`` (SPEC §3)."""

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


class RejectionRecord(TypedDict):
    """A rejected message as published on ``rejected`` (SPEC §4)."""

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
    publish: bool = True  # Tracardi's saveEvents: false processes without publishing


@dataclass(slots=True)
class Rejected:
    record: RejectionRecord


Outcome = Accepted | Rejected


def ingest(raw: RawMessage, registry: Registry, limits: Limits) -> Outcome:
    document = decode_document(raw.value, limits)
    if isinstance(document, Reason):
        return reject(raw, None, [document])
    fmt = detect(document, raw.header("format"))
    if isinstance(fmt, Reason):
        return reject(raw, document, [fmt])
    parsed = fmt.parse(document)
    if isinstance(parsed, ParseFailure):
        reasons = list(parsed.reasons)
        if parsed.partial is not None:
            # Report the readable events' own violations too, but only to a trusted source.
            outcome = check(raw, document, parsed.partial, registry)
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
            fmt=parsed.format,
            source_id=parsed.source_id or raw.header("source"),
            type_=parsed.type,
            event_id=parsed.event_id or ids.event_id(*origin_for_ids(raw), 0),
        )
    return check(raw, document, parsed, registry)


def check(
    raw: RawMessage, document: dict[str, Any], parsed: ParsedMessage, registry: Registry
) -> Outcome:
    """Authenticate the source and validate every event; all violations are reported together."""
    source_id = parsed.source_id or raw.header("source")
    secret = parsed.secret or header_secret(raw)
    origin = origin_for_ids(raw)
    event_ids = [
        event.id or ids.event_id(origin[0], origin[1], origin[2], position)
        for position, event in enumerate(parsed.events)
    ]

    def rejection(reasons: list[Reason], at: int = 0) -> Rejected:
        failing = parsed.events[at] if parsed.events else None
        return reject(
            raw,
            document,
            reasons,
            fmt=parsed.format,
            source_id=source_id,
            type_=failing.type if failing else None,
            event_id=event_ids[at] if event_ids else None,
        )

    source = registry.source(source_id) if source_id else None
    if source is None or not source.admits(secret):
        why = "names no source" if not source_id else "is not from a registered, enabled source"
        if source is not None and source.enabled:
            why = "has a missing or wrong secret for its source"
        return rejection([Reason(Code.UNAUTHORIZED, "source", f"the message {why}")])
    if parsed.options.requires_identity and not parsed.identity.any():
        return rejection(
            [Reason(Code.IDENTITY_REQUIRED, "profile", "the event requires an identity")]
        )

    reasons: list[Reason] = list(parsed.problems)
    versions: list[int | None] = []
    first_failing: int | None = None
    for position, event in enumerate(parsed.events):
        found, version = _event_reasons(event.type, event, registry, source.allow_undeclared)
        versions.append(version)
        if found and first_failing is None:
            first_failing = position
        reasons += found
    if reasons:
        return rejection(reasons, first_failing or 0)

    received_at = iso_from_ms(raw.timestamp_ms)
    profile_id = None if parsed.options.profile_less else parsed.identity.profile_id
    return Accepted(
        [
            {
                "id": event_ids[position],
                "type": event.type,
                "source_id": source.id,
                "profile_id": profile_id,
                "session_id": parsed.session_id,
                "properties": event.properties,
                "context": event.context,
                "sent_at": event.sent_at,
                "received_at": received_at,
                "definition_version": versions[position],
                "format": parsed.format,
                "builtin": False,
            }
            for position, event in enumerate(parsed.events)
        ],
        publish=parsed.options.save_events,
    )


def _is_unauthorized(outcome: Rejected) -> bool:
    return any(r["code"] == Code.UNAUTHORIZED for r in outcome.record["reasons"])


def _event_reasons(
    type_: str, event: Any, registry: Registry, allow_undeclared: bool
) -> tuple[list[Reason], int | None]:
    if type_ in BUILTIN_TYPES:
        return [
            Reason(
                Code.RESERVED_EVENT_TYPE,
                event.type_path,
                f"{type_!r} is a built-in event type that only eventwire publishes",
            )
        ], None
    if type_ in CONTROL_TYPES:
        return [], None
    definition = registry.definition(type_)
    if definition is None:
        if allow_undeclared:
            return [], None
        return [
            Reason(Code.UNKNOWN_EVENT_TYPE, event.type_path, f"no definition for {type_!r}")
        ], None
    return definition.validate(event.properties, event.properties_path), definition.version


def header_secret(raw: RawMessage) -> str | None:
    """The secret from a ``secret`` header or ``authorization: ApiKey-v1 <key>`` (Talon.One)."""
    secret = raw.header("secret")
    if secret:
        return secret
    authorization = raw.header("authorization")
    if authorization:
        scheme, _, key = authorization.strip().partition(" ")
        if scheme.lower() in ("apikey-v1", "bearer") and key.strip():
            return key.strip()
    return None


def origin_for_ids(raw: RawMessage) -> tuple[str, int, int]:
    """Where ids derive from: the replay header's origin when present, else the message's."""
    replayed = raw.header(ORIGIN_HEADER)
    if replayed:
        topic, _, rest = replayed.rpartition("/")
        topic, _, partition = topic.rpartition("/")
        if topic and partition.isdigit() and rest.isdigit():
            return topic, int(partition), int(rest)
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
