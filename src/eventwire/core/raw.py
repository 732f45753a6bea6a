"""A raw Kafka message as plain data, so the core never sees a Kafka client object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict


def header_text(headers: Mapping[str, bytes], name: str) -> str | None:
    """A header's text, or None; invalid UTF-8 counts as absent."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


class OriginDict(TypedDict):
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class RawMessage:
    value: bytes | None
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None = None
    headers: Mapping[str, bytes] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return header_text(self.headers, name)

    def origin(self) -> OriginDict:
        return {"topic": self.topic, "partition": self.partition, "offset": self.offset}
