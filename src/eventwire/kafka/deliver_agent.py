"""Webhook delivery in the worker, apart from the event stream.

The process stage queues ``call_webhook`` effects (durably, in Redis) once their step is
committed: a slow or hostile receiver never holds up the stream. A timer claims due jobs on
every replica and delivers them as background tasks, at most EVENTWIRE_WEBHOOK_CONCURRENCY
at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time

from eventwire.core.timers_topic import dead_letter_output
from eventwire.core.topics import Topics
from eventwire.core.webhooks.retries import RetryPolicy
from eventwire.kafka.publisher import Publisher
from eventwire.redis_store.webhooks import WebhookQueue
from eventwire.retry import REDIS_OUTAGES, retry_outages
from eventwire.stages.deliver import deliver
from eventwire.webhooks.client import WebhookClient

log = logging.getLogger(__name__)


def now_ms() -> int:
    return int(time.time() * 1000)


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

    async def _dead(self, effect_id: str, record: bytes) -> None:
        """Handed to the process stage (core/timers_topic.py), which publishes it once."""
        await self._publisher.publish([dead_letter_output(effect_id, record, self._topics)])

    async def close(self) -> None:
        for task in self._running:
            task.cancel()
        await self._client.close()
