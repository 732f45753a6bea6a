"""The publisher's batch path against a real broker: every record arrives once, in order per
partition, on the partition ``producer.send`` picks for its key, also when batches fill up."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from eventwire.core.outputs import Output
from eventwire.kafka.admin import ensure_topics
from eventwire.kafka.publisher import Publisher

pytestmark = [pytest.mark.services]


async def read_all(kafka: str, topics: list[str], count: int) -> list:
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=kafka, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list = []
    try:
        for _ in range(50):
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found.extend(records)
            if len(found) >= count:
                break
    finally:
        await consumer.stop()
    return found


async def test_batches_keep_keys_partitions_and_order(services, names):
    kafka = services["kafka"]
    first, second = f"{names.topic_prefix}a", f"{names.topic_prefix}b"
    await ensure_topics(kafka, [first, second], 4)
    # Small batches, so that publishing splits each partition's records over several batches.
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", max_batch_size=2048)
    await producer.start()
    try:
        records = [
            Output(
                first if i % 3 else second, f"profile-{i % 17}".encode(), f"{i:05d}".encode() * 40
            )
            for i in range(600)
        ]
        records.append(Output(first, None, b"no key"))
        await Publisher(lambda: producer).publish(records)
        # Where the plain send path puts the same keys.
        expected = {}
        for key in {r.key for r in records if r.key}:
            sent = await (await producer.send(f"{names.topic_prefix}a", b"probe", key=key))
            expected[key] = sent.partition
    finally:
        await producer.stop()

    found = await read_all(kafka, [first, second], len(records) + len(expected))
    published = [r for r in found if r.value != b"probe"]
    assert sorted(r.value for r in published) == sorted(r.value for r in records)
    for record in published:
        if record.key is not None:
            assert record.partition == expected[record.key]
    # Within a partition, records keep the order they were given in.
    by_partition: dict[tuple[str, int], list[bytes]] = {}
    for record in sorted(published, key=lambda r: (r.topic, r.partition, r.offset)):
        by_partition.setdefault((record.topic, record.partition), []).append(record.value)
    given = [r.value for r in records]
    for values in by_partition.values():
        assert values == sorted(values, key=given.index)


async def test_a_record_larger_than_a_batch_goes_alone_in_its_own(services, names):
    kafka = services["kafka"]
    topic = f"{names.topic_prefix}big"
    await ensure_topics(kafka, [topic], 1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka, max_batch_size=1024)
    await producer.start()
    try:
        values = [b"a" * 10, b"b" * 5000, b"c" * 10]
        await Publisher(lambda: producer).publish([Output(topic, b"k", v) for v in values])
    finally:
        await producer.stop()
    found = await read_all(kafka, [topic], 3)
    assert [r.value for r in sorted(found, key=lambda r: r.offset)] == values
