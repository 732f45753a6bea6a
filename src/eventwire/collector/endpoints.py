"""The HTTP collector's rules (pure): which endpoint speaks which format, what it may refuse
at once, what it writes to ``raw``, and how it answers, as each original API does.

| endpoint | as in | answer |
|---|---|---|
| ``POST /track``, ``POST /collect/{event_type}/{source_id}`` | Tracardi | ``{"profile": {"id"}}`` |
| ``POST /v1/events`` (``ApiKey-v1``, ``source`` header or query) | Talon.One | 202 event ids |
| ``POST /http/v1/collect`` | Simon Data | 202 event ids |
| ``POST /v1/send`` | Arsel | 202 event ids |
| ``POST /v1/batch|track|identify|page|screen|group|alias`` (basic auth) | Segment | 200 |

Only what needs no state is refused here: a body too large (413), not a JSON object (400),
an unknown source or a wrong secret (401). Everything else is decided by the worker, as for
a message sent to Kafka: the answer says the message is safely on ``raw``, not accepted.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from eventwire.core import ids
from eventwire.core.decode import Limits, decode_document
from eventwire.core.formats.detect import FORMATS
from eventwire.core.formats.model import ParsedMessage, ParseFailure
from eventwire.core.formats.segment import split_by_user
from eventwire.core.ingest import header_secret
from eventwire.core.reasons import Code
from eventwire.core.registry import Registry

# Request headers handed on to the worker as Kafka headers (credentials never echoed).
PASSED_HEADERS = ("secret", "authorization", "source", "profile_less")


@dataclass(frozen=True, slots=True)
class Endpoint:
    path: str
    format: str
    answer: str  # "tracardi" | "segment" | "event_ids"
    segment_type: str | None = None  # the call type a single-call Segment endpoint implies


ENDPOINTS = (
    Endpoint("/track", "tracardi", "tracardi"),
    Endpoint("/collect/{event_type}/{source_id}", "tracardi", "tracardi"),
    Endpoint("/v1/events", "talon", "event_ids"),
    Endpoint("/http/v1/collect", "simon", "event_ids"),
    Endpoint("/v1/send", "arsel", "event_ids"),
    Endpoint("/v1/batch", "segment", "segment"),
    *(
        Endpoint(f"/v1/{call}", "segment", "segment", call)
        for call in ("track", "identify", "page", "screen", "group", "alias")
    ),
)


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    code: str
    message: str


@dataclass(slots=True)
class Admitted:
    """What to write to ``raw`` (one message, or one per user of a Segment batch), and what
    the answer needs once Kafka has acknowledged them."""

    messages: list[tuple[bytes, dict[str, bytes]]]
    event_ids: list[list[str | None]]  # per message, per event: the producer's id, if any
    # per message: the Kafka key (a Segment batch's user), so one user's calls keep order
    keys: list[bytes | None] = field(default_factory=list)
    profile_id: str | None = None  # Tracardi: the profile the payload names
    extra: dict[str, Any] = field(default_factory=dict)


def admit(
    endpoint: Endpoint,
    body: bytes,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    params: Mapping[str, str],
    registry: Registry,
    limits: Limits,
) -> Admitted | Refusal:
    decoded = decode_document(body, limits)
    if not isinstance(decoded, dict):
        if decoded.code == Code.TOO_LARGE:
            return Refusal(413, "too_large", decoded.message)
        return Refusal(400, decoded.code.value, decoded.message)
    document = _document(endpoint, decoded, params, query)
    headers = {k.lower(): v for k, v in headers.items()}  # HTTP header names have no case
    passed = {k: v.encode() for k, v in headers.items() if k in PASSED_HEADERS}
    passed["format"] = endpoint.format.encode()
    source = _source(endpoint, headers, query)
    if source is not None:
        passed["source"] = source.encode()
    parsed = FORMATS[endpoint.format].parse(document)
    refused = _authenticate(parsed, passed, registry)
    if refused is not None:
        return refused
    parts = split_by_user(document) if endpoint.format == "segment" else [document]
    if len(parts) == 1 and document is decoded:
        messages = [(body, passed)]  # the body as it came
    else:
        messages = [(orjson.dumps(part), passed) for part in parts]
    event_ids = [_producer_ids(endpoint, part) for part in parts]
    keys = [_key(endpoint, part) for part in parts]
    profile_id = parsed.identity.profile_id if isinstance(parsed, ParsedMessage) else None
    return Admitted(messages, event_ids, keys, profile_id)


def _key(endpoint: Endpoint, document: dict[str, Any]) -> bytes | None:
    if endpoint.format != "segment":
        return None
    batch = document.get("batch")
    first = batch[0] if isinstance(batch, list) and batch else document
    if not isinstance(first, dict):
        return None
    who = first.get("userId") if first.get("userId") is not None else first.get("anonymousId")
    return None if who is None else str(who).encode()


def _document(
    endpoint: Endpoint,
    decoded: dict[str, Any],
    params: Mapping[str, str],
    query: Mapping[str, str],
) -> dict[str, Any]:
    """The message to write. Two endpoints say in the URL what the body leaves out:
    Tracardi's collect (the event type and source: the body is the event's properties)
    and Segment's single-call endpoints (the call type)."""
    if endpoint.path.startswith("/collect/"):
        message: dict[str, Any] = {
            "source": {"id": params["source_id"]},
            "events": [{"type": params["event_type"], "properties": decoded}],
        }
        # Tracardi's collect names no session: one per request, unless the query gives one.
        message["session"] = {"id": query.get("session_id") or params["request_id"]}
        if query.get("profile_id"):
            message["profile"] = {"id": query["profile_id"]}
        return message
    if endpoint.segment_type is not None and "type" not in decoded:
        return {**decoded, "type": endpoint.segment_type}
    return decoded


