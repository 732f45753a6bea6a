"""The process stage for a batch: read the owners' state (one round trip), compute each step
with core.process, commit all steps (one round trip), and retry the steps of owners that
changed meanwhile. Redis outages are retried; a commit is once per step id, so a retried or
redelivered batch never applies anything twice, and re-publishes what it first published."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

from eventwire.core.ingest import EventRecord
from eventwire.core.outputs import InternalRecord
from eventwire.core.owner import OwnerState, awaited_type
from eventwire.core.process import (
    ABSENT_TIMER,
    NotDue,
    Step,
    Timer,
    close_if_timed_out,
    fire_absence,
    millis,
    process_event,
)
from eventwire.core.state import owner_tag
from eventwire.core.timestamps import iso_from_ms
from eventwire.core.triggers.effects import AutomationRecord, EffectRecord
from eventwire.core.triggers.trigger_set import TriggerSet
from eventwire.metrics import PROCESS_ERRORS
from eventwire.redis_store.owners import OwnerStore, Planned, Wants
from eventwire.retry import retry_outages
from eventwire.stages.ingest import REDIS_OUTAGES

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 20


@dataclass
class Published:
    events: list[EventRecord] = field(default_factory=list)
    effects: list[EffectRecord] = field(default_factory=list)
    automations: list[AutomationRecord] = field(default_factory=list)

    def add(self, step: Step) -> None:
        self.events += step.builtins
        self.effects += step.effects
        self.automations += step.automations


async def process_batch(
    records: Sequence[InternalRecord], store: OwnerStore, triggers: TriggerSet, timeout_ms: int
) -> Published:
    steps = await retry_outages(
        lambda: _apply(records, store, triggers, timeout_ms), REDIS_OUTAGES, "applying state"
    )
    published = Published()
    for record, step in zip(records, steps, strict=True):
        if record["publish"]:
            published.events.append(record["event"])
        if step is not None:
            published.add(step)
    return published


async def _apply(
    records: Sequence[InternalRecord], store: OwnerStore, triggers: TriggerSet, timeout_ms: int
) -> list[Step | None]:
    steps: list[Step | None] = [None] * len(records)
    owners = [owner_tag(r["event"]["profile_id"], r["event"]["session_id"]) for r in records]
    pending = [i for i, owner in enumerate(owners) if owner is not None]
    for _ in range(MAX_ATTEMPTS):
        if not pending:
            return steps
        wanted: dict[str, Wants] = {}
        since = min(millis(records[i]["event"]["received_at"]) for i in pending)
        since -= triggers.history_window_ms
        for i in pending:
            event = records[i]["event"]
            want = wanted.setdefault(
                owners[i] or "",
                Wants(
                    event["profile_id"],
                    history_types=triggers.history_types,
                    history_since_ms=since,
                ),
            )
            if event["session_id"]:
                want.sessions.add(event["session_id"])
            want.steps.add(event["id"])
            want.absence_types.add(event["type"])  # the windows this event may cancel
        snapshots = await store.read(wanted)
        plans: list[tuple[int, Planned]] = []
        broken: set[str] = set()
        again: list[int] = []
        for i in pending:
            owner = owners[i] or ""
            if owner in broken:
                again.append(i)  # its state in memory may be half changed: read it afresh
                continue
            snapshot = snapshots[owner]
            event_id = records[i]["event"]["id"]
            if event_id in snapshot.committed:
                steps[i] = Step.replay(event_id, snapshot.state.owner, snapshot.committed[event_id])
                continue
            try:
                step = process_event(snapshot.state, records[i], triggers, timeout_ms)
                plans.append((i, store.plan(snapshot.state, step)))
            except Exception:
                # A bug on one event must not stop the stream: it is published without its
                # state, counted and logged, and its owner's other events are read afresh.
                log.exception("bug while processing event %s; its state is not applied", event_id)
                PROCESS_ERRORS.inc()
                broken.add(owner)
        replies = await store.commit([plan for _, plan in plans])
        pending = again
        for (i, plan), reply in zip(plans, replies, strict=True):
            if reply == "ok":
                steps[i] = plan.step
            else:
                pending.append(i)  # the owner changed, or another replica committed it: re-read
    raise RuntimeError(
        f"state of {len(pending)} events kept changing under {MAX_ATTEMPTS} attempts"
    )


@dataclass
class Fired:
    published: Published
    finished: list[Timer]
    claimed: list[str]


async def fire_timers(
    store: OwnerStore, triggers: TriggerSet, timeout_ms: int, now_ms: int, lease_ms: int = 30_000
) -> Fired:
    return await retry_outages(
        lambda: _fire(store, triggers, timeout_ms, now_ms, lease_ms), REDIS_OUTAGES, "firing timers"
    )


async def _fire(
    store: OwnerStore, triggers: TriggerSet, timeout_ms: int, now_ms: int, lease_ms: int
) -> Fired:
    claimed = await store.claim_timers(now_ms, lease_ms, 500)
    fired = Fired(Published(), [], claimed)
    if not claimed:
        return fired
    timers: list[Timer] = [tuple(orjson.loads(member)) for member in claimed]
    snapshots = await store.read(_wants_for(timers, triggers, now_ms))
    for snapshot in snapshots.values():
        state = snapshot.state
        state.profile_id = None if state.owner.startswith("s:") else state.owner
    plans: list[tuple[Timer, Planned]] = []
    later: dict[str, int] = {}
    closed_at = iso_from_ms(now_ms)
    for member, timer in zip(claimed, timers, strict=True):
        snapshot = snapshots[timer[1]]
        state = snapshot.state
        step_id = f"absent:{timer[2]}" if timer[0] == ABSENT_TIMER else f"timeout:{timer[2]}"
        if step_id in snapshot.committed:
            if _unpublished(state, timer):
                fired.published.add(Step.replay(step_id, state.owner, snapshot.committed[step_id]))
                fired.finished.append(timer)
            continue
        result = _timer_step(state, timer, triggers, timeout_ms, now_ms, closed_at)
        if isinstance(result, NotDue):
            later[member] = result.due_ms
        elif isinstance(result, Step):
            plans.append((timer, store.plan(state, result)))
    replies = await store.commit([plan for _, plan in plans])
    for (timer, plan), reply in zip(plans, replies, strict=True):
        if reply == "ok":
            fired.published.add(plan.step)
            fired.finished.append(timer)
        else:
            later[orjson.dumps(list(timer)).decode()] = now_ms  # changed meanwhile: next tick
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
