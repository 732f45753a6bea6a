"""Producer retries absorbed (docs/guarantees.md): a producer id accepted once from a source is a
``duplicate_event`` when another message from that source carries it again, naming the first
one's origin; the same ids from another source are another source's events."""

from __future__ import annotations

import shutil
from collections import Counter

import orjson
import pytest

from eventwire.redis_store.connection import connect
from eventwire.redis_store.keys import Keys
from eventwire.redis_store.owners import OwnerStore
from tests.conftest import ROOT
from tests.kafka.harness import Cluster, collect, produce

pytestmark = [pytest.mark.services, pytest.mark.slow]
LOYALTY = ROOT / "tests" / "data" / "loyalty"
FIRST, REPEATS, OTHER = 200, 50, 100


def purchase(source: str, secret: str, profile: str, n: int) -> tuple[bytes, dict[str, bytes]]:
    document = {
        "id": f"o-{n}",
        "type": "order.completed",
        "source": {"id": source, "secret": secret},
        "profile": {"id": profile},
        "properties": {"order_id": f"o-{n}", "total": 1},
    }
    return orjson.dumps(document), {}


async def test_repeats_are_rejected_once_each_and_another_sources_ids_are_its_own(
    services, names, tmp_path
):
    config = tmp_path / "config"
    shutil.copytree(LOYALTY, config)
    (config / "sources" / "app.yaml").write_text("- {id: app, secret: app-secret}\n")
    cluster = Cluster(names, services["kafka"], config, tmp_path)
    await cluster.create_topics()
    workers = [cluster.add_worker(), cluster.add_worker()]
    shop = [purchase("shop", "shop-secret", "buyer-shop", n) for n in range(FIRST)]
    retries = [purchase("shop", "shop-secret", "buyer-shop", n) for n in range(REPEATS)]
    app = [purchase("app", "app-secret", "buyer-app", n) for n in range(OTHER)]
    redis = connect(services["redis"])
    try:
        for worker in workers:
            await worker.wait_ready(cluster.topics.raw)
        first = await produce(cluster.kafka, cluster.topics.raw, shop)
        await collect(
            cluster.kafka,
            [cluster.topics.events],
            lambda c: len(c.accepted(cluster.topics.events)) >= FIRST,
            timeout=60,
        )
        await produce(cluster.kafka, cluster.topics.raw, retries + app)
        collected = await collect(
            cluster.kafka,
            [cluster.topics.events, cluster.topics.rejected, cluster.topics.effects],
            lambda c: (
                len(c.of(cluster.topics.rejected)) >= REPEATS
                and len(c.accepted(cluster.topics.events)) >= FIRST + OTHER
            ),
            timeout=60,
        )
        store = OwnerStore(redis, Keys(names.redis_prefix))
        buyers = {p: await store.profile(p) for p in ("buyer-shop", "buyer-app")}
    finally:
        cluster.stop_all()
        await redis.aclose()

    accepted = Counter((e["source_id"], e["id"]) for e in collected.accepted(cluster.topics.events))
    assert accepted == Counter(
        [("shop", f"o-{n}") for n in range(FIRST)] + [("app", f"o-{n}") for n in range(OTHER)]
    )
    rejected = collected.of(cluster.topics.rejected)
    assert sorted((r["source_id"], r["event_id"]) for r in rejected) == sorted(
        ("shop", f"o-{n}") for n in range(REPEATS)
    )
    where = {f"o-{n}": first[n] for n in range(FIRST)}
    for record in rejected:
        [reason] = record["reasons"]
        assert (reason["code"], reason["field"]) == ("duplicate_event", "id")
        partition, offset = where[record["event_id"]]
        assert f"partition {partition} offset {offset}" in reason["message"]
        assert "shop-secret" not in record["payload"]
    assert [b["points"] if b else None for b in buyers.values()] == [FIRST, OTHER]
    effect_ids = Counter(e["id"] for e in collected.of(cluster.topics.effects))
    assert max(effect_ids.values()) == 1  # the app's o-1 caused effects of its own
    assert len(effect_ids) >= FIRST + OTHER
