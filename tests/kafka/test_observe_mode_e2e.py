"""A definition in observe mode on the real broker and Redis: violating events are accepted
with their violations on them, counted in /metrics (by type and code) and in /v1/stats; a
definition switched to enforce then rejects the same event."""

from __future__ import annotations

import shutil

import orjson
import pytest

from tests.kafka.harness import Cluster, collect, produce
from tests.kafka.test_admin_api_e2e import CONFIG, TOKEN, acall, scrape

pytestmark = [pytest.mark.services]
OBSERVED = {
    "name": "page.viewed",
    "mode": "observe",
    "fields": [
        {"name": "url", "type": "string", "required": True, "max_length": 200},
        {"name": "seconds", "type": "integer", "minimum": 0},
    ],
}


def view(i: int, properties: dict) -> bytes:
    return orjson.dumps(
        {
            "id": f"view-{i}",
            "type": "page.viewed",
            "source": {"id": "web", "secret": "web-secret-123"},
            "profile": {"id": "p-observe"},
            "properties": properties,
        }
    )


async def test_observe_mode_accepts_lists_and_counts_violations(services, names, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "definitions" / "page.viewed.json").write_bytes(orjson.dumps(OBSERVED))
    cluster = Cluster(names, services["kafka"], config, tmp_path, settings={"admin_token": TOKEN})
    await cluster.create_topics()
    worker = cluster.add_worker()
    try:
        await worker.wait_ready(cluster.topics.raw)
        await produce(
            cluster.kafka,
            cluster.topics.raw,
            [
                (view(1, {"url": "/a"}), {}),  # valid
                (view(2, {"seconds": -3}), {}),  # url missing, seconds below its minimum
                (view(3, {"url": 7, "seconds": "12", "ref": "x"}), {}),
            ],
        )
        got = await collect(
            cluster.kafka,
            [cluster.topics.events],
            lambda c: len(c.accepted(cluster.topics.events)) >= 3,
            60,
        )
        events = {e["id"]: e for e in got.accepted(cluster.topics.events)}
        assert "violations" not in events["view-1"]
        assert [(v["code"], v["field"]) for v in events["view-2"]["violations"]] == [
            ("missing_field", "properties.url"),
            ("invalid_value", "properties.seconds"),
        ]
        assert sorted((v["code"], v["field"]) for v in events["view-3"]["violations"]) == [
            ("unknown_field", "properties.ref"),
            ("wrong_type", "properties.seconds"),
            ("wrong_type", "properties.url"),
        ]
        assert not got.of(cluster.topics.rejected)

        expected = {"missing_field": 1, "invalid_value": 1, "unknown_field": 1, "wrong_type": 2}
        status, stats = await acall(worker.port, "GET", "/v1/stats")
        assert status == 200
        assert stats["violations"] == {"page.viewed": expected}
        assert stats["accepted"] == {"page.viewed": 3}
        metrics = scrape(worker.port)
        for code, n in expected.items():
            line = f'eventwire_violations_total{{code="{code}",type="page.viewed"}} {float(n)}'
            assert line in metrics, (line, metrics)

        # Enforce it: a new version, not breaking; the same event is now rejected.
        status, change = await acall(
            worker.port, "POST", "/v1/definitions", {**OBSERVED, "mode": "enforce"}
        )
        assert (status, change["version"], change["breaking"]) == (201, 2, []), change
        status, definition = await acall(worker.port, "GET", "/v1/definitions/page.viewed")
        assert definition["mode"] == "enforce"
        await produce(cluster.kafka, cluster.topics.raw, [(view(4, {"seconds": -3}), {})])
        got = await collect(
            cluster.kafka,
            [cluster.topics.rejected],
            lambda c: len(c.of(cluster.topics.rejected)) >= 1,
            60,
        )
        [rejection] = got.of(cluster.topics.rejected)
        assert rejection["event_id"] == "view-4"
        assert {r["code"] for r in rejection["reasons"]} == {"missing_field", "invalid_value"}
    finally:
        cluster.stop_all()
