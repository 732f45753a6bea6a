"""The ingest agent: a batch of raw messages → the ingest stage → one batch publish → ack.

Every message is acked only after its outputs are published, and every message is acked
(Faust commits only contiguous acked offsets).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from eventwire.core.decode import Limits
from eventwire.core.outputs import ingest_outputs
from eventwire.core.registry import Registry
from eventwire.core.topics import Topics
from eventwire.kafka.messages import raw_message
from eventwire.kafka.publisher import Publisher
from eventwire.redis_store.identities import IdentityStore
from eventwire.stages.ingest import ingest_batch


def make_ingest_agent(
    registry: Callable[[], Registry],
    identities: Callable[[], IdentityStore],
    limits: Limits,
    topics: Topics,
    publisher: Publisher,
    batch_size: int,
    batch_wait: float,
) -> Callable[[Any], Any]:
    async def ingest_agent(stream: Any) -> None:
        async for batch in stream.noack_take(batch_size, within=batch_wait):
            raws = [raw_message(event.message) for event in batch]
            now_ms = int(time.time() * 1000)
            outcomes = await ingest_batch(raws, registry(), limits, identities(), now_ms)
            await publisher.publish(ingest_outputs(outcomes, topics))
            for event in batch:
                await stream.ack(event)

    return ingest_agent
