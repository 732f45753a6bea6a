"""Run the benchmark: the same stream through the bare loop and through 1 and 2 replicas
(and, with ``--peer faust``, through the Faust pipeline a typical user writes).

Each run gets its own topic prefix, Redis prefix and consumer group, so runs never see each
other's data. Replicas are real ``eventwire worker`` processes; their peak RSS comes from
/proc, their Redis round trips and commit retries from their /metrics.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from eventwire.bench.bare import bare_loop
from eventwire.bench.redis_cpu import per_event_us, redis_cpu_seconds
from eventwire.bench.stream import Message, stream
from eventwire.config_loader import load_registry
from eventwire.core.decode import Limits
from eventwire.core.ingest import Accepted, ingest
from eventwire.core.raw import RawMessage
from eventwire.core.topics import Topics
from eventwire.kafka.admin import delete_topics, ensure_topics
from eventwire.settings import Settings

PARTITIONS = 4
WORKER = [sys.executable, "-m", "eventwire", "worker"]
PEERS = {"faust": [sys.executable, "-m", "eventwire.bench.peer_faust"]}


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
    redis_cpu_us_per_event: float | None = None
    commit_retry_fraction: float | None = None


@dataclass
class PeerRun:
    """The same messages through a peer pipeline (bench/peer_faust.py)."""

    name: str
    events: int
    events_per_s: float
    cpu_us_per_event: float
    redis_cpu_us_per_event: float | None
    outputs: dict[str, int]  # accepted (on events) and rejected, one per raw message
    topic_prefix: str


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
    """``count`` processes of ``command`` (an eventwire worker, or a peer that serves the same
    /healthz), each on its own web port (EVENTWIRE_WEB_PORT), logging to ``log_dir``."""

    def __init__(
        self,
        count: int,
        env: dict[str, str],
        log_dir: Path,
        command: list[str] = WORKER,
        name: str = "replica",
    ) -> None:
        self.name = name
        self.processes: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []
        self.logs: list[Path] = []
        self.profilers: list[subprocess.Popen[bytes]] = []
        for i in range(count):
            port = 16100 + os.getpid() % 1000 * 2 + i
            path = log_dir / f"{name}-{i}.log"
            with path.open("wb") as log:
                self.processes.append(
                    subprocess.Popen(
                        command,
                        env={**env, "EVENTWIRE_WEB_PORT": str(port)},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            self.ports.append(port)
            self.logs.append(path)

    def check_alive(self) -> None:
        """Fail at once, with the end of its log, when a process has exited: waiting out a
        deadline for a worker that died on start-up only hides why."""
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                tail = log.read_text(errors="replace").splitlines()[-15:]
                raise RuntimeError(
                    f"{self.name} exited with code {process.returncode}; the end of {log}:\n"
                    + "\n".join(tail)
                )

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
        """Until every process owns some of the raw topic's partitions, and together all."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            self.check_alive()
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
        raise RuntimeError(
            f"{self.name} processes did not own all of {raw_topic} within {within:.0f} s "
            f"(logs: {', '.join(map(str, self.logs))})"
        )

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
        """Redis round trips, messages and batches per stage, and owner commits per result,
        summed over the replicas (see ``metric_totals``)."""
        totals: dict[str, float] = {}
        for port in self.ports:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                for name, value in metric_totals(response.read().decode()).items():
                    totals[name] = totals.get(name, 0.0) + value
        return totals

    def stop(self) -> None:
        _end(self.profilers, signal.SIGINT)  # py-spy writes its file on SIGINT
        _end(self.processes, signal.SIGTERM)


COMMIT_RESULTS = ("ok", "conflict", "dup")


