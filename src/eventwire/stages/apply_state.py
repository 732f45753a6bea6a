"""Apply a batch's accepted events to their owners' state: read the owners (one round trip),
compute each owner's steps in order with core.process, commit them (one round trip), and
retry only the owners that changed meanwhile (another replica committed first).

Redis outages are retried; a commit is once per step id, so a retried or redelivered batch
never applies anything twice, and re-publishes what it first published.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from eventwire.core.process import Step, process_event
from eventwire.core.step_input import StepInput, owner_tag
from eventwire.core.triggers.budgets import BudgetKey, BudgetView
from eventwire.core.triggers.trigger_set import TriggerSet
from eventwire.metrics import PROCESS_ERRORS
from eventwire.retry import REDIS_OUTAGES, retry_outages
from eventwire.stages.budgets import budget_view, claim_budgets
from eventwire.stages.state_store import Planned, Snapshot, StateStore, Wants

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 50

# Encodes a step's outputs once (keeping the records on the step to publish) and returns
# the same bytes to store with its commit, for re-publication.
Encode = Callable[[Step], bytes]


async def apply_state(
    inputs: Sequence[StepInput],
    store: StateStore,
    triggers: TriggerSet,
    timeout_ms: int,
    encode: Encode,
) -> list[Step | None]:
    """The step of each input (None: no owner, or a bug kept it from being applied)."""
    return await retry_outages(
        lambda: _apply(inputs, store, triggers, timeout_ms, encode),
        REDIS_OUTAGES,
        "applying state",
    )


async def _apply(
    inputs: Sequence[StepInput],
    store: StateStore,
    triggers: TriggerSet,
    timeout_ms: int,
    encode: Encode,
) -> list[Step | None]:
    steps: list[Step | None] = [None] * len(inputs)
    pending: dict[str, list[int]] = {}
    for i, item in enumerate(inputs):
        owner = owner_tag(item["event"]["profile_id"], item["event"]["session_id"])
        if owner is not None:
            pending.setdefault(owner, []).append(i)
    spent: set[BudgetKey] = set()  # global budgets the store refused in an earlier attempt
    for _ in range(MAX_ATTEMPTS):
        if not pending:
            return steps
        snapshots = await store.read(_wants(inputs, pending, triggers))
        chosen = [i for indices in pending.values() for i in indices]
        view = await budget_view(
            store,
            triggers,
            (inputs[i]["at_ms"] for i in chosen),
            (inputs[i]["basis"] for i in chosen),
            spent,
        )
        plans: list[Planned] = []
        again: dict[str, list[int]] = {}
        for owner, indices in pending.items():
            planned = _owner_steps(
                snapshots[owner], indices, inputs, triggers, timeout_ms, steps, store, encode, view
            )
            if isinstance(planned, Planned):
                plans.append(planned)
            elif planned:
                again[owner] = planned
        plans, refused, newly_spent = await claim_budgets(store, plans)
        spent |= newly_spent
        again.update((owner, pending[owner]) for owner in refused)
        replies = await store.commit(plans)
        for plan, reply in zip(plans, replies, strict=True):
            if reply != "ok":
                # The owner changed, or another replica committed its steps: read it again.
                again[plan.owner] = pending[plan.owner]
        pending = again
    raise RuntimeError(
        f"state of {len(pending)} owners kept changing under {MAX_ATTEMPTS} attempts"
    )


def _wants(
    inputs: Sequence[StepInput], pending: dict[str, list[int]], triggers: TriggerSet
) -> dict[str, Wants]:
    wanted: dict[str, Wants] = {}
    for owner, indices in pending.items():
        want = wanted[owner] = Wants(
            inputs[indices[0]]["event"]["profile_id"],
            history_types=triggers.history_types,
            history_since_ms=min(inputs[i]["at_ms"] for i in indices) - triggers.history_window_ms,
        )
        for i in indices:
            event = inputs[i]["event"]
            if event["session_id"]:
                want.sessions.add(event["session_id"])
            want.steps.add(inputs[i]["basis"])
            want.absence_types.add(event["type"])  # the windows this event may cancel
    return wanted


def _owner_steps(
    snapshot: Snapshot,
    indices: list[int],
    inputs: Sequence[StepInput],
    triggers: TriggerSet,
    timeout_ms: int,
    steps: list[Step | None],
    store: StateStore,
    encode: Encode,
    budgets: BudgetView | None,
) -> Planned | list[int] | None:
    """One owner's steps, in order, planned for one commit (None: all committed before).
    After a bug, the indices to compute afresh from a new read instead."""
    state, committed = snapshot.state, snapshot.committed
    new: list[Step] = []
    current = indices[0]
    try:
        for current in indices:
            step_id = inputs[current]["basis"]
            if step_id in committed:
                steps[current] = Step.replay(step_id, state.owner, committed[step_id])
            else:
                step = steps[current] = process_event(
                    state, inputs[current], triggers, timeout_ms, budgets
                )
                new.append(step)
    except Exception:
        # A bug on one event must not stop the stream: it is published without its state,
        # counted and logged, and its owner's other events are computed afresh.
        log.exception(
            "bug while processing event %s; its state is not applied",
            inputs[current]["event"]["id"],
        )
        PROCESS_ERRORS.inc()
        for i in indices:
            if inputs[i]["basis"] not in committed:
                steps[i] = None
        return [i for i in indices if i != current]
    if not new:
        return None
    return store.plan(state, new, [encode(step) for step in new])
