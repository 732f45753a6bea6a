"""Outcomes as Kafka records: which topic, which key, which bytes (SPEC §1)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from eventwire.core.ingest import Accepted, EventRecord, Outcome
from eventwire.core.topics import Topics


@dataclass(frozen=True, slots=True)
class Output:
    topic: str
    key: bytes | None
    value: bytes


def event_key(event: EventRecord) -> bytes:
    """Profile id, else session id (profile-less events), else the event's own id."""
    return (event["profile_id"] or event["session_id"] or event["id"]).encode()


def ingest_outputs(outcomes: Iterable[Outcome], topics: Topics) -> list[Output]:
    dumps = orjson.dumps
    records: list[Output] = []
    for outcome in outcomes:
        if isinstance(outcome, Accepted):
            if outcome.publish:
                records.extend(
                    Output(topics.events, event_key(event), dumps(event))
                    for event in outcome.events
                )
        else:
            rejection = outcome.record
            key = rejection["source_id"].encode() if rejection["source_id"] else None
            records.append(Output(topics.rejected, key, dumps(rejection)))
    return records
