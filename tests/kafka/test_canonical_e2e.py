"""Canonical events end to end on the real broker: raw → events or rejected, exactly once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest

from eventwire.core import ids
from tests.conftest import ROOT
from tests.kafka.harness import Cluster, caught_up, collect, produce
from tests.kafka.mixed import MAX_BYTES, SECRET, WRONG_SECRET, Expected, message

pytestmark = [pytest.mark.services, pytest.mark.slow]
CONFIG = ROOT / "tests" / "data" / "config"
COUNT = int(os.environ.get("EVENTWIRE_TEST_MESSAGES", "10000"))


def make_cluster(services, names, tmp_path: Path) -> Cluster:
    return Cluster(
        names, services["kafka"], CONFIG, tmp_path, settings={"max_message_bytes": str(MAX_BYTES)}
    )


def outcome_per_message(cluster, positions, expectations, collected):
    """For each raw message index: the ids it appeared under on events, and its rejections."""
    raw = cluster.topics.raw
    by_event_id = {}
    for index, ((partition, offset), expected) in enumerate(
        zip(positions, expectations, strict=True)
    ):
        event_id = expected.event_id or ids.event_id(raw, partition, offset, 0)
        by_event_id[event_id] = index
    by_origin = {(raw, p, o): index for index, (p, o) in enumerate(positions)}
    accepted: Counter[int] = Counter()
    rejected: dict[int, list[dict]] = {}
    unknown = []
    for event in collected.accepted(cluster.topics.events):
        if event["id"] in by_event_id:
            accepted[by_event_id[event["id"]]] += 1
        else:
            unknown.append(event["id"])
    for record in collected.of(cluster.topics.rejected):
        origin = record["origin"]
        rejected.setdefault(
            by_origin[(origin["topic"], origin["partition"], origin["offset"])], []
        ).append(record)
    return accepted, rejected, unknown


def seen(cluster, collected) -> int:
    return len(collected.accepted(cluster.topics.events)) + len(
        collected.of(cluster.topics.rejected)
    )


async def test_ten_thousand_mixed_messages_each_end_up_exactly_once(services, names, tmp_path):
    cluster = make_cluster(services, names, tmp_path)
    await cluster.create_topics()
    generated = [message(i) for i in range(COUNT)]
    expectations: list[Expected] = [g[2] for g in generated]
    positions = await produce(cluster.kafka, cluster.topics.raw, [(g[0], g[1]) for g in generated])
    worker = cluster.add_worker()
    try:
        await worker.wait_ready(cluster.topics.raw)
        collected = await collect(
            cluster.kafka,
            [cluster.topics.events, cluster.topics.rejected],
            lambda c: seen(cluster, c) >= COUNT,
            timeout=180,
        )
        # A duplicate would have been published with its message's offset commit: once the
        # group has committed every raw message, everything it published is readable.
        await caught_up(cluster.kafka, names.app_id, [cluster.topics.raw], 60)
        collected = await collect(
            cluster.kafka,
            [cluster.topics.events, cluster.topics.rejected],
            lambda c: True,
            timeout=30,
            to_end=True,
        )
    finally:
        cluster.stop_all()

    accepted, rejected, unknown = outcome_per_message(cluster, positions, expectations, collected)
    assert unknown == []
    problems: list[tuple] = []
    for index, expected in enumerate(expectations):
        if expected.accepted:
            if accepted[index] != 1 or index in rejected:
                problems.append((index, "accepted", accepted[index], rejected.get(index)))
        else:
            records = rejected.get(index, [])
            codes = {r["code"] for rec in records for r in rec["reasons"]}
            if len(records) != 1 or accepted[index] or expected.code not in codes:
                problems.append((index, expected.code, accepted[index], codes))
    assert problems[:10] == []
    assert seen(cluster, collected) == COUNT
    kinds = Counter(e.code or "accepted" for e in expectations)
    assert len(kinds) == 12

    everything = b"".join(orjson.dumps(r) for topic in collected.records.values() for r in topic)
    assert SECRET.encode() not in everything
    assert WRONG_SECRET.encode() not in everything


async def test_cli_send_then_tail_shows_the_accepted_event(services, names, tmp_path):
    cluster = make_cluster(services, names, tmp_path)
    await cluster.create_topics()
    worker = cluster.add_worker()
    env = dict(worker.env)
    try:
        await worker.wait_ready(cluster.topics.raw)
        sent = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "eventwire",
                "send",
                "--type",
                "order.completed",
                "--source",
                "web",
                "--secret",
                SECRET,
                "--profile-id",
                "p-cli",
                "-p",
                'order_id="cli-1"',
                "-p",
                "total=42.5",
                "--id",
                "cli-event-1",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert "sent to" in sent.stdout
        tail = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "eventwire",
                "tail",
                "events",
                "--from-beginning",
                "--max",
                "1",
                "--idle-timeout",
                "60",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )
    finally:
        cluster.stop_all()
    body = orjson.loads(tail.stdout.split("\n", 1)[1])
    assert body["id"] == "cli-event-1"
    assert body["profile_id"] == "p-cli"
    assert body["properties"] == {"order_id": "cli-1", "total": 42.5}
