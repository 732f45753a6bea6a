"""The backtest against the live worker: a stream processed live from empty state, then the
live trigger set backtested over the same window gives the same effect ids and the same
points per profile; a changed version of a live trigger is diffed against an independent
count; and nothing live is touched (Redis, topics, consumer groups)."""

from __future__ import annotations

import time

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from eventwire.backtest.run import Request, backtest
from eventwire.cli.backtest import live_triggers
from eventwire.core.timestamps import iso_from_ms
from eventwire.redis_store.connection import connect
from eventwire.redis_store.keys import Keys
from eventwire.redis_store.owners import OwnerStore
from eventwire.settings import Settings
from tests.kafka.harness import Cluster, collect
from tests.kafka.test_admin_api_e2e import TOKEN, acall, scrape
from tests.kafka.test_loyalty_e2e import CONFIG, SCENARIO, produce_in_order, send

pytestmark = [pytest.mark.services, pytest.mark.slow]
PROFILES = [f"bt-{i}" for i in range(12)]
CARTS = [f"cart-{i}" for i in range(3)]  # never order: each cart is abandoned


def stream() -> list[tuple[str, bytes]]:
    messages = list(SCENARIO)
    for i in range(240):
        profile = PROFILES[i % len(PROFILES)]
        if i % 4 == 0:
            messages.append(send(profile, "page.viewed", url=f"/p/{i}"))
        else:
            key, value = send(profile, "order.completed", order_id=f"o{i}", total=(i % 37) + 0.2)
            if i % 3 == 0:  # a producer's own id: the effects' ids derive from source + id
                value = orjson.dumps({**orjson.loads(value), "id": f"shop-order-{i}"})
            messages.append((key, value))
    messages += [send(cart, "cart.updated", cart_id=f"c-{cart}") for cart in CARTS]
    return messages


def orders() -> list[tuple[str, float]]:
    return [
        (orjson.loads(v)["profile"]["id"], orjson.loads(v)["properties"]["total"])
        for _, v in stream()
        if orjson.loads(v)["type"] == "order.completed"
    ]


async def live_things(cluster: Cluster, redis_url: str) -> dict[str, object]:
    """Everything a backtest must leave alone."""
    redis = connect(redis_url)
    try:
        keys = sorted(
            [k async for k in redis.scan_iter(match=f"{cluster.names.redis_prefix}*", count=1000)]
        )
        dumped = [(k, await redis.dump(k)) for k in keys]
    finally:
        await redis.aclose()
    consumer = AIOKafkaConsumer(bootstrap_servers=cluster.kafka)
    await consumer.start()
    try:
        tps = [
            TopicPartition(topic, p)
            for topic in cluster.topics.all()
            for p in consumer.partitions_for_topic(topic) or range(4)
        ]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.kafka)
    await admin.start()
    try:
        groups = sorted(str(g) for g in await admin.list_consumer_groups())
    finally:
        await admin.close()
    return {"redis": dumped, "offsets": ends, "groups": groups}


async def test_a_backtest_of_the_live_set_gives_what_the_worker_gave(services, names, tmp_path):
    cluster = Cluster(
        names,
        services["kafka"],
        CONFIG,
        tmp_path,
        settings={"scheduler_interval": "200ms", "session_timeout": "2s"},
    )
    await cluster.create_topics()
    effects_topic, automations = cluster.topics.effects, cluster.topics.automations
    abandoned = {"dave", *CARTS}
    since_ms = int(time.time() * 1000) - 1000
    worker = cluster.add_worker()
    try:
        await worker.wait_ready(cluster.topics.raw)
        await produce_in_order(cluster.kafka, cluster.topics.raw, stream())
        live = await collect(
            cluster.kafka,
            [effects_topic, automations, cluster.topics.events],
            lambda c: (
                len(c.accepted(cluster.topics.events)) == len(stream())
                and {
                    a["profile"]["id"]
                    for a in c.of(automations)
                    if a["automation"] == "cart-abandoned"
                }
                == abandoned
            ),
            timeout=120,
        )
    finally:
        cluster.stop_all()
    until_ms = int(time.time() * 1000) + 1000
    settings = Settings(redis_url=services["redis"], redis_prefix=cluster.names.redis_prefix)
    triggers = await live_triggers(settings)
    before = await live_things(cluster, services["redis"])

    answer = await backtest(
        Request(since_ms, until_ms, include_effects=True),
        triggers,
        cluster.kafka,
        cluster.topics.events,
        2000,
    )

    live_effects = live.of(effects_topic)
    assert {e["id"] for e in answer["effects"]} == {e["id"] for e in live_effects}
    assert answer["events"] == len(stream())
    redis = connect(services["redis"])
    try:
        store = OwnerStore(redis, Keys(cluster.names.redis_prefix))
        profiles = {e["profile_id"] for e in live_effects}
        points = {p: (await store.profile(p) or {}).get("points", 0) for p in profiles}
    finally:
        await redis.aclose()
    replayed: dict[str, int] = dict.fromkeys(profiles, 0)
    for effect in answer["effects"]:
        replayed[effect["profile_id"]] += effect["result"].get("awarded", 0)
    assert replayed == points
    per_purchase = answer["triggers"]["points-per-purchase"]
    assert per_purchase["fires"] == len(orders())
    assert per_purchase["points"] == sum(round(total) for _, total in orders())
    assert answer["triggers"]["cart-abandoned"]["fires"] == len(abandoned)
    assert answer["automations"] == len(live.of(automations))

    # A changed version: points only for orders of 20 or more, against an independent count.
    changed = {
        "id": "points-per-purchase",
        "on": "order.completed",
        "when": {"event.properties.total": {"$gte": 20}},
        "actions": [{"type": "award_points", "amount": {"$round": "$event.properties.total"}}],
    }
    small = [(p, t) for p, t in orders() if t < 20]
    diff = (
        await backtest(
            Request(since_ms, until_ms, changed),
            triggers,
            cluster.kafka,
            cluster.topics.events,
            2000,
        )
    )["diff"]
    still = {p for p, t in orders() if t >= 20}
    assert diff == {
        "fires_gained": 0,
        "fires_lost": len(small),
        "profiles_gained": 0,
        "profiles_lost": len({p for p, _ in orders()} - still),
        "points_delta": -sum(round(t) for _, t in small),
    }
    alone = await backtest(
        Request(since_ms, until_ms, changed, alone=True),
        triggers,
        cluster.kafka,
        cluster.topics.events,
        2000,
    )
    assert list(alone["triggers"]) == ["points-per-purchase"]
    assert alone["triggers"]["points-per-purchase"]["fires"] == len(orders()) - len(small)
    assert await live_things(cluster, services["redis"]) == before


