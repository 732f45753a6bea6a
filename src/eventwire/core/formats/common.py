"""Pieces every format parser uses: strict envelopes and reading what a broken one still says."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from eventwire.core.reasons import Reason
from eventwire.core.timestamps import parse_sent_at

STRICT = ConfigDict(extra="forbid", strict=True)
# Formats whose producers send more than eventwire reads (Tracardi's metadata, request, ...).
LENIENT = ConfigDict(extra="ignore", strict=True)
MAX_EVENTS = 1000


class Ref(BaseModel):
    """Something named by id: a session, a source."""

    model_config = STRICT
    id: str = Field(min_length=1, max_length=200)


class SourceRef(Ref):
    """``source: {"id", "secret"?}``, as the canonical, Tracardi and Arsel payloads write it."""

    secret: str | None = None


def text(value: Any) -> str | None:
    """``value`` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def dig(document: Any, *path: str) -> Any:
    """``document[path[0]][path[1]]...`` or None where the path breaks."""
    node = document
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def flag(value: Any) -> bool:
    """A boolean option that may also arrive as a header's text."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("1", "true", "yes")


def optional_sent_at(value: Any, path: str, problems: list[Reason]) -> str | None:
    """The send time as RFC 3339 UTC, or None; a bad one is added to ``problems``."""
    if value is None:
        return None
    parsed = parse_sent_at(value, path)
    if isinstance(parsed, Reason):
        problems.append(parsed)
        return None
    return parsed
