"""The scheduler timer: every replica claims due timers atomically (each goes to one
replica at a time, under a lease) and turns them into messages on the ``timers`` topic,
which the process stage consumes like ``raw``. The claim is ended by the stage once it has
applied the timer (stages/timers.py), not here: a timer whose message is lost before it is
applied (its scheduler died, or its message was never processed) is claimed and handed on
again when the lease runs out, and a message that arrives twice is absorbed by the stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from eventwire.core.timers_topic import timer_output
from eventwire.core.topics import Topics
from eventwire.kafka.publisher import Publisher
from eventwire.redis_store.owners import OwnerStore

LEASE_MS = 30_000
MAX_CLAIMED = 500


def make_scheduler(owners: OwnerStore, topics: Topics, publisher: Publisher) -> Callable[[], Any]:
    async def scheduler() -> None:
        now_ms = int(time.time() * 1000)
        claimed = await owners.claim_timers(now_ms, LEASE_MS, MAX_CLAIMED)
        if claimed:
            await publisher.publish([timer_output(member, now_ms, topics) for member in claimed])

    return scheduler