async def test_the_admin_endpoint_answers_what_the_backtest_answers(services, names, tmp_path):
    """POST /v1/triggers/backtest runs in a live replica: the same answer as the backtest run
    apart, precise 422s for bad bodies, and nothing live touched, not even the replica's
    owner-commit metrics."""
    cluster = Cluster(names, services["kafka"], CONFIG, tmp_path, settings={"admin_token": TOKEN})
    await cluster.create_topics()
    messages = stream()[len(SCENARIO) : len(SCENARIO) + 80]  # no webhooks: nothing goes on live
    since_ms = int(time.time() * 1000) - 1000
    worker = cluster.add_worker()
    try:
        await worker.wait_ready(cluster.topics.raw)
        await produce_in_order(cluster.kafka, cluster.topics.raw, messages)
        await collect(
            cluster.kafka,
            [cluster.topics.events],
            lambda c: len(c.accepted(cluster.topics.events)) == len(messages),
            timeout=60,
        )
        until_ms = int(time.time() * 1000) + 1000
        changed = {
            "id": "points-per-purchase",
            "on": "order.completed",
            "when": {"event.properties.total": {"$gte": 20}},
            "actions": [{"type": "award_points", "amount": 1}],
        }
        body = {
            "since": iso_from_ms(since_ms),
            "until": iso_from_ms(until_ms),
            "trigger": changed,
            "include_effects": True,
        }
        commits = owner_commits(scrape(worker.port))
        before = await live_things(cluster, services["redis"])

        status, answer = await acall(worker.port, "POST", "/v1/triggers/backtest", body)

        assert status == 200, answer
        settings = Settings(redis_url=services["redis"], redis_prefix=cluster.names.redis_prefix)
        apart = await backtest(
            Request(since_ms, until_ms, changed, include_effects=True),
            await live_triggers(settings),
            cluster.kafka,
            cluster.topics.events,
            int(settings.session_timeout * 1000),
        )
        assert answer == orjson.loads(orjson.dumps(apart))
        assert answer["events"] == len(messages)
        assert answer["diff"]["fires_lost"] == sum(1 for _, t in orders_of(messages) if t < 20)
        for bad, code, field in [
            ({"since": 7}, "invalid_body", "since"),
            ({"since": "7d", "alone": "yes"}, "invalid_body", "alone"),
            ({"since": "7d", "colour": "red"}, "invalid_body", "colour"),
            ({"since": "last tuesday"}, "invalid_request", None),
            ({"since": "7d", "trigger": {"id": "x", "on": "a.b"}}, "invalid_trigger", None),
            ({"since": "1d", "until": "2d"}, "invalid_request", None),
        ]:
            status, error = await acall(worker.port, "POST", "/v1/triggers/backtest", bad)
            assert (status, error["error"]) == (422, code), (bad, error)
            if field is not None:
                assert any(p.startswith(f"{field}:") for p in error["problems"]), error
        assert await live_things(cluster, services["redis"]) == before
        assert owner_commits(scrape(worker.port)) == commits
    finally:
        cluster.stop_all()


def orders_of(messages: list[tuple[str, bytes]]) -> list[tuple[str, float]]:
    return [
        (orjson.loads(v)["profile"]["id"], orjson.loads(v)["properties"]["total"])
        for _, v in messages
        if orjson.loads(v)["type"] == "order.completed"
    ]


def owner_commits(metrics: str) -> list[str]:
    return [line for line in metrics.splitlines() if line.startswith("eventwire_owner_commits")]
