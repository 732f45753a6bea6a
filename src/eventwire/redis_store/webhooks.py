"""Webhook jobs in Redis: one hash per effect id, a due set and an in-flight set.

Durable: a restart loses no job, and a replica that dies with a job in flight loses its lease,
so the job is claimed again. Enqueueing is idempotent (a re-published effect adds nothing),
and finished jobs are kept for a week to say so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from eventwire.redis_store.keys import Keys
from eventwire.redis_store.scripts import CLAIM_TIMERS, ScriptRunner

FINISHED_TTL_S = 7 * 86400


@dataclass
class Job:
    effect: dict[str, Any]
    status: str
    first_at_ms: int
    attempts: list[dict[str, Any]] = field(default_factory=list)
    dead_letter: bytes | None = None  # once dead: the record to publish


class WebhookQueue:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._redis = client
        self._keys = keys
        self._scripts = ScriptRunner(client)

    def _job(self, effect_id: str) -> str:
        return self._keys.webhook(effect_id)

    async def enqueue(self, effects: Sequence[Mapping[str, Any]], now_ms: int) -> None:
        keys = self._keys

        def build(pipe: Any) -> None:
            for effect in effects:
                job = self._job(effect["id"])
                pipe.hsetnx(job, "effect", orjson.dumps(effect))
                pipe.hsetnx(job, "status", "pending")
                pipe.hsetnx(job, "first_at_ms", now_ms)
                pipe.zadd(keys.webhooks_due(), {effect["id"]: now_ms}, nx=True)

        await self._scripts.run(build)

    async def claim(self, now_ms: int, lease_ms: int, limit: int) -> list[str]:
        if limit <= 0:
            return []
        keys = self._keys

        def claim(pipe: Any) -> None:
            self._scripts.queue(
                pipe,
                CLAIM_TIMERS,
                [keys.webhooks_due(), keys.webhooks_inflight()],
                [now_ms, lease_ms, limit],
            )

        [claimed] = await self._scripts.run(claim)
        return [str(effect_id) for effect_id in claimed]

    async def load(self, effect_id: str) -> Job | None:
        data = await self._redis.hgetall(self._job(effect_id))
        if not data or "effect" not in data:
            return None
        return Job(
            orjson.loads(data["effect"]),
            data.get("status", "pending"),
            int(data.get("first_at_ms", 0)),
            orjson.loads(data.get("attempts", "[]")),
            data["dead_letter"].encode() if "dead_letter" in data else None,
        )

    async def finish(self, effect_id: str, status: str, attempts: list[dict[str, Any]]) -> None:
        """Delivered: record it, keep it a week, forget the lease."""
        keys = self._keys
        job = self._job(effect_id)

        def build(pipe: Any) -> None:
            pipe.hset(job, mapping={"status": status, "attempts": orjson.dumps(attempts)})
            pipe.expire(job, FINISHED_TTL_S)
            pipe.zrem(keys.webhooks_inflight(), effect_id)

        await self._scripts.run(build)

    async def bury(self, effect_id: str, attempts: list[dict[str, Any]], record: bytes) -> None:
        """Dead: keep the dead letter with the job and keep the lease, so that a replica
        that dies before publishing it leaves it to be published again (``forget`` ends
        the lease once it is)."""
        job = self._job(effect_id)

        def build(pipe: Any) -> None:
            pipe.hset(
                job,
                mapping={
                    "status": "dead",
                    "attempts": orjson.dumps(attempts),
                    "dead_letter": record,
                },
            )
            pipe.expire(job, FINISHED_TTL_S)

        await self._scripts.run(build)

    async def retry_at(self, effect_id: str, attempts: list[dict[str, Any]], at_ms: int) -> None:
        keys = self._keys
        job = self._job(effect_id)

        def build(pipe: Any) -> None:
            pipe.hset(job, "attempts", orjson.dumps(attempts))
            pipe.zadd(keys.webhooks_due(), {effect_id: at_ms})
            pipe.zrem(keys.webhooks_inflight(), effect_id)

        await self._scripts.run(build)

    async def forget(self, effect_id: str) -> None:
        await self._redis.zrem(self._keys.webhooks_inflight(), effect_id)
