"""Timestamps on the wire: RFC 3339 strings in UTC with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eventwire.core.reasons import Code, Reason

_ISO: dict[int | float, str] = {}  # a batch's messages share few Kafka timestamps


def iso_from_ms(epoch_ms: int | float) -> str:
    """``2018-04-26T20:58:11.259Z`` for an epoch in milliseconds."""
    found = _ISO.get(epoch_ms)
    if found is None:
        moment = datetime.fromtimestamp(epoch_ms / 1000.0, tz=UTC)
        found = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        if len(_ISO) >= 4096:
            _ISO.clear()
        _ISO[epoch_ms] = found
    return found


def ms_from_iso(text: str) -> int:
    """Epoch milliseconds of an RFC 3339 date-time that eventwire wrote."""
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def parse_rfc3339(value: str) -> datetime | None:
    """A timezone-aware datetime for an RFC 3339 date-time, else None."""
    if len(value) < 20 or value[10] not in "Tt ":
        return None
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def is_rfc3339_date(value: str) -> bool:
    """True for an RFC 3339 full-date (``2026-11-24``) or date-time with an offset."""
    if len(value) == 10:
        try:
            datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            return False
        return True
    return parse_rfc3339(value) is not None


def normalise_sent_at(value: str | int | float) -> str | None:
    """RFC 3339 UTC for an RFC 3339 string or an epoch in milliseconds; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if not 0 <= value < 253402300800000:  # year 10000
            return None
        return iso_from_ms(value)
    moment = parse_rfc3339(value)
    if moment is None:
        return None
    return iso_from_ms(moment.timestamp() * 1000)


def parse_sent_at(value: Any, path: str) -> str | Reason:
    """A producer's send time as RFC 3339 UTC, or the reason it is not one."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return Reason(Code.WRONG_TYPE, path, "expected an RFC 3339 date-time string or epoch ms")
    normalised = normalise_sent_at(value)
    if normalised is None:
        return Reason(Code.INVALID_VALUE, path, "expected an RFC 3339 date-time or epoch ms")
    return normalised
