"""A loyalty program (points, badges, rewards, webhooks, segments) on real Kafka and Redis, then the
whole stream re-read from offset 0 by a new consumer group: nothing changes, no new effect ids."""

from __future__ import annotations

import zlib
from collections import defaultdict

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from eventwire.redis_store.connection import connect
from eventwire.redis_store.owners import OwnerStore
from tests.conftest import ROOT, Names
from tests.kafka.harness import Cluster, caught_up, collect, pending_timers

pytestmark = [pytest.mark.services, pytest.mark.slow]
CONFIG = ROOT / "tests" / "data" / "loyalty"


def send(profile: str, type_: str, **properties) -> tuple[str, bytes]:
    event = {
        "type": type_,
        "source": {"id": "shop", "secret": "shop-secret"},
        "profile": {"id": profile},
        "session": {"id": f"{profile}-visit"},
        "properties": properties,
    }
    return profile, orjson.dumps(event)


async def produce_in_order(kafka: str, topic: str, messages: list[tuple[str, bytes]]) -> None:
    """One profile's messages go to one partition, so they are processed in the order sent."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        for profile, value in messages:
            await (await producer.send(topic, value, partition=zlib.crc32(profile.encode()) % 4))
    finally:
        await producer.stop()


SCENARIO = [
    # alice buys four times: points = round(total); a badge at the third; a reward at 100.
    *[
        send("alice", "order.completed", order_id=f"a{i}", total=total)
        for i, total in enumerate([30.4, 30.4, 30.4, 9.6])
    ],
    # bob browses (2 points at most per hour; nudged while not a member), signs up, browses.
    *[send("bob", "page.viewed", url=f"/p/{i}") for i in range(3)],
    send("bob", "user.signed_up", plan="free"),
    send("bob", "page.viewed", url="/p/9"),
    # carol reviews twice: only the unhappy review calls the webhook.
    send("carol", "product.reviewed", sku="SKU-1", rating=1),
    send("carol", "product.reviewed", sku="SKU-2", rating=5),
    # dave abandons his cart; erin completes her order in time.
    send("dave", "cart.updated", cart_id="c-dave"),
    send("erin", "cart.updated", cart_id="c-erin"),
    send("erin", "order.completed", order_id="e1", total=20),
]


def by_profile(records, key="profile_id"):
    grouped = defaultdict(list)
    for record in records:
        grouped[record[key] if key != "profile" else record["profile"]["id"]].append(record)
    return grouped


async def balances(services, names: Names) -> dict[str, dict]:
    from eventwire.redis_store.keys import Keys

    redis = connect(services["redis"])
    try:
        store = OwnerStore(redis, Keys(names.redis_prefix))
        return {p: await store.profile(p) or {} for p in ("alice", "bob", "carol", "dave", "erin")}
    finally:
        await redis.aclose()


async def test_the_loyalty_program_end_to_end_and_on_redelivery(services, names, tmp_path):
    settings = {"scheduler_interval": "200ms"}
    cluster = Cluster(names, services["kafka"], CONFIG, tmp_path, settings=settings)
    await cluster.create_topics()
    topics = [cluster.topics.effects, cluster.topics.automations]
    worker = cluster.add_worker()
    try:
        await worker.wait_ready(cluster.topics.raw)
        await produce_in_order(cluster.kafka, cluster.topics.raw, SCENARIO)
        collected = await collect(
            cluster.kafka,
            topics,
            lambda c: (
                any(a["automation"] == "cart-abandoned" for a in c.of(topics[1]))
                and len(c.of(topics[0])) >= 13
            ),
            timeout=60,
        )
        # Nothing may fire for erin: her order closed her window, so no timer of hers is
        # left to fire (dave's fired above); then everything published so far is read.
        assert not [
            t
            for t in await pending_timers(services["redis"], names.redis_prefix)
            if t[0] == "absent" and t[1] == "erin"
        ]
        collected = await collect(cluster.kafka, topics, lambda c: True, timeout=30, to_end=True)
    finally:
        cluster.stop_all()
    state = await balances(services, names)

    effects = by_profile(collected.of(topics[0]))
    automations = by_profile(collected.of(topics[1]), key="profile")
    alice = [(e["type"], e["result"]) for e in effects["alice"]]
    assert alice == [
        ("award_points", {"points": 30, "awarded": 30}),
        ("award_points", {"points": 60, "awarded": 30}),
        ("award_points", {"points": 90, "awarded": 30}),
        ("grant_badge", {"badge": "regular", "badges": ["regular"]}),
        ("award_points", {"points": 100, "awarded": 10}),
        ("issue_reward", {"reward": "free-shipping", "rewards": ["free-shipping"]}),
    ]
    # Every action is an effect, automation starts included (docs/triggers.md).
    assert [(e["type"], e["result"]) for e in effects["bob"]] == [
        ("award_points", {"points": 1, "awarded": 1}),
        ("start_automation", {"automation": "visitor-nudge"}),
        ("award_points", {"points": 2, "awarded": 1}),
        ("start_automation", {"automation": "visitor-nudge"}),
        ("start_automation", {"automation": "visitor-nudge"}),
        ("add_to_segment", {"segment": "members", "segments": ["members"]}),
    ]
    assert [a["automation"] for a in automations["bob"]] == ["visitor-nudge"] * 3
    [webhook] = effects["carol"]
    assert (webhook["type"], webhook["params"]["body"]) == (
        "call_webhook",
        {"sku": "SKU-1", "rating": 1},
    )
    assert [a["automation"] for a in automations["dave"]] == ["cart-abandoned"]
    assert automations["dave"][0]["event"] == {"cart_id": "c-dave"}
    assert "erin" not in automations
    assert [e["type"] for e in effects["erin"]] == ["award_points"]
    assert [e["type"] for e in effects["dave"]] == ["start_automation"]
    assert (state["alice"]["points"], state["alice"]["badges"], state["alice"]["rewards"]) == (
        100,
        ["regular"],
        ["free-shipping"],
    )
    assert (state["bob"]["points"], state["bob"]["segments"]) == (2, ["members"])
    first_ids = {e["id"] for e in collected.of(topics[0])} | {
        a["id"] for a in collected.of(topics[1])
    }
    assert len(first_ids) == len(collected.of(topics[0])) + len(collected.of(topics[1]))

    # The same scenario re-read from offset 0 by a new consumer group, same Redis state.
    again = Cluster(
        Names(names.token),
        services["kafka"],
        CONFIG,
        tmp_path,
        settings={**settings, "app_id": f"{names.app_id}-again"},
    )
    replayer = again.add_worker()
    try:
        await replayer.wait_ready(cluster.topics.raw)
        # The new group has re-read everything raw and timers hold: all it published is in.
        await caught_up(
            cluster.kafka, f"{names.app_id}-again", [cluster.topics.raw, cluster.topics.timers], 60
        )
        replayed = await collect(cluster.kafka, topics, lambda c: True, timeout=30, to_end=True)
    finally:
        again.stop_all()
    replayed_ids = {e["id"] for e in replayed.of(topics[0])} | {
        a["id"] for a in replayed.of(topics[1])
    }
    assert replayed_ids == first_ids
    assert len(replayed.of(topics[0])) > len(collected.of(topics[0]))  # it did re-publish
    assert await balances(services, names) == state
