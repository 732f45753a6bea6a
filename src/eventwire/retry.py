"""Retry an operation through an outage (Kafka or Redis down), with capped backoff.

Outages are retried forever: the stream waits rather than losing or half-applying a batch.
Bugs are not outages, so only the named exception types are retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka.errors import KafkaError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

T = TypeVar("T")
log = logging.getLogger(__name__)

# What the hot path waits out: Redis gone for a while (the stream pauses, nothing is lost).
REDIS_OUTAGES = (RedisConnectionError, RedisTimeoutError, OSError)
# What a periodic task waits out: Redis or Kafka gone for a while.
OUTAGES = (*REDIS_OUTAGES, KafkaError)


async def retry_outages(
    operation: Callable[[], Awaitable[T]],
    outages: tuple[type[BaseException], ...],
    what: str,
    *,
    first_backoff: float = 0.1,
    max_backoff: float = 5.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    backoff = first_backoff
    while True:
        try:
            return await operation()
        except outages as exc:
            log.warning(
                "%s failed (%s: %s); retrying in %.1fs", what, type(exc).__name__, exc, backoff
            )
            await sleep(backoff)
            backoff = min(backoff * 2, max_backoff)


def next_tick_on_outage(
    tick: Callable[[], Awaitable[object]], outages: tuple[type[BaseException], ...], what: str
) -> Callable[[], Awaitable[None]]:
    """A periodic task that waits for its next tick when an outage interrupts it: an
    exception escaping a Faust timer would crash the whole worker."""

    async def tolerant() -> None:
        try:
            await tick()
        except outages as exc:
            log.warning("%s failed (%s: %s); trying again next tick", what, type(exc).__name__, exc)

    return tolerant


def never_fatal(
    observe: Callable[[], Awaitable[object]], what: str, errors: Callable[[], object]
) -> Callable[[], Awaitable[None]]:
    """A periodic task that only observes (metrics): whatever it raises is logged and
    counted (``errors``), never allowed to take the worker down."""

    async def observing() -> None:
        try:
            await observe()
        except Exception:
            errors()
            log.exception("%s failed; trying again next tick", what)

    return observing
