"""What the worker's own timers hand to the process stage, as messages on the internal
``timers`` topic: due timers (from the scheduler) and dead letters (from webhook delivery).

The stage consumes ``timers`` like ``raw``, so what a message leads to and the message's
offset commit in one Kafka transaction. A message handed on twice (its sender died before
it could forget it) arrives twice, with two origins; the first origin is remembered (with a
timer's step, or a dead letter's claim), and the second publishes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from eventwire.core.outputs import Output
from eventwire.core.process import SEGMENT_CHANGE, Timer
from eventwire.core.raw import RawMessage
from eventwire.core.topics import Topics


@dataclass(frozen=True, slots=True)
class DueTimer:
    timer: Timer
    at_ms: int  # when the scheduler fired it: the step's "now", the same on every attempt
    origin: str  # "<topic>/<partition>/<offset>" of its message


@dataclass(frozen=True, slots=True)
class DeadLetterMessage:
    effect_id: str
    record: bytes  # what to publish on ``deadletter``
    origin: str


def timer_output(member: str, at_ms: int, topics: Topics) -> Output:
    """A claimed timer (its JSON member in the due set) as a message keyed by its owner."""
    timer = orjson.loads(member)
    return Output(
        topics.timers,
        str(timer[1]).encode(),
        b'{"timer":%b,"at_ms":%d}' % (member.encode(), at_ms),
    )


def segment_change_output(
    owner: str, segment: str, member: bool, request_id: str, at_ms: int, topics: Topics
) -> Output:
    """A membership change the admin API was asked for, applied by the owner's stage like a
    due timer (so exactly once, with the triggers it sets off)."""
    timer = [SEGMENT_CHANGE, owner, segment, "1" if member else "0", request_id]
    return timer_output(orjson.dumps(timer).decode(), at_ms, topics)


def dead_letter_output(effect_id: str, record: bytes, topics: Topics) -> Output:
    return Output(
        topics.timers,
        effect_id.encode(),
        b'{"effect_id":%b,"dead_letter":%b}' % (orjson.dumps(effect_id), record),
    )


def parse(raw: RawMessage) -> DueTimer | DeadLetterMessage | None:
    """What a ``timers`` message carries (None: not one of ours, which only a bug or a
    stranger writing to the internal topic can cause)."""
    origin = f"{raw.topic}/{raw.partition}/{raw.offset}"
    try:
        doc = orjson.loads(raw.value or b"")
        if "dead_letter" in doc:
            return DeadLetterMessage(
                str(doc["effect_id"]), orjson.dumps(doc["dead_letter"]), origin
            )
        timer = tuple(str(part) for part in doc["timer"])
        at_ms = int(doc["at_ms"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    if len(timer) < 3 or (timer[0] == SEGMENT_CHANGE and len(timer) != 5):
        return None
    return DueTimer(timer, at_ms, origin)
