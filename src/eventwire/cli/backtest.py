"""``eventwire triggers backtest``: what a trigger would have done over the events ``events``
still holds. Runs here, not in a worker: it reads the live triggers from Redis (read only)
and the events from Kafka, and touches nothing."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import click
import orjson

from eventwire.backtest.run import Request, backtest, when_ms
from eventwire.config_loader import load_yaml
from eventwire.core.durations import parse_duration
from eventwire.core.topics import Topics
from eventwire.gc_tuning import tune_gc
from eventwire.settings import Settings


async def live_triggers(settings: Settings) -> list[dict[str, Any]]:
    from eventwire.redis_store.config_store import ConfigStore
    from eventwire.redis_store.connection import connect
    from eventwire.redis_store.keys import Keys

    client = connect(settings.redis_url.get_secret_value())
    try:
        docs = await ConfigStore(client, Keys(settings.redis_prefix)).read()
    finally:
        await client.aclose()
    return docs.ordered_triggers()


@click.command("backtest")
@click.argument("trigger_file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--since", required=True, help="RFC 3339, or a duration back from now (30d).")
@click.option("--until", default=None, help="RFC 3339, or a duration back from now (now).")
@click.option("--alone", is_flag=True, help="Replay the trigger without the live ones.")
@click.option("--warmup", default=None, help="Replay this much before --since, uncounted.")
@click.option("--include-effects", is_flag=True, help="List the effect records too.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option("--plot", default=None, type=click.Path(dir_okay=False), help="Fires per day.")
def triggers_backtest(
    trigger_file: str | None,
    since: str,
    until: str | None,
    alone: bool,
    warmup: str | None,
    include_effects: bool,
    as_json: bool,
    plot: str | None,
) -> None:
    """Replay the events of a window through TRIGGER_FILE (or, without it, the live
    triggers) as the worker would have, and say what they would have done."""
    settings = Settings()
    now_ms = int(time.time() * 1000)
    try:
        request = Request(
            when_ms(since, now_ms),
            when_ms(until, now_ms) if until else now_ms,
            load_yaml(Path(trigger_file).read_text()) if trigger_file else None,
            alone,
            include_effects,
            int(parse_duration(warmup) * 1000) if warmup else 0,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc

    def progress(events: int, read: int) -> None:
        click.echo(f"\r{events:,} events replayed ({read:,} records read)", nl=False, err=True)

    async def run() -> dict[str, Any]:
        return await backtest(
            request,
            await live_triggers(settings),
            settings.kafka_bootstrap,
            Topics(settings.topic_prefix).events,
            int(settings.session_timeout * 1000),
            progress,
        )

    tune_gc()
    answer = asyncio.run(run())
    click.echo("", err=True)
    if plot:
        fires_per_day_plot(answer, plot)
    if as_json:
        sys.stdout.write(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    click.echo(table(answer))


def table(answer: dict[str, Any]) -> str:
    lines = [
        f"{answer['since']} → {answer['until']}: {answer['events']:,} events, "
        f"{answer['profiles']:,} profiles",
        f"{'trigger':<24} {'fires':>8} {'profiles':>9} {'points':>10}  effects",
    ]
    for trigger_id, report in answer["triggers"].items():
        effects = ", ".join(f"{k} {v}" for k, v in sorted(report["effects"].items()))
        lines.append(
            f"{trigger_id:<24} {report['fires']:>8,} {report['profiles']:>9,} "
            f"{report['points']:>10,}  {effects}"
        )
    if "diff" in answer:
        d = answer["diff"]
        lines.append(
            f"against the live version: fires +{d['fires_gained']} -{d['fires_lost']}, "
            f"profiles +{d['profiles_gained']} -{d['profiles_lost']}, "
            f"points {d['points_delta']:+,}"
        )
    if answer["log"]["starts_late"]:
        lines.append(f"the log starts only at {answer['log']['first_event_at']} (retention)")
    if answer["log"].get("trimmed_while_reading"):
        lines.append("retention removed records while they were read: some are missing")
    return "\n".join(lines)


def fires_per_day_plot(answer: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from datetime import date

    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4))
    for trigger_id, report in answer["triggers"].items():
        if not report["per_day"]:
            continue  # a trigger that never fired has no line
        days = [date.fromisoformat(d) for d in report["per_day"]]
        x = mdates.date2num(days)  # type: ignore[no-untyped-call]
        axes.plot(x, list(report["per_day"].values()), marker=".", label=trigger_id)
    axes.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=10))  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))  # type: ignore[no-untyped-call]
    axes.set_ylabel("fires per day")
    axes.set_title(f"{answer['since'][:10]} to {answer['until'][:10]}: {answer['events']:,} events")
    axes.legend()
    figure.autofmt_xdate()
    figure.savefig(path, dpi=100)
    plt.close(figure)
