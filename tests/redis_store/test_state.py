"""The process stage on real Redis and a real 3-master Redis Cluster: state and effects exactly
once per event id, caps that two replicas never both pass, timers that fire once."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import pytest

from eventwire.core.outputs import encode_step
from eventwire.core.raw import RawMessage
from eventwire.core.timers_topic import DueTimer, parse, timer_output
from eventwire.core.topics import Topics
from eventwire.core.triggers.compiled import compile_trigger
from eventwire.core.triggers.trigger_set import TriggerSet
from eventwire.kafka.scheduler import LEASE_MS
from eventwire.redis_store.connection import connect
from eventwire.redis_store.owners import OwnerStore
from eventwire.stages.apply_state import apply_state
from eventwire.stages.timers import apply_timers
from tests.core.factories import internal

pytestmark = pytest.mark.services
TIMEOUT = 30 * 60_000
POINTS = TriggerSet.of(
    [
        compile_trigger(
            {
                "id": "points",
                "on": "order.completed",
                "actions": [{"type": "award_points", "amount": "$event.properties.total"}],
            }
        ),
        compile_trigger(
            {
                "id": "first",
                "on": "order.completed",
                "limit": {"times": 1},
                "actions": [
                    {"type": "grant_badge", "badge": "first-order"},
                    {"type": "start_automation", "automation": "welcome"},
                ],
            }
        ),
    ]
)


TOPICS = Topics("t.")


def encode(step):
    return encode_step(step, TOPICS)


def published(records: list[Any], steps: list[Any]) -> SimpleNamespace:
    """What the stage publishes: the events, then each one's built-ins; effects; automations."""
    out = SimpleNamespace(events=[], effects=[], automations=[])
    for rec in records:
        out.events.append(rec["event"])
    for step in steps:
        if step is not None:
            out.events += step.builtins
            out.effects += step.effects
            out.automations += step.automations
    return out


async def process_batch(records, store, triggers, timeout_ms):
    return published(records, await apply_state(records, store, triggers, timeout_ms, encode))


OFFSETS = iter(range(1_000_000))


async def hand_on(store, now_ms):
    """What the scheduler does with due timers: claim them and publish each as a ``timers``
    message (here: made and read back, at the next offset)."""
    claimed = await store.claim_timers(now_ms, LEASE_MS, 500)
    due = [
        parse(RawMessage(output.value, output.topic, 0, next(OFFSETS), now_ms, output.key))
        for output in (timer_output(member, now_ms, TOPICS) for member in claimed)
    ]
    return claimed, due


async def fire(store, triggers, timeout_ms, now_ms):
    """The scheduler hands due timers on; the stage applies the messages."""
    claimed, due = await hand_on(store, now_ms)
    return await redeliver(store, triggers, timeout_ms, due, claimed)


async def redeliver(store, triggers, timeout_ms, due, claimed=()):
    """Apply ``timers`` messages (again)."""
    steps = await apply_timers(due, store, triggers, timeout_ms, encode)
    return SimpleNamespace(claimed=claimed, due=due, published=published([], steps))


def record(
    eid,
    type_="order.completed",
    profile="p-1",
    session="s-1",
    *,
    total=10,
    attrs=None,
    traits=None,
    at="2026-11-24T09:00:00.000Z",
):
    return internal(
        eid,
        type_,
        profile=profile,
        session=session,
        properties={"total": total},
        received_at=at,
        traits=traits,
        attributes=attrs,
        identities={"email": f"{profile}@example.com"} if profile else {},
    )


