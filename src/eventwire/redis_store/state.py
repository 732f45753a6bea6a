"""Session and profile state in Redis: a batch of events in one round trip, timers claimed
atomically. The rules are core.state's; this module only runs the scripts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from eventwire.core.ingest import EventRecord
from eventwire.core.outputs import InternalRecord
from eventwire.core.state import (
    SESSION_CONTROLS,
    Facts,
    owner_tag,
    session_timeout_closed,
    transitions_argument,
)
from eventwire.core.timestamps import iso_from_ms
from eventwire.redis_store.keys import Keys
from eventwire.redis_store.scripts import APPLY_EVENT, CLAIM_TIMERS, CLOSE_SESSION, ScriptRunner

TRANSITIONS = transitions_argument()
SESSION_TIMER = "session"


def received_ms(event: EventRecord) -> int:
    return int(datetime.fromisoformat(event["received_at"]).timestamp() * 1000)


def _encoded_values(values: dict[str, Any]) -> str:
    """A JSON object whose values are JSON text, so the script compares and stores them as is."""
    if not values:
        return ""
    return orjson.dumps(
        {name: orjson.dumps(value).decode() for name, value in values.items()}
    ).decode()


class StateStore:
    def __init__(
        self,
        client: Any,
        keys: Keys,
        session_timeout_seconds: float,
        *,
        seen_cap: int = 1024,
        seen_ttl_seconds: float = 7 * 86400,
    ) -> None:
        self._redis = client
        self._keys = keys
        self._scripts = ScriptRunner(client)
        self._timeout_ms = int(session_timeout_seconds * 1000)
        self._seen_cap = seen_cap
        self._seen_ttl = int(seen_ttl_seconds)

    @property
    def round_trips(self) -> int:
        return self._scripts.round_trips

    async def apply(self, records: Sequence[InternalRecord]) -> list[Facts | None]:
        """Apply every event in order, in one round trip; None for an event with no owner."""
        owners = [owner_tag(r["event"]["profile_id"], r["event"]["session_id"]) for r in records]
        keys = self._keys

        def build(pipe: Any) -> None:
            for record, owner in zip(records, owners, strict=True):
                if owner is None:
                    continue
                event = record["event"]
                session_id = event["session_id"]
                at_ms = received_ms(event)
                self._scripts.queue(
                    pipe,
                    APPLY_EVENT,
                    keys.event_keys(owner, session_id),
                    [
                        event["id"],
                        event["type"],
                        event["received_at"],
                        at_ms,
                        event["profile_id"] or "",
                        session_id or "",
                        SESSION_CONTROLS.get(event["type"], ""),
                        TRANSITIONS,
                        _encoded_values(record["session_attributes"]),
                        _encoded_values(record["traits"]),
                        orjson.dumps(record["identities"]).decode() if record["identities"] else "",
                        self._seen_cap,
                        self._seen_ttl,
                    ],
                )
                if session_id:
                    pipe.set(keys.session_index(session_id), owner, nx=True)
                    member = orjson.dumps([SESSION_TIMER, owner, session_id, event["source_id"]])
                    pipe.zadd(keys.timers_due(), {member: at_ms + self._timeout_ms}, gt=True)

        replies = iter(await self._scripts.run(build))
        facts: list[Facts | None] = []
        for record, owner in zip(records, owners, strict=True):
            if owner is None:
                facts.append(None)
                continue
            reply = str(next(replies))
            if record["event"]["session_id"]:
                next(replies)
                next(replies)
            duplicate = reply.startswith("dup:")
            facts.append(
                Facts.from_script(orjson.loads(reply[4:] if duplicate else reply), duplicate)
            )
        return facts

    async def fire_due_timers(
        self, now_ms: int, lease_ms: int = 30_000, limit: int = 500
    ) -> tuple[list[EventRecord], list[str]]:
        """Claim due timers, close the sessions that are due, and return the built-in events to
        publish and the claimed timers to ``complete`` once they are published."""
        keys = self._keys
        claimed: list[str] = []

        def claim(pipe: Any) -> None:
            self._scripts.queue(
                pipe,
                CLAIM_TIMERS,
                [keys.timers_due(), keys.timers_inflight()],
                [now_ms, lease_ms, limit],
            )

        [members] = await self._scripts.run(claim)
        claimed = [str(m) for m in members]
        if not claimed:
            return [], []
        timers = [orjson.loads(member) for member in claimed]
        closed_at = iso_from_ms(now_ms)

        def close(pipe: Any) -> None:
            for _, owner, session_id, _source in timers:
                self._scripts.queue(
                    pipe,
                    CLOSE_SESSION,
                    [keys.owned(owner, f"session:{session_id}")],
                    [now_ms, self._timeout_ms, closed_at],
                )

        replies = await self._scripts.run(close)
        builtins: list[EventRecord] = []
        later: dict[bytes, int] = {}
        for member, (_, _owner, session_id, source_id), reply in zip(
            claimed, timers, replies, strict=True
        ):
            outcome = orjson.loads(reply)
            if outcome.get("closed"):
                builtins.append(
                    session_timeout_closed(
                        outcome.get("profile_id") or None,
                        session_id,
                        int(outcome.get("event_count", 0)),
                        outcome.get("closed_at") or closed_at,
                        source_id,
                    )
                )
            elif "due" in outcome:
                later[member.encode()] = int(outcome["due"])
        if later:
            await self._scripts.run(lambda pipe: pipe.zadd(keys.timers_due(), later, gt=True))
        return builtins, claimed

    async def complete(self, claimed: Sequence[str]) -> None:
        """Forget timers whose outcome was published; the sessions they closed are marked so a
        re-claimed timer (after a crash) re-publishes, but a later one does not."""
        keys = self._keys

        def done(pipe: Any) -> None:
            for member in claimed:
                _, owner, session_id, _source = orjson.loads(member)
                pipe.hset(keys.owned(owner, f"session:{session_id}"), "close_published", 1)
                pipe.zrem(keys.timers_inflight(), member)

        await self._scripts.run(done)

    async def session(self, owner: str, session_id: str) -> dict[str, Any]:
        data = await self._redis.hgetall(self._keys.owned(owner, f"session:{session_id}"))
        return dict(data)

    async def counters(self, owner: str) -> dict[str, int]:
        data = await self._redis.hgetall(self._keys.owned(owner, "counters"))
        return {name: int(count) for name, count in data.items()}
