"""Outcomes as Kafka records: which topic, which key, which bytes (docs/topics.md).

Accepted events and built-ins go to ``events`` keyed by profile (session for profile-less),
effects and automation starts keyed by profile, rejections to ``rejected`` keyed by source.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from eventwire.core.ingest import EventRecord, RejectionRecord
from eventwire.core.step_input import StepInput
from eventwire.core.topics import Topics

if TYPE_CHECKING:
    from eventwire.core.process import Step


@dataclass(frozen=True, slots=True)
class Output:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] | None = None


# On an accepted event: what its state step took beside the record itself, for the backtest
# to replay the event as the live stage did (see replay_facts). Absent when there is nothing.
STEP_HEADER = "eventwire-step"


def event_key(event: EventRecord) -> bytes:
    """Profile id, else session id (profile-less events), else the event's own id."""
    return (event["profile_id"] or event["session_id"] or event["id"]).encode()


def rejection_output(rejection: RejectionRecord, topics: Topics) -> Output:
    key = rejection["source_id"].encode() if rejection["source_id"] else None
    return Output(topics.rejected, key, orjson.dumps(rejection))


def event_outputs(inputs: Iterable[StepInput], topics: Topics) -> list[Output]:
    dumps = orjson.dumps
    return [
        Output(topics.events, event_key(item["event"]), dumps(item["event"]), replay_facts(item))
        for item in inputs
    ]


def replay_facts(item: StepInput) -> list[tuple[str, bytes]] | None:
    """The step's facts that the event record does not carry: a producer-given id's basis,
    the identities to record, Talon.One session attributes. None when there are none."""
    facts: dict[str, Any] = {}
    if item["basis"] != item["event"]["id"]:
        facts["basis"] = item["basis"]
    if item["identities"]:
        facts["identities"] = item["identities"]
    if item["session_attributes"]:
        facts["session_attributes"] = item["session_attributes"]
    return [(STEP_HEADER, orjson.dumps(facts))] if facts else None


def encode_step(step: Step, topics: Topics) -> bytes:
    """Encode a step's outputs once: as the Kafka records to publish (kept on the step) and,
    from the very same bytes, as the record stored with its commit, so that a redelivered
    event re-publishes them byte for byte."""
    dumps = orjson.dumps
    builtins = [dumps(b) for b in step.builtins]
    effects = [dumps(e) for e in step.effects]
    automations = [dumps(a) for a in step.automations]
    events, effects_topic, automations_topic = topics.events, topics.effects, topics.automations
    outputs = [
        Output(events, event_key(b), v) for b, v in zip(step.builtins, builtins, strict=True)
    ]
    outputs += [
        Output(effects_topic, (e["profile_id"] or e["event_id"]).encode(), v)
        for e, v in zip(step.effects, effects, strict=True)
    ]
    outputs += [
        Output(automations_topic, (a["profile"].get("id") or a["event_id"]).encode(), v)
        for a, v in zip(step.automations, automations, strict=True)
    ]
    step.outputs = outputs
    return b'{"b":[%b],"e":[%b],"a":[%b]}' % (
        b",".join(builtins),
        b",".join(effects),
        b",".join(automations),
    )
