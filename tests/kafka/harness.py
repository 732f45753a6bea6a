"""Run real eventwire workers as subprocesses and read what they publish."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from eventwire.core.topics import Topics
from eventwire.kafka.admin import ensure_topics
from tests.conftest import ROOT, Names, free_port


@dataclass
class WorkerProcess:
    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the fd
            log.write(f"\n===== start {self.starts} =====\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "eventwire", "worker"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final commit."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def health(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                return dict(json.loads(r.read()))
        except OSError:
            return None

    async def wait_ready(self, raw_topic: str, timeout: float = 60.0) -> None:
        """Until the worker's web server answers and it holds partitions of the raw topic."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.log_tail()}")
            health = await asyncio.to_thread(self.health)
            if health and any(p.startswith(raw_topic + "/") for p in health["partitions"]):
                return
            await asyncio.sleep(0.3)
        raise AssertionError(f"worker not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def worker_env(names: Names, kafka: str, config_dir: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("EVENTWIRE_")}
    env.update(
        {
            "EVENTWIRE_KAFKA_BOOTSTRAP": kafka,
            "EVENTWIRE_TOPIC_PREFIX": names.topic_prefix,
            "EVENTWIRE_REDIS_PREFIX": names.redis_prefix,
            "EVENTWIRE_APP_ID": names.app_id,
            "EVENTWIRE_CONFIG_DIR": str(config_dir),
            "EVENTWIRE_PARTITIONS": "4",
            "EVENTWIRE_LOG_LEVEL": "warning",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({f"EVENTWIRE_{k.upper()}": v for k, v in settings.items()})
    return env


@dataclass
class Cluster:
    """Workers of one test, all in the same consumer group."""

    names: Names
    kafka: str
    config_dir: Path
    log_dir: Path
    settings: dict[str, str] = field(default_factory=dict)
    workers: list[WorkerProcess] = field(default_factory=list)

    @property
    def topics(self) -> Topics:
        return Topics(self.names.topic_prefix)

    async def create_topics(self) -> None:
        await ensure_topics(self.kafka, self.topics.all(), 4)

    def add_worker(self) -> WorkerProcess:
        port = free_port()
        env = worker_env(
            self.names, self.kafka, self.config_dir, web_port=str(port), **self.settings
        )
        worker = WorkerProcess(env, self.log_dir / f"worker-{len(self.workers)}.log", port)
        self.workers.append(worker)
        worker.start()
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()


async def produce(
    kafka: str, topic: str, messages: Sequence[tuple[bytes, dict[str, bytes]]]
) -> list[tuple[int, int]]:
    """Send every message and return each one's (partition, offset), in order."""
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka, acks="all", linger_ms=5, max_request_size=4 * 1024 * 1024
    )
    try:
        await producer.start()  # inside try: a failed start must still close the producer
        futures = [
            await producer.send(topic, value, headers=list(headers.items()))
            for value, headers in messages
        ]
        metadata = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [(m.partition, m.offset) for m in metadata]


@dataclass
class Collected:
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def of(self, topic: str) -> list[dict[str, Any]]:
        return self.records.get(topic, [])

    def accepted(self, topic: str) -> list[dict[str, Any]]:
        """The producers' events on an events topic, without eventwire's built-in events."""
        return [r for r in self.of(topic) if not r.get("builtin")]

    def builtins(self, topic: str) -> list[dict[str, Any]]:
        return [r for r in self.of(topic) if r.get("builtin")]


async def collect(
    kafka: str,
    topics: Sequence[str],
    done: Callable[[Collected], bool],
    timeout: float,
    on_progress: Callable[[Collected], Any] | None = None,
    to_end: bool = False,
) -> Collected:
    """Read ``topics`` from the start (read_committed) until ``done`` or the timeout; with
    ``to_end``, then on to the end of every partition as it stands once ``done`` holds, so
    that nothing written by then (a late repeat, say) goes unread."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=kafka,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    collected = Collected()
    deadline = time.monotonic() + timeout

    async def read() -> None:
        batches = await consumer.getmany(timeout_ms=300, max_records=5000)
        for tp, records in batches.items():
            bucket = collected.records.setdefault(tp.topic, [])
            bucket.extend(orjson.loads(r.value) for r in records if r.value is not None)

    try:
        while time.monotonic() < deadline and not done(collected):
            await read()
            if on_progress is not None:
                result = on_progress(collected)
                if asyncio.iscoroutine(result):
                    await result
        if to_end:
            assigned = consumer.assignment()
            ends = await consumer.end_offsets(list(assigned))  # read_committed: stable ends
            behind = list(ends)
            while behind and time.monotonic() < deadline:
                await read()
                behind = [tp for tp in behind if await consumer.position(tp) < ends[tp]]
    finally:
        await consumer.stop()
    return collected


async def caught_up(kafka: str, group: str, topics: Sequence[str], timeout: float) -> None:
    """Until ``group`` has committed every message its topics hold now. Under exactly once
    a message's outputs commit with its offset, so they are all readable then."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.structs import TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, isolation_level="read_committed")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await consumer.start()
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
        tps = [
            TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]
        ]
        assert tps, f"no partitions known for {topics}"
        ends = await consumer.end_offsets(tps)
        deadline = time.monotonic() + timeout
        while True:
            committed = await admin.list_consumer_group_offsets(group)
            behind = [tp for tp in tps if ends[tp] and committed.get(tp, None) is None]
            behind += [tp for tp in tps if tp in committed and committed[tp].offset < ends[tp]]
            if not behind:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{group} still behind on {behind} after {timeout}s")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
        await consumer.stop()


async def pending_timers(redis_url: str, redis_prefix: str) -> list[list[str]]:
    """Every timer still due or claimed (session timeouts, absence windows)."""
    from eventwire.redis_store.connection import connect
    from eventwire.redis_store.keys import Keys

    keys = Keys(redis_prefix)
    redis = connect(redis_url)
    try:
        members = await redis.zrange(keys.timers_due(), 0, -1)
        members += await redis.zrange(keys.timers_inflight(), 0, -1)
    finally:
        await redis.aclose()
    return [json.loads(m) for m in members]


async def webhook_jobs_left(redis_url: str, redis_prefix: str) -> int:
    """Webhook jobs still due or leased: none means every delivery is final (delivered, or
    dead and its letter handed on), so none can be called or buried again."""
    from eventwire.redis_store.connection import connect
    from eventwire.redis_store.keys import Keys

    keys = Keys(redis_prefix)
    redis = connect(redis_url)
    try:
        due = await redis.zcard(keys.webhooks_due())
        leased = await redis.zcard(keys.webhooks_inflight())
    finally:
        await redis.aclose()
    return int(due) + int(leased)


async def eventually(check: Callable[[], Any], timeout: float, what: str) -> None:
    """Poll ``check`` (sync or async) until it is true; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if asyncio.iscoroutine(found):
            found = await found
        if found:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.2)


async def no_webhook_jobs(redis_url: str, redis_prefix: str) -> bool:
    return await webhook_jobs_left(redis_url, redis_prefix) == 0


async def run_eventwire(
    env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``eventwire ARGS`` as a user runs it, in its own process, from the checkout."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "eventwire", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )
