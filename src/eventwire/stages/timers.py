"""Due timers (session inactivity, absence windows) fired once across all replicas: every
replica claims due timers atomically, computes their steps, and commits them like events'
steps (once per step id, guarded by the owner's version token)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson

from eventwire.core.owner import OwnerState, awaited_type
from eventwire.core.process import (
    ABSENT_TIMER,
    NotDue,
    Step,
    Timer,
    close_if_timed_out,
    fire_absence,
)
from eventwire.core.timestamps import iso_from_ms
from eventwire.core.triggers.trigger_set import TriggerSet
from eventwire.redis_store.owners import OwnerStore, Planned, Wants
from eventwire.retry import REDIS_OUTAGES, retry_outages


@dataclass
class Fired:
    steps: list[Step] = field(default_factory=list)  # to publish
    finished: list[Timer] = field(default_factory=list)
    claimed: list[str] = field(default_factory=list)


async def fire_timers(
    store: OwnerStore,
    triggers: TriggerSet,
    timeout_ms: int,
    now_ms: int,
    stored: Callable[[Step], bytes],
    lease_ms: int = 30_000,
) -> Fired:
    return await retry_outages(
        lambda: _fire(store, triggers, timeout_ms, now_ms, lease_ms, stored),
        REDIS_OUTAGES,
        "firing timers",
    )


async def _fire(
    store: OwnerStore,
    triggers: TriggerSet,
    timeout_ms: int,
    now_ms: int,
    lease_ms: int,
    stored: Callable[[Step], bytes],
) -> Fired:
    claimed = await store.claim_timers(now_ms, lease_ms, 500)
    fired = Fired(claimed=claimed)
    if not claimed:
        return fired
    timers: list[Timer] = [tuple(orjson.loads(member)) for member in claimed]
    snapshots = await store.read(_wants_for(timers, triggers, now_ms))
    for snapshot in snapshots.values():
        state = snapshot.state
        state.profile_id = None if state.owner.startswith("s:") else state.owner
    computed: dict[str, list[tuple[Timer, Step]]] = {}
    later: dict[str, int] = {}
    closed_at = iso_from_ms(now_ms)
    for member, timer in zip(claimed, timers, strict=True):
        snapshot = snapshots[timer[1]]
        state = snapshot.state
        step_id = f"absent:{timer[2]}" if timer[0] == ABSENT_TIMER else f"timeout:{timer[2]}"
        if step_id in snapshot.committed:
            if _unpublished(state, timer):
                fired.steps.append(Step.replay(step_id, state.owner, snapshot.committed[step_id]))
                fired.finished.append(timer)
            continue
        result = _timer_step(state, timer, triggers, timeout_ms, now_ms, closed_at)
        if isinstance(result, NotDue):
            later[member] = result.due_ms
        elif isinstance(result, Step):
            computed.setdefault(timer[1], []).append((timer, result))
    plans: list[tuple[list[tuple[Timer, Step]], Planned]] = []
    for owner, done in computed.items():
        steps = [step for _, step in done]
        plans.append((done, store.plan(snapshots[owner].state, steps, [stored(s) for s in steps])))
    replies = await store.commit([plan for _, plan in plans])
    for (done, _), reply in zip(plans, replies, strict=True):
        for timer, step in done:
            if reply == "ok":
                fired.steps.append(step)
                fired.finished.append(timer)
            else:  # the owner changed meanwhile: next tick
                later[orjson.dumps(list(timer)).decode()] = now_ms
    await store.reschedule(later)
    return fired


def _wants_for(timers: Sequence[Timer], triggers: TriggerSet, now_ms: int) -> dict[str, Wants]:
    wanted: dict[str, Wants] = {}
    since = now_ms - triggers.history_window_ms
    for timer in timers:
        want = wanted.setdefault(
            timer[1],
            Wants(None, history_types=triggers.history_types, history_since_ms=since),
        )
        if timer[0] == ABSENT_TIMER:
            want.steps.add(f"absent:{timer[2]}")
            want.absence_types.add(awaited_type(timer[2]))
        else:
            want.sessions.add(timer[2])
            want.steps.add(f"timeout:{timer[2]}")
    return wanted


def _timer_step(
    state: OwnerState,
    timer: Timer,
    triggers: TriggerSet,
    timeout_ms: int,
    now_ms: int,
    closed_at: str,
) -> Step | NotDue | None:
    if timer[0] == ABSENT_TIMER:
        return fire_absence(state, timer[2], now_ms, triggers)
    return close_if_timed_out(state, timer[2], timer[3], now_ms, timeout_ms, closed_at, triggers)


def _unpublished(state: OwnerState, timer: Timer) -> bool:
    """A step committed before whose outputs may not have been published (replica died)."""
    if timer[0] == ABSENT_TIMER:
        window = state.window(timer[2])
        return window is not None and window.fired
    session = state.sessions.get(timer[2])
    return session is not None and session.closed_by == "timeout" and not session.close_published
