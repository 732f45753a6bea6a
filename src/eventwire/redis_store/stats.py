"""Counts shared by every replica: accepted events by type, rejected messages by reason."""

from __future__ import annotations

from collections import Counter
from typing import Any

from eventwire.metrics import REDIS_ROUND_TRIPS
from eventwire.redis_store.keys import Keys


class StatsStore:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._redis = client
        self._keys = keys

    async def add(self, accepted: Counter[str], rejected: Counter[str]) -> None:
        if not accepted and not rejected:
            return
        pipe = self._redis.pipeline(transaction=False)
        for type_, n in accepted.items():
            pipe.hincrby(self._keys.stats("accepted"), type_, n)
        for reason, n in rejected.items():
            pipe.hincrby(self._keys.stats("rejected"), reason, n)
        REDIS_ROUND_TRIPS.labels("ingest").inc()
        await pipe.execute()

    async def read(self) -> tuple[dict[str, int], dict[str, int]]:
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(self._keys.stats("accepted"))
        pipe.hgetall(self._keys.stats("rejected"))
        accepted, rejected = await pipe.execute()
        return (
            {k: int(v) for k, v in accepted.items()},
            {k: int(v) for k, v in rejected.items()},
        )
