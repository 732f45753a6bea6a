"""A global budget on the real broker and Redis, two replicas racing: many profiles' orders
over every partition, and exactly ``times`` fires in total, counted once."""

from __future__ import annotations

import shutil

import orjson
import pytest

from eventwire.redis_store.connection import connect
from eventwire.redis_store.keys import Keys
from tests.kafka.harness import Cluster, collect, produce
from tests.kafka.test_admin_api_e2e import CONFIG

pytestmark = [pytest.mark.services, pytest.mark.slow]
TIMES, PROFILES, ORDERS = 25, 120, 360
BUDGET = {
    "id": "first-buyers",
    "on": "order.completed",
    "limit": {"times": TIMES, "per": "global"},
    "actions": [{"type": "issue_reward", "reward": "early-bird"}],
}
EVERY = {
    "id": "points",
    "on": "order.completed",
    "actions": [{"type": "award_points", "amount": 1}],
}


def order(i: int) -> bytes:
    return orjson.dumps(
        {
            "id": f"budget-{i}",
            "type": "order.completed",
            "source": {"id": "web", "secret": "web-secret-123"},
            "profile": {"id": f"buyer-{i % PROFILES}"},
            "properties": {"order_id": f"o{i}", "total": 1},
        }
    )


async def test_two_replicas_never_exceed_a_global_budget(services, names, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "triggers").mkdir()
    (config / "triggers" / "budget.json").write_bytes(orjson.dumps([EVERY, BUDGET]))
    cluster = Cluster(names, services["kafka"], config, tmp_path, settings={"batch_size": "20"})
    await cluster.create_topics()
    workers = [cluster.add_worker(), cluster.add_worker()]
    try:
        for worker in workers:
            await worker.wait_ready(cluster.topics.raw)
        # No key: the orders of one profile land on every partition, so both replicas
        # race for the same owners and for the budget.
        await produce(cluster.kafka, cluster.topics.raw, [(order(i), {}) for i in range(ORDERS)])
        got = await collect(
            cluster.kafka,
            [cluster.topics.effects],
            lambda c: (
                sum(1 for e in c.of(cluster.topics.effects) if e["trigger_id"] == "points")
                >= ORDERS
            ),
            180,
        )
    finally:
        cluster.stop_all()
    rewards = [e for e in got.of(cluster.topics.effects) if e["trigger_id"] == "first-buyers"]
    assert len(rewards) == TIMES
    assert len({e["id"] for e in rewards}) == TIMES
    redis = connect(services["redis"])
    try:
        counted = await redis.hget(Keys(cluster.names.redis_prefix).budget("first-buyers", 0), "n")
    finally:
        await redis.aclose()
    assert int(counted) == TIMES
