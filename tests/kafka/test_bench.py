"""`eventwire bench --json` runs end to end and prints the shape docs/bench-and-reliability.md asks
for; the Faust peer takes every message; what the bench reads from /metrics and from Redis INFO."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import redis
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import SecretStr

from eventwire.bench.redis_cpu import info_cpu_seconds, per_event_us, redis_cpu_seconds
from eventwire.bench.run import (
    commit_retry_fraction,
    mean_batch,
    metric_totals,
    run_peer,
)
from eventwire.bench.stream import stream
from eventwire.redis_store.connection import connect
from eventwire.settings import Settings
from tests.conftest import ROOT


def peer_rejects(n: int) -> bool:
    """What the plain Faust pipeline cannot take of message n (bench/stream.py): the other
    formats (slots 12-19), a total that is a string, malformed JSON."""
    slot = n % 20
    return slot >= 12 or (slot == 0 and (n // 20) % 5 in (0, 3))


@pytest.mark.services
@pytest.mark.slow
def test_bench_prints_the_spec_shape(services):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "eventwire",
            "bench",
            "--events",
            "400",
            "--replicas",
            "1",
            "--paced",
            "100",
            "--peer",
            "faust",
            "--guarantee",
            "at_least_once",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "EVENTWIRE_KAFKA_BOOTSTRAP": services["kafka"],
            "EVENTWIRE_REDIS_URL": services["redis"],
            "EVENTWIRE_CONFIG_DIR": str(ROOT / "config"),
        },
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    [run] = result["runs"]
    assert result["guarantee"] == "at_least_once"
    assert {
        "replicas",
        "events",
        "events_per_s",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "peak_rss_mb",
        "cpu_us_per_event",
        "redis_cpu_us_per_event",
        "commit_retry_fraction",
    } <= set(run)
    assert (run["replicas"], run["events"]) == (1, 400)
    assert run["events_per_s"] > 0
    assert 0 < run["p50_ms"] <= run["p95_ms"] <= run["p99_ms"]
    assert run["peak_rss_mb"] > 20
    assert run["redis_round_trips_per_event"] > 0
    assert set(run["paced_latency"]) == {"p50_ms", "p95_ms", "p99_ms"}
    assert result["bare_loop_events_per_s"] > 0
    assert result["ratio"] == round(run["events_per_s"] / result["bare_loop_events_per_s"], 3)
    assert run["cpu_us_per_event"] > 0
    # Standalone Redis: INFO is readable, and the pipeline's scripts cost it some CPU.
    assert isinstance(run["redis_cpu_us_per_event"], float)
    assert run["redis_cpu_us_per_event"] > 0
    fraction = run["commit_retry_fraction"]
    assert fraction is None or 0 <= fraction <= 1
    assert "process" in run["mean_batch"]
    assert all(mean >= 1 for mean in run["mean_batch"].values())
    peer = result["peer"]
    assert peer["name"] == "faust"
    assert peer["outputs"] == peer["accepted"] + peer["rejected"] == 400
    assert peer["rejected"] == sum(peer_rejects(n) for n in range(400))
    assert peer["events_per_s"] > 0
    assert peer["cpu_us_per_event"] > 0
    assert result["peer_ratio"] == round(run["events_per_s"] / peer["events_per_s"], 3)
    # The runs clean up after themselves: no topic, no Redis key left.
    for prefix in (run["topic_prefix"], peer["topic_prefix"]):
        assert_forgotten(services, prefix)


@pytest.mark.services
async def test_the_faust_peer_takes_every_message(services, tmp_path):
    """The peer on its own (it needs nothing of the worker's pipeline): one output per raw
    message, canonical events accepted, everything else rejected, and nothing left behind."""
    settings = Settings(kafka_bootstrap=services["kafka"], redis_url=SecretStr(services["redis"]))
    seen: list[int] = []
    peer = await run_peer(settings, "faust", stream(300), tmp_path, seen.append)
    rejected = sum(peer_rejects(n) for n in range(300))
    assert peer.outputs == {"accepted": 300 - rejected, "rejected": rejected}
    assert seen[-1] == 300
    assert peer.events_per_s > 0
    assert peer.cpu_us_per_event > 0
    assert peer.redis_cpu_us_per_event is not None
    assert peer.redis_cpu_us_per_event > 0
    await asyncio.to_thread(assert_forgotten, services, peer.topic_prefix)


@pytest.mark.services
async def test_redis_cpu_is_read_from_a_node_or_every_primary(redis_url):
    before = await redis_cpu_seconds(redis_url)
    client = connect(redis_url)
    try:
        for n in range(200):
            await client.set(f"ewtest:cpu:{n}", n, ex=5)
    finally:
        await client.aclose()
    after = await redis_cpu_seconds(redis_url)
    assert before is not None
    assert after is not None
    assert after >= before > 0
    assert per_event_us(before, after, 200) == round((after - before) * 1e6 / 200, 1)


def test_cpu_seconds_of_one_node_or_a_cluster():
    node = {"used_cpu_sys": 1.5, "used_cpu_user": 2.25, "used_cpu_sys_children": 9.0}
    assert info_cpu_seconds(node) == 3.75
    assert info_cpu_seconds({"a:7101": node, "b:7102": node}) == 7.5
    assert per_event_us(None, 1.0, 10) is None
    assert per_event_us(1.0, 1.5, 0) is None
    assert per_event_us(1.0, 1.5, 10) == 50_000.0


def test_mean_batch_and_commit_retries_from_metrics():
    """Every stage label the worker exposes, and owner commits by result, summed per name."""
    registry = CollectorRegistry()
    batches = Histogram("eventwire_batch_size", "", ["stage"], registry=registry)
    commits = Counter("eventwire_owner_commits", "", ["result"], registry=registry)
    for size in (100, 300):
        batches.labels("process").observe(size)
    batches.labels("deliver").observe(7)
    commits.labels("ok").inc(90)
    commits.labels("conflict").inc(8)
    commits.labels("dup").inc(2)
    totals = metric_totals(generate_latest(registry).decode())
    assert mean_batch(totals) == {"deliver": 7.0, "process": 200.0}
    assert commit_retry_fraction(totals) == 0.08
    # A worker that does not expose the counter yet: no fraction, rather than a false 0.
    assert commit_retry_fraction(metric_totals("")) is None
    assert mean_batch(metric_totals("")) == {}


def assert_forgotten(services, topic_prefix: str) -> None:
    """No topic (the Faust leader topic included), Redis key or data directory left."""
    token = topic_prefix.removeprefix("bench.").rstrip(".")
    assert token
    assert not redis.Redis.from_url(services["redis"]).keys(f"bench:{token}:*")
    left = asyncio.run(topics_named(services["kafka"], (topic_prefix, f"bench-{token}-")))
    assert left == []
    assert not (Path(tempfile.gettempdir()) / f"eventwire-bench-{token}").exists()


async def topics_named(kafka: str, prefixes: tuple[str, ...]) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        return [t for t in await admin.list_topics() if t.startswith(prefixes)]
    finally:
        await admin.close()


async def test_the_backtest_bench_replays_every_event_and_leaves_no_topic(services):
    from eventwire.bench.backtest import bench_backtest

    settings = Settings(kafka_bootstrap=services["kafka"], config_dir=ROOT / "config")
    result = await bench_backtest(settings, 3000, 300)
    assert (result["events"], result["profiles"]) == (3000, 300)
    # Two in three events are orders, and every order earns points.
    assert result["fires"]["points-per-purchase"] == 2000
    assert result["events_per_second"] > 0
    admin = AIOKafkaAdminClient(bootstrap_servers=services["kafka"])
    await admin.start()
    try:
        deadline = asyncio.get_running_loop().time() + 30  # a deletion takes a moment
        while result["topic"] in await admin.list_topics():
            assert asyncio.get_running_loop().time() < deadline, "the topic is left behind"
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
