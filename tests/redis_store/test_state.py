"""Session and profile state, exactly once, on a real Redis and a real 3-master Redis Cluster."""

from __future__ import annotations

import asyncio
import time

import pytest

from eventwire.core.state import builtins_for
from eventwire.redis_store.connection import connect
from eventwire.redis_store.state import StateStore

pytestmark = pytest.mark.services


def record(
    eid,
    type_="page.viewed",
    profile="p-1",
    session="s-1",
    *,
    attrs=None,
    traits=None,
    identities=None,
    at="2026-11-24T09:00:00.000Z",
):
    return {
        "event": {
            "id": eid,
            "type": type_,
            "source_id": "web",
            "profile_id": profile,
            "session_id": session,
            "properties": {},
            "context": {},
            "sent_at": None,
            "received_at": at,
            "definition_version": None,
            "format": "canonical",
            "builtin": False,
        },
        "publish": True,
        "session_attributes": attrs or {},
        "traits": traits or {},
        "identities": identities or {},
    }


def types(records, facts):
    return [
        [b["type"] for b in builtins_for(r["event"], f)] if f else None
        for r, f in zip(records, facts, strict=True)
    ]


async def test_a_session_lifecycle(redis_client, keys):
    store = StateStore(redis_client, keys, 1800)
    records = [
        record("e1", attrs={"url": "/a"}, identities={"email": "a@b.c", "client_id": "c1"}),
        record("e2", attrs={"url": "/b", "cart": 2}),
        record("e3", "profile.update", session=None, traits={"tier": "gold"}),
        record("e4", "profile.update", session=None, traits={"tier": "gold"}),
        record("e5", "session.close"),
        record("e6"),
        record("e7", "session.close"),
        record("e8", "session.cancel"),
        record("e9", "session.close", session="never-seen"),
    ]
    facts = await store.apply(records)
    assert types(records, facts) == [
        ["profile_created", "session_created"],
        ["session_updated"],
        ["profile_updated"],
        [],
        ["session_closed"],
        [],
        [],
        ["session_cancelled"],
        [],
    ]
    session = await store.session("p-1", "s-1")
    assert (session["status"], session["event_count"]) == ("cancelled", "2")
    attributes = await redis_client.hgetall(keys.owned("p-1", "session:s-1:attributes"))
    assert attributes == {"url": '"/b"', "cart": "2"}
    assert await store.counters("p-1") == {
        "page.viewed": 3,
        "profile.update": 2,
        "session.close": 3,
        "session.cancel": 1,
    }
    profile = await redis_client.hgetall(keys.profile("p-1"))
    assert profile["email"] == "a@b.c"
    assert await redis_client.smembers(keys.owned("p-1", "clients")) == {"c1"}
    assert await redis_client.hgetall(keys.owned("p-1", "traits")) == {"tier": '"gold"'}
    assert await redis_client.get(keys.session_index("s-1")) == "p-1"


async def test_redelivered_events_change_nothing_and_yield_the_same_builtins(redis_client, keys):
    store = StateStore(redis_client, keys, 1800)
    batch = [record(f"e{i}", profile=f"p{i % 3}", session=f"s{i % 3}") for i in range(30)]
    first = await store.apply(batch)
    counters = {p: await store.counters(p) for p in ("p0", "p1", "p2")}
    again = await store.apply(batch[10:] + batch[:10])
    assert all(f.duplicate for f in again if f)
    assert (
        {p: await store.counters(p) for p in ("p0", "p1", "p2")}
        == counters
        == {p: {"page.viewed": 10} for p in ("p0", "p1", "p2")}
    )
    ids_first = [
        b["id"] for r, f in zip(batch, first, strict=True) if f for b in builtins_for(r["event"], f)
    ]
    reordered = batch[10:] + batch[:10]
    ids_again = {
        b["id"]
        for r, f in zip(reordered, again, strict=True)
        if f
        for b in builtins_for(r["event"], f)
    }
    assert set(ids_first) == ids_again
    assert len(ids_first) == 30 + 3  # one session builtin per event, one profile_created each


