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
    assert whole["log"]["first_event_at"] == iso_from_ms(start_ms + 4 * hour)
    assert whole["events"] == 60
    # A window inside what the log holds: not late, exactly its events (n = 60..79).
    assert later["log"]["starts_late"] is False
    assert later["events"] == 20
    orders = sum(1 for n in range(60, 80) if n % 3 != 0)
    assert later["triggers"]["points"]["fires"] == orders
