"""Deterministic ids, so that a re-read Kafka message yields the same ids (SPEC §2, §6)."""

from __future__ import annotations

import uuid

# Fixed namespace: changing it would change every derived id, so never do.
EVENTWIRE_NAMESPACE = uuid.UUID("6f1f3c4e-8b0e-5d7a-9a57-2f0d3c1b7e11")


def event_id(topic: str, partition: int, offset: int, position: int) -> str:
    """Id of the ``position``-th event of the raw message at ``topic/partition/offset``."""
    return str(uuid.uuid5(EVENTWIRE_NAMESPACE, f"event:{topic}:{partition}:{offset}:{position}"))


def rejection_id(topic: str, partition: int, offset: int) -> str:
    """Id of the rejection record of one raw message (a message is rejected whole)."""
    return str(uuid.uuid5(EVENTWIRE_NAMESPACE, f"rejection:{topic}:{partition}:{offset}"))


def derived_id(kind: str, *parts: str | int) -> str:
    """Id of anything eventwire derives from other ids (built-in events, effects)."""
    return str(uuid.uuid5(EVENTWIRE_NAMESPACE, ":".join([kind, *map(str, parts)])))
