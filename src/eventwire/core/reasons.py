"""Why a message was rejected: one machine-readable reason per violation (docs/topics.md)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict


class Code(StrEnum):
    MALFORMED_JSON = "malformed_json"
    UNKNOWN_FORMAT = "unknown_format"
    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    UNAUTHORIZED = "unauthorized"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    RESERVED_EVENT_TYPE = "reserved_event_type"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_VALUE = "invalid_value"
    IDENTITY_REQUIRED = "identity_required"
    IDENTITY_CONFLICT = "identity_conflict"
    UNKNOWN_CONTACT = "unknown_contact"
    # A producer's event id already accepted from the same source (a producer retry).
    DUPLICATE_EVENT = "duplicate_event"
    # A bug in eventwire, not in the message: the message is kept so it can be replayed.
    INTERNAL_ERROR = "internal_error"


class ReasonDict(TypedDict):
    code: str
    field: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Reason:
    code: Code
    field: str | None
    message: str

    def as_dict(self) -> ReasonDict:
        return {"code": self.code.value, "field": self.field, "message": self.message}


def join_path(prefix: str | None, *parts: str | int) -> str:
    """Dotted path of a field: ``join_path("events.1", "properties", "sku")``."""
    tail = ".".join(str(p) for p in parts)
    if not prefix:
        return tail
    return f"{prefix}.{tail}" if tail else prefix
