"""``eventwire``: run a worker, send events, watch topics, check configuration."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click
import orjson

from eventwire.cli.backtest import triggers_backtest
from eventwire.cli.manage import (
    definitions,
    profiles,
    register_trigger_commands,
    replay_rejected,
    sources,
    stats,
    validate,
)
from eventwire.config_loader import ConfigError, load_registry
from eventwire.core.topics import Topics
from eventwire.samples import FORMATS, HTTP_PATHS, sample
from eventwire.settings import Settings


@click.group()
def cli() -> None:
    """eventwire: validate customer events, keep their state, and trigger effects."""


@cli.group()
def config() -> None:
    """Configuration files under EVENTWIRE_CONFIG_DIR."""


@config.command("check")
def config_check() -> None:
    """Load config/ and report every problem, or what it holds."""
    settings = Settings()
    try:
        registry = load_registry(settings.config_dir)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    versions = sum(len(v) for v in registry.definitions.values())
    click.echo(
        f"{settings.config_dir}: {len(registry.sources)} sources, "
        f"{len(registry.definitions)} definitions ({versions} versions), "
        f"{len(registry.triggers.by_id)} triggers"
    )


@cli.command()
def worker() -> None:
    """Run one eventwire replica (consumer group EVENTWIRE_APP_ID) with its web server."""
    from eventwire.kafka.worker import run_worker

    run_worker(Settings())


def _parse_value(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _pairs(values: tuple[str, ...], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{what} must be NAME=VALUE, got {item!r}")
        out[name] = _parse_value(value)
    return out


@cli.command()
@click.option("--type", "type_", help="Event type, e.g. order.completed.")
@click.option("--source", "source_id", default="web", show_default=True, help="Source id.")
@click.option("--secret", envvar="EVENTWIRE_SOURCE_SECRET", help="Source secret.")
@click.option("--profile-id", help="Profile id.")
@click.option("--email", help="Profile email.")
@click.option("--session", "session_id", help="Session id.")
@click.option("--id", "event_id", help="Event id (default: derived from the Kafka position).")
@click.option("-p", "--property", "properties", multiple=True, help="NAME=VALUE (JSON or text).")
@click.option(
    "--file", "path", type=click.Path(allow_dash=True), help="Send this file ('-': stdin)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    help="Send a sample of this format (or, with --file, set the 'format' header).",
)
@click.option("--count", default=1, show_default=True, help="How many samples to send.")
@click.option(
    "--http",
    "over_http",
    is_flag=True,
    help="Send the samples through a worker's HTTP collector instead of Kafka.",
)
@click.option("-H", "--header", "headers", multiple=True, help="Kafka header NAME=VALUE.")
def send(
    type_: str | None,
    source_id: str,
    secret: str | None,
    profile_id: str | None,
    email: str | None,
    session_id: str | None,
    event_id: str | None,
    properties: tuple[str, ...],
    path: str | None,
    fmt: str | None,
    count: int,
    over_http: bool,
    headers: tuple[str, ...],
) -> None:
    """Send events to the raw topic: a canonical event from flags, a payload file (or stdin),
    or realistic samples of a format (--format, --count)."""
    settings = Settings()
    kafka_headers = [(k, str(v).encode()) for k, v in _pairs(headers, "--header").items()]
    if over_http:
        if not fmt or fmt not in HTTP_PATHS:
            raise click.UsageError(f"--http sends samples of: {', '.join(HTTP_PATHS)}")
        _post_samples(settings, fmt, count)
        return
    if fmt and not path and not type_:
        payloads = []
        for n in range(count):
            payload, sample_headers = sample(fmt, n)
            payloads.append((payload, [*sample_headers.items(), *kafka_headers]))
        _produce(settings, payloads)
        return
    if path:
        payload = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    else:
        if not type_:
            raise click.UsageError("give --type (or --file)")
        event: dict[str, Any] = {"type": type_, "source": {"id": source_id}}
        if secret:
            event["source"]["secret"] = secret
        if event_id:
            event["id"] = event_id
        profile = {k: v for k, v in (("id", profile_id), ("email", email)) if v}
        if profile:
            event["profile"] = profile
        if session_id:
            event["session"] = {"id": session_id}
        event["properties"] = _pairs(properties, "--property")
        payload = orjson.dumps(event)
    if fmt:
        kafka_headers.append(("format", fmt.encode()))
    _produce(settings, [(payload, kafka_headers)])


def _post_samples(settings: Settings, fmt: str, count: int) -> None:
    """Each sample to the collector endpoint its tool uses, with that tool's credentials."""
    import base64
    import os
    import urllib.error
    import urllib.request

    base = os.environ.get("EVENTWIRE_COLLECTOR_URL", f"http://127.0.0.1:{settings.web_port}")
    for n in range(count):
        payload, sample_headers = sample(fmt, n)
        headers = {k: v.decode() for k, v in sample_headers.items()}
        path = HTTP_PATHS[fmt]
        if fmt == "segment":  # the write key as basic auth's user, as the SDKs send it
            key = headers.pop("source")
            headers["Authorization"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        elif fmt == "talon":
            path += f"?source={headers.pop('source')}"
        headers["Content-Type"] = "application/json"
        request = urllib.request.Request(base + path, payload, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                click.echo(f"{path}: {response.status} {response.read().decode()}")
        except urllib.error.HTTPError as exc:
            raise click.ClickException(f"{path}: {exc.code} {exc.read().decode()}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            raise click.ClickException(f"cannot reach the collector at {base}: {reason}") from None


def _produce(settings: Settings, payloads: list[tuple[bytes, list[tuple[str, bytes]]]]) -> None:
    from eventwire.cli.kafka_io import produce

    topic = Topics(settings.topic_prefix).raw
    for partition, offset in asyncio.run(produce(settings.kafka_bootstrap, topic, payloads)):
        click.echo(f"sent to {topic} partition {partition} offset {offset}")


@cli.command()
@click.argument("topic")
@click.option("--from-beginning", is_flag=True, help="Start at the oldest record.")
@click.option("--type", "types", multiple=True, help="Only records of this type (repeatable).")
@click.option("--max", "limit", type=int, help="Stop after this many records.")
@click.option("--idle-timeout", type=float, help="Stop after this many seconds with no record.")
def tail(
    topic: str,
    from_beginning: bool,
    types: tuple[str, ...],
    limit: int | None,
    idle_timeout: float | None,
) -> None:
    """Follow TOPIC (events, rejected, effects, ... or a full topic name) and pretty-print it."""
    settings = Settings()
    name = topic if topic.startswith(settings.topic_prefix) else settings.topic_prefix + topic
    asyncio.run(_tail(settings, name, from_beginning, set(types), limit, idle_timeout))


async def _tail(
    settings: Settings,
    topic: str,
    from_beginning: bool,
    types: set[str],
    limit: int | None,
    idle_timeout: float | None,
) -> None:
    from eventwire.cli.kafka_io import follow

    shown = 0
    async for record in follow(settings.kafka_bootstrap, topic, from_beginning, idle_timeout):
        try:
            value: Any = orjson.loads(record.value) if record.value else None
        except orjson.JSONDecodeError:
            value = (record.value or b"").decode("utf-8", errors="replace")
        if types and not (isinstance(value, dict) and value.get("type") in types):
            continue
        colour = sys.stdout.isatty()
        heading = f"# {record.topic}/{record.partition}@{record.offset}"
        if isinstance(value, dict) and value.get("type"):
            heading += f"  {value['type']}"
        click.echo(click.style(heading, fg="cyan", bold=True) if colour else heading)
        text = json.dumps(value, indent=2, ensure_ascii=False)
        if colour and isinstance(value, dict) and "reasons" in value:
            text = click.style(text, fg="red")
        click.echo(text)
        sys.stdout.flush()
        shown += 1
        if limit is not None and shown >= limit:
            return


@cli.group()
def triggers() -> None:
    """Triggers: list, get, apply, enable/disable, delete, and test on sample documents."""


register_trigger_commands(triggers)
triggers.add_command(triggers_backtest)
cli.add_command(definitions)
cli.add_command(sources)
cli.add_command(profiles)
cli.add_command(stats)
cli.add_command(replay_rejected)
cli.add_command(validate)


@triggers.command("test")
@click.argument("trigger_file", type=click.Path(exists=True, dir_okay=False))
@click.argument("documents_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
def triggers_test(trigger_file: str, documents_file: str) -> None:
    """Would TRIGGER_FILE fire for each document in DOCUMENTS_FILE (YAML or JSON)? Says which
    condition failed and what it would do; touches nothing."""
    import time

    from eventwire.config_loader import load_yaml
    from eventwire.core.triggers.compiled import TriggerError
    from eventwire.core.triggers.dry_run import dry_run

    trigger = load_yaml(Path(trigger_file).read_text())
    text = sys.stdin.read() if documents_file == "-" else Path(documents_file).read_text()
    documents = load_yaml(text)
    try:
        result = dry_run(trigger, documents, int(time.time() * 1000))
    except TriggerError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(2)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


@cli.command("bench-backtest")
@click.option("--events", default=200_000, show_default=True, help="Accepted events to replay.")
@click.option("--profiles", default=20_000, show_default=True, help="Profiles they belong to.")
@click.option(
    "--trigger",
    "trigger_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="A trigger to backtest against the shipped ones (a changed one: its diff).",
)
@click.option("--table", is_flag=True, help="Print the backtest's table, as the CLI does.")
@click.option("--plot", default=None, type=click.Path(dir_okay=False), help="Fires per day.")
def bench_backtest_command(
    events: int, profiles: int, trigger_file: str | None, table: bool, plot: str | None
) -> None:
    """How fast ``triggers backtest`` replays: N events over 30 days, the shipped triggers."""
    from eventwire.bench.backtest import bench_backtest
    from eventwire.cli.backtest import fires_per_day_plot
    from eventwire.cli.backtest import table as backtest_table
    from eventwire.config_loader import load_yaml
    from eventwire.gc_tuning import tune_gc

    candidate = load_yaml(Path(trigger_file).read_text()) if trigger_file else None
    tune_gc()
    result = asyncio.run(bench_backtest(Settings(), events, profiles, candidate))
    answer = result.pop("answer")
    if plot:
        fires_per_day_plot(answer, plot)
    if table:
        click.echo(backtest_table(answer))
    click.echo(json.dumps(result))


@cli.command("bench-collector")
@click.option("--requests", default=5_000, show_default=True, help="Single-event requests.")
@click.option("--concurrency", default=32, show_default=True, help="Connections at once.")
def bench_collector_command(requests: int, concurrency: int) -> None:
    """How fast the HTTP collector takes single events and 100-event batches, beside the
    Kafka path in the same run."""
    from eventwire.bench.collector import bench_collector

    click.echo(json.dumps(asyncio.run(bench_collector(Settings(), requests, concurrency))))


@cli.command("bench")
@click.option("--events", default=20_000, show_default=True, help="Raw messages in the stream.")
@click.option("--replicas", default="1,2", show_default=True, help="Replica counts to run.")
@click.option(
    "--paced",
    default=5_000,
    show_default=True,
    help="Messages sent at half the measured rate, for latency (0: skip).",
)
@click.option(
    "--paced-rate",
    default=0.0,
    show_default=True,
    help="Rate of the paced messages, msg/s (0: half the measured rate).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--profile",
    "profile_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Record every replica with py-spy (collapsed stacks) into this folder.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the paced runs' latency distribution as a PNG (needs matplotlib).",
)
@click.option(
    "--peer",
    type=click.Choice(["faust"]),
    help="Also run the messages through this peer pipeline (plain Faust, message by message).",
)
@click.option(
    "--guarantee",
    type=click.Choice(["exactly_once", "at_least_once"]),
    help="EVENTWIRE_GUARANTEE for the replicas (default: the setting's).",
)
def bench_command(
    events: int,
    replicas: str,
    paced: int,
    paced_rate: float,
    as_json: bool,
    profile_dir: Path | None,
    plot_path: Path | None,
    peer: str | None,
    guarantee: str | None,
) -> None:
    """Measure the pipeline against a bare aiokafka loop over the same messages."""
    from eventwire.bench.run import bench

    settings = Settings(guarantee=guarantee) if guarantee else Settings()
    counts = [int(r) for r in replicas.split(",") if r.strip()]
    bars: dict[str, Any] = {}

    def progress(label: str, done: int, total: int) -> None:
        if as_json:
            return
        bar = bars.get(label)
        if bar is None:
            bar = bars[label] = click.progressbar(length=total, label=label.ljust(14))
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    result = asyncio.run(
        bench(
            settings,
            events,
            counts,
            settings.config_dir,
            progress,
            paced,
            profile_dir,
            plot_path,
            paced_rate,
            peer,
        )
    )
    if as_json:
        click.echo(json.dumps(result))
        return

    def _or_na(value: float | None) -> str:
        return "n/a" if value is None else str(value)

    click.echo(
        f"\nbare aiokafka loop: {result['bare_loop_events_per_s']:,} messages/s, "
        f"{result['bare_loop_cpu_us_per_event']} µs CPU/message"
    )
    for run in result["runs"]:
        click.echo(
            f"{run['replicas']} replica(s): {run['events_per_s']:,} messages/s, "
            f"latency p50 {run['p50_ms']} ms, p95 {run['p95_ms']} ms, p99 {run['p99_ms']} ms, "
            f"peak RSS {run['peak_rss_mb']} MB, {run['cpu_us_per_event']} µs CPU/message, "
            f"{_or_na(run['redis_cpu_us_per_event'])} µs Redis CPU/message, "
            f"{run['redis_round_trips_per_event']} Redis round trips/message, "
            f"commit retries {_or_na(run['commit_retry_fraction'])}"
        )
        if run["paced_latency"]:
            paced_latency = run["paced_latency"]
            click.echo(
                f"   paced at {run['paced_rate']:,}/s: p50 {paced_latency['p50_ms']} ms, "
                f"p95 {paced_latency['p95_ms']} ms, p99 {paced_latency['p99_ms']} ms"
            )
    click.echo(f"ratio (1 replica / bare loop): {result['ratio']}")
    if result["peer"]:
        other = result["peer"]
        click.echo(
            f"{other['name']} peer: {other['events_per_s']:,} messages/s, "
            f"{other['cpu_us_per_event']} µs CPU/message, "
            f"{_or_na(other['redis_cpu_us_per_event'])} µs Redis CPU/message"
        )
        click.echo(f"peer ratio (1 replica / {other['name']} peer): {result['peer_ratio']}")
