"""Read a window of ``events`` back, for the backtest: a throwaway consumer (no group, no
commits, ``read_committed``) that starts each partition at the window's first offset by
timestamp and stops at its end, and merges the partitions in event time.

Only producers' events are yielded (built-ins are the replay's to make again).
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import OffsetOutOfRangeError
from aiokafka.structs import TopicPartition

from eventwire.core.ingest import EventRecord
from eventwire.core.outputs import STEP_HEADER
from eventwire.core.timestamps import ms_from_iso

CHUNK = 5_000
FETCH_BYTES = 8 * 1024 * 1024  # per partition and fetch


@dataclass
class Window:
    """What the reader found: from when the log really holds events, how many it read."""

    since_ms: int
    until_ms: int
    first_ms: int | None = None  # the earliest record's time in the window (any partition)
    starts_late: bool = False  # retention removed the window's start
    records: int = 0
    builtins: int = 0
    # Retention removed records while they were being read: the reader went on from where
    # the log now starts, and the answer says so.
    trimmed_while_reading: bool = False
    partitions: dict[int, tuple[int, int]] = field(default_factory=dict)  # start, end offsets


Item = tuple[int, EventRecord, bytes | None]  # (at ms, event, its step header)


async def read_window(bootstrap: str, topic: str, window: Window) -> AsyncIterator[Item]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="none",  # records removed under the reader: noticed, not skipped
        max_partition_fetch_bytes=FETCH_BYTES,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        starts = await consumer.offsets_for_times({tp: window.since_ms for tp in tps})
        ends = await consumer.offsets_for_times({tp: window.until_ms for tp in tps})
        last = await consumer.end_offsets(tps)  # the last stable offsets (read_committed)
        first = await consumer.beginning_offsets(tps)
        todo: dict[TopicPartition, int] = {}
        trimmed = False
        for tp in tps:
            start = starts[tp].offset if starts[tp] is not None else last[tp]
            end = ends[tp].offset if ends[tp] is not None else last[tp]
            window.partitions[tp.partition] = (start, end)
            trimmed = trimmed or (start == first[tp] > 0)
            if start < end:
                consumer.seek(tp, start)
                todo[tp] = end
        async for item in _Merge(consumer, todo, window).items():
            yield item
        # Retention took records before the window's first one: the log starts late (a
        # minute of slack for the clocks of producers and broker).
        window.starts_late = (
            trimmed and window.first_ms is not None and window.first_ms > window.since_ms + 60_000
        )
    finally:
        await consumer.stop()


class _Merge:
    """The partitions' events merged by time: each partition is in offset order (one
    profile's events are in one partition, in order), and the heap holds one chunk each."""

    def __init__(
        self, consumer: AIOKafkaConsumer, todo: dict[TopicPartition, int], window: Window
    ) -> None:
        self._consumer, self._todo, self._window = consumer, todo, window
        self._buffers: dict[TopicPartition, list[Item]] = {}
        self._heap: list[tuple[int, int, int, TopicPartition]] = []  # (ms, partition, i, tp)

    async def items(self) -> AsyncIterator[Item]:
        heap, buffers, window = self._heap, self._buffers, self._window
        for tp in list(self._todo):
            await self._refill(tp)
        while heap:
            _, _, index, tp = heapq.heappop(heap)
            item = buffers[tp][index]
            if window.first_ms is None or item[0] < window.first_ms:
                window.first_ms = item[0]
            yield item
            if index + 1 < len(buffers[tp]):
                heapq.heappush(heap, (buffers[tp][index + 1][0], tp.partition, index + 1, tp))
            elif tp in self._todo:
                await self._refill(tp)

    async def _refill(self, tp: TopicPartition) -> None:
        items: list[Item] = []
        window, todo = self._window, self._todo
        while not items and tp in todo:
            try:
                batch = await self._consumer.getmany(tp, timeout_ms=2000, max_records=CHUNK)
            except OffsetOutOfRangeError:
                window.trimmed_while_reading = True
                await self._consumer.seek_to_beginning(tp)
                continue
            for record in batch.get(tp, []):
                if record.offset >= todo[tp]:
                    break
                item = _item(record.value, record.headers, window)
                if item is not None:
                    items.append(item)
            if await self._consumer.position(tp) >= todo[tp]:
                del todo[tp]
        self._buffers[tp] = items
        if items:
            heapq.heappush(self._heap, (items[0][0], tp.partition, 0, tp))


def _item(value: bytes, headers: Any, window: Window) -> Item | None:
    window.records += 1
    event: EventRecord = orjson.loads(value)
    if event.get("builtin"):
        window.builtins += 1
        return None
    at_ms = ms_from_iso(event["received_at"])
    if not window.since_ms <= at_ms < window.until_ms:
        return None
    header = next((v for k, v in headers if k == STEP_HEADER), None)
    return at_ms, event, header
