"""Publish a batch of records with one await, retrying a failed batch until Kafka is back.

Records go out through aiokafka's batch API: one record batch per topic partition (split
when full), partitioned by key with aiokafka's own default partitioner (murmur2, as the Java
client), so a key lands where ``producer.send`` would have put it. Per record that is one
``append``, instead of ``send``'s metadata checks, partitioning, accumulator wait and future.

A retried batch may publish some records twice; their ids are deterministic, so consumers
see duplicates as the same ids. Offsets are committed only after a batch is published, so
an outage delays the stream but never loses a message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from aiokafka.partitioner import DefaultPartitioner

from eventwire.core.outputs import Output

log = logging.getLogger(__name__)
_partition_of = DefaultPartitioner()

try:  # faust wraps producer failures in its own error type
    from faust.exceptions import ProducerSendError

    _SEND_ERRORS: tuple[type[BaseException], ...] = (KafkaError, ProducerSendError)
except ImportError:  # pragma: no cover
    _SEND_ERRORS = (KafkaError,)


class Publisher:
    def __init__(
        self,
        producer: Callable[[], Any],
        *,
        first_backoff: float = 0.1,
        max_backoff: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._producer = producer
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._sleep = sleep
        self.published = 0
        self.retries = 0

    async def publish(self, records: Sequence[Output]) -> None:
        backoff = self._first_backoff
        while True:
            try:
                await self._send_all(records)
            except _SEND_ERRORS as exc:
                self.retries += 1
                log.warning(
                    "publishing %d records failed (%s: %s); retrying in %.1fs",
                    len(records),
                    type(exc).__name__,
                    exc,
                    backoff,
                )
                await self._sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            self.published += len(records)
            return

    async def _send_all(self, records: Sequence[Output]) -> None:
        await send_records(self._producer(), records)


async def send_records(producer: Any, records: Sequence[Output]) -> None:
    """Send ``records`` with ``producer`` (an AIOKafkaProducer, transactional or not), one
    record batch per topic partition, and wait until Kafka has them."""
    partitions: dict[str, list[int]] = {}
    # A profile's event, built-ins and effects share one key: hash each key once.
    chosen: dict[tuple[str, bytes | None], int] = {}
    open_batches: dict[tuple[str, int], Any] = {}
    futures = []
    for record in records:
        topic = record.topic
        partition = chosen.get((topic, record.key), -1)
        if partition < 0:
            all_partitions = partitions.get(topic)
            if all_partitions is None:
                all_partitions = partitions[topic] = sorted(await producer.partitions_for(topic))
            partition = _partition_of(record.key, all_partitions, all_partitions)
            if record.key is not None:  # keyless records go to a random partition
                chosen[(topic, record.key)] = partition
        batch = open_batches.get((topic, partition))
        if batch is None:
            batch = open_batches[(topic, partition)] = producer.create_batch()
        if (
            batch.append(
                key=record.key, value=record.value, timestamp=None, headers=record.headers or []
            )
            is None
        ):
            # Full: send it (in order, before the rest of this partition) and start anew.
            futures.append(await producer.send_batch(batch, topic, partition=partition))
            batch = open_batches[(topic, partition)] = producer.create_batch()
            if (
                batch.append(
                    key=record.key, value=record.value, timestamp=None, headers=record.headers or []
                )
                is None
            ):
                raise MessageSizeTooLargeError(f"a record of {len(record.value)} bytes")
    for (topic, partition), batch in open_batches.items():
        futures.append(await producer.send_batch(batch, topic, partition=partition))
    # The futures resolve once Kafka has the batches (acks=all).
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