async def test_a_batch_applies_state_and_effects_in_two_round_trips(redis_client, keys):
    store = OwnerStore(redis_client, keys)
    batch = [record(f"e{i}", profile=f"p{i % 3}", session=f"s{i % 3}") for i in range(30)]
    out = await process_batch(batch, store, POINTS, TIMEOUT)
    assert store.round_trips == 2
    assert (
        len(out.events) == 30 + 30 + 3
    )  # the events, one session built-in each, 3 profile_created
    assert len(out.effects) == 30 + 3 * 2
    assert [a["automation"] for a in out.automations] == ["welcome"] * 3
    profile = await store.profile("p0")
    assert profile is not None
    assert (profile["points"], profile["badges"], profile["counters"]) == (
        100,
        ["first-order"],
        {"order.completed": 10},
    )
    assert profile["email"] == "p0@example.com"
    session = await store.session("p0", "s0")
    assert session is not None
    assert (session.status, session.event_count) == ("open", 10)
    assert await redis_client.get(keys.session_index("s0")) == "p0"


async def test_redelivered_events_change_nothing_and_republish_the_same_outputs(redis_client, keys):
    store = OwnerStore(redis_client, keys)
    batch = [record(f"e{i}", profile=f"p{i % 3}", session=f"s{i % 3}", total=i) for i in range(30)]
    first = await process_batch(batch, store, POINTS, TIMEOUT)
    before = {p: await store.profile(p) for p in ("p0", "p1", "p2")}
    again = await process_batch(batch[10:] + batch[:10], store, POINTS, TIMEOUT)
    after = {p: await store.profile(p) for p in ("p0", "p1", "p2")}
    assert after == before
    assert sorted(e["id"] for e in again.effects) == sorted(e["id"] for e in first.effects)
    assert sorted(map(str, again.effects)) == sorted(map(str, first.effects))
    assert sorted(b["id"] for b in again.events) == sorted(b["id"] for b in first.events)


async def test_two_replicas_racing_on_one_profile_never_double_apply(redis_client, redis_url, keys):
    other = connect(redis_url)
    try:
        stores = [OwnerStore(redis_client, keys), OwnerStore(other, keys)]
        for round_ in range(10):
            # During a rebalance both replicas may process the same events: the same 40
            # orders of one profile, in overlapping slices, racing.
            profile = f"race-{round_}"
            batch = [record(f"r{round_}-e{i}", profile=profile, total=1) for i in range(40)]
            outs = await asyncio.gather(
                process_batch(batch[:20], stores[0], POINTS, TIMEOUT),
                process_batch(batch, stores[1], POINTS, TIMEOUT),
                process_batch(batch[20:], stores[0], POINTS, TIMEOUT),
                process_batch(batch[10:30], stores[1], POINTS, TIMEOUT),
            )
            found = await stores[0].profile(profile)
            assert found is not None
            assert (found["points"], found["counters"]) == (40, {"order.completed": 40}), round_
            assert found["badges"] == ["first-order"]
            badge_effects = {
                e["id"] for out in outs for e in out.effects if e["type"] == "grant_badge"
            }
            assert len(badge_effects) == 1  # the cap of one was never passed twice
    finally:
        await other.aclose()


async def open_sessions(store, n):
    """``n`` profiles with one session each, long idle (1 s timeout): all their timers due."""
    old = "2026-11-24T08:00:00.000Z"
    batch = [record(f"e{i}", profile=f"p{i}", session=f"s{i}", at=old) for i in range(n)]
    await process_batch(batch, store, POINTS, 1000)


async def test_a_session_times_out_once_across_replicas_and_survives_a_crash(
    redis_client, redis_url, keys
):
    other = connect(redis_url)
    try:
        stores = [OwnerStore(redis_client, keys), OwnerStore(other, keys)]
        await open_sessions(stores[0], 40)
        now = int(time.time() * 1000)
        # The first replica hands its timers on; their messages are not applied within the
        # lease (slow, or lost), so the other replica hands them on again.
        claimed, messages = await hand_on(stores[0], now)
        assert len(claimed) == 40
        assert (await fire(stores[1], POINTS, 1000, now)).claimed == []  # leased
        again_claimed, again_messages = await hand_on(stores[1], now + LEASE_MS + 1000)
        assert sorted(again_claimed) == sorted(claimed)
        first = await redeliver(stores[0], POINTS, 1000, messages)
        closed = first.published.events
        assert len(closed) == 40
        assert len({b["session_id"] for b in closed}) == 40
        # The same messages again (a failed transaction): the very same records.
        again = await redeliver(stores[0], POINTS, 1000, messages)
        assert again.published.events == first.published.events
        # The second hand-over's messages: steps applied by other messages, nothing twice.
        late = await redeliver(stores[1], POINTS, 1000, again_messages)
        assert late.published.events == []
        # Applied: the claims ended, nothing is handed on again.
        assert (await fire(stores[0], POINTS, 1000, now + 120_000)).claimed == []
        session = await stores[0].session("p0", "s0")
        assert session is not None
        assert (session.status, session.closed_by) == ("closed", "timeout")
    finally:
        await other.aclose()


