"""The ceiling: a bare aiokafka loop over the same messages (consume, parse with orjson,
produce one output per message with the batch API), with nothing else in the way.

It publishes through the same Publisher as the worker (aiokafka's batch API, one record
batch per partition), so the two differ only in what eventwire does with a message."""

from __future__ import annotations

import time

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from eventwire.core.outputs import Output
from eventwire.kafka.publisher import Publisher


async def bare_loop(bootstrap: str, source: str, sink: str, count: int) -> float:
    """Messages per second to consume ``count`` messages of ``source`` and produce to ``sink``."""
    # No group: aiokafka assigns every partition of the topic, read from the start.
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=512 * 1024)
    publisher = Publisher(lambda: producer)
    await consumer.start()
    await producer.start()
    try:
        done = 0
        started = None
        while done < count:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            if started is None and batches:
                started = time.perf_counter()
            outputs = []
            for records in batches.values():
                for record in records:
                    try:
                        document = orjson.loads(record.value or b"null")
                    except orjson.JSONDecodeError:
                        document = None
                    value = orjson.dumps(
                        {"offset": record.offset, "ok": isinstance(document, dict)}
                    )
                    outputs.append(Output(sink, record.key, value))
            await publisher.publish(outputs)
            done += len(outputs)
        return count / (time.perf_counter() - (started or time.perf_counter()))
    finally:
        await consumer.stop()
        await producer.stop()
