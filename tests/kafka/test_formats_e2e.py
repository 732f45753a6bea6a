"""Every format through a running worker: seed payloads unchanged, identity across replicas,
Simon identify mappings that expire."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from eventwire.config_loader import load_registry
from eventwire.core.decode import Limits
from eventwire.core.identity import candidate_profile_id
from eventwire.core.ingest import Accepted, ingest
from eventwire.core.raw import RawMessage
from eventwire.redis_store.connection import connect
from eventwire.redis_store.keys import Keys
from tests.conftest import ROOT
from tests.kafka.harness import Cluster, collect, eventually

pytestmark = [pytest.mark.services, pytest.mark.slow]
CONFIG = ROOT / "tests" / "data" / "config"
SEEDS = ROOT / "tests" / "data" / "seeds"
TALON = {"source": b"talon-app", "authorization": b"ApiKey-v1 953f4d85715c425cb48676"}
SEED_MESSAGES = [
    ("tracardi_full.json", {}),
    ("tracardi_required_only.json", {}),
    ("tracardi_with_context.json", {}),
    ("tracardi_with_options.json", {}),
    ("talon_track_event.txt", TALON),
    ("talon_track_event.fixed.json", TALON),
    ("simon_custom_event.json", {}),
    ("simon_curl_event.json", {}),
]


async def send_all(kafka, topic, messages, partition_of=None):
    """Send (value, headers) pairs; returns RecordMetadata for each, in order."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic,
                value,
                headers=list(headers.items()),
                partition=partition_of(i) if partition_of else None,
            )
            for i, (value, headers) in enumerate(messages)
        ]
        return await asyncio.gather(*futures)
    finally:
        await producer.stop()


def outputs_by_origin(cluster, collected):
    events = collected.accepted(cluster.topics.events)
    rejected = collected.of(cluster.topics.rejected)
    return events, {(r["origin"]["partition"], r["origin"]["offset"]): r for r in rejected}


async def test_seed_payloads_through_a_worker_come_out_as_the_spec_describes(
    services, names, tmp_path
):
    cluster = Cluster(names, services["kafka"], CONFIG, tmp_path)
    await cluster.create_topics()
    messages = [((SEEDS / name).read_bytes(), headers) for name, headers in SEED_MESSAGES]
    worker = cluster.add_worker()
    try:
        await worker.wait_ready(cluster.topics.raw)
        sent = await send_all(cluster.kafka, cluster.topics.raw, messages)
        expected_events = 2 * 4 + 1 + 1 + 1  # four Tracardi (two each), a Talon, two Simon
        collected = await collect(
            cluster.kafka,
            [cluster.topics.events, cluster.topics.rejected],
            lambda c: (
                len(c.accepted(cluster.topics.events)) >= expected_events
                and len(c.of(cluster.topics.rejected)) >= 1
            ),
            timeout=60,
        )
    finally:
        cluster.stop_all()

    # What the pure stage says for each message, given where Kafka put it.
    registry = load_registry(CONFIG)
    expected, expected_rejections = [], []
    for (value, headers), meta in zip(messages, sent, strict=True):
        raw = RawMessage(
            value, cluster.topics.raw, meta.partition, meta.offset, meta.timestamp, headers=headers
        )
        outcome = ingest(raw, registry, Limits())
        if isinstance(outcome, Accepted):
            expected += outcome.events
        else:
            expected_rejections.append(outcome.record)
    events, rejected = outputs_by_origin(cluster, collected)
    assert sorted(events, key=lambda e: e["id"]) == sorted(expected, key=lambda e: e["id"])
    assert list(rejected.values()) == expected_rejections
    assert [r["reasons"][0]["code"] for r in expected_rejections] == ["malformed_json"]
    simon_profile = candidate_profile_id("email", "[email protected]")
    assert {e["profile_id"] for e in events if e["format"] == "simon"} == {simon_profile}
    assert "acme-partner-secret" not in orjson.dumps(collected.records).decode()


