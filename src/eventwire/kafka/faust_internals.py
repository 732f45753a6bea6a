"""Every use of faust-streaming's private internals, in one module (0.15.3, pinned; tested in
tests/kafka/test_faust_internals.py): the consumer delivering each fetched chunk at once,
and the aiokafka producer under Faust's, for its batch API.

Faust's Kafka consumer, delivering each fetched chunk at once instead of message by message.

Stock faust-streaming (0.15.3, pinned) hands every message to the agents one at a time: a
``Service.wait_first(callback(message), suspend_flow.wait())`` (four tasks and an
``asyncio.wait``), then the conductor (a lock, flow control, an Event, a queue put), then
the stream (a queue get, processors, the take buffer). Profiles put that path at the top of
the worker's per-message cost. Two changes, everything else stays Faust's (fetching,
partition assignment, agents, acks, commits, rebalancing):

1. a whole ``getmany`` chunk is delivered under one ``wait_first``;
2. topics with a ``BatchRoute`` skip the conductor: their messages go to the route's queue
   as one list per chunk, and the agent takes lists from it (``BatchRoute.take``), tracks
   them as Faust's stream does, and acks them through the consumer once published.

Why it stays exact: offsets are committed only for acked messages, and messages are acked
only after their outputs are published. A rebalance stops the fetcher (cancelling this loop
and the chunk being delivered), waits for the tracked messages to be acked, clears the
route queues with Faust's own channel buffers (they are flow-control queues), and seeks
every assigned partition back to its committed offset; whatever was not acked is fetched
again. Tests: tests/kafka/test_faust_internals.py (two workers rebalancing, committed
positions after SIGKILL).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, AppT, Message, TopicT
from mode.utils.queues import FlowControlQueue

Chunk = list[tuple[TP, Message]]


class BatchRoute:
    """The messages of one topic, as lists, for the one agent that reads that topic."""

    def __init__(self, app: AppT, max_chunks: int = 4) -> None:
        self._app = app
        # Faust clears flow-control queues with its own buffers when partitions move.
        self._queue: FlowControlQueue[list[Message]] = FlowControlQueue(
            maxsize=max_chunks, flow_control=app.flow_control, clear_on_resume=True
        )

    async def put(self, messages: list[Message]) -> None:
        await self._queue.put(messages)  # waits while full: back-pressure on the fetcher

    async def take(self, max_messages: int) -> list[Message]:
        """The next chunk, joined by the chunks already waiting while under ``max_messages``
        (so at most that plus one chunk; no waiting for more: a busy stream gets big
        batches, a quiet one low latency)."""
        messages = list(await self._queue.get())
        while len(messages) < max_messages and not self._queue.empty():
            messages += self._queue.get_nowait()
        track = self._app.consumer.track_message
        for message in messages:
            track(message)
        return messages

    def ack(self, messages: list[Message]) -> None:
        """Once their outputs are published: the consumer may commit past them."""
        ack = self._app.consumer.ack
        for message in messages:
            ack(message)


class ChunkedConsumer(faust_aiokafka.Consumer):
    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        """Faust's own offset commit, less the topics whose offsets are committed inside
        Kafka transactions (exactly once): a periodic commit in flight could otherwise land
        after a transaction's and move a partition's offset back. Faust's bookkeeping goes
        on as if it committed them, which the transactions did."""
        skipped: set[str] = getattr(self.transport, "transactional_topics", set())
        kept = {tp: offset for tp, offset in offsets.items() if tp.topic not in skipped}
        if not kept:
            return True
        return bool(await super()._commit(kept))

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
        routes: dict[str, BatchRoute] = getattr(self.transport, "routes", {})
        routed: dict[str, list[Message]] = {}
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
            if message.topic in routes:
                routed.setdefault(message.topic, []).append(message)
            else:
                await callback(message)
            read_offset[tp] = offset
        for topic, messages in routed.items():
            await routes[topic].put(messages)


class ChunkedTransport(faust_aiokafka.Transport):
    Consumer = ChunkedConsumer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.routes: dict[str, BatchRoute] = {}
        # Topics whose consumed offsets only Kafka transactions commit (kafka/transactions.py)
        self.transactional_topics: set[str] = set()

    def route(self, topic: TopicT) -> BatchRoute:
        """Deliver ``topic``'s messages as lists (see BatchRoute); call before the app starts.
        The topic is subscribed here: its agent takes lists from the route and never
        iterates its stream, which is what would otherwise subscribe it."""
        route = BatchRoute(self.app)
        for name in topic.topics:
            self.routes[name] = route
        self.app.topics.add(topic)
        return route


def aiokafka_producer(app: AppT) -> Any:
    """The aiokafka producer Faust started for ``app``: eventwire publishes with its batch
    API (``create_batch`` / ``send_batch``), which Faust does not expose."""
    return cast(Any, app.producer)._ensure_producer()


def allow_long_request_lines(app: AppT, max_line_size: int) -> None:
    """Let request lines up to ``max_line_size`` reach the admin API, so that one too long
    for it is answered 414 in JSON by its middleware (admin/limits.py) instead of aiohttp's
    plain-text 400 at 8,190 bytes. Faust builds its aiohttp runner without options; the
    runner keeps the options it hands its request handler in ``_kwargs``."""
    runner = cast(Any, app.web)._runner
    runner._kwargs["max_line_size"] = max_line_size
