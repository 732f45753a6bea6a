"""The process agent and the scheduler timer.

process: a batch of internal records → the process stage → one batch publish → ack.
scheduler: every replica claims due timers atomically; each fires on exactly one replica.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from eventwire.core.outputs import InternalRecord, process_outputs
from eventwire.core.process import millis
from eventwire.core.registry import Registry
from eventwire.core.topics import Topics
from eventwire.core.triggers.effects import EffectRecord
from eventwire.kafka.chunked_consumer import BatchRoute
from eventwire.kafka.publisher import Publisher
from eventwire.metrics import BATCH_SIZE, EFFECTS, LATENCY
from eventwire.redis_store.owners import OwnerStore
from eventwire.stages.process import fire_timers, process_batch


def make_process_agent(
    store: OwnerStore,
    registry: Callable[[], Registry],
    timeout_ms: int,
    topics: Topics,
    publisher: Publisher,
    route: BatchRoute,
    batch_size: int,
) -> Callable[[Any], Any]:
    async def process_agent(_stream: Any) -> None:
        # Messages come as lists from the route (kafka/chunked_consumer.py), not the stream.
        sizes = BATCH_SIZE.labels("process")
        while True:
            batch = await route.take(batch_size)
            sizes.observe(len(batch))
            records: list[InternalRecord] = [orjson.loads(m.value or b"") for m in batch]
            out = await process_batch(records, store, registry().triggers, timeout_ms)
            await publisher.publish(
                process_outputs(out.events, out.effects, out.automations, topics)
            )
            observe(records, out.effects)
            route.ack(batch)

    return process_agent


def observe(records: list[InternalRecord], effects: list[EffectRecord]) -> None:
    """Latency from the raw message's Kafka timestamp to its events being published."""
    done_ms = time.time() * 1000
    for record in records:
        LATENCY.observe(max(0.0, done_ms - millis(record["event"]["received_at"])) / 1000)
    for effect in effects:
        EFFECTS.labels(effect["type"]).inc()


def make_scheduler(
    store: OwnerStore,
    registry: Callable[[], Registry],
    timeout_ms: int,
    topics: Topics,
    publisher: Publisher,
) -> Callable[[], Any]:
    async def scheduler() -> None:
        now_ms = int(time.time() * 1000)
        fired = await fire_timers(store, registry().triggers, timeout_ms, now_ms)
        if fired.claimed:
            out = fired.published
            await publisher.publish(
                process_outputs(out.events, out.effects, out.automations, topics)
            )
            await store.complete(fired.finished, fired.claimed)

    return scheduler
