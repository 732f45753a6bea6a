"""Owner state in Redis: read the owners of a batch in one round trip, commit all of their
computed steps in one.

On standalone Redis a batch is one script call to read and one to commit; on Redis Cluster
it is one call per owner (each owner's keys share one hash tag), still in one pipeline.
An owner's steps commit together, only if the owner's version token is still the one they
were computed from, and each only once per step id (commit_owners.lua). The token chains
every committed step id (a hash of the previous token and the step id), so it names the
state itself: a replica that computed steps from another state than the one stored can
never commit on top of it. Writes are absolute values of what the steps changed, so they
are the same however often the steps are computed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from redis.asyncio.cluster import RedisCluster

from eventwire.core.owner import (
    HISTORY_CAP,
    AbsenceWindow,
    OwnerState,
    SessionState,
    awaited_type,
)
from eventwire.core.process import Step
from eventwire.core.triggers.actions import ProfileState
from eventwire.core.triggers.budgets import BudgetClaim, BudgetKey
from eventwire.metrics import OWNER_COMMITS
from eventwire.redis_store.keys import Keys
from eventwire.redis_store.scripts import (
    CLAIM_BUDGETS,
    CLAIM_TIMERS,
    COMMIT_OWNERS,
    READ_OWNERS,
    ScriptRunner,
)
from eventwire.stages.state_store import Planned, Snapshot, Wants, next_version

# The owner's keys read_owners.lua reads first, in its order.
_READ_PARTS = ("version", "state", "seen")
# What the profile part of the state is made of: one JSON value under the key ``state``.
_PROFILE_PARTS = frozenset({"profile", "traits", "counters", "clients", "fired"})


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class OwnerStore:
    def __init__(
        self, client: Any, keys: Keys, *, seen_cap: int = 256, seen_ttl_seconds: float = 7 * 86400
    ) -> None:
        self._redis = client
        self._keys = keys
        # One script call per owner on a cluster (its keys, one hash tag); one per batch else.
        self._per_owner = isinstance(client, RedisCluster)
        self._scripts = ScriptRunner(client, "process")
        self._seen_cap = seen_cap
        self._seen_ttl = int(seen_ttl_seconds)

    @property
    def round_trips(self) -> int:
        return self._scripts.round_trips

    # --- reading --------------------------------------------------------------------------

    async def read(self, wanted: Mapping[str, Wants]) -> dict[str, Snapshot]:
        keys = self._keys
        layout: list[tuple[str, Wants, list[str], list[str], list[str]]] = []
        arguments: list[list[Any]] = []
        for owner, want in wanted.items():
            sessions, types, steps, awaited = (
                sorted(want.sessions),
                sorted(want.history_types),
                sorted(want.steps),
                sorted(want.absence_types),
            )
            layout.append((owner, want, sessions, types, steps))
            arguments.append(
                [
                    *(keys.owned(owner, part) for part in _READ_PARTS),
                    len(sessions),
                    *(keys.session(owner, s) for s in sessions),
                    len(types),
                    *(keys.history(owner, t) for t in types),
                    want.history_since_ms,
                    len(awaited),
                    *(keys.absences(owner, t) for t in awaited),
                    len(steps),
                    *steps,
                ]
            )

        def build(pipe: Any) -> None:
            if self._per_owner:
                for args in arguments:
                    self._scripts.queue(pipe, READ_OWNERS, [args[0]], args)
            elif arguments:
                self._scripts.queue(pipe, READ_OWNERS, [], [a for args in arguments for a in args])

        replies = await self._scripts.run(build)
        found = [r for reply in replies for r in reply]
        return {
            owner: _snapshot(owner, want, sessions, types, steps, reply)
            for (owner, want, sessions, types, steps), reply in zip(layout, found, strict=True)
        }

    # --- writing --------------------------------------------------------------------------

    def plan(self, state: OwnerState, steps: list[Step], stored: list[bytes]) -> Planned:
        """The steps' writes (what ``state.dirty`` says changed), ready to commit; resets
        ``dirty`` and moves the state's version token past the steps."""
        writes = _Writes(self._keys, state.owner)
        _write_changes(writes, state)
        following = state.version
        for step in steps:
            following = next_version(following, step.id)
        planned = Planned(
            state.owner, steps, stored, state.version, following, writes.flat, writes.count
        )
        state.dirty.clear()
        state.history_added.clear()
        state.version = following
        return planned

    async def commit(self, plans: Sequence[Planned]) -> list[str]:
        results = await self._commit(plans)
        for result in results:
            OWNER_COMMITS.labels(result).inc()  # here, not in the stage: a backtest counts none
        return results

    async def _commit(self, plans: Sequence[Planned]) -> list[str]:
        """Commit every owner's planned steps in one round trip; "ok" or "conflict" for each
        owner. The steps' timers and session index entries ride along."""
        keys = self._keys
        cap, ttl = self._seen_cap, self._seen_ttl
        due: dict[str, int] = {}
        gone: list[str] = []
        index: list[str] = []
        for plan in plans:
            for step in plan.steps:
                for timer, at_ms in step.timers_due:
                    member = dumps(list(timer))
                    due[member] = max(at_ms, due.get(member, at_ms))
                gone += (dumps(list(timer)) for timer in step.timers_gone)
                index += (
                    x for s in step.session_index for x in (keys.session_index(s), plan.owner)
                )

        def build(pipe: Any) -> None:
            if not plans:
                return
            owners = [_owner_arguments(keys, plan) for plan in plans]
            if self._per_owner:
                for args in owners:
                    self._scripts.queue(pipe, COMMIT_OWNERS, [args[0]], [cap, ttl, 1, *args])
                if due:
                    pipe.zadd(keys.timers_due(), due, gt=True)
                if gone:
                    pipe.zrem(keys.timers_due(), *gone)
                    pipe.zrem(keys.timers_inflight(), *gone)
                for i in range(0, len(index), 2):
                    pipe.set(index[i], index[i + 1], nx=True)
            else:
                self._scripts.queue(
                    pipe,
                    COMMIT_OWNERS,
                    [],
                    [
                        cap,
                        ttl,
                        len(plans),
                        *(a for args in owners for a in args),
                        keys.timers_due(),
                        len(due),
                        *(x for member, at_ms in due.items() for x in (member, at_ms)),
                        keys.timers_inflight(),
                        len(gone),
                        *gone,
                        len(index) // 2,
                        *index,
                    ],
                )

        replies = await self._scripts.run(build)
        if self._per_owner:
            results = [str(reply[0]) for reply in replies[: len(plans)]]
        else:
            results = [str(reply) for reply in replies[0]] if plans else []
        return results

    # --- global budgets -------------------------------------------------------------------

    async def read_budgets(
        self, keys: set[BudgetKey], step_ids: set[str]
    ) -> tuple[dict[BudgetKey, int], dict[tuple[BudgetKey, str], int]]:
        asked = sorted(keys)
        steps = sorted(step_ids)

        def build(pipe: Any) -> None:
            for trigger_id, window in asked:
                fields = ["n", *(f"s:{s}" for s in steps)]
                pipe.hmget(self._keys.budget(trigger_id, window), fields)

        replies = await self._scripts.run(build)
        used: dict[BudgetKey, int] = {}
        held: dict[tuple[BudgetKey, str], int] = {}
        for key, values in zip(asked, replies, strict=True):
            used[key] = int(values[0] or 0)
            for step, units in zip(steps, values[1:], strict=True):
                if units:
                    held[(key, step)] = int(units)
        return used, held

    async def claim_budgets(self, claims: Sequence[BudgetClaim]) -> list[bool]:
        by_key: dict[BudgetKey, list[int]] = {}
        for i, claim in enumerate(claims):
            by_key.setdefault(claim.key, []).append(i)

        def build(pipe: Any) -> None:
            for (trigger_id, window), indices in by_key.items():
                first = claims[indices[0]]
                args: list[Any] = [first.times, first.expires_ms or ""]
                for i in indices:
                    args += [claims[i].step_id, claims[i].units]
                key = self._keys.budget(trigger_id, window)
                self._scripts.queue(pipe, CLAIM_BUDGETS, [key], args)

        replies = await self._scripts.run(build)
        granted = [False] * len(claims)
        for indices, reply in zip(by_key.values(), replies, strict=True):
            for i, flag in zip(indices, reply, strict=True):
                granted[i] = bool(flag)
        return granted

    # --- timers ---------------------------------------------------------------------------

    async def claim_timers(self, now_ms: int, lease_ms: int, limit: int) -> list[str]:
        keys = self._keys

        def claim(pipe: Any) -> None:
            self._scripts.queue(
                pipe,
                CLAIM_TIMERS,
                [keys.timers_due(), keys.timers_inflight()],
                [now_ms, lease_ms, limit],
            )

        [members] = await self._scripts.run(claim)
        return [str(member) for member in members]

    async def reschedule(self, due: Mapping[str, int]) -> None:
        if due:
            keys = self._keys
            await self._scripts.run(lambda pipe: pipe.zadd(keys.timers_due(), dict(due)))

    async def release(self, claimed: Sequence[str]) -> None:
        """Forget claimed timers once they are messages on the ``timers`` topic."""
        if claimed:
            keys = self._keys
            await self._scripts.run(lambda pipe: pipe.zrem(keys.timers_inflight(), *claimed))

    # --- reading for the admin API and tests ----------------------------------------------

    async def profile(self, profile_id: str) -> dict[str, Any] | None:
        [found] = await self.profiles([profile_id])
        return found

    async def profiles(self, profile_ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """Profiles as the admin API shows them (None: no such profile), read at once."""
        snapshots = await self.read({p: Wants(p) for p in profile_ids})
        return [
            None
            if snapshots[p].state.created_at is None and snapshots[p].state.first_seen is None
            else snapshots[p].state.profile_view()
            for p in profile_ids
        ]

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def find(self, kind: str, value: str) -> str | None:
        """The profile an identity (email, user, contact) maps to."""
        found = await self._redis.get(self._keys.identity(kind, value))
        return str(found) if found else None

    async def owner_of_session(self, session_id: str) -> str | None:
        found = await self._redis.get(self._keys.session_index(session_id))
        return str(found) if found else None

    async def erase(self, profile_id: str) -> bool:
        """Delete a profile: every key under its hash tag, the identities that point to it and
        the index entries of its sessions. False when there was no such profile."""
        keys = self._keys
        state = (await self.read({profile_id: Wants(profile_id)}))[profile_id].state
        owned = [
            k async for k in self._redis.scan_iter(match=keys.owned(profile_id, "*"), count=1000)
        ]
        if not owned:
            return False
        session_prefix = keys.owned(profile_id, "session:")
        sessions = {
            k[len(session_prefix) :]
            for k in owned
            if k.startswith(session_prefix) and not k.endswith(":attributes")
        }
        doomed = [*owned, *(keys.session_index(s) for s in sessions)]
        for kind, name in (("email", "email"), ("contact", "contact_id"), ("user", "user_id")):
            if name in state.identities:
                doomed.append(keys.identity(kind, state.identities[name]))
        for key in doomed:
            await self._redis.delete(key)
        return True

    async def session(self, owner: str, session_id: str) -> SessionState | None:
        snapshot = (await self.read({owner: Wants(None, {session_id})}))[owner]
        return snapshot.state.sessions.get(session_id)


class _Writes:
    """An owner's writes as commit_owners.lua reads them: command, key, n, arguments."""

    def __init__(self, keys: Keys, owner: str) -> None:
        self._keys = keys
        self._owner = owner
        self.flat: list[Any] = []
        self.count = 0

    def add(self, command: str, name: str, *arguments: Any) -> None:
        self.flat += (command, self._keys.owned(self._owner, name), len(arguments), *arguments)
        self.count += 1


def _owner_arguments(keys: Keys, plan: Planned) -> list[Any]:
    owner = plan.owner
    return [
        keys.owned(owner, "version"),
        keys.owned(owner, "seen"),
        keys.owned(owner, "seen-order"),
        plan.expected,
        plan.following,
        len(plan.steps),
        *(
            x
            for step, stored in zip(plan.steps, plan.stored, strict=True)
            for x in (step.id, stored)
        ),
        plan.write_count,
        *plan.writes,
    ]


def _pairs(flat: list[str]) -> dict[str, str]:
    """A hash from HGETALL's flat field/value reply inside a script's reply."""
    it = iter(flat)
    return dict(zip(it, it, strict=True))


def _snapshot(
    owner: str,
    want: Wants,
    sessions: list[str],
    types: list[str],
    steps: list[str],
    reply: list[Any],
) -> Snapshot:
    """One owner's state from read_owners.lua's reply."""
    version, stored_state, found, history, absences, seen = reply
    state = OwnerState(owner, want.profile_id)
    state.version = version
    if stored_state:
        _load_profile(state, orjson.loads(stored_state))
    for windows in absences:  # decoded when an event needs one (OwnerState.window)
        state.absences.update(_pairs(windows))
    for session_id, fields in zip(sessions, found, strict=True):
        if fields:
            state.sessions[session_id] = _session(_pairs(fields))
    for type_, scores in zip(types, history, strict=True):
        state.history[type_] = [int(float(score)) for score in scores]
    committed = {
        step_id: orjson.loads(stored)
        for step_id, stored in zip(steps, seen, strict=True)
        if stored is not None
    }
    return Snapshot(state, committed)


def _write_changes(writes: _Writes, state: OwnerState) -> None:
    dirty = state.dirty
    if not _PROFILE_PARTS.isdisjoint(dirty):
        writes.add("SET", "state", dumps(_profile_value(state)))
    for key in sorted(dirty.get("absences", ())):
        window = state.window(key)
        part = f"absences:{awaited_type(key)}"
        if window is None:
            writes.add("HDEL", part, key)
        else:
            writes.add("HSET", part, key, dumps(_window_dict(window)))
    for part in sorted(dirty):
        if part.startswith("session:"):
            session = state.sessions[part.removeprefix("session:")]
            writes.add("HSET", part, *_session_fields(session))
    added: dict[str, list[Any]] = {}
    for type_, at_ms, event_id in state.history_added:
        added.setdefault(type_, []).extend((at_ms, event_id))
    for type_, members in added.items():
        writes.add("ZADD", f"history:{type_}", *members)
        writes.add("ZREMRANGEBYRANK", f"history:{type_}", 0, -(HISTORY_CAP + 1))


def _profile_value(state: OwnerState) -> dict[str, Any]:
    """The profile part of an owner's state as one value: read and written whole, in one
    command each, instead of a hash or set per part."""
    wallet = state.wallet
    return {
        "created_at": state.created_at,
        "first_seen": state.first_seen,
        "last_seen": state.last_seen,
        "identities": state.identities,
        "points": wallet.points,
        "badges": wallet.badges,
        "rewards": wallet.rewards,
        "segments": wallet.segments,
        "traits": wallet.traits,
        "counters": state.counters,
        "clients": sorted(state.client_ids),
        "fired": state.fired,
    }


def _load_profile(state: OwnerState, value: dict[str, Any]) -> None:
    state.created_at = value["created_at"]
    state.first_seen = value["first_seen"]
    state.last_seen = value["last_seen"]
    state.identities = value["identities"]
    state.wallet = ProfileState(
        points=value["points"],
        badges=value["badges"],
        rewards=value["rewards"],
        segments=value["segments"],
        traits=value["traits"],
    )
    state.counters = value["counters"]
    state.client_ids = set(value["clients"])
    state.fired = value["fired"]


def _session_fields(session: SessionState) -> list[Any]:
    return [
        "id",
        session.id,
        "profile_id",
        session.profile_id or "",
        "status",
        session.status,
        "started_at",
        session.started_at,
        "last_event_at",
        session.last_event_at,
        "last_event_ms",
        session.last_event_ms,
        "event_count",
        session.event_count,
        "attributes",
        dumps(session.attributes),
        "ended_at",
        session.ended_at or "",
        "closed_by",
        session.closed_by or "",
    ]


def _session(fields: dict[str, str]) -> SessionState:
    return SessionState(
        id=fields["id"],
        profile_id=fields.get("profile_id") or None,
        status=fields.get("status", "open"),
        started_at=fields.get("started_at", ""),
        last_event_at=fields.get("last_event_at", ""),
        last_event_ms=int(fields.get("last_event_ms", 0)),
        event_count=int(fields.get("event_count", 0)),
        attributes=orjson.loads(fields.get("attributes", "{}")),
        ended_at=fields.get("ended_at") or None,
        closed_by=fields.get("closed_by") or None,
    )


def _window_dict(window: AbsenceWindow) -> dict[str, Any]:
    return {
        "trigger_id": window.trigger_id,
        "type": window.type,
        "deadline_ms": window.deadline_ms,
        "cause": window.cause,
        "basis": window.basis,
    }
