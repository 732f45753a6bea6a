"""Global budgets in a stage's batch (core/triggers/budgets.py has the rule): the view an
attempt computes its steps against, and the claims made before the commit. Used alike by
events (stages/apply_state.py) and timers (stages/timers.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from eventwire.core.triggers.budgets import BudgetKey, BudgetView, merged, wanted_keys
from eventwire.core.triggers.trigger_set import TriggerSet
from eventwire.stages.state_store import Planned, StateStore


async def budget_view(
    store: StateStore,
    triggers: TriggerSet,
    times_ms: Iterable[int],
    step_ids: Iterable[str],
    spent: set[BudgetKey],
) -> BudgetView | None:
    """None when no trigger has a global budget: then nothing is read or built (the
    arguments are iterated only when one has)."""
    if not triggers.budgeted:
        return None
    keys = wanted_keys(triggers.budgeted, times_ms)
    used, held = await store.read_budgets(keys, set(step_ids))
    return BudgetView(used, held, set(spent))


async def claim_budgets(
    store: StateStore, plans: Sequence[Planned]
) -> tuple[list[Planned], set[str], set[BudgetKey]]:
    """The plans whose steps hold every unit they took (to commit), the owners refused some
    (to compute again), and the budgets found spent."""
    claims = [
        (plan.owner, claim)
        for plan in plans
        for step in plan.steps
        for claim in merged(step.budget_claims)
    ]
    if not claims:
        return list(plans), set(), set()
    granted = await store.claim_budgets([claim for _, claim in claims])
    refused = {owner for (owner, _), ok in zip(claims, granted, strict=True) if not ok}
    spent = {claim.key for (_, claim), ok in zip(claims, granted, strict=True) if not ok}
    return [plan for plan in plans if plan.owner not in refused], refused, spent
