"""The peer: the pipeline a typical user writes with Faust's documented API, for comparison.

``python -m eventwire.bench.peer_faust [--bootstrap ...] [--topic-prefix ...] [--redis-url ...]
[--redis-prefix ...] [--app-id ...] [--web-port ...]`` (defaults: the ``EVENTWIRE_*``
variables of the same names).

One agent, ``async for`` over the raw topic, message by message: a pydantic model parsed per
message (only the canonical fields it needs), one Redis pipeline per event (a counter per
event type and points, on the profile's hash), one ``topic.send`` per output. Anything that
is not a canonical event goes to ``rejected``. No identity, sessions, definitions or
triggers: it does less than eventwire, and that is the point of the comparison. It imports
nothing from eventwire, so it runs whatever state the worker's pipeline is in.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust
import redis.asyncio as redis
from faust.web import Request, Response, View
from pydantic import BaseModel, ConfigDict, ValidationError


class _Strict(BaseModel):
    # "12" is not a total: no coercion, as a definition would check it.
    model_config = ConfigDict(strict=True)


class Source(_Strict):
    id: str


class Profile(_Strict):
    id: str | None = None


class Properties(_Strict):
    model_config = ConfigDict(strict=True, extra="allow")  # forwarded as they came
    total: float | None = None


class Event(_Strict):
    """A canonical event, as far as this pipeline reads it; other keys are ignored."""

    type: str
    source: Source
    profile: Profile | None = None
    properties: Properties = Properties()


@dataclass(frozen=True)
class PeerConfig:
    bootstrap: str
    topic_prefix: str
    redis_url: str
    redis_prefix: str
    app_id: str
    web_port: int
    log_level: str = "warning"


def redis_client(url: str) -> Any:
    """redis.asyncio's client for the URL (``redis+cluster://`` for a Redis Cluster)."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.endswith("+cluster"):
        return redis.RedisCluster.from_url(f"{scheme.removesuffix('+cluster')}://{rest}")
    return redis.Redis.from_url(url)


def create_app(config: PeerConfig) -> faust.App:
    app = faust.App(
        config.app_id,
        broker=[f"kafka://{address.strip()}" for address in config.bootstrap.split(",")],
        web_host="127.0.0.1",
        web_bind="127.0.0.1",
        web_port=config.web_port,
        # Faust's default is ./<id>-data. Where eventwire's worker puts it, so the bench
        # removes it the same way.
        datadir=str(Path(tempfile.gettempdir()) / f"eventwire-{config.app_id}"),
    )
    raw = app.topic(f"{config.topic_prefix}raw", value_type=bytes, value_serializer="raw")
    events = app.topic(f"{config.topic_prefix}events", value_serializer="json")
    rejected = app.topic(f"{config.topic_prefix}rejected", value_serializer="json")
    store = redis_client(config.redis_url)

    @app.agent(raw, name="peer.process")
    async def process(stream: faust.StreamT[bytes]) -> None:
        async for value in stream:
            try:
                event = Event.model_validate_json(value or b"")
            except ValidationError as exc:
                payload = (value or b"").decode("utf-8", errors="replace")
                await rejected.send(value={"error": str(exc), "payload": payload})
                continue
            profile_id = event.profile.id if event.profile else None
            key = f"{config.redis_prefix}profile:{profile_id or 'anonymous'}"
            async with store.pipeline() as pipe:
                pipe.hincrby(key, f"count:{event.type}", 1)
                if event.properties.total is not None:
                    pipe.hincrby(key, "points", round(event.properties.total))
                await pipe.execute()
            await events.send(
                key=profile_id,
                value={
                    "type": event.type,
                    "source_id": event.source.id,
                    "profile_id": profile_id,
                    "properties": event.properties.model_dump(),
                },
            )

    @app.page("/healthz")
    async def healthz(web: View, request: Request) -> Response:
        """The partitions this process reads: the bench starts producing once all are owned."""
        partitions = sorted(f"{tp.topic}/{tp.partition}" for tp in app.consumer.assignment())
        return web.json({"partitions": partitions})

    @app.on_before_shutdown.connect
    async def _close_redis(*_: Any, **__: Any) -> None:
        await store.aclose()

    return app


def parse_args(argv: list[str] | None = None) -> PeerConfig:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", default=env("EVENTWIRE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    parser.add_argument("--topic-prefix", default=env("EVENTWIRE_TOPIC_PREFIX", "peer."))
    parser.add_argument(
        "--redis-url", default=env("EVENTWIRE_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--redis-prefix", default=env("EVENTWIRE_REDIS_PREFIX", "peer:"))
    parser.add_argument("--app-id", default=env("EVENTWIRE_APP_ID", "eventwire-peer"))
    parser.add_argument("--web-port", type=int, default=int(env("EVENTWIRE_WEB_PORT", "6067")))
    parser.add_argument("--log-level", default=env("EVENTWIRE_LOG_LEVEL", "warning"))
    args = parser.parse_args(argv)
    return PeerConfig(
        args.bootstrap,
        args.topic_prefix,
        args.redis_url,
        args.redis_prefix,
        args.app_id,
        args.web_port,
        args.log_level,
    )


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    worker = faust.Worker(create_app(config), loglevel=config.log_level.upper(), loop=loop)
    # As eventwire's worker does: at warning level Faust's spinner sets the root logger to
    # DEBUG, and every library debug call then builds a record. Compare pipelines, not that.
    worker.spinner = None
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
