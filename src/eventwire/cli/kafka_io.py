"""Small aiokafka helpers for the CLI: produce a few messages, follow a topic."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord


async def produce(
    bootstrap: str,
    topic: str,
    messages: Sequence[tuple[bytes, Sequence[tuple[str, bytes]]]],
) -> list[tuple[int, int]]:
    """Send each (value, headers) and return each one's (partition, offset)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        futures = [
            await producer.send(topic, value, headers=list(headers)) for value, headers in messages
        ]
        results = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [(meta.partition, meta.offset) for meta in results]


async def follow(
    bootstrap: str, topic: str, from_beginning: bool, idle_timeout: float | None = None
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` from now (or the start) on; no consumer group, commits nothing."""
    # Without a group id, aiokafka assigns every partition of the subscribed topic.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        while True:
            timeout_ms = int(idle_timeout * 1000) if idle_timeout else 1000
            batches = await consumer.getmany(timeout_ms=timeout_ms)
            if not batches and idle_timeout:
                return
            for records in batches.values():
                for record in records:
                    yield record
    finally:
        await consumer.stop()
