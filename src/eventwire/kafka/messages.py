"""Faust's message objects as the core's plain RawMessage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from eventwire.core.raw import RawMessage


def header_map(
    headers: Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None,
) -> dict[str, bytes]:
    if not headers:
        return {}
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return {str(name).lower(): value for name, value in pairs if value is not None}


def raw_message(message: Any) -> RawMessage:
    """``message`` is a faust ``Message`` (topic, partition, offset, timestamp in seconds)."""
    return RawMessage(
        value=message.value,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=round(message.timestamp * 1000),
        key=message.key,
        headers=header_map(message.headers),
    )
