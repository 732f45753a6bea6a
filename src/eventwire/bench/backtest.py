"""``eventwire bench backtest``: how fast the backtest replays. A fresh ``events`` topic is
filled with N accepted events of P profiles spread over 30 days (orders and page views, in
the shapes the worker publishes), the shipped triggers (config/) are backtested over it,
and the replay's wall time and CPU are measured; the topic is deleted afterwards."""

from __future__ import annotations

import resource
import time
import uuid
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from eventwire.backtest.run import Request, backtest
from eventwire.config_loader import read_documents
from eventwire.core.timestamps import iso_from_ms
from eventwire.kafka.admin import delete_topics, ensure_topics
from eventwire.settings import Settings

DAY_MS = 86_400_000


def event(n: int, profiles: int, start_ms: int, step_ms: float) -> tuple[bytes, bytes]:
    profile = f"bt-{n % profiles}"
    at = iso_from_ms(start_ms + int(n * step_ms))
    order = n % 3 != 0
    record = {
        "id": f"bench-{n}",
        "type": "order.completed" if order else "page.viewed",
        "source_id": "web",
        "profile_id": profile,
        "session_id": f"{profile}-{n // (profiles * 5)}",
        "properties": {"order_id": f"o{n}", "total": (n % 40) + 0.5} if order else {"url": "/"},
        "context": {},
        "sent_at": None,
        "received_at": at,
        "definition_version": 1,
        "format": "canonical",
        "builtin": False,
    }
    return profile.encode(), orjson.dumps(record)


async def bench_backtest(
    settings: Settings, events: int, profiles: int, candidate: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``candidate``: a trigger backtested against the shipped set (as a changed version of
    one of them when it has its id); the whole answer is under ``answer``."""
    topic = f"bench.backtest.{uuid.uuid4().hex[:8]}.events"
    # Its events are up to 30 days old: kept for good, or the broker's retention removes
    # some while the backtest reads them.
    await ensure_topics(settings.kafka_bootstrap, [topic], 4, {"retention.ms": "-1"})
    end_ms = int(time.time() * 1000) - 60_000
    start_ms = end_ms - 30 * DAY_MS
    step_ms = 30 * DAY_MS / events
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, linger_ms=20, max_batch_size=1024 * 1024
    )
    await producer.start()
    try:
        for first in range(0, events, 20_000):
            sent = []
            for n in range(first, min(first + 20_000, events)):
                key, value = event(n, profiles, start_ms, step_ms)
                at_ms = start_ms + int(n * step_ms)
                sent.append(await producer.send(topic, value, key=key, timestamp_ms=at_ms))
            for future in sent:
                await future
    finally:
        await producer.stop()
    triggers = [doc for _, doc in read_documents(settings.config_dir / "triggers")[0]]
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        answer = await backtest(
            Request(start_ms - 1000, end_ms + 1000, candidate),
            triggers,
            settings.kafka_bootstrap,
            topic,
            int(settings.session_timeout * 1000),
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        await delete_topics(settings.kafka_bootstrap, [topic])
    return {
        "topic": topic,
        "events": answer["events"],
        "profiles": answer["profiles"],
        "seconds": round(wall, 2),
        "events_per_second": round(answer["events"] / wall),
        "cpu_us_per_event": round(cpu / max(answer["events"], 1) * 1e6, 1),
        "fires": {t: r["fires"] for t, r in answer["triggers"].items()},
        # The process's peak: the replay's state and effects, and the producer before it.
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "answer": answer,
    }
