"""The collector while Kafka is down: requests keep coming, Kafka is stopped for a while and
started again. A request answered 2xx is never lost: its message is on ``raw``, and the
worker accounts for it (accepted); while Kafka is away the answers are 503 with
``Retry-After``, within the produce timeout, never a hang and never a 2xx."""

from __future__ import annotations

import asyncio
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from tests.conftest import ROOT, Names
from tests.kafka.harness import Cluster, collect
from tests.reliability.private_kafka import PrivateKafka

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.reliability]
CONFIG = ROOT / "tests" / "data" / "config"
REQUESTS = int(os.environ.get("EVENTWIRE_COLLECTOR_OUTAGE_REQUESTS", "300"))
OUTAGE_S = 8.0


def track(i: int) -> bytes:
    return orjson.dumps(
        {
            "source": {"id": "source-id"},
            "session": {"id": f"outage-{i % 7}"},
            "profile": {"id": f"outage-{i % 11}"},
            "events": [{"id": f"outage-{i}", "type": "page-view"}],
        }
    )


def post(port: int, i: int) -> tuple[int, int, str | None, float]:
    """(i, status, Retry-After, seconds it took)."""
    started = time.monotonic()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/track", data=track(i), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return i, response.status, None, time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return i, exc.code, exc.headers.get("Retry-After"), time.monotonic() - started
    except OSError:
        return i, 0, None, time.monotonic() - started  # no answer at all


async def raw_event_ids(kafka: str, topic: str) -> set[str]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, auto_offset_reset="earliest")
    await consumer.start()
    found: set[str] = set()
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()) or [])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    found.update(e["id"] for e in orjson.loads(record.value)["events"])
            assigned = consumer.assignment()
            if assigned and not ends:
                ends = await consumer.end_offsets(list(assigned))
            if ends and all([await consumer.position(tp) >= ends[tp] for tp in ends]):
                break
    finally:
        await consumer.stop()
    return found


async def test_no_2xx_is_lost_while_kafka_is_down(services, names, tmp_path):
    kafka = PrivateKafka(tmp_path / "services", services["redis"])
    await kafka.start()
    cluster = Cluster(
        Names(names.token),
        kafka.bootstrap,
        CONFIG,
        tmp_path,
        settings={"collector_produce_timeout": "2s"},
    )
    await cluster.create_topics()
    worker = cluster.add_worker()
    loop = asyncio.get_running_loop()
    answers: list[tuple[int, int, str | None, float]] = []
    try:
        await worker.wait_ready(cluster.topics.raw, timeout=90)
        with ThreadPoolExecutor(4) as pool:

            async def send(numbers: range) -> None:
                answers.extend(
                    await asyncio.gather(
                        *(loop.run_in_executor(pool, post, worker.port, i) for i in numbers)
                    )
                )

            third = REQUESTS // 3
            await send(range(0, third))
            kafka.kill()
            down_until = time.monotonic() + OUTAGE_S  # the outage itself
            sent = third
            while time.monotonic() < down_until:
                await send(range(sent, sent + 4))
                sent += 4
            await kafka.start()
            await send(range(sent, sent + REQUESTS - third))
        ok = {f"outage-{i}" for i, status, _, _ in answers if 200 <= status < 300}
        refused = [(s, after, took) for _, s, after, took in answers if s == 503]
        on_raw = await raw_event_ids(cluster.kafka, cluster.topics.raw)
        got = await collect(
            cluster.kafka,
            [cluster.topics.events],
            lambda c: ok <= {e["id"] for e in c.accepted(cluster.topics.events)},
            180,
        )
        assert worker.process is not None
        assert worker.process.poll() is None  # recovered by itself
    finally:
        cluster.stop_all()
        await kafka.stop()
    assert refused, "Kafka was down: some requests must have been refused"
    assert all(after is not None and after.isdigit() for _, after, _ in refused)
    assert all(took < 10 for _, _, took in refused)  # the 2 s produce timeout, not a hang
    assert ok - on_raw == set()  # no 2xx without its message on raw
    assert ok <= {e["id"] for e in got.accepted(cluster.topics.events)}  # and processed
    assert {s for _, s, _, _ in answers} <= {200, 503}
    print(f"\ncollector, Kafka down {OUTAGE_S:.0f} s: {len(ok)} answered 200, {len(refused)} 503")
