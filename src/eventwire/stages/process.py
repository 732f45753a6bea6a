"""The process stage for a batch of raw messages (docs/architecture.md, one Kafka hop): decode,
detect, authenticate and validate each message, resolve identities for the whole batch, apply the
accepted events to their owners' state, queue their webhooks, and hand back every output grouped
by the raw partition it comes from, in offset order, so that one partition's outputs can be
published (and later committed with its offsets) together."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eventwire.core.decode import Limits
from eventwire.core.ingest import Accepted
from eventwire.core.outputs import Output, encode_step, event_outputs, rejection_output
from eventwire.core.process import Step
from eventwire.core.raw import RawMessage
from eventwire.core.registry import Registry
from eventwire.core.step_input import StepInput, step_input
from eventwire.core.timers_topic import DeadLetterMessage, DueTimer, parse
from eventwire.core.topics import Topics
from eventwire.core.triggers.effects import EffectRecord
from eventwire.metrics import PROCESS_ERRORS
from eventwire.redis_store.identities import IdentityStore
from eventwire.redis_store.producer_ids import ProducerIds
from eventwire.redis_store.webhooks import WebhookQueue
from eventwire.retry import REDIS_OUTAGES, retry_outages
from eventwire.stages.apply_state import apply_state
from eventwire.stages.ingest import ingest_batch
from eventwire.stages.state_store import StateStore
from eventwire.stages.timers import apply_timers

Partition = tuple[str, int]
log = logging.getLogger(__name__)


@dataclass
class Processed:
    outputs: dict[Partition, list[Output]] = field(default_factory=dict)
    accepted: Counter[str] = field(default_factory=Counter)  # events by type
    rejected: Counter[str] = field(default_factory=Counter)  # messages by reason
    effects: Counter[str] = field(default_factory=Counter)  # effects by type
    # Observe mode's violations on accepted events, by (type, code).
    violations: Counter[tuple[str, str]] = field(default_factory=Counter)

    def all_outputs(self) -> list[Output]:
        return [output for outputs in self.outputs.values() for output in outputs]


@dataclass
class ProcessStage:
    registry: Callable[[], Registry]
    limits: Limits
    identities: IdentityStore
    owners: StateStore
    webhooks: WebhookQueue
    topics: Topics
    timeout_ms: int
    producer_ids: ProducerIds | None = None

    def encode(self, step: Step) -> bytes:
        return encode_step(step, self.topics)

    async def run(self, raws: Sequence[RawMessage], now_ms: int) -> Processed:
        registry = self.registry()
        outcomes = await ingest_batch(
            raws, registry, self.limits, self.identities, self.producer_ids
        )
        inputs: list[StepInput] = []
        for raw, outcome in zip(raws, outcomes, strict=True):
            if isinstance(outcome, Accepted):
                given = outcome.parsed.events
                inputs += (
                    step_input(
                        event,
                        outcome.parsed,
                        outcome.publish,
                        raw.timestamp_ms,
                        given[position].id is not None,
                    )
                    for position, event in enumerate(outcome.events)
                )
        steps = await apply_state(
            inputs, self.owners, registry.triggers, self.timeout_ms, self.encode
        )
        at = 0  # the first input (and step) of the message at hand
        done = Processed()
        hooks: list[EffectRecord] = []
        for raw, outcome in zip(raws, outcomes, strict=True):
            outputs = done.outputs.setdefault((raw.topic, raw.partition), [])
            if not isinstance(outcome, Accepted):
                outputs.append(rejection_output(outcome.record, self.topics))
                done.rejected.update({r["code"] for r in outcome.record["reasons"]})
                continue
            following = at + len(outcome.events)
            if outcome.publish:
                outputs += event_outputs(inputs[at:following], self.topics)
            for event, step in zip(outcome.events, steps[at:following], strict=True):
                done.accepted[event["type"]] += 1
                for violation in event.get("violations", ()):
                    done.violations[(event["type"], violation["code"])] += 1
                if step is not None:
                    outputs += self._take(step, done, hooks)
            at = following
        await self._queue(hooks, now_ms)
        return done

    async def run_timers(self, raws: Sequence[RawMessage], now_ms: int) -> Processed:
        """What the worker's timers handed on (core/timers_topic.py): due timers' steps
        committed, dead letters claimed once; the outputs grouped by the ``timers``
        partition they came from."""
        done = Processed()
        due: list[DueTimer] = []
        timer_from: list[Partition] = []
        letters: list[tuple[Partition, DeadLetterMessage]] = []
        for raw in raws:
            partition = (raw.topic, raw.partition)
            done.outputs.setdefault(partition, [])
            item = parse(raw)
            if isinstance(item, DueTimer):
                due.append(item)
                timer_from.append(partition)
            elif isinstance(item, DeadLetterMessage):
                letters.append((partition, item))
            else:  # only eventwire writes this topic: a bug, not bad input
                log.error("not a timers message at %s/%d/%d", raw.topic, raw.partition, raw.offset)
                PROCESS_ERRORS.inc()
        steps = await apply_timers(
            due, self.owners, self.registry().triggers, self.timeout_ms, self.encode
        )
        hooks: list[EffectRecord] = []
        for partition, step in zip(timer_from, steps, strict=True):
            if step is not None:
                done.outputs[partition] += self._take(step, done, hooks)
        await self._queue(hooks, now_ms)
        for (partition, letter), first in zip(letters, await self._claim(letters), strict=True):
            if first is None or first == letter.origin:  # the first message, or it again
                done.outputs[partition].append(
                    Output(self.topics.deadletter, letter.effect_id.encode(), letter.record)
                )
        return done

    async def _claim(self, letters: list[tuple[Partition, DeadLetterMessage]]) -> list[str | None]:
        """The origin that first handed on each dead letter (None: this one)."""
        if not letters or self.producer_ids is None:
            return [None] * len(letters)
        pairs = [(letter.effect_id, letter.origin) for _, letter in letters]
        producer_ids = self.producer_ids
        return await retry_outages(
            lambda: producer_ids.claim_dead_letters(pairs), REDIS_OUTAGES, "claiming dead letters"
        )

    def _take(self, step: Step, done: Processed, hooks: list[EffectRecord]) -> list[Output]:
        """A step's records to publish; its webhooks and effects noted."""
        if step.outputs is None:  # replayed: stored before, encoded afresh
            self.encode(step)
        for effect in step.effects:
            done.effects[effect["type"]] += 1
            if effect["type"] == "call_webhook":
                hooks.append(effect)
        return step.outputs or []

    async def _queue(self, hooks: list[EffectRecord], now_ms: int) -> None:
        if hooks:
            # Idempotent per effect id: a replayed step queues nothing new.
            await retry_outages(
                lambda: self.webhooks.enqueue(hooks, now_ms), REDIS_OUTAGES, "queueing webhooks"
            )
