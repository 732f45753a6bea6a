"""What the backtest says about the log itself: retention that removed the window's start
(the answer says from when it really starts), and a window it reads by timestamp."""

from __future__ import annotations

import time
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.structs import TopicPartition

from eventwire.backtest.run import Request, backtest
from eventwire.bench.backtest import event
from eventwire.core.timestamps import iso_from_ms
from eventwire.kafka import events_reader
from eventwire.kafka.admin import delete_topics, ensure_topics

pytestmark = pytest.mark.services
POINTS = [
    {
        "id": "points",
        "on": "order.completed",
        "actions": [{"type": "award_points", "amount": 1}],
    }
]


async def test_a_window_whose_start_retention_removed_says_where_the_log_starts(services):
    kafka = services["kafka"]
    topic = f"ewtest.{uuid.uuid4().hex[:8]}.events"
    await ensure_topics(kafka, [topic], 1)
    hour = 3_600_000
    start_ms = int(time.time() * 1000) - 10 * hour
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        for n in range(100):  # one event every 6 minutes over 10 hours
            key, value = event(n, 10, start_ms, hour / 10)
            await producer.send_and_wait(
                topic, value, key=key, timestamp_ms=start_ms + n * hour // 10
            )
    finally:
        await producer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        # Retention: the first 40 records (4 hours) are gone.
        await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(40)})
    finally:
        await admin.close()
    try:
        whole = await backtest(
            Request(start_ms - hour, start_ms + 11 * hour), POINTS, kafka, topic, 1_800_000
        )
        later = await backtest(
            Request(start_ms + 6 * hour, start_ms + 8 * hour), POINTS, kafka, topic, 1_800_000
        )
    finally:
        await delete_topics(kafka, [topic])
    assert whole["log"]["starts_late"] is True
    assert whole["log"]["trimmed_while_reading"] is False
    assert whole["log"]["first_event_at"] == iso_from_ms(start_ms + 4 * hour)
    assert whole["events"] == 60
    # A window inside what the log holds: not late, exactly its events (n = 60..79).
    assert later["log"]["starts_late"] is False
    assert later["events"] == 20
    orders = sum(1 for n in range(60, 80) if n % 3 != 0)
    assert later["triggers"]["points"]["fires"] == orders


async def test_records_removed_while_being_read_are_noticed_not_skipped_silently(
    services, monkeypatch
):
    """Retention that removes records the reader has not fetched yet makes its next fetch
    fall outside the log. The reader goes on from where the log now starts and says so,
    instead of resetting without a word. (Small fetches, so that the client has not
    prefetched the whole partition before the records go.)"""
    monkeypatch.setattr(events_reader, "FETCH_BYTES", 16 * 1024)
    kafka = services["kafka"]
    topic = f"ewtest.{uuid.uuid4().hex[:8]}.events"
    await ensure_topics(kafka, [topic], 1)
    total, removed_to = 6000, 4000
    start_ms = int(time.time() * 1000) - 3_600_000
    producer = AIOKafkaProducer(bootstrap_servers=kafka, linger_ms=20)
    await producer.start()
    try:
        sent = [
            await producer.send(topic, value, key=key, timestamp_ms=start_ms + n)
            for n in range(total)
            for key, value in [event(n, 50, start_ms, 1)]
        ]
        for future in sent:
            await future
    finally:
        await producer.stop()
    window = events_reader.Window(start_ms - 1000, start_ms + total + 1000)
    seen: list[int] = []
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        async for _, record, _ in events_reader.read_window(kafka, topic, window):
            seen.append(int(record["id"].removeprefix("bench-")))
            if len(seen) == 1:  # one small fetch is in hand: remove most of the rest
                await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(removed_to)})
    finally:
        await admin.close()
        await delete_topics(kafka, [topic])
    assert window.trimmed_while_reading is True
    assert seen[-(total - removed_to) :] == list(range(removed_to, total))  # the rest, all of it
    assert len(seen) < total  # some were gone before they could be read
