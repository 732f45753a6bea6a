"""The chunked Faust consumer (kafka/faust_internals.py) keeps Faust's delivery guarantees:
partitions move between two workers without losing or duplicating an outcome, and after a
SIGKILL the committed positions never pass a message whose outputs were not published."""

from __future__ import annotations

import asyncio
import os

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from eventwire.kafka.faust_internals import ChunkedTransport
from eventwire.settings import Settings
from tests.kafka.harness import collect, produce
from tests.kafka.test_canonical_e2e import make_cluster

pytestmark = [pytest.mark.services, pytest.mark.slow]
COUNT = int(os.environ.get("EVENTWIRE_TEST_MESSAGES", "4000"))
PARTITIONS = 4


def order(i: int) -> tuple[bytes, dict[str, bytes]]:
    """A valid canonical order with its own id, so each output names its raw message."""
    return (
        orjson.dumps(
            {
                "id": f"chunked-{i}",
                "type": "order.completed",
                "source": {"id": "web", "secret": "web-secret-123"},
                "profile": {"id": f"p-{i % 53}"},
                "properties": {"order_id": f"o-{i}", "total": 10.5, "items": []},
            }
        ),
        {},
    )


def outcomes(collected, topic: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in collected.accepted(topic):
        counts[event["id"]] = counts.get(event["id"], 0) + 1
    return counts


def test_the_app_uses_the_chunked_consumer():
    from eventwire.composition_root import create_app
    from eventwire.config_service import Holder
    from eventwire.core.registry import Registry

    app = create_app(Settings(), Holder(Registry()))
    assert isinstance(app.transport, ChunkedTransport)
    assert app.transport.Consumer.__name__ == "ChunkedConsumer"
    # Under exactly once only the transactions commit the consumed topics' offsets, never
    # Faust's timer.
    assert app.transport.transactional_topics == {"eventwire.raw", "eventwire.timers"}
    plain = create_app(Settings(guarantee="at_least_once"), Holder(Registry()))
    assert isinstance(plain.transport, ChunkedTransport)
    assert plain.transport.transactional_topics == set()


async def test_partitions_move_between_two_workers_without_loss(services, names, tmp_path):
    cluster = make_cluster(services, names, tmp_path)
    await cluster.create_topics()
    first = cluster.add_worker()
    second = None
    owned_by_second: set[str] = set()
    left: list[bool] = []

    async def producer() -> None:
        chunk = max(COUNT // 40, 1)
        for start in range(0, COUNT, chunk):
            await produce(
                cluster.kafka, cluster.topics.raw, [order(i) for i in range(start, start + chunk)]
            )
            await asyncio.sleep(0.1)

    async def rebalance(collected) -> None:
        nonlocal second
        seen = len(outcomes(collected, cluster.topics.events))
        if second is None and seen >= COUNT // 4:
            second = cluster.add_worker()  # joins: partitions are split between the two
            await second.wait_ready(cluster.topics.raw)
            health = second.health() or {}
            owned_by_second.update(
                p for p in health.get("partitions", []) if p.startswith(cluster.topics.raw)
            )
        elif second is not None and not left and seen >= COUNT * 3 // 4:
            left.append(True)
            second.stop()  # leaves cleanly: its partitions move back to the first worker

    try:
        await first.wait_ready(cluster.topics.raw)
        producing = asyncio.create_task(producer())
        collected = await collect(
            cluster.kafka,
            [cluster.topics.events],
            lambda c: producing.done() and len(outcomes(c, cluster.topics.events)) >= COUNT,
            timeout=240,
            on_progress=rebalance,
        )
        await producing
    finally:
        cluster.stop_all()

    counts = outcomes(collected, cluster.topics.events)
    assert owned_by_second, "the second worker never got a partition of raw"
    assert left, "the second worker never left"
    assert sorted(counts) == sorted(f"chunked-{i}" for i in range(COUNT))
    repeated = sum(1 for n in counts.values() if n > 1)
    print(f"\n{COUNT} orders, {repeated} re-published across the two rebalances")


async def committed_offsets(kafka: str, group: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        found = {}
        for partition in range(PARTITIONS):
            offset = await consumer.committed(TopicPartition(topic, partition))
            found[partition] = offset or 0
        return found
    finally:
        await consumer.stop()


async def test_after_sigkill_committed_positions_never_pass_unpublished_messages(
    services, names, tmp_path
):
    cluster = make_cluster(services, names, tmp_path)
    cluster.settings["commit_interval"] = "200ms"  # commit often, so a kill lands between commits
    await cluster.create_topics()
    worker = cluster.add_worker()
    positions: dict[str, tuple[int, int]] = {}

    async def producer() -> None:
        chunk = max(COUNT // 20, 1)
        for start in range(0, COUNT, chunk):
            part = [order(i) for i in range(start, start + chunk)]
            placed = await produce(cluster.kafka, cluster.topics.raw, part)
            for i, position in zip(range(start, start + chunk), placed, strict=True):
                positions[f"chunked-{i}"] = position
            await asyncio.sleep(0.1)

    try:
        await worker.wait_ready(cluster.topics.raw)
        producing = asyncio.create_task(producer())
        await collect(
            cluster.kafka,
            [cluster.topics.events],
            lambda c: len(outcomes(c, cluster.topics.events)) >= COUNT // 2,
            timeout=240,
        )
        worker.kill()
        await producing
        committed = await committed_offsets(cluster.kafka, names.app_id, cluster.topics.raw)
        published = await collect(cluster.kafka, [cluster.topics.events], lambda c: False, 5)
    finally:
        cluster.stop_all()

    done = set(outcomes(published, cluster.topics.events))
    below = {
        event_id
        for event_id, (partition, offset) in positions.items()
        if offset < committed[partition]
    }
    assert sum(committed.values()) > 0, "nothing was committed before the kill"
    assert below <= done, f"committed past {len(below - done)} unpublished messages"
    assert sum(committed.values()) < COUNT, "the kill came after everything was committed"
    print(f"\ncommitted {sum(committed.values())} of {COUNT}; {len(done)} published at the kill")
