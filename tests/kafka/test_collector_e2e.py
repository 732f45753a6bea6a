"""The HTTP collector on a worker's web port: each vendor document's own example posted to
its endpoint with its own credentials, answered as the original API answers (Tracardi's
profile id is the one on the accepted events, the event ids are those the worker gives),
the fast refusals, CORS; and real SDKs nobody here wrote (Segment's and RudderStack's
Python libraries) sending tracks, identifies and an alias that end on one profile."""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest

from eventwire.redis_store.connection import connect
from eventwire.redis_store.keys import Keys
from eventwire.redis_store.owners import OwnerStore
from tests.conftest import ROOT
from tests.kafka.harness import Cluster, collect, eventually, run_eventwire

pytestmark = [pytest.mark.services]
SEEDS = ROOT / "tests" / "data" / "seeds"
CONFIG = ROOT / "tests" / "data" / "config"
WRITE_KEY = "sdk-write-key"


def post(
    port: int, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, Any, dict[str, str]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method="POST", headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers)


def preflight(port: int) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/track",
        method="OPTIONS",
        headers={"Origin": "https://shop.example.com"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers.get("Access-Control-Allow-Methods", "")


async def apost(*args: Any, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
    return await asyncio.to_thread(post, *args, **kwargs)


def config_with_sdk_source(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "sources" / "sdk.json").write_bytes(
        orjson.dumps([{"id": WRITE_KEY, "allow_undeclared": True}])
    )
    (config / "triggers").mkdir(exist_ok=True)
    (config / "triggers" / "points.json").write_bytes(
        orjson.dumps(
            [
                {
                    "id": "points",
                    "on": "order.completed",
                    "actions": [{"type": "award_points", "amount": "$event.properties.total"}],
                }
            ]
        )
    )
    return config


@pytest.fixture
async def collector(services, names, tmp_path):
    cluster = Cluster(
        names,
        services["kafka"],
        config_with_sdk_source(tmp_path),
        tmp_path,
        settings={"collector_origins": "https://shop.example.com", "max_message_bytes": "65536"},
    )
    await cluster.create_topics()
    worker = cluster.add_worker()
    await worker.wait_ready(cluster.topics.raw)
    yield cluster, worker
    cluster.stop_all()


async def test_each_vendor_example_through_its_endpoint(collector):
    cluster, worker = collector
    port = worker.port
    talon = (SEEDS / "talon_track_event.fixed.json").read_bytes()
    status, talon_answer, _ = await apost(
        port,
        "/v1/events?source=talon-app",
        talon,
        {"Authorization": "ApiKey-v1 953f4d85715c425cb48676", "Content-Type": "application/json"},
    )
    assert status == 202, talon_answer
    status, simon_answer, _ = await apost(
        port, "/http/v1/collect", (SEEDS / "simon_custom_event.json").read_bytes()
    )
    assert status == 202, simon_answer
    status, full, _ = await apost(port, "/track", (SEEDS / "tracardi_full.json").read_bytes())
    assert status == 200, full
    status, new, _ = await apost(
        port, "/track", (SEEDS / "tracardi_required_only.json").read_bytes()
    )
    assert status == 200, new
    given = orjson.loads((SEEDS / "tracardi_full.json").read_bytes())["profile"]["id"]
    assert full == {"profile": {"id": given}}

    got = await collect(
        cluster.kafka,
        [cluster.topics.events, cluster.topics.rejected],
        lambda c: (
            len(c.accepted(cluster.topics.events)) + len(c.of(cluster.topics.rejected))
            >= 2 + len(orjson.loads((SEEDS / "tracardi_full.json").read_bytes())["events"]) + 2
        ),
        60,
    )
    events = got.accepted(cluster.topics.events)
    ids = {e["id"]: e for e in events}
    assert got.of(cluster.topics.rejected) == []
    [talon_id] = talon_answer["event_ids"]
    assert ids[talon_id]["format"] == "talon"
    [simon_id] = simon_answer["event_ids"]
    assert ids[simon_id]["format"] == "simon"
    # The profile the answer named for a payload without one is the one the worker created.
    tracardi = {e["profile_id"] for e in events if e["format"] == "tracardi"}
    assert tracardi == {given, new["profile"]["id"]}


async def test_fast_refusals_and_cors(collector):
    _, worker = collector
    port = worker.port
    track = (SEEDS / "tracardi_required_only.json").read_bytes()
    status, body, _ = await apost(port, "/track", b"{not json")
    assert (status, body["error"]) == (400, "malformed_json")
    status, body, _ = await apost(port, "/track", b'{"pad": "' + b"x" * 70_000 + b'"}')
    assert (status, body["error"]) == (413, "too_large")
    status, body, _ = await apost(
        port,
        "/v1/events?source=talon-app",
        b'{"type": "x"}',
        {"Authorization": "ApiKey-v1 NOT-THE-KEY-77"},
    )
    assert (status, body["error"]) == (401, "unauthorized")
    assert "NOT-THE-KEY-77" not in json.dumps(body)
    status, body, _ = await apost(
        port, "/v1/batch", b'{"batch": [{"type": "track", "userId": "u", "event": "e"}]}'
    )
    assert (status, body["error"]) == (401, "unauthorized")  # no write key
    status, _, headers = await apost(port, "/track", track, {"Origin": "https://shop.example.com"})
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    status, _, headers = await apost(port, "/track", track, {"Origin": "https://evil.example"})
    assert status == 200
    assert "Access-Control-Allow-Origin" not in headers
    status, allowed = await asyncio.to_thread(preflight, port)
    assert status == 204
    assert "POST" in allowed


async def test_real_sdks_send_and_their_calls_end_on_one_profile(collector, services):
    from rudderstack.analytics.client import Client as RudderClient
    from segment.analytics.client import Client as SegmentClient

    cluster, worker = collector
    redis_url = services["redis"]
    host = f"http://127.0.0.1:{worker.port}"
    segment = SegmentClient(WRITE_KEY, host=host, sync_mode=True, max_retries=1)
    rudder = RudderClient(WRITE_KEY, host=host, sync_mode=True, max_retries=1)
    events = cluster.topics.events

    async def accepted(n: int) -> Any:
        return await collect(cluster.kafka, [events], lambda c: len(c.accepted(events)) >= n, 60)

    def calls() -> None:
        segment.identify("sdk-user", {"email": "SDK.User@Example.com", "plan": "pro"})
        segment.track("sdk-user", "order.completed", {"order_id": "s-1", "total": 12})

    await asyncio.to_thread(calls)
    await accepted(2)
    await asyncio.to_thread(rudder.alias, "device-42", "sdk-user")
    await accepted(3)
    await asyncio.to_thread(
        rudder.track,
        event="order.completed",
        properties={"order_id": "r-1", "total": 30},
        anonymous_id="device-42",
    )
    got = await accepted(4)
    mine = got.accepted(events)
    assert [e["type"] for e in mine] == [
        "profile.update",
        "order.completed",
        "profile.alias",
        "order.completed",
    ]
    assert {e["format"] for e in mine} == {"segment"}
    assert len({e["profile_id"] for e in mine}) == 1, [e["profile_id"] for e in mine]
    profile_id = mine[0]["profile_id"]

    async def points() -> bool:
        redis = connect(redis_url)
        try:
            profile = await OwnerStore(redis, Keys(cluster.names.redis_prefix)).profile(profile_id)
        finally:
            await redis.aclose()
        if profile is None:
            return False
        return bool(profile["points"] == 42 and profile["traits"].get("plan") == "pro")

    await eventually(points, 30, "both orders' points on the one profile")


async def test_send_http_posts_every_formats_samples_through_the_collector(
    services, names, tmp_path
):
    """``eventwire send --http``: the shipped config's own sources, each format's samples to
    its endpoint with its credentials, all accepted."""
    cluster = Cluster(names, services["kafka"], ROOT / "config", tmp_path)
    await cluster.create_topics()
    worker = cluster.add_worker()
    env = {**worker.env, "EVENTWIRE_COLLECTOR_URL": f"http://127.0.0.1:{worker.port}"}
    formats = ["tracardi", "talon", "simon", "arsel", "segment"]
    try:
        await worker.wait_ready(cluster.topics.raw)
        for fmt in formats:
            done = await run_eventwire(env, "send", "--http", "--format", fmt, "--count=2")
            assert done.returncode == 0, (fmt, done.stdout, done.stderr)
        got = await collect(
            cluster.kafka,
            [cluster.topics.events, cluster.topics.rejected],
            lambda c: {e["format"] for e in c.accepted(cluster.topics.events)} >= set(formats),
            60,
        )
    finally:
        cluster.stop_all()
    assert got.of(cluster.topics.rejected) == []
