"""Apply due timers (session inactivity, absence windows) that arrived as messages on the
``timers`` topic: read their owners, compute their steps with core.process, commit them like
events' steps (once per step id, guarded by the owner's version token), and retry only the
owners that changed meanwhile.

Each step is stored with the origin of the message that applied it. The same message again
(a redelivery: the batch's transaction failed) re-publishes the stored outputs; another
message for the same timer (the scheduler published it twice) publishes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from eventwire.core.owner import OwnerState, awaited_type
from eventwire.core.process import (
    ABSENT_TIMER,
    SEGMENT_CHANGE,
    NotDue,
    Step,
    change_segment,
    close_if_timed_out,
    fire_absence,
)
from eventwire.core.timers_topic import DueTimer
from eventwire.core.timestamps import iso_from_ms
from eventwire.core.triggers.budgets import BudgetKey, BudgetView
from eventwire.core.triggers.trigger_set import TriggerSet
from eventwire.metrics import PROCESS_ERRORS
from eventwire.retry import REDIS_OUTAGES, retry_outages
from eventwire.stages.apply_state import MAX_ATTEMPTS, Encode
from eventwire.stages.budgets import budget_view, claim_budgets
from eventwire.stages.state_store import Planned, Snapshot, StateStore, Wants

log = logging.getLogger(__name__)


async def apply_timers(
    due: Sequence[DueTimer],
    store: StateStore,
    triggers: TriggerSet,
    timeout_ms: int,
    encode: Encode,
) -> list[Step | None]:
    """The step of each timer message to publish (None: nothing to publish)."""
    return await retry_outages(
        lambda: _apply(due, store, triggers, timeout_ms, encode),
        REDIS_OUTAGES,
        "applying timers",
    )


def step_id(due: DueTimer) -> str:
    timer = due.timer
    if timer[0] == SEGMENT_CHANGE:
        return f"segment:{timer[4]}"
    kind = "absent" if timer[0] == ABSENT_TIMER else "timeout"
    return f"{kind}:{timer[2]}"


async def _apply(
    due: Sequence[DueTimer],
    store: StateStore,
    triggers: TriggerSet,
    timeout_ms: int,
    encode: Encode,
) -> list[Step | None]:
    steps: list[Step | None] = [None] * len(due)
    pending: dict[str, list[int]] = {}
    for i, item in enumerate(due):
        pending.setdefault(item.timer[1], []).append(i)
    later: dict[str, int] = {}
    spent: set[BudgetKey] = set()
    for _ in range(MAX_ATTEMPTS):
        if not pending:
            break
        snapshots = await store.read(_wants(due, pending, triggers))
        chosen = [due[i] for indices in pending.values() for i in indices]
        view = await budget_view(
            store, triggers, (d.at_ms for d in chosen), (step_id(d) for d in chosen), spent
        )
        plans: list[Planned] = []
        for owner, indices in pending.items():
            planned = _owner_steps(
                snapshots[owner],
                indices,
                due,
                _Context(triggers, timeout_ms, view),
                steps,
                later,
                store,
                encode,
            )
            if planned is not None:
                plans.append(planned)
        plans, refused, newly_spent = await claim_budgets(store, plans)
        spent |= newly_spent
        replies = await store.commit(plans)
        again: dict[str, list[int]] = {owner: pending[owner] for owner in refused}
        for plan, reply in zip(plans, replies, strict=True):
            if reply != "ok":
                again[plan.owner] = pending[plan.owner]
        pending = again
    if pending:
        raise RuntimeError(f"state of {len(pending)} owners kept changing under timers")
    # Not due after all (the session had events since): the step's own timer stays due.
    await store.reschedule(later)
    # Applied (or found applied, or not due): the claim ends, so it is not handed on again.
    await store.release([orjson.dumps(list(item.timer)).decode() for item in due])
    return steps


def _wants(
    due: Sequence[DueTimer], pending: dict[str, list[int]], triggers: TriggerSet
) -> dict[str, Wants]:
    wanted: dict[str, Wants] = {}
    for owner, indices in pending.items():
        want = wanted[owner] = Wants(
            None,
            history_types=triggers.history_types,
            history_since_ms=min(due[i].at_ms for i in indices) - triggers.history_window_ms,
        )
        for i in indices:
            timer = due[i].timer
            want.steps.add(step_id(due[i]))
            if timer[0] == ABSENT_TIMER:
                want.absence_types.add(awaited_type(timer[2]))
            elif timer[0] != SEGMENT_CHANGE:
                want.sessions.add(timer[2])
    return wanted


@dataclass(frozen=True, slots=True)
class _Context:
    """What every timer step of an attempt is computed with."""

    triggers: TriggerSet
    timeout_ms: int
    budgets: BudgetView | None


def _owner_steps(
    snapshot: Snapshot,
    indices: list[int],
    due: Sequence[DueTimer],
    context: _Context,
    steps: list[Step | None],
    later: dict[str, int],
    store: StateStore,
    encode: Encode,
) -> Planned | None:
    """One owner's timer steps, in order, planned for one commit (None: nothing new)."""
    state, committed = snapshot.state, snapshot.committed
    state.profile_id = None if state.owner.startswith("s:") else state.owner
    new: list[Step] = []
    origins: list[str] = []
    for i in indices:
        item = due[i]
        member = orjson.dumps(list(item.timer)).decode()
        steps[i] = None  # what an attempt before computed from an older state is gone
        later.pop(member, None)
        found = committed.get(step_id(item))
        if found is not None:
            # Applied before: by this very message (publish it again) or another one.
            if found.get("o") == item.origin:
                steps[i] = Step.replay(step_id(item), state.owner, found)
            continue
        try:
            result = _timer_step(state, item, context)
        except Exception:
            # A bug must not stop the stream: logged, counted, and this timer left alone.
            log.exception("bug while firing timer %s; nothing applied", item.timer)
            PROCESS_ERRORS.inc()
            continue
        if isinstance(result, NotDue):
            later[member] = result.due_ms
        elif isinstance(result, Step):
            steps[i] = result
            new.append(result)
            origins.append(item.origin)
    if not new:
        return None
    stored = [_with_origin(encode(step), origin) for step, origin in zip(new, origins, strict=True)]
    return store.plan(state, new, stored)


def _timer_step(state: OwnerState, item: DueTimer, context: _Context) -> Step | NotDue | None:
    timer, now_ms = item.timer, item.at_ms
    triggers, budgets = context.triggers, context.budgets
    if timer[0] == ABSENT_TIMER:
        return fire_absence(state, timer[2], now_ms, triggers, budgets)
    if timer[0] == SEGMENT_CHANGE:
        member = timer[3] == "1"
        return change_segment(state, timer[2], member, timer[4], now_ms, triggers, budgets)
    closed_at = iso_from_ms(now_ms)
    return close_if_timed_out(
        state, timer[2], timer[3], now_ms, context.timeout_ms, closed_at, triggers, budgets
    )


def _with_origin(stored: bytes, origin: str) -> bytes:
    """The stored record of a step (a JSON object) with the origin that applied it."""
    return b'%b,"o":%b}' % (stored[:-1], orjson.dumps(origin))
