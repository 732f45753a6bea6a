"""Webhook delivery in the worker, apart from the event stream.

The agent only enqueues ``call_webhook`` effects (durably, in Redis) and acks: a slow or
hostile receiver never holds up ingest or process. A timer claims due jobs on every replica
and delivers them as background tasks, at most EVENTWIRE_WEBHOOK_CONCURRENCY at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson

from eventwire.core.outputs import Output
from eventwire.core.topics import Topics
from eventwire.core.webhooks.retries import RetryPolicy
from eventwire.kafka.chunked_consumer import BatchRoute
from eventwire.kafka.publisher import Publisher
from eventwire.redis_store.webhooks import WebhookQueue
from eventwire.retry import retry_outages
from eventwire.stages.deliver import DeadLetter, deliver
from eventwire.stages.ingest import REDIS_OUTAGES
from eventwire.webhooks.client import WebhookClient

log = logging.getLogger(__name__)


def now_ms() -> int:
    return int(time.time() * 1000)


def make_enqueue_agent(
    queue: WebhookQueue, route: BatchRoute, batch_size: int
) -> Callable[[Any], Any]:
    async def enqueue_agent(_stream: Any) -> None:
        # Messages come as lists from the route (kafka/chunked_consumer.py), not the stream.
        while True:
            batch = await route.take(batch_size)
            effects = [orjson.loads(message.value or b"null") for message in batch]
            hooks = [e for e in effects if isinstance(e, dict) and e.get("type") == "call_webhook"]
            if hooks:
                await retry_outages(
                    lambda hooks=hooks: queue.enqueue(hooks, now_ms()),  # type: ignore[misc]
                    REDIS_OUTAGES,
                    "queueing webhooks",
                )
            route.ack(batch)

    return enqueue_agent


class Deliverer:
    """Claims due jobs and runs each delivery as a task, within the concurrency bound."""

    def __init__(
        self,
        queue: WebhookQueue,
        client: WebhookClient,
        policy: RetryPolicy,
        secret: str | None,
        topics: Topics,
        publisher: Publisher,
        concurrency: int,
        lease_ms: int,
    ) -> None:
        self._queue, self._client, self._policy, self._secret = queue, client, policy, secret
        self._topics, self._publisher = topics, publisher
        self._concurrency = concurrency
        self._lease_ms = lease_ms
        self._running: set[asyncio.Task[str]] = set()

    async def tick(self) -> None:
        room = self._concurrency - len(self._running)
        try:
            claimed = await self._queue.claim(now_ms(), self._lease_ms, room)
        except REDIS_OUTAGES as exc:
            log.warning("claiming webhooks failed (%s); trying again next tick", type(exc).__name__)
            return
        for effect_id in claimed:
            task = asyncio.create_task(self._deliver(effect_id))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _deliver(self, effect_id: str) -> str:
        try:
            return await retry_outages(
                lambda: deliver(
                    effect_id,
                    self._queue,
                    self._client,
                    self._policy,
                    self._secret,
                    self._dead,
                    now_ms,
                ),
                REDIS_OUTAGES,
                "delivering a webhook",
            )
        except Exception:
            # A bug: the job stays leased and is claimed again when the lease ends.
            log.exception("delivering webhook %s failed", effect_id)
            return "error"

    async def _dead(self, record: DeadLetter) -> None:
        await self._publisher.publish(
            [Output(self._topics.deadletter, record["effect"]["id"].encode(), orjson.dumps(record))]
        )

    async def close(self) -> None:
        for task in self._running:
            task.cancel()
        await self._client.close()
