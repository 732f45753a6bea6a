"""One trigger set replayed over events in event time, on its own in-memory store, with the
live stage's state code (stages/apply_state.py, stages/timers.py): sessions, built-ins,
triggers in their order, caps, segments, ``$history`` and absence windows. Timers fire as
the replay clock passes them (at their due time), so a step sees what it would have live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

from eventwire.core.process import Step
from eventwire.core.step_input import StepInput
from eventwire.core.timers_topic import DueTimer
from eventwire.core.triggers.effects import AutomationRecord, EffectRecord
from eventwire.core.triggers.trigger_set import TriggerSet
from eventwire.memory_store.owners import MemoryOwnerStore
from eventwire.stages.apply_state import apply_state
from eventwire.stages.timers import apply_timers


def _not_published(_step: Step) -> bytes:
    """The backtest publishes nothing, so a step needs no stored outputs."""
    return b"{}"


@dataclass
class Simulation:
    triggers: TriggerSet
    timeout_ms: int
    store: MemoryOwnerStore = field(
        default_factory=lambda: MemoryOwnerStore(isolated=False, keep_records=False)
    )
    counting: bool = True  # False while warming up: state builds, nothing is counted
    effects: list[EffectRecord] = field(default_factory=list)
    automations: list[AutomationRecord] = field(default_factory=list)
    _fired_timers: int = 0

    async def feed(self, inputs: Sequence[StepInput]) -> None:
        """Events in event time, none later than any timer still due (see ``fire_until``)."""
        steps = await apply_state(
            inputs, self.store, self.triggers, self.timeout_ms, _not_published
        )
        self._count(steps)

    def next_due_ms(self) -> int | None:
        return self.store.next_due_ms()

    async def fire_until(self, clock_ms: int) -> None:
        """Fire every timer due at or before ``clock_ms``, each at its due time, in order."""
        store = self.store
        while (due_ms := store.next_due_ms()) is not None and due_ms <= clock_ms:
            claimed = await store.claim_timers(due_ms, 0, 100_000)  # apply_timers ends them
            due = []
            for member in claimed:
                self._fired_timers += 1
                timer = tuple(str(part) for part in orjson.loads(member))
                due.append(DueTimer(timer, due_ms, f"backtest/{self._fired_timers}"))
            self._count(
                await apply_timers(due, store, self.triggers, self.timeout_ms, _not_published)
            )

    def _count(self, steps: Sequence[Step | None]) -> None:
        if not self.counting:
            return
        for step in steps:
            if step is not None:
                self.effects += step.effects
                self.automations += step.automations
