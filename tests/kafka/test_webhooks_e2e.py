"""Webhook delivery through a running worker, to local aiohttp receivers on loopback only."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from eventwire.core import ids
from eventwire.core.webhooks.signing import verify
from tests.conftest import ROOT, free_port
from tests.kafka.harness import Cluster, caught_up, collect, eventually, no_webhook_jobs, produce

pytestmark = [pytest.mark.services, pytest.mark.slow]
SECRET = "whsec-e2e"
ELSEWHERE = web.AppKey("elsewhere", str)
CONFIG = ROOT / "tests" / "data" / "config"
SETTINGS = {
    "webhook_allowed_hosts": "127.0.0.1",
    "webhook_secret": SECRET,
    "webhook_first_backoff": "300ms",
    "webhook_max_backoff": "1s",
    "webhook_max_attempts": "4",
    "webhook_max_total": "60s",
    "webhook_read_timeout": "1s",
    "webhook_connect_timeout": "1s",
    "webhook_lease": "5s",
}


@dataclass
class Receiver:
    """Counts every request by idempotency key; each path misbehaves its own way."""

    names: dict[str, str]  # effect id -> the test's name for it
    fail_first: int = 2
    calls: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    bad_signatures: int = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key", "")
        key = self.names.get(key, key)
        body = await request.read()
        if not verify(
            SECRET, request.headers.get("Eventwire-Signature", ""), body, int(time.time())
        ):
            self.bad_signatures += 1
        seen = len(self.calls[key])
        path = request.path
        status = 200
        if path == "/flaky" and seen < self.fail_first:
            status = 500
        elif path == "/slow" and seen == 0:
            self.calls[key].append(0)
            await asyncio.sleep(3)  # past the 1 s read timeout
            return web.Response(status=200)
        elif path == "/close" and seen == 0:
            self.calls[key].append(-1)
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=200)
        elif path == "/down":
            status = 500
        elif path == "/redirect-out":
            self.calls[key].append(302)
            raise web.HTTPFound(request.app[ELSEWHERE])
        self.calls[key].append(status)
        return web.Response(status=status, text="ok" * 50_000)  # more than eventwire reads

    def delivered(self, key: str) -> int:
        return self.calls[key].count(200)


async def serve(
    host: str, port: int, receiver: Receiver | None, hits: list[str], elsewhere: str = ""
) -> web.AppRunner:
    app = web.Application()

    async def any_request(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        if receiver is None:
            return web.Response(status=200)
        return await receiver.handle(request)

    app.router.add_route("*", "/{tail:.*}", any_request)
    app[ELSEWHERE] = elsewhere
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def until(condition, timeout: float) -> None:
    """Poll ``condition`` (state another process changes) until it holds or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.1)