def metric_totals(text: str) -> dict[str, float]:
    """What the bench reads from one replica's /metrics: ``redis_round_trips``,
    ``batch_sum:<stage>`` and ``batch_count:<stage>`` for every stage label found, and
    ``owner_commits:<result>``."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "eventwire_redis_round_trips_total":
                name = "redis_round_trips"
            elif sample.name == "eventwire_batch_size_sum":
                name = f"batch_sum:{sample.labels.get('stage', '')}"
            elif sample.name == "eventwire_batch_size_count":
                name = f"batch_count:{sample.labels.get('stage', '')}"
            elif sample.name == "eventwire_owner_commits_total":
                name = f"owner_commits:{sample.labels.get('result', '')}"
            else:
                continue
            totals[name] = totals.get(name, 0.0) + sample.value
    return totals


def mean_batch(totals: dict[str, float]) -> dict[str, float]:
    """Mean messages per batch, for every stage that took one (the stages change; the bench
    should not have to)."""
    means = {}
    for name, count in sorted(totals.items()):
        stage = name.removeprefix("batch_count:")
        if stage != name and count:
            means[stage] = round(totals.get(f"batch_sum:{stage}", 0.0) / count, 1)
    return means


def commit_retry_fraction(totals: dict[str, float]) -> float | None:
    """Conflicting owner commits (recomputed and retried) ÷ all owner commits; None when the
    replicas count none (a worker that does not expose eventwire_owner_commits_total)."""
    commits = {result: totals.get(f"owner_commits:{result}", 0.0) for result in COMMIT_RESULTS}
    total = sum(commits.values())
    return round(commits["conflict"] / total, 4) if total else None


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
    consumer = _reader(bootstrap, topics.events, topics.rejected)
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


def _reader(bootstrap: str, *topics: str) -> AIOKafkaConsumer:
    """A group-less consumer of ``topics`` from the start, that sees what a ``read_committed``
    consumer sees (docs/bench-and-reliability.md measures latency so)."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )


async def count_outputs(
    bootstrap: str,
    topics: list[str],
    expected: int,
    progress: Callable[[int], None],
    alive: Callable[[], None],
    stall: float = 60.0,
) -> tuple[dict[str, int], float]:
    """Count records on ``topics`` until ``expected`` came: the count per topic, and the last
    record's timestamp (ms). Fails when ``alive`` raises (the producing process died), or
    when no record arrives for ``stall`` seconds."""
    consumer = _reader(bootstrap, *topics)
    await consumer.start()
    counts: Counter[str] = Counter()
    last_out = 0.0
    quiet_since = time.monotonic()
    try:
        while sum(counts.values()) < expected:
            alive()
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for tp, records in batches.items():
                counts[tp.topic] += len(records)
                for record in records:
                    last_out = max(last_out, record.timestamp)
            if batches:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > stall:
                raise RuntimeError(
                    f"only {sum(counts.values())} of {expected} outputs arrived on "
                    f"{', '.join(topics)}, and none for {stall:.0f} s"
                )
            progress(sum(counts.values()))
    finally:
        await consumer.stop()
    return {topic: counts[topic] for topic in topics}, last_out


