"""`eventwire bench --json` runs end to end and prints the shape SPEC §10 asks for."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
import redis
from aiokafka.admin import AIOKafkaAdminClient

from tests.conftest import ROOT

pytestmark = [pytest.mark.services, pytest.mark.slow]


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
    assert {
        "replicas",
        "events",
        "events_per_s",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "peak_rss_mb",
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
    assert set(run["mean_batch"]) == {"ingest", "process"}
    # The run cleans up after itself: no topic, no Redis key left.
    token = run["topic_prefix"].removeprefix("bench.").rstrip(".")
    assert token
    assert not redis.Redis.from_url(services["redis"]).keys(f"bench:{token}:*")
    left = asyncio.run(topics_named(services["kafka"], run["topic_prefix"]))
    assert left == []


async def topics_named(kafka: str, prefix: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        return [t for t in await admin.list_topics() if t.startswith(prefix)]
    finally:
        await admin.close()
