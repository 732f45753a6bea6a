"""The reliability suite (docs/bench-and-reliability.md): with a steady stream flowing, (a) SIGKILL
a replica 10 times at random points while a second keeps running; (b) stop Redis for 5 s
(persistence on); (c) stop the Kafka broker for 10 s. After each: every raw message ends up
accepted or rejected (never both, never lost), every session times out once (their timers fire
all through the run), no profile's counters or points are double-applied, and, read as a
read_committed consumer, no output id appears twice under exactly_once (under at_least_once the
repeats are counted and reported). The workers recover alone.

Counts are small under CI; ``make test-reliability`` runs the full size.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from eventwire.core import ids
from eventwire.redis_store.connection import connect
from eventwire.redis_store.keys import Keys
from eventwire.redis_store.owners import OwnerStore
from tests.conftest import ROOT, Names, free_port
from tests.kafka.harness import Cluster, WorkerProcess, collect, eventually, produce
from tests.reliability.private_kafka import PrivateKafka

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.reliability]
FULL = os.environ.get("EVENTWIRE_RELIABILITY") == "full"
EVENTS = 20_000 if FULL else 3_000
KILLS = 10 if FULL else 3
PROFILES = 200
CONFIG = ROOT / "tests" / "data" / "loyalty"
# Sessions time out while the stream flows (a profile's session changes every few seconds),
# so timers fire, and are published, while replicas die and services stop.
TIMERS = {"session_timeout": "3s", "scheduler_interval": "200ms"}
SESSION_BLOCKS = 4  # blocks of PROFILES messages per session
# Between chunks: a profile hears from every ~1.2 s, well inside the 3 s session timeout.
PACE_S = 0.35


def session_of(i: int) -> str:
    return f"rel-{i % PROFILES}-s{i // (PROFILES * SESSION_BLOCKS)}"


def kind(i: int) -> str:
    """Every profile gets orders, page views and invalid messages (one block in ten)."""
    if (i // PROFILES) % 10 == 3:
        return "invalid"
    return "page" if i % 3 == 0 else "order"


def order(i: int) -> tuple[bytes, dict[str, bytes]]:
    """Orders (points = round(total)) and page views (capped), one block in ten invalid."""
    profile = f"rel-{i % PROFILES}"
    if kind(i) == "invalid":
        doc = {
            "type": "order.completed",
            "source": {"id": "shop", "secret": "shop-secret"},
            "profile": {"id": profile},
            "properties": {"order_id": "x", "total": "bad"},
        }
    elif i % 3 == 0:
        doc = {
            "type": "page.viewed",
            "source": {"id": "shop", "secret": "shop-secret"},
            "profile": {"id": profile},
            "properties": {"url": f"/p/{i}"},
        }
    else:
        doc = {
            "type": "order.completed",
            "source": {"id": "shop", "secret": "shop-secret"},
            "profile": {"id": profile},
            "session": {"id": session_of(i)},
            "properties": {"order_id": f"o{i}", "total": (i % 7) + 0.4},
        }
    return orjson.dumps(doc), {}


def expected_sessions() -> set[str]:
    """Every session an order opened: each must time out exactly once."""
    return {session_of(i) for i in range(EVENTS) if kind(i) == "order"}


def timed_out(collected, events_topic: str) -> set[str]:
    return {
        b["session_id"]
        for b in collected.builtins(events_topic)
        if b["type"] == "session_closed" and b["properties"].get("reason") == "timeout"
    }


def expected_points() -> dict[str, int]:
    """round(total) per order, plus 1 per page view capped at 2 an hour (tests/data/loyalty)."""
    points: dict[str, int] = defaultdict(int)
    views: Counter[str] = Counter()
    for i in range(EVENTS):
        profile = f"rel-{i % PROFILES}"
        if kind(i) == "order":
            points[profile] += round((i % 7) + 0.4)
        elif kind(i) == "page":
            views[profile] += 1
    for profile, count in views.items():
        points[profile] += min(count, 2)
    return dict(points)


async def stream(cluster: Cluster, during: asyncio.Event) -> list[tuple[int, int]]:
    """A steady stream, 50 chunks about 18 s long; ``during`` is set a third of the way in."""
    positions: list[tuple[int, int]] = []
    chunk = max(EVENTS // 50, 1)
    for start in range(0, EVENTS, chunk):
        if start >= EVENTS // 3:
            during.set()
        part = [order(i) for i in range(start, min(start + chunk, EVENTS))]
        for _ in range(120):
            try:
                positions += await produce(cluster.kafka, cluster.topics.raw, part)
                break
            except Exception:  # the broker is down on purpose in (c): keep the stream going
                await asyncio.sleep(0.5)
        else:
            raise AssertionError("could not produce for a minute")
        await asyncio.sleep(PACE_S)  # the scenario: a steady stream, a chunk at a time
    return positions


async def verify(cluster: Cluster, redis_url: str, positions: list[tuple[int, int]]) -> str:
    """Every message accounted for once, state exact; under exactly_once (the default) no
    output id seen twice by this read_committed consumer; under at_least_once the repeats
    are counted."""
    raw = cluster.topics.raw
    origin_of = {ids.event_id(raw, p, o, 0): (p, o) for p, o in positions}
    expected = len(positions)
    sessions = expected_sessions()

    def outcomes(c):
        accepted = {
            origin_of[e["id"]] for e in c.accepted(cluster.topics.events) if e["id"] in origin_of
        }
        rejected = {
            (r["origin"]["partition"], r["origin"]["offset"]) for r in c.of(cluster.topics.rejected)
        }
        return accepted, rejected

    collected = await collect(
        cluster.kafka,
        [
            cluster.topics.events,
            cluster.topics.rejected,
            cluster.topics.effects,
            cluster.topics.automations,
        ],
        lambda c: (
            len(set.union(*outcomes(c))) >= expected
            and len(timed_out(c, cluster.topics.events)) >= len(sessions)
        ),
        240,
        to_end=True,  # every record written by then is counted, late repeats included
    )
    accepted, rejected = outcomes(collected)
    assert accepted | rejected == set(positions), (
        f"lost {len(set(positions) - accepted - rejected)}"
    )
    assert accepted & rejected == set()
    assert timed_out(collected, cluster.topics.events) == sessions
    assert [
        e["id"] for e in collected.accepted(cluster.topics.events) if e["id"] not in origin_of
    ] == []

    redis = connect(redis_url)
    try:
        store = OwnerStore(redis, Keys(cluster.names.redis_prefix))
        profiles = {f"rel-{p}": await store.profile(f"rel-{p}") for p in range(PROFILES)}
    finally:
        await redis.aclose()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for event in {e["id"]: e for e in collected.accepted(cluster.topics.events)}.values():
        counts[event["profile_id"]][event["type"]] += 1
    for profile_id, profile in profiles.items():
        assert profile is not None, profile_id
        assert profile["counters"] == dict(counts[profile_id]), profile_id
    assert {p: (v or {}).get("points") for p, v in profiles.items()} == expected_points()

    duplicated_effects = sum(
        n - 1 for n in Counter(e["id"] for e in collected.of(cluster.topics.effects)).values()
    )
    duplicated_events = sum(
        n - 1 for n in Counter(e["id"] for e in collected.of(cluster.topics.events)).values()
    )
    repeated = {
        topic: sum(n - 1 for n in Counter(r["id"] for r in collected.of(topic)).values())
        for topic in (
            cluster.topics.events,
            cluster.topics.rejected,
            cluster.topics.effects,
            cluster.topics.automations,
        )
    }
    guarantee = cluster.settings.get("guarantee", "exactly_once")
    if guarantee == "exactly_once":
        assert repeated == dict.fromkeys(repeated, 0)
    return (
        f"{len(positions)} messages ({guarantee}): {len(accepted)} accepted, "
        f"{len(rejected)} rejected, {len(sessions)} sessions timed out; "
        "ids seen twice by a read_committed consumer: "
        f"{duplicated_events} events, {duplicated_effects} effects, "
        f"{repeated[cluster.topics.rejected]} rejections, "
        f"{repeated[cluster.topics.automations]} automation starts"
    )


async def two_replicas(
    services: dict[str, str], names: Names, tmp_path: Path, guarantee: str
) -> tuple[Cluster, WorkerProcess, WorkerProcess]:
    """Two running replicas with a short session timeout, so a lost one hands over fast."""
    cluster = Cluster(
        names,
        services["kafka"],
        CONFIG,
        tmp_path,
        settings={"kafka_session_timeout": "6s", "guarantee": guarantee, **TIMERS},
    )
    await cluster.create_topics()
    first, second = cluster.add_worker(), cluster.add_worker()
    try:
        await first.wait_ready(cluster.topics.raw)
        await second.wait_ready(cluster.topics.raw)
    except BaseException:
        cluster.stop_all()
        raise
    return cluster, first, second


@pytest.mark.parametrize("guarantee", ["exactly_once", "at_least_once"])
async def test_a_replica_killed_ten_times_at_random_points(services, names, tmp_path, guarantee):
    cluster, _steady, victim = await two_replicas(services, names, tmp_path, guarantee)
    during = asyncio.Event()
    try:
        producing = asyncio.create_task(stream(cluster, during))
        chance = random.Random(11)
        for _ in range(KILLS):
            await asyncio.sleep(chance.uniform(0.5, 2.5))  # the scenario: kills at random times
            victim.kill()
            victim.start()
        positions = await producing
        report = await verify(cluster, services["redis"], positions)
    finally:
        cluster.stop_all()
    assert victim.starts == KILLS + 1
    print(f"\n(a) {KILLS} kills: {report}")


async def test_a_replica_stalled_past_its_session_timeout_comes_back_fenced(
    services, names, tmp_path
):
    """A zombie: one of two replicas is SIGSTOPped longer than its Kafka session timeout while
    the stream flows, so its partitions move to the other, whose transactional producers fence
    it; then it is SIGCONTed with a batch (and maybe a transaction) half done."""
    cluster, steady, zombie = await two_replicas(services, names, tmp_path, "exactly_once")
    during = asyncio.Event()
    try:
        producing = asyncio.create_task(stream(cluster, during))
        await during.wait()
        assert zombie.process is not None
        zombie.process.send_signal(signal.SIGSTOP)
        await asyncio.sleep(10)  # past the 6 s session timeout: its partitions move
        zombie.process.send_signal(signal.SIGCONT)
        positions = await producing
        report = await verify(cluster, services["redis"], positions)
        assert zombie.process.poll() is None  # it came back and lives on
        assert steady.process is not None
        assert steady.process.poll() is None  # a peer's stall never kills a replica
    finally:
        cluster.stop_all()
    print(f"\n(d) a replica stalled 10 s: {report}")


def _redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(directory),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_redis_stopped_for_five_seconds(services, names, tmp_path):
    port = free_port()
    directory = tmp_path / "redis"
    directory.mkdir()
    server = _redis(port, directory)
    url = f"redis://127.0.0.1:{port}/0"
    await eventually(lambda: _pings(url), 30, "the test's own Redis answers")
    cluster = Cluster(
        names, services["kafka"], CONFIG, tmp_path, settings={"redis_url": url, **TIMERS}
    )
    await cluster.create_topics()
    worker = cluster.add_worker()
    during = asyncio.Event()
    try:
        await worker.wait_ready(cluster.topics.raw)
        producing = asyncio.create_task(stream(cluster, during))
        await during.wait()
        server.send_signal(signal.SIGTERM)  # a clean shutdown writes the AOF
        server.wait(timeout=30)
        await asyncio.sleep(5)  # the outage itself: Redis down for five seconds
        server = _redis(port, directory)
        positions = await producing
        report = await verify(cluster, url, positions)
        assert worker.process is not None
        assert worker.process.poll() is None  # recovered by itself
    finally:
        cluster.stop_all()
        server.terminate()
        server.wait(timeout=30)
    print(f"\n(b) Redis down 5 s: {report}")


async def test_kafka_stopped_for_ten_seconds(services, names, tmp_path):
    kafka = PrivateKafka(tmp_path / "services", services["redis"])
    await kafka.start()
    cluster = Cluster(Names(names.token), kafka.bootstrap, CONFIG, tmp_path, settings=TIMERS)
    await cluster.create_topics()
    worker = cluster.add_worker()
    during = asyncio.Event()
    try:
        await worker.wait_ready(cluster.topics.raw, timeout=90)
        producing = asyncio.create_task(stream(cluster, during))
        await during.wait()
        kafka.kill()
        await asyncio.sleep(10)  # the outage itself: Kafka down for ten seconds
        await kafka.start()
        positions = await producing
        report = await verify(cluster, services["redis"], positions)
        assert worker.process is not None
        assert worker.process.poll() is None
    finally:
        cluster.stop_all()
        await kafka.stop()
    print(f"\n(c) Kafka down 10 s: {report}")


async def _pings(url: str) -> bool:
    redis = connect(url)
    try:
        return bool(await redis.ping())
    except (OSError, RedisConnectionError):
        return False
    finally:
        await redis.aclose()
