"""Exactly-once outputs: each batch's outputs for one input partition and that partition's
next offset are committed in one Kafka transaction (docs/guarantees.md), as Kafka Streams does.

aiokafka has no KIP-447 group-metadata fencing (its ``send_offsets_to_transaction`` takes a
group id only), so a replica that stalled past its session timeout and came back (a zombie)
is fenced the way Kafka Streams did before KIP-447: one transactional producer per input
partition, with the transactional id app id + topic + partition, started (and so
``init_transactions``) when the partition is assigned. The new owner's start bumps the
producer epoch, which aborts the previous owner's open transaction and makes its next
commit fail with ``ProducerFenced``: the zombie drops its batch.

A transaction that fails for any other reason (a broker restart, a coordinator moving) is
aborted by starting that partition's producer afresh and sent again: the outputs are the
same records (the state step is stored in Redis), and an aborted transaction's records are
never seen by a ``read_committed`` consumer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaError,
    ProducerFenced,
    TransactionalIdAuthorizationFailed,
)
from aiokafka.structs import TopicPartition

from eventwire.core.outputs import Output
from eventwire.kafka.publisher import send_records

log = logging.getLogger(__name__)
_FENCED = (ProducerFenced, InvalidProducerEpoch, TransactionalIdAuthorizationFailed)


class PartitionTransactions:
    def __init__(
        self,
        bootstrap: str,
        app_id: str,
        group_id: str,
        *,
        linger_ms: int = 5,
        first_backoff: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        self._bootstrap = bootstrap
        self._app_id = app_id
        self._group_id = group_id
        self._linger_ms = linger_ms
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._producers: dict[TopicPartition, AIOKafkaProducer] = {}
        self._ready: dict[TopicPartition, asyncio.Event] = {}
        # Taken away by a rebalance: never started again until assigned again, so a late
        # batch can never fence the partition's new owner.
        self._revoked: set[TopicPartition] = set()

    def transactional_id(self, tp: TopicPartition) -> str:
        return f"{self._app_id}-{tp.topic}-{tp.partition}"

    async def assigned(self, tps: Iterable[TopicPartition]) -> None:
        """Start a producer for each newly assigned partition, fencing its last owner."""
        fresh = [tp for tp in tps if tp not in self._ready]
        self._revoked.difference_update(tps)
        await asyncio.gather(*(self._start(tp) for tp in fresh))

    async def revoked(self, tps: Iterable[TopicPartition]) -> None:
        gone = list(tps)
        self._revoked.update(gone)
        await asyncio.gather(*(self._stop(tp) for tp in gone))

    async def close(self) -> None:
        await self.revoked(list(self._ready))

    async def commit(self, tp: TopicPartition, outputs: Sequence[Output], next_offset: int) -> bool:
        """Publish ``outputs`` and commit ``next_offset`` for ``tp`` in one transaction.
        True once committed; False when this replica was fenced (the partition is another
        replica's now), and the batch must be dropped."""
        backoff = self._first_backoff
        while True:
            producer = await self._producer(tp)
            if producer is None:
                return False
            try:
                await producer.begin_transaction()
                await send_records(producer, outputs)
                await producer.send_offsets_to_transaction({tp: next_offset}, self._group_id)
                await producer.commit_transaction()
            except _FENCED as exc:
                log.warning("%s: fenced (%s); dropping the batch", tp, type(exc).__name__)
                await self._stop(tp)
                return False
            except KafkaError as exc:
                log.warning(
                    "transaction for %s failed (%s: %s); aborting and retrying in %.1fs",
                    tp,
                    type(exc).__name__,
                    exc,
                    backoff,
                )
                await self._restart(tp)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            return True

    async def _producer(self, tp: TopicPartition) -> AIOKafkaProducer | None:
        ready = self._ready.get(tp)
        if ready is None:
            if tp in self._revoked:
                return None
            await self._start(tp)  # messages came before the assignment was announced
            ready = self._ready.get(tp)
            if ready is None:
                return None
        await ready.wait()
        return self._producers.get(tp)

    async def _start(self, tp: TopicPartition) -> None:
        ready = self._ready[tp] = asyncio.Event()
        backoff = self._first_backoff
        while self._ready.get(tp) is ready:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap,
                transactional_id=self.transactional_id(tp),
                enable_idempotence=True,
                acks="all",
                linger_ms=self._linger_ms,
                max_batch_size=512 * 1024,
            )
            try:
                await producer.start()  # init_transactions: fences the last owner
            except KafkaError as exc:
                log.warning("starting the producer of %s failed (%s)", tp, exc)
                await producer.stop()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            self._producers[tp] = producer
            ready.set()
            return

    async def _restart(self, tp: TopicPartition) -> None:
        """A fresh producer for ``tp``: its start aborts whatever the old one left open."""
        old = self._producers.pop(tp, None)
        if old is not None:
            await _quietly_stop(old)
        if tp in self._ready:
            await self._start(tp)

    async def _stop(self, tp: TopicPartition) -> None:
        ready = self._ready.pop(tp, None)
        if ready is not None:
            ready.set()  # wakes anyone waiting; they find no producer
        producer = self._producers.pop(tp, None)
        if producer is not None:
            await _quietly_stop(producer)


async def _quietly_stop(producer: AIOKafkaProducer) -> None:
    try:
        await producer.stop()
    except KafkaError as exc:  # stopping a broken producer: nothing left to save
        log.info("stopping a transactional producer: %s", exc)
