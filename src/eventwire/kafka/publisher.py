"""Publish a batch of records with one await, retrying a failed batch until Kafka is back.

A retried batch may publish some records twice; their ids are deterministic, so consumers
see duplicates as the same ids. Offsets are committed only after a batch is published, so
an outage delays the stream but never loses a message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka.errors import KafkaError

from eventwire.core.outputs import Output

log = logging.getLogger(__name__)

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
        producer = self._producer()
        # Each send only enqueues into the producer's batch; the futures resolve on delivery.
        futures = [
            await producer.send(record.topic, record.key, record.value, None, None, None)
            for record in records
        ]
        results = await asyncio.gather(*futures, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
