"""Which format a document is in: the ``format`` header when present, else its shape."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventwire.core.formats import arsel, canonical, segment, simon, talon, tracardi
from eventwire.core.formats.model import ParsedMessage, ParseFailure
from eventwire.core.reasons import Code, Reason


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    matches: Callable[[dict[str, Any]], bool]
    parse: Callable[[dict[str, Any]], ParsedMessage | ParseFailure]


FORMATS: dict[str, Format] = {
    module.NAME: Format(module.NAME, module.matches, module.parse)
    for module in (canonical, tracardi, talon, simon, arsel, segment)
}


def detect(document: dict[str, Any], header: str | None) -> Format | Reason:
    if header is not None:
        fmt = FORMATS.get(header.strip().lower())
        if fmt is None:
            known = ", ".join(FORMATS)
            return Reason(
                Code.UNKNOWN_FORMAT, None, f"header format={header!r} is not one of: {known}"
            )
        return fmt
    fitting = [fmt for fmt in FORMATS.values() if fmt.matches(document)]
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        keys = ", ".join(key[:40] for key in sorted(document)[:10]) or "none"
        return Reason(
            Code.UNKNOWN_FORMAT,
            None,
            f"the document fits no known format (top-level keys: {keys}); "
            "send a 'format' header to say which it is",
        )
    names = " and ".join(fmt.name for fmt in fitting)
    return Reason(
        Code.UNKNOWN_FORMAT,
        None,
        f"the document fits both {names}; send a 'format' header to say which it is",
    )
