"""The management CLI against a running worker, replay of fixed rejections with their ids, and
the worker's JSON logs."""

from __future__ import annotations

import json

import orjson
import pytest

from tests.conftest import ROOT
from tests.kafka.harness import Cluster, collect, eventually, produce, run_eventwire

pytestmark = [pytest.mark.services, pytest.mark.slow]
TOKEN = "cli-admin-token"


async def test_manage_replay_and_logs(services, names, tmp_path):
    cluster = Cluster(
        names,
        services["kafka"],
        ROOT / "tests" / "data" / "config",
        tmp_path,
        settings={"admin_token": TOKEN, "log_level": "info"},
    )
    await cluster.create_topics()
    worker = cluster.add_worker()
    env = {**worker.env, "EVENTWIRE_ADMIN_URL": f"http://127.0.0.1:{worker.port}"}

    async def cli(*args: str, stdin: str | None = None) -> str:
        done = await run_eventwire(env, *args, stdin=stdin)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    review = {
        "id": "r-1",
        "type": "review.posted",
        "source": {"id": "web", "secret": "web-secret-123"},
        "profile": {"id": "p-cli", "email": "ann+news@example.org"},
        "properties": {"rating": 4},
    }
    try:
        await worker.wait_ready(cluster.topics.raw)
        await produce(cluster.kafka, cluster.topics.raw, [(orjson.dumps(review), {})])
        rejected = await collect(
            cluster.kafka,
            [cluster.topics.rejected],
            lambda c: len(c.of(cluster.topics.rejected)) >= 1,
            60,
        )
        [rejection] = rejected.of(cluster.topics.rejected)
        assert [r["code"] for r in rejection["reasons"]] == ["unknown_event_type"]

        definition = tmp_path / "review.yaml"
        definition.write_text(
            "name: review.posted\nfields:\n  - {name: rating, type: integer, required: true}\n"
        )
        before = (worker.health() or {})["config_version"]
        assert "review.posted: version 1" in await cli("definitions", "apply", str(definition))
        assert "review.posted  v1" in await cli("definitions", "list")
        trigger = tmp_path / "trigger.yaml"
        trigger.write_text(
            "id: thanks\non: review.posted\nactions: [{grant_badge: {badge: reviewer}}]\n"
        )
        assert "created thanks" in await cli("triggers", "apply", str(trigger))
        assert "replaced thanks" in await cli("triggers", "apply", str(trigger))
        assert "thanks  on review.posted" in await cli("triggers", "list")
        # The worker's registry takes the changes (it checks every 500 ms): the definition
        # and the trigger are two versions past what it had before them.
        await eventually(
            lambda: (worker.health() or {}).get("config_version", -1) >= before + 2,
            30,
            "the changes in force on the worker",
        )

        out = await cli(
            "replay-rejected", "--code", "unknown_event_type", "--secret", "web-secret-123"
        )
        assert "replayed 1 rejected messages" in out
        accepted = await collect(
            cluster.kafka,
            [cluster.topics.events],
            lambda c: len(c.accepted(cluster.topics.events)) >= 1,
            60,
        )
        [event] = accepted.accepted(cluster.topics.events)
        assert (event["id"], event["type"], event["definition_version"]) == (
            "r-1",
            "review.posted",
            1,
        )
        assert event["id"] == rejection["event_id"]

        profile = json.loads(await cli("profiles", "get", "p-cli"))
        assert profile["counters"] == {"review.posted": 1}
        # An email with a "+" is found by it: the query is encoded, so "+" is not a space.
        found = json.loads(await cli("profiles", "get", "--email", "Ann+News@Example.org"))
        assert found["id"] == "p-cli"
        assert profile["badges"] == ["reviewer"]
        stats = await cli("stats")
        assert "1  review.posted" in stats
        assert "1  unknown_event_type" in stats
        assert "web  secret" in await cli("sources", "list")
        assert "disabled thanks" in await cli("triggers", "disable", "thanks")
        assert "erased p-cli" in await cli("profiles", "delete", "p-cli", "--yes")
    finally:
        cluster.stop_all()

    lines = [line for line in worker.log_path.read_text().splitlines() if line.startswith("{")]
    assert lines, "the worker logs JSON lines when stderr is not a terminal"
    record = json.loads(lines[0])
    assert {"time", "level", "logger", "message"} <= set(record)
    log = worker.log_path.read_text()
    assert TOKEN not in log
    assert "web-secret-123" not in log
