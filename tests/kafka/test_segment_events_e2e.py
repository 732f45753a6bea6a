"""segment_entered / segment_exited on the real broker and Redis: published exactly when
membership changes, by a trigger's action or by the admin API, with the triggers on them
run in the same step and applied once."""

from __future__ import annotations

import shutil

import orjson
import pytest

from tests.core.test_segment_events import VIP_TRIGGERS
from tests.kafka.harness import Cluster, collect, produce
from tests.kafka.test_admin_api_e2e import CONFIG, TOKEN, acall

pytestmark = [pytest.mark.services]


def order(i: int, total: float) -> bytes:
    return orjson.dumps(
        {
            "id": f"seg-order-{i}",
            "type": "order.completed",
            "source": {"id": "web", "secret": "web-secret-123"},
            "profile": {"id": "p-seg"},
            "properties": {"order_id": f"o{i}", "total": total},
        }
    )


def segment_events(collected, topic):
    return [
        (e["type"], e["properties"]["segment"])
        for e in collected.builtins(topic)
        if e["type"].startswith("segment_")
    ]


async def test_membership_changes_publish_segment_events_once(services, names, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "triggers").mkdir()
    (config / "triggers" / "vip.json").write_bytes(orjson.dumps(VIP_TRIGGERS))
    cluster = Cluster(names, services["kafka"], config, tmp_path, settings={"admin_token": TOKEN})
    await cluster.create_topics()
    events, effects, automations = (
        cluster.topics.events,
        cluster.topics.effects,
        cluster.topics.automations,
    )
    worker = cluster.add_worker()
    try:
        await worker.wait_ready(cluster.topics.raw)
        # By an action: a big order enters vip; a second one changes nothing.
        await produce(cluster.kafka, cluster.topics.raw, [(order(1, 150), {})])
        await collect(cluster.kafka, [events], lambda c: segment_events(c, events), 60)
        await produce(cluster.kafka, cluster.topics.raw, [(order(2, 120), {})])
        got = await collect(cluster.kafka, [events], lambda c: len(c.accepted(events)) == 2, 60)
        assert segment_events(got, events) == [("segment_entered", "vip")]

        # By the admin API: out, in again, and in once more (no change).
        path = "/v1/profiles/p-seg/segments/vip"
        status, body = await acall(worker.port, "DELETE", path)
        assert (status, body["member"]) == (202, False), body
        got = await collect(
            cluster.kafka, [events], lambda c: len(segment_events(c, events)) == 2, 60
        )
        status, _ = await acall(worker.port, "PUT", path)
        assert status == 202
        got = await collect(
            cluster.kafka, [events], lambda c: len(segment_events(c, events)) == 3, 60
        )
        status, _ = await acall(worker.port, "PUT", path)  # already a member
        assert status == 202
        # One owner's changes are applied in order: once this last one is out, the
        # redundant PUT before it has been applied too.
        status, _ = await acall(worker.port, "PUT", "/v1/profiles/p-seg/segments/gold")
        got = await collect(
            cluster.kafka,
            [events, effects, automations],
            lambda c: ("segment_entered", "gold") in segment_events(c, events),
            60,
        )
        assert segment_events(got, events) == [
            ("segment_entered", "vip"),
            ("segment_exited", "vip"),
            ("segment_entered", "vip"),
            ("segment_entered", "gold"),
        ]
        welcome = [e for e in got.of(effects) if e["trigger_id"] == "vip-welcome"]
        assert [e["result"]["awarded"] for e in welcome] == [50, 50]
        assert [a["automation"] for a in got.of(automations)] == ["win-back"]
        entered = [e for e in got.builtins(events) if e["type"] == "segment_entered"]
        assert len({e["id"] for e in entered}) == 3
        assert {e["profile_id"] for e in entered} == {"p-seg"}
        status, profile = await acall(worker.port, "GET", "/v1/profiles/p-seg")
        assert sorted(profile["segments"]) == ["gold", "vip"]
        assert profile["points"] == 100

        status, error = await acall(worker.port, "PUT", "/v1/profiles/nobody/segments/vip")
        assert (status, error["error"]) == (404, "not_found")
    finally:
        cluster.stop_all()
