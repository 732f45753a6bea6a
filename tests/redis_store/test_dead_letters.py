"""Dead letters reach ``deadletter`` once: the delivery stage keeps each with its job before
handing it on (as a ``timers`` message), and the process stage publishes the first message
that hands it on — again when that very message is redelivered, never for a second one."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from eventwire.core.decode import Limits
from eventwire.core.raw import RawMessage
from eventwire.core.registry import Registry
from eventwire.core.timers_topic import dead_letter_output
from eventwire.core.topics import Topics
from eventwire.core.webhooks.retries import RetryPolicy
from eventwire.redis_store.identities import IdentityStore
from eventwire.redis_store.owners import OwnerStore
from eventwire.redis_store.producer_ids import ProducerIds
from eventwire.redis_store.webhooks import WebhookQueue
from eventwire.stages.deliver import deliver
from eventwire.stages.process import ProcessStage

pytestmark = pytest.mark.services
TOPICS = Topics("t.")


def stage(client: Any, keys: Any) -> ProcessStage:
    return ProcessStage(
        Registry,
        Limits(),
        IdentityStore(client, keys, 3600),
        OwnerStore(client, keys),
        WebhookQueue(client, keys),
        TOPICS,
        60_000,
        ProducerIds(client, keys, 3600),
    )


def message(effect_id: str, record: bytes, offset: int) -> RawMessage:
    output = dead_letter_output(effect_id, record, TOPICS)
    return RawMessage(output.value, output.topic, 1, offset, 0, output.key)


async def test_a_dead_letter_handed_on_twice_is_published_once(redis_client, keys):
    process = stage(redis_client, keys)
    record = orjson.dumps({"id": "d-1", "effect": {"id": "fx-1"}, "attempts": []})
    first = await process.run_timers([message("fx-1", record, 10)], 0)
    assert [(o.topic, o.key, o.value) for o in first.outputs[(TOPICS.timers, 1)]] == [
        (TOPICS.deadletter, b"fx-1", record)
    ]
    # The same message again (its transaction failed): the same record again.
    again = await process.run_timers([message("fx-1", record, 10)], 0)
    assert again.outputs == first.outputs
    # A second message for it (the deliverer died before it forgot the job): nothing.
    second = await process.run_timers([message("fx-1", record, 11)], 0)
    assert second.outputs == {(TOPICS.timers, 1): []}


async def test_a_deliverer_that_dies_after_burying_a_job_hands_on_the_same_letter(
    redis_client, keys
):
    queue = WebhookQueue(redis_client, keys)
    now = int(time.time() * 1000)
    await queue.enqueue([{"id": "fx-2", "type": "call_webhook"}], now)
    assert await queue.claim(now, 1000, 10) == ["fx-2"]
    handed: list[tuple[str, bytes]] = []

    async def hand_on(effect_id: str, record: bytes) -> None:
        handed.append((effect_id, record))
        if len(handed) == 1:
            raise ConnectionError("the replica dies here")

    policy = RetryPolicy(1, 60.0, 1.0, 1.0)
    with pytest.raises(ConnectionError):
        # No secret: refused at once, so dead on its first attempt.
        await deliver("fx-2", queue, None, policy, None, hand_on, lambda: now)  # type: ignore[arg-type]
    assert await queue.claim(now + 500, 1000, 10) == []  # still leased
    assert await queue.claim(now + 1500, 1000, 10) == ["fx-2"]
    assert await deliver("fx-2", queue, None, policy, None, hand_on, lambda: now) == "dead"  # type: ignore[arg-type]
    assert handed[0] == handed[1]
    assert orjson.loads(handed[0][1])["effect"]["id"] == "fx-2"
    assert await queue.claim(now + 60_000, 1000, 10) == []  # forgotten once handed on
