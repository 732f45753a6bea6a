"""The process agents: a batch of ``raw`` messages (or of ``timers`` messages) → the process
stage → its outputs published (under exactly once, in one Kafka transaction per input
partition) → ack.

Every message is acked only after its outputs are published, and every message is acked
(Faust commits only contiguous acked offsets).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka.structs import TopicPartition

from eventwire.core.raw import RawMessage
from eventwire.core.registry import Registry
from eventwire.kafka.faust_internals import BatchRoute
from eventwire.kafka.messages import raw_message
from eventwire.kafka.publisher import Publisher
from eventwire.kafka.transactions import PartitionTransactions
from eventwire.metrics import ACCEPTED, BATCH_SIZE, EFFECTS, LATENCY, REJECTED, VIOLATIONS
from eventwire.redis_store.stats import StatsStore
from eventwire.retry import REDIS_OUTAGES, retry_outages
from eventwire.stages.process import Processed, ProcessStage

Run = Callable[[Sequence[RawMessage], int], Awaitable[Processed]]


def make_process_agent(
    stage: ProcessStage,
    run: Run,
    stats: StatsStore,
    publisher: Publisher,
    route: BatchRoute,
    batch_size: int,
    transactions: PartitionTransactions | None = None,
) -> Callable[[Any], Any]:
    """``run``: the stage's method for the route's topic (``stage.run``, ``stage.run_timers``).
    ``transactions``: exactly once (each partition's outputs and next offset in one
    transaction); None: at least once (one publish for the batch)."""

    async def process_agent(_stream: Any) -> None:
        # Messages come as lists from the route (kafka/faust_internals.py), not the stream.
        sizes = BATCH_SIZE.labels("process")
        while True:
            batch = await route.take(batch_size)
            sizes.observe(len(batch))
            raws = [raw_message(message) for message in batch]
            done = await run(raws, int(time.time() * 1000))
            if transactions is None:
                await publisher.publish(done.all_outputs())
            else:
                await commit_per_partition(transactions, done, batch)
            observe(done, stage.registry(), [raw.timestamp_ms for raw in raws])
            if done.accepted or done.rejected:
                await retry_outages(
                    lambda d=done: stats.add(d.accepted, d.rejected, d.violations),  # type: ignore[misc]
                    REDIS_OUTAGES,
                    "counting",
                )
            route.ack(batch)

    return process_agent


async def commit_per_partition(
    transactions: PartitionTransactions, done: Processed, batch: list[Any]
) -> None:
    """One transaction per input partition of the batch, all at once. A fenced partition's
    messages are released all the same: they are another replica's now, and this one's
    consumer cannot commit past them with its stale generation."""
    next_offsets: dict[tuple[str, int], int] = {}
    for message in batch:
        key = (message.topic, message.partition)
        next_offsets[key] = max(next_offsets.get(key, 0), message.offset + 1)
    await asyncio.gather(
        *(
            transactions.commit(TopicPartition(*key), done.outputs.get(key, []), offset)
            for key, offset in next_offsets.items()
        )
    )


def observe(done: Processed, registry: Registry, received_ms: list[int]) -> None:
    """Counts per batch; latency from each raw message's Kafka timestamp to its outputs
    being published."""
    for type_, n in done.accepted.items():
        ACCEPTED.labels(type_ if registry.definition(type_) else "(undeclared)").inc(n)
    for reason, n in done.rejected.items():
        REJECTED.labels(reason).inc(n)
    for type_, n in done.effects.items():
        EFFECTS.labels(type_).inc(n)
    for (type_, code), n in done.violations.items():
        VIOLATIONS.labels(type_, code).inc(n)
    now_ms = time.time() * 1000
    for at_ms in received_ms:
        LATENCY.observe(max(0.0, now_ms - at_ms) / 1000)
