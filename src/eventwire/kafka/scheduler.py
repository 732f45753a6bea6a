"""The scheduler timer: every replica claims due timers atomically; each fires on exactly
one replica, and its outputs are published before the timer is forgotten."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from eventwire.kafka.publisher import Publisher
from eventwire.stages.process import ProcessStage


def make_scheduler(stage: ProcessStage, publisher: Publisher) -> Callable[[], Any]:
    async def scheduler() -> None:
        done, fired = await stage.fire_timers(int(time.time() * 1000))
        if fired.claimed:
            await publisher.publish(done.all_outputs())
            await stage.owners.complete(fired.finished, fired.claimed)

    return scheduler
