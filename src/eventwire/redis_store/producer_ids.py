"""Producer ids in Redis: each (source, producer id) remembers the origin of the message
that first carried it, for EVENTWIRE_DEDUPE_WINDOW (and each dead letter, the ``timers``
message that first handed it on). A claim is ``SET NX GET``: atomic, so
two replicas that see the same id at once agree on which message was first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventwire.core.producer_ids import Claim
from eventwire.metrics import REDIS_ROUND_TRIPS
from eventwire.redis_store.keys import Keys


class ProducerIds:
    def __init__(self, client: Any, keys: Keys, window_seconds: float) -> None:
        self._redis = client
        self._keys = keys
        self._window = max(1, round(window_seconds))

    async def claim(self, claims: Sequence[Claim]) -> list[str | None]:
        """For each claim, the origin that held its id before (None: this one is first)."""
        keys = self._keys
        return await self._first(
            [(keys.producer_id(c.source_id, c.event_id), c.origin) for c in claims]
        )

    async def claim_dead_letters(self, letters: Sequence[tuple[str, str]]) -> list[str | None]:
        """The same for dead letters, by (effect id, origin of the message handing it on)."""
        return await self._first([(self._keys.dead_letter(e), origin) for e, origin in letters])

    async def _first(self, pairs: Sequence[tuple[str, str]]) -> list[str | None]:
        if not pairs:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for key, origin in pairs:
            pipe.set(key, origin, nx=True, get=True, ex=self._window)
        REDIS_ROUND_TRIPS.labels("process").inc()
        return [None if found is None else str(found) for found in await pipe.execute()]

    async def release(self, claims: Sequence[Claim]) -> None:
        """Forget claims this message made but will not keep (it was rejected whole)."""
        if claims:
            await self._redis.delete(
                *(self._keys.producer_id(c.source_id, c.event_id) for c in claims)
            )
