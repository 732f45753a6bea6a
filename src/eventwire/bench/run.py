"""Run the benchmark: the same stream through the bare loop and through 1 and 2 replicas.

Each run gets its own topic prefix, Redis prefix and consumer group, so runs never see each
other's data. Replicas are real ``eventwire worker`` processes; their peak RSS comes from
/proc, their Redis round trips from their /metrics.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from eventwire.bench.bare import bare_loop
from eventwire.bench.stream import Message, stream
from eventwire.config_loader import load_registry
from eventwire.core.decode import Limits
from eventwire.core.ingest import Accepted, ingest
from eventwire.core.raw import RawMessage
from eventwire.core.topics import Topics
from eventwire.kafka.admin import delete_topics, ensure_topics
from eventwire.settings import Settings

PARTITIONS = 4


@dataclass
class Run:
    replicas: int
    events: int
    events_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    peak_rss_mb: list[float]
    redis_round_trips_per_event: float
    outputs: int
    mean_batch: dict[str, float] = field(default_factory=dict)
    cpu_us_per_event: float = 0.0
    paced_latencies: list[float] = field(default_factory=list)
    topic_prefix: str = ""
    rss_over_time: list[list[float]] = field(default_factory=list)
    paced_rate: float = 0.0
    paced: dict[str, float] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def expected_outputs(messages: list[Message], config_dir: Path) -> int:
    """How many records the stream yields on ``events`` (non built-in) and ``rejected``."""
    registry = load_registry(config_dir)
    total = 0
    for n, (value, headers) in enumerate(messages):
        outcome = ingest(RawMessage(value, "bench", 0, n, 0, headers=headers), registry, Limits())
        total += len(outcome.events) if isinstance(outcome, Accepted) and outcome.publish else 1
    return total


class Replicas:
    def __init__(self, count: int, env: dict[str, str], log_dir: Path) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []
        self.profilers: list[subprocess.Popen[bytes]] = []
        for i in range(count):
            port = 16100 + os.getpid() % 1000 * 2 + i
            log = (log_dir / f"replica-{i}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "eventwire", "worker"],
                    env={**env, "EVENTWIRE_WEB_PORT": str(port)},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()
            self.ports.append(port)

    def profile(self, out_dir: Path) -> None:
        """Attach py-spy to every replica; its collapsed stacks land in ``out_dir``."""
        for i, process in enumerate(self.processes):
            self.profilers.append(
                subprocess.Popen(
                    [
                        *_py_spy(),
                        "record",
                        "--pid",
                        str(process.pid),
                        "--rate",
                        "200",
                        "--nonblocking",
                        "--format",
                        "raw",
                        "--output",
                        str(out_dir / f"replica-{i}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=(out_dir / f"replica-{i}.py-spy.log").open("wb"),
                )
            )

    def health(self, port: int) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return dict(orjson.loads(response.read()))
        except OSError:
            return None

    async def ready(self, raw_topic: str, within: float = 90) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            owned = []
            for port in self.ports:
                health = await asyncio.to_thread(self.health, port)
                owned.append(
                    {
                        p
                        for p in (health or {}).get("partitions", [])
                        if p.startswith(raw_topic + "/")
                    }
                )
            if all(owned) and sum(len(o) for o in owned) == PARTITIONS:
                return
            await asyncio.sleep(0.3)
        raise RuntimeError("replicas did not become ready")

    def _status_mb(self, field: str) -> list[float]:
        """A memory field of /proc/<pid>/status (VmHWM: peak, VmRSS: now) of each replica."""
        found = []
        for process in self.processes:
            try:
                status = Path(f"/proc/{process.pid}/status").read_text()
                kb = next(
                    int(line.split()[1]) for line in status.splitlines() if line.startswith(field)
                )
                found.append(round(kb / 1024, 1))
            except (OSError, StopIteration):
                found.append(0.0)
        return found

    def peak_rss_mb(self) -> list[float]:
        return self._status_mb("VmHWM")

    def rss_mb(self) -> list[float]:
        return self._status_mb("VmRSS")

    async def sample_rss(self, every: float, into: list[list[float]]) -> None:
        """[seconds since start, MB of each replica...] every ``every`` seconds, until cancelled."""
        started = time.monotonic()
        while True:
            into.append([round(time.monotonic() - started, 1), *self.rss_mb()])
            await asyncio.sleep(every)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the replicas have used so far."""
        total = 0.0
        for process in self.processes:
            try:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def totals(self) -> dict[str, float]:
        """Redis round trips, and messages and batches per stage, summed over the replicas."""
        totals: dict[str, float] = {}
        for port in self.ports:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                for family in text_string_to_metric_families(response.read().decode()):
                    for sample in family.samples:
                        if sample.name == "eventwire_redis_round_trips_total":
                            name = "redis_round_trips"
                        elif sample.name in (
                            "eventwire_batch_size_sum",
                            "eventwire_batch_size_count",
                        ):
                            name = f"{sample.labels['stage']}_{sample.name.rsplit('_', 1)[1]}"
                        else:
                            continue
                        totals[name] = totals.get(name, 0.0) + sample.value
        return totals

    def stop(self) -> None:
        _end(self.profilers, signal.SIGINT)  # py-spy writes its file on SIGINT
        _end(self.processes, signal.SIGTERM)


