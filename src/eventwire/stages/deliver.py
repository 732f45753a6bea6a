"""The delivery stage: one claimed webhook job → one HTTP attempt → delivered, scheduled again
(backoff with jitter, durably in Redis), or dead-lettered with every attempt.

A dead letter is kept with its job before it is handed on (to the internal ``timers``
topic, whose consumer publishes it to ``deadletter`` exactly once), and the job's lease
ends only once it was handed on."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any, TypedDict

import orjson

from eventwire.core import ids
from eventwire.core.timestamps import iso_from_ms
from eventwire.core.webhooks.requests import build_request
from eventwire.core.webhooks.retries import RetryPolicy
from eventwire.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES, WEBHOOK_RETRIES
from eventwire.redis_store.webhooks import WebhookQueue
from eventwire.webhooks.client import Attempt, WebhookClient


class DeadLetter(TypedDict):
    """A webhook effect whose delivery failed for good (``eventwire.deadletter``)."""

    id: str
    effect: dict[str, Any]
    attempts: list[dict[str, Any]]
    last_error: str
    created_at: str


def dead_letter(effect: dict[str, Any], attempts: list[dict[str, Any]], now_ms: int) -> DeadLetter:
    return {
        "id": ids.derived_id("deadletter", effect["id"]),
        "effect": effect,
        "attempts": attempts,
        "last_error": str(attempts[-1].get("error") or "") if attempts else "",
        "created_at": iso_from_ms(now_ms),
    }


def _record(attempt: Attempt, now_ms: int) -> dict[str, Any]:
    return {
        "at": iso_from_ms(now_ms),
        "status": attempt.status,
        "error": attempt.error,
        "ms": attempt.ms,
    }


async def deliver(
    effect_id: str,
    queue: WebhookQueue,
    client: WebhookClient,
    policy: RetryPolicy,
    secret: str | None,
    publish_dead: Callable[[str, bytes], Awaitable[None]],
    now_ms: Callable[[], int],
    jitter: Callable[[], float] = random.random,
) -> str:
    """Deliver one claimed job; says what became of it."""
    job = await queue.load(effect_id)
    if job is not None and job.dead_letter is not None:
        # Dead, and its replica died before its dead letter was known published: publish it
        # again (if it was, the process stage absorbs the repeat).
        await publish_dead(effect_id, job.dead_letter)
        await queue.forget(effect_id)
        return "dead"
    if job is None or job.status != "pending":
        await queue.forget(effect_id)
        return "finished already"
    started = now_ms()
    if not secret:
        attempt = Attempt(
            None, "refused: EVENTWIRE_WEBHOOK_SECRET is not set; webhooks are signed", True, 0
        )
    else:
        attempt = await client.send(build_request(job.effect, secret, started // 1000))
    WEBHOOK_ATTEMPTS.labels(
        "ok" if attempt.ok else "refused" if attempt.refused else "failed"
    ).inc()
    attempts = [*job.attempts, _record(attempt, started)]
    if attempt.ok:
        await queue.finish(effect_id, "delivered", attempts)
        WEBHOOK_DELIVERIES.labels("delivered").inc()
        return "delivered"
    at = None
    if not attempt.refused:
        at = policy.next_attempt_at(
            len(attempts), job.first_at_ms / 1000, now_ms() / 1000, jitter()
        )
    if at is None:
        record = orjson.dumps(dead_letter(job.effect, attempts, now_ms()))
        await queue.bury(effect_id, attempts, record)
        await publish_dead(effect_id, record)
        await queue.forget(effect_id)
        WEBHOOK_DELIVERIES.labels("dead").inc()
        return "dead"
    await queue.retry_at(effect_id, attempts, int(at * 1000))
    WEBHOOK_RETRIES.inc()
    return "retry"