async def test_absence_fires_once_unless_the_awaited_event_arrives(redis_client, keys):
    abandon = TriggerSet.of(
        [
            compile_trigger(
                {
                    "id": "abandoned",
                    "on": "cart.updated",
                    "absent": {"type": "order.completed", "within": "2s"},
                    "actions": [{"type": "start_automation", "automation": "cart-abandoned"}],
                }
            )
        ]
    )
    store = OwnerStore(redis_client, keys)
    now = int(time.time() * 1000)
    at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now / 1000))
    await process_batch(
        [
            record("c1", "cart.updated", profile="p-a", at=at),
            record("c2", "cart.updated", profile="p-b", at=at),
            record("o2", "order.completed", profile="p-b", at=at),
        ],
        store,
        abandon,
        TIMEOUT,
    )
    assert (await fire(store, abandon, TIMEOUT, now + 1000)).published.automations == []
    fired = await fire(store, abandon, TIMEOUT, now + 3000)
    assert [(a["automation"], a["profile"]["id"]) for a in fired.published.automations] == [
        ("cart-abandoned", "p-a")
    ]
    assert (await fire(store, abandon, TIMEOUT, now + 60_000)).claimed == []
    # The fired window is gone: the same timer published once more finds nothing to do,
    # and its first message again publishes what it did.
    duplicate = DueTimer(fired.due[0].timer, now + 61_000, "t.timers/0/999999")
    assert (await redeliver(store, abandon, TIMEOUT, [duplicate])).published.automations == []
    again = await redeliver(store, abandon, TIMEOUT, fired.due)
    assert again.published.automations == fired.published.automations


async def test_scripts_are_reloaded_after_redis_forgets_them(redis_client, keys):
    store = OwnerStore(redis_client, keys)
    await process_batch([record("e1")], store, POINTS, TIMEOUT)
    await redis_client.script_flush()
    await process_batch([record("e2")], store, POINTS, TIMEOUT)
    profile = await store.profile("p-1")
    assert profile is not None
    assert profile["counters"] == {"order.completed": 2}


async def test_the_dedupe_record_is_bounded_per_owner(redis_client, keys):
    store = OwnerStore(redis_client, keys, seen_cap=5, seen_ttl_seconds=3600)
    await process_batch([record(f"e{i}") for i in range(20)], store, POINTS, TIMEOUT)
    assert await redis_client.hlen(keys.owned("p-1", "seen")) == 5
    assert await redis_client.lrange(keys.owned("p-1", "seen-order"), 0, -1) == [
        f"e{i}" for i in range(15, 20)
    ]
    assert 0 < await redis_client.ttl(keys.owned("p-1", "seen")) <= 3600


async def test_two_replicas_never_claim_the_same_timer(redis_client, redis_url, keys):
    other = connect(redis_url)
    try:
        stores = [OwnerStore(redis_client, keys), OwnerStore(other, keys)]
        await open_sessions(stores[0], 200)
        now = int(time.time() * 1000)
        claims = await asyncio.gather(
            *(store.claim_timers(now, LEASE_MS, 7) for store in stores * 20)
        )
        every = [member for claim in claims for member in claim]
        assert len(every) == len(set(every)) == 200
    finally:
        await other.aclose()
