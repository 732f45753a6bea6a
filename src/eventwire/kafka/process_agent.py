"""The process agent and the scheduler timer.

process: a batch of internal records → the process stage → one batch publish → ack.
scheduler: every replica claims due timers atomically; each fires on exactly one replica.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson

from eventwire.core.outputs import InternalRecord, event_outputs
from eventwire.core.topics import Topics
from eventwire.kafka.publisher import Publisher
from eventwire.redis_store.state import StateStore
from eventwire.stages.process import fire_timers, process_batch

log = logging.getLogger(__name__)


def make_process_agent(
    state: Callable[[], StateStore],
    topics: Topics,
    publisher: Publisher,
    batch_size: int,
    batch_wait: float,
) -> Callable[[Any], Any]:
    async def process_agent(stream: Any) -> None:
        async for batch in stream.noack_take(batch_size, within=batch_wait):
            records: list[InternalRecord] = [orjson.loads(event.message.value) for event in batch]
            published = await process_batch(records, state())
            await publisher.publish(event_outputs(published, topics))
            for event in batch:
                await stream.ack(event)

    return process_agent


def make_scheduler(
    state: Callable[[], StateStore], topics: Topics, publisher: Publisher
) -> Callable[[], Any]:
    async def scheduler() -> None:
        builtins, claimed = await fire_timers(state(), int(time.time() * 1000))
        if claimed:
            await publisher.publish(event_outputs(builtins, topics))
            await state().complete(claimed)

    return scheduler