async def test_two_replicas_agree_on_one_profile_per_new_email(services, names, tmp_path):
    cluster = Cluster(names, services["kafka"], CONFIG, tmp_path)
    await cluster.create_topics()
    messages = []
    for i in range(2000):
        email = email_of(i)
        headers: dict[str, bytes]
        match i % 3:
            case 0:
                doc, headers = (
                    {
                        "event": "order.completed",
                        "email": email.upper(),
                        "data": {"order_id": f"o{i}", "total": 5},
                        "source": {"id": "arsel-app", "secret": "arsel-key"},
                    },
                    {},
                )
            case 1:
                doc, headers = (
                    {
                        "type": "order.completed",
                        "source": {"id": "web", "secret": "web-secret-123"},
                        "profile": {"email": email},
                        "properties": {"order_id": f"o{i}", "total": 5},
                    },
                    {},
                )
            case _:
                doc, headers = (
                    {
                        "partnerId": "acme-partner",
                        "partnerSecret": "acme-partner-secret",
                        "type": "track",
                        "traits": {"email": email},
                        "properties": {
                            "eventName": "some_event",
                            "properties": {"someProperty": f"e{i}"},
                        },
                    },
                    {},
                )
        messages.append((orjson.dumps({**doc, **({"id": f"e{i}"} if i % 3 != 2 else {})}), headers))
    workers = [cluster.add_worker(), cluster.add_worker()]
    try:
        for worker in workers:
            await worker.wait_ready(cluster.topics.raw)
        await wait_for_split(workers, cluster.topics.raw)
        await send_all(cluster.kafka, cluster.topics.raw, messages, partition_of=lambda i: i % 4)
        collected = await collect(
            cluster.kafka,
            [cluster.topics.events, cluster.topics.rejected],
            lambda c: (
                len(c.accepted(cluster.topics.events)) + len(c.of(cluster.topics.rejected)) >= 2000
            ),
            timeout=120,
        )
    finally:
        cluster.stop_all()
    assert collected.of(cluster.topics.rejected) == []
    events = collected.accepted(cluster.topics.events)
    assert len(events) == 2000
    profile_by_email = defaultdict(set)
    for event in events:
        marker = event["properties"]["someProperty"] if event["format"] == "simon" else event["id"]
        profile_by_email[email_of(int(marker[1:]))].add(event["profile_id"])
    assert len(profile_by_email) == 100
    assert all(len(profiles) == 1 for profiles in profile_by_email.values())
    profiles = {e["profile_id"] for e in events}
    assert len(profiles) == 100
    assert profiles == {candidate_profile_id("email", email_of(i)) for i in range(100)}
    redis = connect(services["redis"])
    try:
        keys = Keys(names.redis_prefix)
        stored = [k async for k in redis.scan_iter(match=keys.profile_pattern(), count=1000)]
    finally:
        await redis.aclose()
    assert len(stored) == 100


def email_of(i: int) -> str:
    """The email of message i: 100 emails, interleaved across the stream."""
    return f"shopper{(i * 37) % 100}@example.com"


async def wait_for_split(workers, raw_topic, timeout=60.0):
    """Until the partitions of the raw topic are split between all the workers."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        owned = [
            {p for p in (w.health() or {}).get("partitions", []) if p.startswith(raw_topic + "/")}
            for w in workers
        ]
        if all(owned) and sum(len(o) for o in owned) == 4:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"partitions never split: {owned}")


async def test_simon_identify_then_client_only_events_resolve_until_the_mapping_expires(
    services, names, tmp_path
):
    cluster = Cluster(names, services["kafka"], CONFIG, tmp_path, settings={"identify_ttl": "3s"})
    await cluster.create_topics()
    base = {
        "partnerId": "acme-partner",
        "partnerSecret": "acme-partner-secret",
        "clientId": "cookie-1",
    }
    identify = {**base, "type": "identify", "traits": {"email": "Later@Example.com"}}
    track = {**base, "type": "track", "properties": {"eventName": "some_event"}}
    worker = cluster.add_worker()
    topics = [cluster.topics.events, cluster.topics.rejected]
    try:
        await worker.wait_ready(cluster.topics.raw)
        await send_all(
            cluster.kafka,
            cluster.topics.raw,
            [(orjson.dumps(identify), {})],
            partition_of=lambda i: 0,
        )
        await send_all(
            cluster.kafka, cluster.topics.raw, [(orjson.dumps(track), {})], partition_of=lambda i: 0
        )
        first = await collect(
            cluster.kafka, topics, lambda c: len(c.accepted(topics[0])) >= 2, timeout=60
        )
        # Past the 3 s identify TTL: wait until Redis has expired the mapping.
        await eventually(
            lambda: mapping_gone(services["redis"], names.redis_prefix, "cookie-1"),
            15,
            "the identify mapping expires",
        )
        await send_all(
            cluster.kafka, cluster.topics.raw, [(orjson.dumps(track), {})], partition_of=lambda i: 0
        )
        later = await collect(
            cluster.kafka, topics, lambda c: len(c.of(topics[1])) >= 1, timeout=60
        )
    finally:
        cluster.stop_all()
    identified, resolved = first.accepted(topics[0])
    profile = candidate_profile_id("email", "later@example.com")
    assert (identified["type"], identified["profile_id"]) == ("profile.identify", profile)
    assert (resolved["type"], resolved["profile_id"]) == ("some_event", profile)
    [expired] = later.of(topics[1])
    assert [(r["code"], r["field"]) for r in expired["reasons"]] == [
        ("identity_required", "traits")
    ]
    assert len(later.accepted(topics[0])) == 2


async def mapping_gone(redis_url: str, redis_prefix: str, client_id: str) -> bool:
    redis = connect(redis_url)
    try:
        return not await redis.exists(Keys(redis_prefix).client(client_id))
    finally:
        await redis.aclose()
