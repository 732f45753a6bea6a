"""Producer retries absorbed (docs/guarantees.md): an event whose producer id was already accepted
from the same source, from another message, is a duplicate. The same message read again (a
redelivery) is not: it carries the same origin, and its state step replays what it did.

Pure: which ids a prepared message claims, and the reasons for the ones found taken.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventwire.core.ingest import Prepared
from eventwire.core.reasons import Code, Reason


@dataclass(frozen=True, slots=True)
class Claim:
    position: int
    source_id: str
    event_id: str
    origin: str  # "<topic>/<partition>/<offset>/<position>" of this message's event
    path: str  # where the id is in the document


def claims(prepared: Prepared) -> list[Claim]:
    """One claim per event of the message that carries its producer's own id."""
    raw = prepared.raw
    found = []
    for position, event in enumerate(prepared.parsed.events):
        if event.id is None:
            continue
        head, _, _ = event.type_path.rpartition(".")
        found.append(
            Claim(
                position,
                prepared.source.id,
                event.id,
                f"{raw.topic}/{raw.partition}/{raw.offset}/{position}",
                f"{head}.id" if head else "id",
            )
        )
    return found


def duplicates(found: list[tuple[Claim, str | None]]) -> list[Reason]:
    """``duplicate_event`` for each claim whose id was taken by another message."""
    reasons = []
    for claim, first in found:
        if first is None or first == claim.origin:
            continue
        topic, partition, offset, _ = first.rsplit("/", 3)
        reasons.append(
            Reason(
                Code.DUPLICATE_EVENT,
                claim.path,
                f"event id {claim.event_id!r} was accepted before from source "
                f"{claim.source_id!r}, at {topic} partition {partition} offset {offset}",
            )
        )
    return reasons
