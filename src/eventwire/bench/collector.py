"""``eventwire bench-collector``: how fast the HTTP collector takes requests, beside the Kafka
path in the same run. One worker replica (the shipped config) serves the collector; the
load comes from this process over C keep-alive connections:

1. N Segment ``/v1/track`` requests of one event each;
2. N/10 ``/v1/batch`` requests of 100 events each (one user per batch, as an SDK's batch
   of one user's calls; a batch of many users is split, one Kafka message per user);
3. the Kafka path: the same N single events produced straight to ``raw`` with ``acks=all``.

Each figure is measured from the first request sent to the last answer (2xx: the message is
on ``raw``); latency per request from sending it to its answer.
"""

from __future__ import annotations

import asyncio
import base64
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer

from eventwire.bench.run import Replicas, RunNames, percentile
from eventwire.core.topics import Topics
from eventwire.kafka.admin import delete_topics, ensure_topics
from eventwire.samples import SEGMENT_WRITE_KEY
from eventwire.settings import Settings

AUTH = "Basic " + base64.b64encode(f"{SEGMENT_WRITE_KEY}:".encode()).decode()


def call(n: int) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": f"bench-{n}",
        "userId": f"bench-user-{n % 1000}",
        "event": "page.viewed",
        "properties": {"url": f"https://shop.example.com/p/{n % 500}"},
    }


async def _requests(port: int, path: str, bodies: list[bytes], concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    url = f"http://127.0.0.1:{port}{path}"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def client() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                sent = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                latencies.append(time.perf_counter() - sent)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return {
        "requests": len(bodies),
        "requests_per_second": round(len(bodies) / seconds),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "ok": statuses.get(200, 0),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


async def _kafka_path(bootstrap: str, topic: str, bodies: list[bytes]) -> dict[str, float]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        headers = [("format", b"segment"), ("source", SEGMENT_WRITE_KEY.encode())]
        started = time.perf_counter()
        sent = [await producer.send(topic, body, headers=headers) for body in bodies]
        await asyncio.gather(*sent)
        seconds = time.perf_counter() - started
    finally:
        await producer.stop()
    return {"messages": len(bodies), "messages_per_second": round(len(bodies) / seconds)}


async def bench_collector(settings: Settings, requests: int, concurrency: int) -> dict[str, Any]:
    names = RunNames.new()
    topics = Topics(names.topic_prefix)
    await ensure_topics(settings.kafka_bootstrap, topics.all(), 4)
    env = names.env(settings)
    env["EVENTWIRE_CONFIG_DIR"] = str(settings.config_dir)
    replicas = Replicas(1, env, Path(tempfile.mkdtemp(prefix="eventwire-bench-collector-")))
    try:
        await replicas.ready(topics.raw)
        port = replicas.ports[0]
        singles = [orjson.dumps(call(n)) for n in range(requests)]
        batches = [
            orjson.dumps(
                {"batch": [{**call(b * 100 + i), "userId": f"batch-user-{b}"} for i in range(100)]}
            )
            for b in range(max(1, requests // 10))
        ]
        single = await _requests(port, "/v1/track", singles, concurrency)
        batch = await _requests(port, "/v1/batch", batches, concurrency)
        batch["events_per_second"] = batch["requests_per_second"] * 100
        kafka = await _kafka_path(settings.kafka_bootstrap, topics.raw, singles)
    finally:
        replicas.stop()
        await delete_topics(settings.kafka_bootstrap, topics.all())
    return {
        "concurrency": concurrency,
        "single_events": single,
        "batches_of_100": batch,
        "kafka_path": kafka,
        "collector_single_vs_kafka": round(
            single["requests_per_second"] / kafka["messages_per_second"], 3
        ),
    }
