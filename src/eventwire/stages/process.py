"""The process stage for a batch of accepted events: apply state (exactly once per event id),
derive built-in events, and say what to publish. Redis outages are retried; the batch is
idempotent, so a retry never applies anything twice."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from eventwire.core.ingest import EventRecord
from eventwire.core.outputs import InternalRecord
from eventwire.core.state import builtins_for
from eventwire.redis_store.state import StateStore
from eventwire.retry import retry_outages
from eventwire.stages.ingest import REDIS_OUTAGES

log = logging.getLogger(__name__)


async def process_batch(records: Sequence[InternalRecord], state: StateStore) -> list[EventRecord]:
    facts = await retry_outages(lambda: state.apply(records), REDIS_OUTAGES, "applying state")
    published: list[EventRecord] = []
    for record, applied in zip(records, facts, strict=True):
        if record["publish"]:
            published.append(record["event"])
        if applied is not None:
            published.extend(builtins_for(record["event"], applied))
    return published


async def fire_timers(state: StateStore, now_ms: int) -> tuple[list[EventRecord], list[str]]:
    """Due session timeouts: the built-in events to publish, and the timers to complete after."""
    return await retry_outages(
        lambda: state.fire_due_timers(now_ms), REDIS_OUTAGES, "firing timers"
    )
