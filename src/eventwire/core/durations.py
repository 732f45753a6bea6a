"""Durations as people write them in settings and triggers: ``500ms``, ``30s``, ``30m``, ``7d``."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")


class DurationError(ValueError):
    """A duration string that is not ``<number><unit>``."""


def parse_duration(value: str | int | float) -> float:
    """Seconds in ``value``; a bare number is already seconds."""
    if isinstance(value, bool):
        raise DurationError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise DurationError(f"duration must not be negative: {value!r}")
        return float(value)
    match = _DURATION.match(value)
    if match is None:
        raise DurationError(
            f"not a duration: {value!r} (write a number and a unit: ms, s, m, h, d or w)"
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of ``seconds`` in the units above."""
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{round(seconds * 1000)}ms"
