"""Counts shared by every replica: accepted events by type, rejected messages by reason,
and the violations observe-mode definitions let through, by type and code."""

from __future__ import annotations

from collections import Counter
from typing import Any

from eventwire.metrics import REDIS_ROUND_TRIPS
from eventwire.redis_store.keys import Keys


class StatsStore:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._redis = client
        self._keys = keys

    async def add(
        self,
        accepted: Counter[str],
        rejected: Counter[str],
        violations: Counter[tuple[str, str]],
    ) -> None:
        if not accepted and not rejected and not violations:
            return
        pipe = self._redis.pipeline(transaction=False)
        for type_, n in accepted.items():
            pipe.hincrby(self._keys.stats("accepted"), type_, n)
        for reason, n in rejected.items():
            pipe.hincrby(self._keys.stats("rejected"), reason, n)
        for (type_, code), n in violations.items():
            # A definition's name has no spaces, nor has a code.
            pipe.hincrby(self._keys.stats("violations"), f"{type_} {code}", n)
        REDIS_ROUND_TRIPS.labels("ingest").inc()
        await pipe.execute()

    async def read(self) -> dict[str, Any]:
        """``{"accepted": {type: n}, "rejected": {code: n}, "violations": {type: {code: n}}}``"""
        pipe = self._redis.pipeline(transaction=False)
        for part in ("accepted", "rejected", "violations"):
            pipe.hgetall(self._keys.stats(part))
        accepted, rejected, observed = await pipe.execute()
        violations: dict[str, dict[str, int]] = {}
        for key, n in observed.items():
            type_, _, code = key.partition(" ")
            violations.setdefault(type_, {})[code] = int(n)
        return {
            "accepted": {k: int(v) for k, v in accepted.items()},
            "rejected": {k: int(v) for k, v in rejected.items()},
            "violations": violations,
        }
