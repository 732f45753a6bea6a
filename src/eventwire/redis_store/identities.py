"""Identity resolution in Redis for a whole batch, in at most three round trips.

The rules are core.identity's; this module only runs them: (1) store identify mappings and
read lookups, in message order; (2) primary claims with ``SET NX GET``; (3) links, profile
records. Every write is idempotent, so a batch retried after an outage changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from eventwire.core.identity import CONTACT, Choice, Lookups, choose, needs
from eventwire.core.ingest import Prepared, profile_of
from eventwire.core.reasons import Reason
from eventwire.core.timestamps import iso_from_ms
from eventwire.metrics import REDIS_ROUND_TRIPS
from eventwire.redis_store.keys import Keys


class IdentityStore:
    def __init__(self, client: Any, keys: Keys, identify_ttl_seconds: float) -> None:
        self._redis = client
        self._keys = keys
        self._identify_ttl = max(1, round(identify_ttl_seconds))
        self.round_trips = 0

    async def resolve(self, batch: Sequence[Prepared]) -> list[str | Reason | None]:
        """The profile id (or None, or the reason there is none) of every prepared message."""
        if not batch:
            return []
        lookups = await self._lookups(batch)
        choices = [
            choose(item.parsed, lookup, item.origin)
            for item, lookup in zip(batch, lookups, strict=True)
        ]
        claimed = await self._claims(choices)
        profiles: list[str | Reason | None] = [
            choice if isinstance(choice, Reason) else profile_of(choice, won)
            for choice, won in zip(choices, claimed, strict=True)
        ]
        await self._links(batch, choices, profiles)
        return profiles

    async def preview(self, batch: Sequence[Prepared]) -> list[tuple[str | Reason | None, bool]]:
        """What ``resolve`` would find, writing nothing: each message's profile id (None if
        it would create one) and whether it would create one. For validating messages."""
        if not batch:
            return []
        lookups = await self._lookups(batch, write=False)
        choices = [
            choose(item.parsed, lookup, item.origin)
            for item, lookup in zip(batch, lookups, strict=True)
        ]
        pipe = self._redis.pipeline(transaction=False)
        for choice in choices:
            if isinstance(choice, Choice):
                if choice.primary is not None:
                    pipe.get(self._keys.identity(choice.primary.kind, choice.primary.value))
                elif choice.profile_id is not None:
                    pipe.exists(self._keys.profile(choice.profile_id))
        replies = iter(await self._execute(pipe) if len(pipe) else [])
        found: list[tuple[str | Reason | None, bool]] = []
        for choice in choices:
            if not isinstance(choice, Choice):
                found.append((choice, False))
            elif choice.primary is not None:
                owner = next(replies)
                found.append((str(owner), False) if owner else (None, True))
            elif choice.profile_id is None:  # profile-less
                found.append((None, False))
            else:
                found.append((choice.profile_id, False) if next(replies) else (None, True))
        return found

    async def _lookups(self, batch: Sequence[Prepared], *, write: bool = True) -> list[Lookups]:
        keys = self._keys
        pipe = self._redis.pipeline(transaction=False)
        asked: list[tuple[bool, bool]] = []
        for item in batch:
            identify = item.parsed.identify if write else None
            if identify is not None:
                pipe.set(
                    keys.client(identify.client_id),
                    orjson.dumps(identify.traits),
                    ex=self._identify_ttl,
                )
            need = needs(item.parsed)
            if need.client_id:
                pipe.get(keys.client(need.client_id))
            if need.contact_id:
                pipe.get(keys.identity(CONTACT, need.contact_id))
                pipe.exists(keys.profile(need.contact_id))
            asked.append((need.client_id is not None, need.contact_id is not None))
        if not len(pipe):
            return [Lookups() for _ in batch]
        replies = iter(await self._execute(pipe))
        lookups = []
        for item, (client, contact) in zip(batch, asked, strict=True):
            if write and item.parsed.identify is not None:
                next(replies)
            traits = _traits(next(replies)) if client else None
            contact_profile = None
            if contact:
                mapped, exists = next(replies), next(replies)
                contact_profile = mapped or (needs(item.parsed).contact_id if exists else None)
            lookups.append(Lookups(traits, contact_profile))
        return lookups

    async def _claims(self, choices: Sequence[Choice | Reason]) -> list[str | None]:
        pipe = self._redis.pipeline(transaction=False)
        for choice in choices:
            if isinstance(choice, Choice) and choice.primary is not None:
                claim = choice.primary
                pipe.set(
                    self._keys.identity(claim.kind, claim.value), claim.candidate, nx=True, get=True
                )
        if not len(pipe):
            return [None for _ in choices]
        replies = iter(await self._execute(pipe))
        return [
            next(replies) if isinstance(choice, Choice) and choice.primary is not None else None
            for choice in choices
        ]

    async def _links(
        self,
        batch: Sequence[Prepared],
        choices: Sequence[Choice | Reason],
        profiles: Sequence[str | Reason | None],
    ) -> None:
        pipe = self._redis.pipeline(transaction=False)
        done: set[str] = set()
        for item, choice, profile in zip(batch, choices, profiles, strict=True):
            if not isinstance(choice, Choice) or not isinstance(profile, str):
                continue
            profile_key = self._keys.profile(profile)
            if profile_key not in done:
                done.add(profile_key)
                pipe.hsetnx(profile_key, "id", profile)
                # The event's time, as last_seen is: never the time it was processed.
                pipe.hsetnx(profile_key, "first_seen", iso_from_ms(item.raw.timestamp_ms))
            for kind, value in choice.links:
                key = self._keys.identity(kind, value)
                if key not in done:
                    done.add(key)
                    pipe.set(key, profile, nx=True)
        if len(pipe):
            await self._execute(pipe)

    async def _execute(self, pipe: Any) -> list[Any]:
        self.round_trips += 1
        REDIS_ROUND_TRIPS.labels("ingest").inc()
        return list(await pipe.execute())


def _traits(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    traits = orjson.loads(value)
    return traits if isinstance(traits, dict) else None
