"""The ingest agent: a batch of raw messages → the ingest stage → one batch publish → ack.

Every message is acked only after its outputs are published, and every message is acked
(Faust commits only contiguous acked offsets).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from eventwire.core.decode import Limits
from eventwire.core.ingest import Accepted, Outcome
from eventwire.core.outputs import ingest_outputs
from eventwire.core.registry import Registry
from eventwire.core.topics import Topics
from eventwire.kafka.chunked_consumer import BatchRoute
from eventwire.kafka.messages import raw_message
from eventwire.kafka.publisher import Publisher
from eventwire.metrics import ACCEPTED, BATCH_SIZE, REJECTED
from eventwire.redis_store.identities import IdentityStore
from eventwire.redis_store.stats import StatsStore
from eventwire.retry import retry_outages
from eventwire.stages.ingest import REDIS_OUTAGES, ingest_batch


def count(outcomes: list[Outcome]) -> tuple[Counter[str], Counter[str]]:
    """Accepted events by type, rejected messages by reason (each reason code once a message)."""
    accepted: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    for outcome in outcomes:
        if isinstance(outcome, Accepted):
            accepted.update(event["type"] for event in outcome.events)
        else:
            rejected.update({r["code"] for r in outcome.record["reasons"]})
    return accepted, rejected


def make_ingest_agent(
    registry: Callable[[], Registry],
    identities: Callable[[], IdentityStore],
    stats: StatsStore,
    limits: Limits,
    topics: Topics,
    publisher: Publisher,
    route: BatchRoute,
    batch_size: int,
) -> Callable[[Any], Any]:
    async def ingest_agent(_stream: Any) -> None:
        # Messages come as lists from the route (kafka/chunked_consumer.py), not the stream.
        sizes = BATCH_SIZE.labels("ingest")
        while True:
            batch = await route.take(batch_size)
            sizes.observe(len(batch))
            raws = [raw_message(message) for message in batch]
            now_ms = int(time.time() * 1000)
            outcomes = await ingest_batch(raws, registry(), limits, identities(), now_ms)
            await publisher.publish(ingest_outputs(outcomes, topics))
            accepted, rejected = count(outcomes)
            for type_, n in accepted.items():
                ACCEPTED.labels(type_ if registry().definition(type_) else "(undeclared)").inc(n)
            for reason, n in rejected.items():
                REJECTED.labels(reason).inc(n)
            await retry_outages(
                lambda a=accepted, r=rejected: stats.add(a, r),  # type: ignore[misc]
                REDIS_OUTAGES,
                "counting",
            )
            route.ack(batch)

    return ingest_agent
