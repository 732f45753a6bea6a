"""The commit/conflict/retry loop and timers on the in-memory state store: the same stages
as live (apply_state, apply_timers), no services."""

from __future__ import annotations

from eventwire.memory_store.owners import MemoryOwnerStore
from eventwire.stages.apply_state import apply_state
from eventwire.stages.timers import apply_timers
from tests.redis_store.test_state import (
    POINTS,
    TIMEOUT,
    encode,
    fire,
    hand_on,
    record,
    redeliver,
)


class Interleaved(MemoryOwnerStore):
    """A store where another replica commits for the same owner between the first read and
    the first commit (what Redis sees when two replicas race)."""

    def __init__(self, other_batch):
        super().__init__()
        self._other = other_batch

    async def commit(self, plans):
        if self._other is not None:
            batch, self._other = self._other, None
            await apply_state(batch, self, POINTS, TIMEOUT, encode)
        return await super().commit(plans)


async def test_a_conflicting_owner_is_read_again_and_nothing_is_lost():
    store = Interleaved([record("other-1", total=5)])
    steps = await apply_state([record("mine-1", total=7)], store, POINTS, TIMEOUT, encode)
    assert steps[0] is not None
    state = store.states()["p-1"]
    assert state.wallet.points == 12  # 5 by the other replica, then 7 on a fresh read
    assert state.counters == {"order.completed": 2}
    # Each applied once: the other's event again replays, applies nothing.
    again = await apply_state([record("other-1", total=5)], store, POINTS, TIMEOUT, encode)
    assert again[0] is not None
    assert again[0].id == "other-1"
    assert store.states()["p-1"].wallet.points == 12


async def test_a_session_times_out_once_and_a_repeated_timer_message_publishes_nothing():
    store = MemoryOwnerStore()
    old = "2026-11-24T08:00:00.000Z"
    await apply_state(
        [record(f"e{i}", profile=f"p{i}", session=f"s{i}", at=old) for i in range(5)],
        store,
        POINTS,
        1000,
        encode,
    )
    now = 1_800_000_000_000
    claimed, messages = await hand_on(store, now)  # handed on, not applied in the lease
    assert (await fire(store, POINTS, 1000, now)).claimed == []  # leased
    late_claimed, late_messages = await hand_on(store, now + 31_000)  # handed on again
    assert sorted(late_claimed) == sorted(claimed)
    first = await redeliver(store, POINTS, 1000, messages)
    assert sorted(b["session_id"] for b in first.published.events) == [f"s{i}" for i in range(5)]
    late = await redeliver(store, POINTS, 1000, late_messages)
    assert late.published.events == []
    again = await redeliver(store, POINTS, 1000, first.due)  # the first messages again
    assert again.published.events == first.published.events
    assert store.states()["p0"].sessions["s0"].closed_by == "timeout"
    assert (await fire(store, POINTS, 1000, now + 120_000)).claimed == []  # claims ended
    assert await apply_timers([], store, POINTS, 1000, encode) == []