def _millis(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp() * 1000


@dataclass(frozen=True)
class RunNames:
    """One run's topic prefix, Redis prefix and consumer group, from one random token."""

    token: str

    @classmethod
    def new(cls) -> RunNames:
        return cls(uuid.uuid4().hex[:8])

    @property
    def topic_prefix(self) -> str:
        return f"bench.{self.token}."

    @property
    def redis_prefix(self) -> str:
        return f"bench:{self.token}:"

    @property
    def app_id(self) -> str:
        return f"bench-{self.token}"

    def env(self, settings: Settings) -> dict[str, str]:
        """The environment of a run's processes: ours, with every EVENTWIRE_ setting its own."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTWIRE_")}
        env.update(
            {
                "EVENTWIRE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
                "EVENTWIRE_REDIS_URL": settings.redis_url.get_secret_value(),
                "EVENTWIRE_TOPIC_PREFIX": self.topic_prefix,
                "EVENTWIRE_REDIS_PREFIX": self.redis_prefix,
                "EVENTWIRE_APP_ID": self.app_id,
                "EVENTWIRE_PARTITIONS": str(PARTITIONS),
                "EVENTWIRE_LOG_LEVEL": "warning",
                "EVENTWIRE_GUARANTEE": settings.guarantee,
            }
        )
        return env


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
    names = RunNames.new()
    topics = Topics(names.topic_prefix)
    await ensure_topics(settings.kafka_bootstrap, topics.all(), PARTITIONS)
    env = names.env(settings)
    env["EVENTWIRE_CONFIG_DIR"] = str(config_dir)
    group = Replicas(replicas, env, log_dir)
    try:
        await group.ready(topics.raw)
        if profile_dir is not None:
            run_dir = profile_dir / f"{replicas}-replicas"
            run_dir.mkdir(parents=True, exist_ok=True)
            group.profile(run_dir)
        redis_url = settings.redis_url.get_secret_value()
        redis_before = await redis_cpu_seconds(redis_url)
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
        redis_after = await redis_cpu_seconds(redis_url)
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
        run.redis_cpu_us_per_event = per_event_us(redis_before, redis_after, len(messages))
        run.commit_retry_fraction = commit_retry_fraction(totals)
        run.topic_prefix = names.topic_prefix
        run.rss_over_time = rss
        run.mean_batch = mean_batch(totals)
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
        await forget(settings, topics.all(), names)


async def run_peer(
    settings: Settings,
    name: str,
    messages: list[Message],
    log_dir: Path,
    progress: Callable[[int], None],
) -> PeerRun:
    """The same messages through a peer pipeline in its own process (``PEERS[name]``), until
    it has written one output per raw message on its events and rejected topics."""
    names = RunNames.new()
    topics = Topics(names.topic_prefix)
    outputs = [topics.events, topics.rejected]
    await ensure_topics(settings.kafka_bootstrap, [topics.raw, *outputs], PARTITIONS)
    peer = Replicas(1, names.env(settings), log_dir, PEERS[name], f"peer-{name}")
    try:
        await peer.ready(topics.raw)
        redis_url = settings.redis_url.get_secret_value()
        redis_before = await redis_cpu_seconds(redis_url)
        cpu_before = peer.cpu_seconds()
        first_in = time.time() * 1000  # what the raw messages' timestamps start from
        await produce(settings.kafka_bootstrap, topics.raw, messages)
        counts, last_out = await count_outputs(
            settings.kafka_bootstrap, outputs, len(messages), progress, peer.check_alive
        )
        cpu_us = (peer.cpu_seconds() - cpu_before) * 1e6 / len(messages)
        redis_after = await redis_cpu_seconds(redis_url)
        return PeerRun(
            name,
            len(messages),
            round(len(messages) / max(0.001, (last_out - first_in) / 1000)),
            round(cpu_us, 1),
            per_event_us(redis_before, redis_after, len(messages)),
            {"accepted": counts[topics.events], "rejected": counts[topics.rejected]},
            names.topic_prefix,
        )
    finally:
        peer.stop()
        await forget(settings, [topics.raw, *outputs], names)


async def forget(settings: Settings, topics: Iterable[str], names: RunNames) -> None:
    """Delete a run's topics (with the one Faust makes for its group's leader) and Redis keys:
    repeated runs must not pile up data."""
    from eventwire.redis_store.connection import connect

    leader = f"{names.app_id}-__assignor-__leader"
    await delete_topics(settings.kafka_bootstrap, [*topics, leader])
    # The Faust data directory of the run's processes, named as the worker's app names it.
    shutil.rmtree(Path(tempfile.gettempdir()) / f"eventwire-{names.app_id}", ignore_errors=True)
    redis_prefix = names.redis_prefix
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
    peer: str | None = None,
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
    peer_run = None
    if peer is not None:
        label = f"{peer} peer"

        def report_peer(seen: int) -> None:
            progress(label, seen, len(messages))

        peer_run = await run_peer(settings, peer, messages, log_dir, report_peer)
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
        "guarantee": settings.guarantee,
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
                "redis_cpu_us_per_event": r.redis_cpu_us_per_event,  # null: INFO unreadable
                "commit_retry_fraction": r.commit_retry_fraction,  # null: no commits counted
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
        "peer": _peer_json(peer_run),
        # One replica ÷ the peer, both in raw messages per second over the same messages.
        "peer_ratio": round(one.events_per_s / peer_run.events_per_s, 3) if peer_run else None,
        "logs": str(log_dir),
    }


def _peer_json(peer: PeerRun | None) -> dict[str, Any] | None:
    if peer is None:
        return None
    return {
        "name": peer.name,
        "events": peer.events,
        "events_per_s": peer.events_per_s,
        "cpu_us_per_event": peer.cpu_us_per_event,
        "redis_cpu_us_per_event": peer.redis_cpu_us_per_event,
        "outputs": sum(peer.outputs.values()),
        **peer.outputs,  # accepted, rejected
        "topic_prefix": peer.topic_prefix,
    }
