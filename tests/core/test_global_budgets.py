"""Global budgets (limit per: global) on the in-memory state store, with the live stage's
code: never exceeded, never counted twice on redelivery, a step refused by the store (another
replica spent the budget after this batch read it) computed again without the fire; windows
are fixed and each has its own counter."""

from __future__ import annotations

from eventwire.core.triggers.budgets import BudgetClaim
from eventwire.core.triggers.compiled import compile_trigger
from eventwire.core.triggers.trigger_set import TriggerSet
from eventwire.memory_store.owners import MemoryOwnerStore
from eventwire.stages.apply_state import apply_state
from tests.redis_store.test_state import TIMEOUT, encode, record

FIRST_TEN = TriggerSet.of(
    [
        compile_trigger(
            {
                "id": "first-ten",
                "on": "order.completed",
                "limit": {"times": 10, "per": "global"},
                "actions": [{"type": "issue_reward", "reward": "early-bird"}],
            }
        ),
        compile_trigger(
            {
                "id": "daily-three",
                "on": "order.completed",
                "limit": {"times": 3, "per": "global", "window": "1d"},
                "actions": [{"type": "award_points", "amount": 5}],
            }
        ),
    ]
)


def orders(n: int, day: str = "2026-11-24", prefix: str = "o") -> list:
    return [
        record(f"{prefix}{i}", profile=f"p{i}", session=f"s{i}", at=f"{day}T09:00:{i:02d}.000Z")
        for i in range(n)
    ]


def fires(steps, trigger_id):
    return [e for s in steps if s is not None for e in s.effects if e["trigger_id"] == trigger_id]


async def test_a_budget_is_never_exceeded_and_redelivery_counts_nothing_twice():
    store = MemoryOwnerStore()
    steps = await apply_state(orders(30), store, FIRST_TEN, TIMEOUT, encode)
    assert len(fires(steps, "first-ten")) == 10
    assert [e["profile_id"] for e in fires(steps, "first-ten")] == [f"p{i}" for i in range(10)]
    assert len(fires(steps, "daily-three")) == 3
    assert store.budget_used(("first-ten", 0)) == 10

    again = await apply_state(orders(30), store, FIRST_TEN, TIMEOUT, encode)
    assert len(fires(again, "first-ten")) == 10  # the same steps replayed, not new fires
    assert store.budget_used(("first-ten", 0)) == 10
    later = await apply_state(orders(5, prefix="late"), store, FIRST_TEN, TIMEOUT, encode)
    assert fires(later, "first-ten") == []


async def test_each_window_has_its_own_counter():
    store = MemoryOwnerStore()
    first = await apply_state(orders(5), store, FIRST_TEN, TIMEOUT, encode)
    second = await apply_state(
        orders(5, day="2026-11-25", prefix="n"), store, FIRST_TEN, TIMEOUT, encode
    )
    assert (len(fires(first, "daily-three")), len(fires(second, "daily-three"))) == (3, 3)
    assert len(fires(first, "first-ten")) + len(fires(second, "first-ten")) == 10


class OtherReplicaSpends(MemoryOwnerStore):
    """Another replica takes the rest of the budget right after this batch read it."""

    async def read_budgets(self, keys, step_ids):
        found = await super().read_budgets(keys, step_ids)
        if not getattr(self, "_spent", False):
            self._spent = True
            rest = [BudgetClaim(("first-ten", 0), 10, None, f"elsewhere-{i}", 1) for i in range(8)]
            assert all(await self.claim_budgets(rest))
        return found


async def test_a_step_the_store_refuses_is_computed_again_without_the_fire():
    store = OtherReplicaSpends()
    steps = await apply_state(orders(6), store, FIRST_TEN, TIMEOUT, encode)
    # The view allowed all six; the store had two units left: two fire, four do not, and
    # every event is still applied (its points, its counters).
    assert len(fires(steps, "first-ten")) == 2
    assert store.budget_used(("first-ten", 0)) == 10
    assert all(s is not None for s in steps)
    assert sum(store.states()[f"p{i}"].counters["order.completed"] for i in range(6)) == 6


def test_the_dry_run_says_at_which_document_a_budget_would_run_out():
    from eventwire.core.triggers.dry_run import dry_run

    trigger = {
        "id": "first-two",
        "on": "order.completed",
        "when": {"event.properties.total": {"$gte": 10}},
        "limit": {"times": 2, "per": "global"},
        "actions": [{"type": "issue_reward", "reward": "early-bird"}],
    }
    documents = [
        {"event": {"type": "order.completed", "properties": {"total": total}}}
        for total in (5, 12, 3, 40, 99)
    ]
    answer = dry_run(trigger, documents, 1_800_000_000_000)
    assert [r["fires"] for r in answer["results"]] == [False, True, False, True, True]
    assert answer["budget"] == {"times": 2, "runs_out_at": 3}


async def test_the_backtest_report_says_when_a_budget_ran_out():
    from eventwire.backtest.report import trigger_reports

    store = MemoryOwnerStore(isolated=False, keep_records=False)
    steps = await apply_state(orders(30), store, FIRST_TEN, TIMEOUT, encode)
    effects = [e for s in steps if s is not None for e in s.effects]
    docs = [t.spec.model_dump(exclude_none=True) for t in FIRST_TEN.by_id.values()]
    reports = trigger_reports(effects, docs)
    assert reports["first-ten"]["fires"] == 10
    assert reports["first-ten"]["budget"] == {
        "times": 10,
        "window": None,
        "ran_out_at": "2026-11-24T09:00:09.000Z",  # the tenth order
        "windows_run_out": 1,
    }
    assert reports["daily-three"]["budget"]["ran_out_at"] == "2026-11-24T09:00:02.000Z"