def hooks(tmp_path: Path, plan: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """The test configuration plus one webhook trigger per name in ``plan`` (fired by the
    event made by ``hook_event``), and the effect id each name's webhook will carry."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "triggers").mkdir(exist_ok=True)
    triggers = [
        {
            "id": f"hook-{name}",
            "on": "webhook.requested",
            "when": {"event.properties.name": name},
            "actions": [
                {
                    "type": "call_webhook",
                    "url": url,
                    "method": "POST",
                    "headers": {"X-Team": "support"},
                    "body": {"id": name},
                }
            ],
        }
        for name, url in plan.items()
    ]
    (config / "triggers" / "hooks.json").write_bytes(orjson.dumps(triggers))
    # A producer id is scoped by its source (backend) in what it causes.
    names = {
        ids.derived_id("effect", f"backend/e-{name}", f"hook-{name}", 0): name for name in plan
    }
    return config, names


def hook_event(name: str) -> bytes:
    """An event the process stage turns into the webhook effect of ``name``."""
    return orjson.dumps(
        {
            "id": f"e-{name}",
            "type": "webhook.requested",
            "source": {"id": "backend"},
            "profile": {"id": "p-1"},
            "properties": {"name": name},
        }
    )


async def test_deliveries_retry_sign_refuse_and_dead_letter(services, names, tmp_path):
    hits, stray = list[str](), list[str]()
    port, stray_port = free_port(), free_port()
    elsewhere = await serve("127.0.0.2", stray_port, None, stray)
    receiver = Receiver({})
    runner = await serve(
        "127.0.0.1", port, receiver, hits, elsewhere=f"http://127.0.0.2:{stray_port}/landing"
    )
    base = f"http://127.0.0.1:{port}"
    plan = {
        **{f"flaky-{i}": f"{base}/flaky" for i in range(5)},
        "slow": f"{base}/slow",
        "close": f"{base}/close",
        "down": f"{base}/down",
        "direct": f"http://127.0.0.2:{stray_port}/x",
        "redirect": f"{base}/redirect-out",
        "no-such-host": "http://localhost.invalid/x",
    }
    config, effect_names = hooks(tmp_path, plan)
    receiver.names.update(effect_names)
    cluster = Cluster(names, services["kafka"], config, tmp_path, settings=SETTINGS)
    await cluster.create_topics()
    worker = cluster.add_worker()
    try:
        await worker.wait_ready(cluster.topics.raw)
        # Each event twice, as a producer retry would send it: the retry is a duplicate_event.
        no_headers: dict[str, bytes] = {}
        messages = [(hook_event(k), no_headers) for k in plan] * 2
        await produce(cluster.kafka, cluster.topics.raw, messages)
        dead = await collect(
            cluster.kafka,
            [cluster.topics.deadletter],
            lambda c: (
                len(c.of(cluster.topics.deadletter)) >= 4
                and all(
                    receiver.delivered(k) for k in plan if k.startswith(("flaky", "slow", "close"))
                )
            ),
            timeout=60,
        )
        # Every job final (none due or leased), and the stage has applied every dead letter
        # handed to it: no other letter can come, so everything on deadletter is read.
        await eventually(
            lambda: no_webhook_jobs(services["redis"], names.redis_prefix),
            30,
            "every webhook job final",
        )
        await caught_up(cluster.kafka, names.app_id, [cluster.topics.timers], 30)
        dead = await collect(
            cluster.kafka, [cluster.topics.deadletter], lambda c: True, timeout=30, to_end=True
        )
        metrics = await asyncio.to_thread(scrape, worker.port)
    finally:
        cluster.stop_all()
        await runner.cleanup()
        await elsewhere.cleanup()

    for key in [*[f"flaky-{i}" for i in range(5)], "slow", "close"]:
        assert receiver.delivered(key) == 1, (key, receiver.calls[key])
    assert receiver.calls["flaky-0"] == [500, 500, 200]
    assert receiver.calls["slow"][0] == 0
    assert receiver.calls["close"][0] == -1
    assert receiver.bad_signatures == 0
    letters = {effect_names[d["effect"]["id"]]: d for d in dead.of(cluster.topics.deadletter)}
    assert sorted(letters) == ["direct", "down", "no-such-host", "redirect"]
    assert [a["status"] for a in letters["down"]["attempts"]] == [500, 500, 500, 500]
    assert letters["down"]["last_error"] == "HTTP 500"
    assert "not in EVENTWIRE_WEBHOOK_ALLOWED_HOSTS" in letters["direct"]["last_error"]
    assert len(letters["direct"]["attempts"]) == 1
    assert "redirect to another host" in letters["redirect"]["last_error"]
    assert receiver.calls["redirect"] == [302]
    assert stray == []  # nothing ever reached 127.0.0.2
    assert "not in EVENTWIRE_WEBHOOK_ALLOWED_HOSTS" in letters["no-such-host"]["last_error"]
    assert SECRET not in worker.log_path.read_text()
    assert metrics[("eventwire_webhook_deliveries_total", (("result", "delivered"),))] == 7
    assert metrics[("eventwire_webhook_deliveries_total", (("result", "dead"),))] == 4
    assert metrics[("eventwire_webhook_attempts_total", (("outcome", "refused"),))] == 3
    assert (
        metrics[("eventwire_webhook_retries_total", ())]
        == sum(len(calls) for calls in receiver.calls.values()) - 7 - 1 - 1
    )  # every failed attempt but the last of "down" and the refused redirect


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """The worker's /metrics, parsed by prometheus-client's own parser."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_each_effect_is_delivered_once_when_the_replica_is_killed_mid_retry(
    services, names, tmp_path
):
    count = int(os.environ.get("EVENTWIRE_TEST_WEBHOOKS", "30"))
    hits = list[str]()
    port = free_port()
    keys = [f"kill-{i}" for i in range(count)]
    config, effect_names = hooks(tmp_path, {k: f"http://127.0.0.1:{port}/flaky" for k in keys})
    receiver = Receiver(effect_names, fail_first=3)
    runner = await serve("127.0.0.1", port, receiver, hits)
    cluster = Cluster(
        names,
        services["kafka"],
        config,
        tmp_path,
        settings={
            **SETTINGS,
            "webhook_max_attempts": "6",
            "webhook_first_backoff": "1s",
            "webhook_max_backoff": "2s",
        },
    )
    await cluster.create_topics()
    worker = cluster.add_worker()
    try:
        await worker.wait_ready(cluster.topics.raw)
        await produce(cluster.kafka, cluster.topics.raw, [(hook_event(k), {}) for k in keys])
        await until(lambda: sum(len(receiver.calls[k]) for k in keys) >= count, 30)
        worker.kill()  # every job has failed once and waits for its retry
        calls_at_kill = sum(len(receiver.calls[k]) for k in keys)
        worker.start()
        await until(lambda: all(receiver.delivered(k) for k in keys), 60)
        # No job is left due or leased: none can be delivered again.
        await eventually(
            lambda: no_webhook_jobs(services["redis"], names.redis_prefix),
            30,
            "every webhook job final",
        )
    finally:
        cluster.stop_all()
        await runner.cleanup()
    assert calls_at_kill >= count
    assert Counter(receiver.delivered(k) for k in keys) == {1: count}
    assert all(receiver.calls[k][:3] == [500, 500, 500] for k in keys)
