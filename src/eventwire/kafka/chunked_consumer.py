"""Faust's Kafka consumer, delivering each fetched chunk under one wait instead of one per message.

Stock faust-streaming (0.15.3, pinned) wraps every message's delivery in
``Service.wait_first(callback(message), suspend_flow.wait())``: four tasks and an
``asyncio.wait`` per message, so a rebalance can interrupt a delivery blocked on a full
stream buffer. Profiles put that at the top of the worker's per-message cost. This consumer
keeps everything else as it is (fetching, the conductor, agents, acks, commits) and wraps
the delivery of a whole ``getmany`` chunk in that wait instead.

Why it stays exact: a rebalance stops the fetcher (cancelling this loop and the chunk being
delivered) and seeks every assigned partition back to its committed offset; offsets are
committed only for acked messages, and messages are acked only after their outputs are
published. A message of a cancelled chunk that was never delivered is therefore fetched
again, as with the stock loop. Tests: tests/kafka/test_chunked_consumer.py (two workers
rebalancing, committed positions after SIGKILL).
"""

from __future__ import annotations

import asyncio
from typing import Any

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message

Chunk = list[tuple[TP, Message]]


class ChunkedConsumer(faust_aiokafka.Consumer):
    async def _drain_messages(self, fetcher: Any) -> None:
        consumer_stopped = self._stopped.is_set
        fetcher_stopped = fetcher._stopped.is_set
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                self.diag.set_flag(CONSUMER_FETCHING)
                chunk: Chunk = [pair async for pair in self.getmany(timeout=1.0)]
                # getmany may never release the loop when messages keep coming.
                await asyncio.sleep(0)
                if chunk and not self.should_stop:
                    await self.wait_first(self._deliver(chunk), self.suspend_flow.wait())
                self.diag.unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)

    async def _deliver(self, chunk: Chunk) -> None:
        """The stock per-message steps: skip what was read already, mark gaps (offsets
        missing from the log, e.g. transaction markers) for acks, commit every N acks,
        deliver to the conductor, move the read offset."""
        callback = self.callback
        read_offset = self._read_offset
        commit_every = self._commit_every
        acks_enabled_for = self.app.topics.acks_enabled_for
        for n, (tp, message) in enumerate(chunk, 1):
            if n % 100 == 0:
                await asyncio.sleep(0)  # let the agents run while a big chunk is delivered
            offset = message.offset
            r_offset = read_offset.get(tp)
            if r_offset is not None and offset < r_offset:
                continue
            gap = offset - (r_offset or 0)
            if gap > 1 and r_offset and acks_enabled_for(message.topic):
                await self._add_gap(tp, r_offset + 1, offset)
            if commit_every is not None and self._n_acked >= commit_every:
                self._n_acked = 0
                await self.commit()
            await callback(message)
            read_offset[tp] = offset


class ChunkedTransport(faust_aiokafka.Transport):
    Consumer = ChunkedConsumer
