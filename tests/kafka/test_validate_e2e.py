"""POST /v1/validate and ``eventwire validate`` against a running worker: for each message
the events or the rejection the worker itself makes of it, identity only read (a new profile
says so), secrets never echoed, and nothing written to Redis or any topic."""

from __future__ import annotations

import os

import orjson
import pytest

from tests.kafka.harness import Cluster, collect, produce, run_eventwire
from tests.kafka.test_admin_api_e2e import CONFIG, TOKEN, acall
from tests.kafka.test_backtest_e2e import live_things

pytestmark = [pytest.mark.services]
SECRET = "web-secret-123"


def canonical(event_id: str, profile: dict, **properties) -> dict:
    return {
        "id": event_id,
        "type": "order.completed",
        "source": {"id": "web", "secret": SECRET},
        "profile": profile,
        "properties": properties,
    }


GOOD = canonical("v-1", {"id": "p-known"}, order_id="A1", total=12.5)
BAD = canonical("v-2", {"id": "p-known"}, total="12", colour="red")
NEW = canonical("v-3", {"email": "Someone.New@Example.com"}, order_id="A2", total=3)


def comparable(event: dict) -> dict:
    return {k: v for k, v in event.items() if k not in ("received_at",)}


async def test_validate_answers_what_the_worker_does_and_writes_nothing(services, names, tmp_path):
    cluster = Cluster(names, services["kafka"], CONFIG, tmp_path, settings={"admin_token": TOKEN})
    await cluster.create_topics()
    worker = cluster.add_worker()
    try:
        await worker.wait_ready(cluster.topics.raw)
        # The worker's own answer for the same messages, and a known profile.
        await produce(
            cluster.kafka, cluster.topics.raw, [(orjson.dumps(GOOD), {}), (orjson.dumps(BAD), {})]
        )
        live = await collect(
            cluster.kafka,
            [cluster.topics.events, cluster.topics.rejected],
            lambda c: bool(c.accepted(cluster.topics.events) and c.of(cluster.topics.rejected)),
            60,
        )
        [worker_event] = live.accepted(cluster.topics.events)
        [worker_rejection] = live.of(cluster.topics.rejected)
        before = await live_things(cluster, services["redis"])

        messages = [
            {"value": GOOD},
            {"value": BAD},
            {"value": NEW},
            {"value": "{not json"},
            {"value": {**GOOD, "source": {"id": "web"}}, "headers": {"secret": "wrong-one-123"}},
        ]
        status, body = await acall(worker.port, "POST", "/v1/validate", {"messages": messages})

        assert status == 200, body
        good, bad, new, broken, unauthorized = body["results"]
        assert good["rejection"] is None
        assert [comparable(e) for e in good["events"]] == [comparable(worker_event)]
        assert bad["events"] == []
        assert bad["rejection"]["reasons"] == worker_rejection["reasons"]
        assert bad["rejection"]["event_id"] == "v-2"
        [new_event] = new["events"]
        assert (new_event["profile_id"], new_event["new_profile"]) == (None, True)
        assert "new_profile" not in good["events"][0]
        assert [r["code"] for r in broken["rejection"]["reasons"]] == ["malformed_json"]
        assert [r["code"] for r in unauthorized["rejection"]["reasons"]] == ["unauthorized"]
        text = orjson.dumps(body).decode()
        assert SECRET not in text
        assert "wrong-one-123" not in text

        for bad_body, code in [
            ({"messages": []}, "invalid_body"),
            ({"messages": [{"headers": {}}]}, "invalid_body"),
            ({"message": [GOOD]}, "invalid_body"),
        ]:
            status, error = await acall(worker.port, "POST", "/v1/validate", bad_body)
            assert (status, error["error"]) == (422, code), error

        # The CLI, as a producer's CI runs it: exit 1 when anything would be rejected.
        lines = tmp_path / "messages.jsonl"
        lines.write_bytes(orjson.dumps(GOOD) + b"\n" + orjson.dumps(BAD) + b"\n")
        env = {
            **os.environ,
            "EVENTWIRE_ADMIN_URL": f"http://127.0.0.1:{worker.port}",
            "EVENTWIRE_ADMIN_TOKEN": TOKEN,
        }
        done = await run_eventwire(env, "validate", str(lines))
        assert done.returncode == 1, done.stderr
        assert "1: accepted (order.completed)" in done.stdout
        assert "2: rejected" in done.stdout
        assert "missing_field at properties.order_id" in done.stdout
        lines.write_bytes(orjson.dumps(GOOD) + b"\n")
        done = await run_eventwire(env, "validate", str(lines))
        assert done.returncode == 0, done.stdout + done.stderr

        assert await live_things(cluster, services["redis"]) == before
    finally:
        cluster.stop_all()
