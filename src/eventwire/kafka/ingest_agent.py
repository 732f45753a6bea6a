"""The ingest agent: a batch of raw messages → core.ingest → one batch publish → ack.

Every message is acked only after its outputs are published, and every message is acked
(Faust commits only contiguous acked offsets).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from eventwire.core.decode import Limits
from eventwire.core.ingest import Outcome, ingest, reject
from eventwire.core.outputs import ingest_outputs
from eventwire.core.raw import RawMessage
from eventwire.core.reasons import Code, Reason
from eventwire.core.registry import Registry
from eventwire.core.topics import Topics
from eventwire.kafka.messages import raw_message
from eventwire.kafka.publisher import Publisher

log = logging.getLogger(__name__)


def ingest_all(raws: Sequence[RawMessage], registry: Registry, limits: Limits) -> list[Outcome]:
    """Run the core on each message; a bug on one message rejects it, it never stops the stream."""
    outcomes: list[Outcome] = []
    for raw in raws:
        try:
            outcomes.append(ingest(raw, registry, limits))
        except Exception:
            log.exception("bug while ingesting %s/%s/%s", raw.topic, raw.partition, raw.offset)
            reason = Reason(Code.INTERNAL_ERROR, None, "eventwire failed on this message")
            outcomes.append(reject(raw, None, [reason]))
    return outcomes


def make_ingest_agent(
    registry: Callable[[], Registry],
    limits: Limits,
    topics: Topics,
    publisher: Publisher,
    batch_size: int,
    batch_wait: float,
) -> Callable[[Any], Any]:
    async def ingest_agent(stream: Any) -> None:
        async for batch in stream.noack_take(batch_size, within=batch_wait):
            raws = [raw_message(event.message) for event in batch]
            outcomes = ingest_all(raws, registry(), limits)
            await publisher.publish(ingest_outputs(outcomes, topics))
            for event in batch:
                await stream.ack(event)

    return ingest_agent
