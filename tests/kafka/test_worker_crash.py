"""SIGKILL the worker mid-stream and restart it: nothing lost, re-read messages keep their ids."""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict

import orjson
import pytest

from eventwire.core import ids
from tests.kafka.harness import collect, produce
from tests.kafka.mixed import message
from tests.kafka.test_canonical_e2e import make_cluster, seen

pytestmark = [pytest.mark.services, pytest.mark.slow]
COUNT = int(os.environ.get("EVENTWIRE_TEST_MESSAGES", "10000"))
KILLS = int(os.environ.get("EVENTWIRE_TEST_KILLS", "2"))


async def test_sigkill_mid_stream_loses_nothing_and_keeps_ids(services, names, tmp_path):
    cluster = make_cluster(services, names, tmp_path)
    await cluster.create_topics()
    worker = cluster.add_worker()
    generated = [message(i) for i in range(COUNT)]
    positions: list[tuple[int, int]] = []

    async def producer() -> None:
        chunk = max(COUNT // 40, 1)
        for start in range(0, COUNT, chunk):
            part = generated[start : start + chunk]
            positions.extend(
                await produce(cluster.kafka, cluster.topics.raw, [(g[0], g[1]) for g in part])
            )
            await asyncio.sleep(0.2)

    thresholds = [COUNT * (k + 1) // (KILLS + 1) for k in range(KILLS)]
    kills_at: list[int] = []

    async def kill_on_progress(collected) -> None:
        if thresholds and seen(cluster, collected) >= thresholds[0]:
            thresholds.pop(0)
            kills_at.append(seen(cluster, collected))
            worker.kill()
            worker.start()
            await worker.wait_ready(cluster.topics.raw)

    try:
        await worker.wait_ready(cluster.topics.raw)
        producing = asyncio.create_task(producer())
        collected = await collect(
            cluster.kafka,
            [cluster.topics.events, cluster.topics.rejected],
            lambda c: producing.done() and not thresholds and covered(c) >= COUNT,
            timeout=240,
            on_progress=kill_on_progress,
        )
        await producing
    finally:
        cluster.stop_all()

    raw = cluster.topics.raw
    expected_event_ids = {}
    for index, ((partition, offset), g) in enumerate(zip(positions, generated, strict=True)):
        expected_event_ids[g[2].event_id or ids.event_id(raw, partition, offset, 0)] = index
    origin_index = {(raw, p, o): i for i, (p, o) in enumerate(positions)}

    copies: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    outcome: dict[int, set[str]] = defaultdict(set)
    for event in collected.accepted(cluster.topics.events):
        assert event["id"] in expected_event_ids, "an event id that no raw message derives"
        copies[("events", event["id"])].append(orjson.dumps(event))
        outcome[expected_event_ids[event["id"]]].add("accepted")
    for record in collected.of(cluster.topics.rejected):
        o = record["origin"]
        index = origin_index[(o["topic"], o["partition"], o["offset"])]
        assert record["id"] == ids.rejection_id(o["topic"], o["partition"], o["offset"])
        copies[("rejected", record["id"])].append(orjson.dumps(record))
        outcome[index].add("rejected")

    assert len(kills_at) == KILLS, kills_at
    lost = [i for i in range(COUNT) if not outcome[i]]
    both = [i for i in range(COUNT) if len(outcome[i]) > 1]
    assert lost == []
    assert both == []
    # A message re-read after the crash is published again: same id and the very same bytes.
    duplicated = {key: values for key, values in copies.items() if len(values) > 1}
    assert all(len(set(values)) == 1 for values in duplicated.values())
    print(f"\nkilled at {kills_at} outputs; {len(duplicated)} of {COUNT} messages re-published")


def covered(collected) -> int:
    """How many distinct raw messages have an outcome so far."""
    distinct: set = set()
    for topic, records in collected.records.items():
        for record in records:
            if record.get("builtin"):
                continue
            distinct.add(
                record["id"] if topic.endswith("events") else tuple(record["origin"].values())
            )
    return len(distinct)