async def test_profile_less_events_keep_session_state_under_the_session(redis_client, keys):
    store = StateStore(redis_client, keys, 1800)
    records = [
        record("e1", profile=None, session="anon"),
        record("e2", profile=None, session="anon"),
    ]
    assert types(records, await store.apply(records)) == [["session_created"], ["session_updated"]]
    assert (await store.session("s:anon", "anon"))["event_count"] == "2"
    assert await store.apply([record("e3", profile=None, session=None)]) == [None]


async def test_the_dedupe_record_is_bounded_per_owner(redis_client, keys):
    store = StateStore(redis_client, keys, 1800, seen_cap=5, seen_ttl_seconds=3600)
    await store.apply([record(f"e{i}") for i in range(20)])
    assert await redis_client.hlen(keys.owned("p-1", "seen")) == 5
    assert await redis_client.lrange(keys.owned("p-1", "seen-order"), 0, -1) == [
        f"e{i}" for i in range(15, 20)
    ]
    assert 0 < await redis_client.ttl(keys.owned("p-1", "seen")) <= 3600


async def test_a_batch_is_one_round_trip(redis_client, keys):
    store = StateStore(redis_client, keys, 1800)
    await store.apply([record(f"e{i}", profile=f"p{i}", session=f"s{i}") for i in range(200)])
    assert store.round_trips == 1


async def test_a_session_times_out_once_across_replicas_and_survives_a_crash(
    redis_client, redis_url, keys
):
    other = connect(redis_url)
    try:
        stores = [StateStore(redis_client, keys, 1), StateStore(other, keys, 1)]
        old = "2026-11-24T08:00:00.000Z"
        await stores[0].apply(
            [record(f"e{i}", profile=f"p{i}", session=f"s{i}", at=old) for i in range(40)]
        )
        now = int(time.time() * 1000)
        (first, claimed_a), (second, claimed_b) = await asyncio.gather(
            stores[0].fire_due_timers(now), stores[1].fire_due_timers(now)
        )
        fired = first + second
        assert len(fired) == 40
        assert len({b["session_id"] for b in fired}) == 40
        assert set(claimed_a).isdisjoint(claimed_b)
        # The first replica "dies" before completing: after the lease, its timers fire again,
        # with the same ids; the second replica's, completed, never do.
        await stores[1].complete(claimed_b)
        assert await stores[1].fire_due_timers(now + 1000) == ([], [])
        refired, reclaimed = await stores[1].fire_due_timers(now + 31_000)
        assert sorted(b["id"] for b in refired) == sorted(b["id"] for b in first)
        await stores[1].complete(reclaimed)
        assert await stores[0].fire_due_timers(now + 120_000) == ([], [])
        session = await stores[0].session("p0", "s0")
        assert (session["status"], session["closed_by"]) == ("closed", "timeout")
    finally:
        await other.aclose()


async def test_a_session_with_recent_events_is_not_closed(redis_client, keys):
    store = StateStore(redis_client, keys, 60)
    recent = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    await store.apply([record("e1", at=recent)])
    assert await store.fire_due_timers(int(time.time() * 1000) + 120_000) != ([], [])
    assert (await store.session("p-1", "s-1"))["status"] == "closed"


async def test_a_stale_timer_reschedules_instead_of_closing(redis_client, keys):
    store = StateStore(redis_client, keys, 60)
    now_ms = int(time.time() * 1000)
    at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now_ms / 1000))
    await store.apply([record("e1", at=at)])
    # Claimed early (a clock ahead on the due set, say): not due yet, so it is put back.
    await redis_client.zadd(
        keys.timers_due(), {m: 0 for m in await redis_client.zrange(keys.timers_due(), 0, -1)}
    )
    fired, claimed = await store.fire_due_timers(now_ms)
    assert fired == []
    assert (await store.session("p-1", "s-1"))["status"] == "open"
    due = await redis_client.zrange(keys.timers_due(), 0, -1, withscores=True)
    assert [int(score) for _, score in due] == [now_ms // 1000 * 1000 + 60_000]
    await store.complete(claimed)


async def test_scripts_are_reloaded_after_redis_forgets_them(redis_client, keys):
    store = StateStore(redis_client, keys, 1800)
    await store.apply([record("e1")])
    await redis_client.script_flush()
    facts = await store.apply([record("e2")])
    assert [f.session_updated for f in facts if f] == [True]
    assert await store.counters("p-1") == {"page.viewed": 2}