def _end(processes: list[subprocess.Popen[bytes]], signum: int) -> None:
    """Signal every process, then wait for each (killing what does not end in 30 s)."""
    for process in processes:
        process.send_signal(signum)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _py_spy() -> list[str]:
    beside = Path(sys.executable).with_name("py-spy")
    return [str(beside) if beside.exists() else "py-spy"]


async def produce(
    bootstrap: str, topic: str, messages: list[Message], rate: float | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=512 * 1024)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = []
        for n, (value, headers) in enumerate(messages):
            futures.append(await producer.send(topic, value, headers=list(headers.items())))
            if rate and n % 50 == 0:
                ahead = n / rate - (time.perf_counter() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        for future in futures:
            await future
    finally:
        await producer.stop()


async def drain(
    bootstrap: str,
    topics: Topics,
    expected: int,
    within: float,
    progress: Callable[[int], None],
    since_ms: float = 0.0,
) -> tuple[list[float], float, float]:
    """Read events and rejected until ``expected`` records came: latencies (ms) and the first
    raw and last output timestamps (ms)."""
    consumer = AIOKafkaConsumer(
        topics.events,
        topics.rejected,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    latencies: list[float] = []
    first_in, last_out = float("inf"), 0.0
    seen = 0
    deadline = time.monotonic() + within
    try:
        while seen < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batches.values():
                for record in records:
                    body = orjson.loads(record.value)
                    if body.get("builtin"):
                        continue
                    raw_ms = _millis(body["received_at"])
                    if raw_ms >= since_ms:
                        latencies.append(record.timestamp - raw_ms)
                    first_in, last_out = min(first_in, raw_ms), max(last_out, record.timestamp)
                    seen += 1
            progress(seen)
    finally:
        await consumer.stop()
    if seen < expected:
        raise RuntimeError(f"only {seen} of {expected} outputs arrived within {within:.0f} s")
    return latencies, first_in, last_out


def _millis(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp() * 1000


async def run_pipeline(
    settings: Settings,
    replicas: int,
    messages: list[Message],
    expected: int,
    config_dir: Path,
    log_dir: Path,
    progress: Callable[[int], None],
    paced_count: int,
    profile_dir: Path | None = None,
    paced_rate: float = 0.0,
) -> Run:
    token = uuid.uuid4().hex[:8]
    prefix = f"bench.{token}."
    topics = Topics(prefix)
    await ensure_topics(settings.kafka_bootstrap, topics.all(), PARTITIONS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTWIRE_")}
    env.update(
        {
            "EVENTWIRE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "EVENTWIRE_REDIS_URL": settings.redis_url.get_secret_value(),
            "EVENTWIRE_TOPIC_PREFIX": prefix,
            "EVENTWIRE_REDIS_PREFIX": f"bench:{token}:",
            "EVENTWIRE_APP_ID": f"bench-{token}",
            "EVENTWIRE_CONFIG_DIR": str(config_dir),
            "EVENTWIRE_PARTITIONS": str(PARTITIONS),
            "EVENTWIRE_LOG_LEVEL": "warning",
        }
    )
    group = Replicas(replicas, env, log_dir)
    try:
        await group.ready(topics.raw)
        if profile_dir is not None:
            run_dir = profile_dir / f"{replicas}-replicas"
            run_dir.mkdir(parents=True, exist_ok=True)
            group.profile(run_dir)
        cpu_before = group.cpu_seconds()
        rss: list[list[float]] = []
        sampling = asyncio.create_task(group.sample_rss(max(1.0, len(messages) / 20_000), rss))
        try:
            await produce(settings.kafka_bootstrap, topics.raw, messages)
            latencies, first_in, last_out = await drain(
                settings.kafka_bootstrap, topics, expected, 3600, progress
            )
        finally:
            sampling.cancel()
        cpu_us = (group.cpu_seconds() - cpu_before) * 1e6 / len(messages)
        rate = len(messages) / max(0.001, (last_out - first_in) / 1000)
        totals = group.totals()
        trips = totals.get("redis_round_trips", 0.0) / len(messages)
        run = Run(
            replicas,
            len(messages),
            round(rate),
            round(percentile(latencies, 0.5), 1),
            round(percentile(latencies, 0.95), 1),
            round(percentile(latencies, 0.99), 1),
            group.peak_rss_mb(),
            round(trips, 3),
            len(latencies),
        )
        run.cpu_us_per_event = round(cpu_us, 1)
        run.topic_prefix = prefix
        run.rss_over_time = rss
        run.mean_batch = {
            stage: round(totals[f"{stage}_sum"] / totals[f"{stage}_count"], 1)
            for stage in ("ingest", "process")
            if totals.get(f"{stage}_count")
        }
        if paced_count:
            # Latency at half the measured rate: a second stream on the same replicas.
            run.paced_rate = round(paced_rate or rate / 2)
            paced_topics = topics
            sent = messages[:paced_count]
            paced_from = time.time() * 1000 - 50  # only the paced messages' outputs
            await produce(settings.kafka_bootstrap, paced_topics.raw, sent, rate=run.paced_rate)
            paced, _, _ = await drain(
                settings.kafka_bootstrap,
                topics,
                expected + expected_outputs(sent, config_dir),
                600,
                progress,
                since_ms=paced_from,
            )
            run.paced_latencies = paced
            run.paced = {
                q: round(percentile(paced, v), 1)
                for q, v in (("p50_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99))
            }
        return run
    finally:
        group.stop()
        await forget(settings, topics, f"bench:{token}:")


async def forget(settings: Settings, topics: Topics, redis_prefix: str) -> None:
    """Delete a run's topics and Redis keys: repeated runs must not pile up data."""
    from eventwire.redis_store.connection import connect

    await delete_topics(settings.kafka_bootstrap, topics.all())
    client = connect(settings.redis_url.get_secret_value())
    try:
        batch: list[str] = []
        async for key in client.scan_iter(match=f"{redis_prefix}*", count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                await client.unlink(*batch)
                batch.clear()
        if batch:
            await client.unlink(*batch)
    finally:
        await client.aclose()


async def bench(
    settings: Settings,
    count: int,
    replica_counts: list[int],
    config_dir: Path,
    progress: Callable[[str, int, int], None],
    paced_count: int,
    profile_dir: Path | None = None,
    plot_path: Path | None = None,
    paced_rate: float = 0.0,
) -> dict[str, Any]:
    messages = stream(count)
    expected = expected_outputs(messages, config_dir)
    log_dir = Path(tempfile.mkdtemp(prefix="eventwire-bench-"))
    runs = []
    for replicas in replica_counts:
        label = f"{replicas} replica(s)"

        def report(seen: int, label: str = label) -> None:
            progress(label, seen, expected)

        run = await run_pipeline(
            settings,
            replicas,
            messages,
            expected,
            config_dir,
            log_dir,
            report,
            paced_count,
            profile_dir,
            paced_rate,
        )
        runs.append(run)
    # The ceiling, over the very same messages.
    bare_topics = Topics(f"bench.bare.{uuid.uuid4().hex[:8]}.")
    await ensure_topics(settings.kafka_bootstrap, [bare_topics.raw, bare_topics.events], PARTITIONS)
    await produce(settings.kafka_bootstrap, bare_topics.raw, messages)
    progress("bare loop", 0, 1)
    cpu_before = time.process_time()
    bare = await bare_loop(settings.kafka_bootstrap, bare_topics.raw, bare_topics.events, count)
    bare_cpu_us = (time.process_time() - cpu_before) * 1e6 / count
    await delete_topics(settings.kafka_bootstrap, [bare_topics.raw, bare_topics.events])
    progress("bare loop", 1, 1)
    one = next((r for r in runs if r.replicas == 1), runs[0])
    if plot_path is not None:
        from eventwire.bench.plot import latency_plot

        latency_plot(
            {
                f"{r.replicas} replica(s), paced at {r.paced_rate:,.0f} msg/s": r.paced_latencies
                for r in runs
            },
            plot_path,
            "eventwire latency, paced at "
            + (f"{paced_rate:,.0f} msg/s" if paced_rate else "half the measured rate")
            + f" ({paced_count:,} messages per run)",
        )
    return {
        "runs": [
            {
                "replicas": r.replicas,
                "events": r.events,
                "events_per_s": r.events_per_s,
                "p50_ms": r.p50_ms,
                "p95_ms": r.p95_ms,
                "p99_ms": r.p99_ms,
                "peak_rss_mb": max(r.peak_rss_mb),
                "peak_rss_mb_per_replica": r.peak_rss_mb,
                "redis_round_trips_per_event": r.redis_round_trips_per_event,
                "cpu_us_per_event": r.cpu_us_per_event,
                "topic_prefix": r.topic_prefix,  # deleted with the run's Redis keys
                "rss_mb_over_time": r.rss_over_time,  # [s, MB per replica], ~20 samples
                "mean_batch": r.mean_batch,
                "outputs": r.outputs,
                "paced_rate": r.paced_rate,
                "paced_latency": r.paced,
            }
            for r in runs
        ],
        "bare_loop_events_per_s": round(bare),
        "bare_loop_cpu_us_per_event": round(bare_cpu_us, 1),
        "ratio": round(one.events_per_s / bare, 3),
        "logs": str(log_dir),
    }