def _source(endpoint: Endpoint, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """A source the URL or the credentials name: Segment's write key (basic auth's user),
    Talon.One's ``source`` (header or query)."""
    if endpoint.format == "segment":
        authorization = headers.get("authorization") or ""
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() == "basic":
            try:
                user = base64.b64decode(encoded.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            return user.partition(":")[0] or None
        return None
    if endpoint.format == "talon":
        return headers.get("source") or query.get("source") or None
    return None


def _authenticate(
    parsed: ParsedMessage | ParseFailure, passed: dict[str, bytes], registry: Registry
) -> Refusal | None:
    """401 for an unknown or disabled source or a wrong secret; a malformed payload from a
    known source is the worker's to reject (with every reason)."""
    if isinstance(parsed, ParseFailure):
        source_id, secret = parsed.source_id, None
        if parsed.partial is not None:
            secret = parsed.partial.secret
    else:
        source_id, secret = parsed.source_id, parsed.secret
    if passed.get("source") and not source_id:
        source_id = passed["source"].decode()
    secret = secret or header_secret(passed)
    source = registry.source(source_id) if source_id else None
    if source is None:
        return Refusal(401, "unauthorized", "the request names no registered source")
    if not source.admits(secret):
        return Refusal(401, "unauthorized", "the source is disabled, or the secret is wrong")
    return None


def _producer_ids(endpoint: Endpoint, document: dict[str, Any]) -> list[str | None]:
    """Per event of the message, the id its producer gave (None: derived from the offset)."""
    if endpoint.format == "segment":
        batch = document.get("batch")
        return [
            _given(call, "messageId") for call in (batch if isinstance(batch, list) else [document])
        ]
    if endpoint.format == "tracardi":
        events = document.get("events")
        return [_given(event, "id") for event in (events if isinstance(events, list) else [])]
    return [_given(document, "id")]


def _given(item: Any, key: str) -> str | None:
    return str(item[key]) if isinstance(item, dict) and item.get(key) else None


def answer(
    endpoint: Endpoint, admitted: Admitted, landed: list[tuple[str, int, int]]
) -> tuple[int, dict[str, Any]]:
    """The original API's answer, once every message is on ``raw`` at ``landed``
    (topic, partition, offset): ids derived from where a message landed are known now."""
    if endpoint.answer == "segment":
        return 200, {"success": True}
    if endpoint.answer == "tracardi":
        topic, partition, offset = landed[0]
        profile = admitted.profile_id or ids.derived_id(
            "profile", "message", topic, partition, offset
        )
        return 200, {"profile": {"id": profile}}
    event_ids = [
        given or ids.event_id(topic, partition, offset, position)
        for (topic, partition, offset), given_ids in zip(landed, admitted.event_ids, strict=True)
        for position, given in enumerate(given_ids)
    ]
    return 202, {"event_ids": event_ids}
