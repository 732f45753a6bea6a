"""The triggers in force, indexed for the hot path: by event type and by id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from eventwire.core.triggers.budgets import global_triggers
from eventwire.core.triggers.compiled import CompiledTrigger


@dataclass(frozen=True, slots=True)
class TriggerSet:
    by_id: Mapping[str, CompiledTrigger] = field(default_factory=dict)
    by_type: Mapping[str, tuple[CompiledTrigger, ...]] = field(default_factory=dict)
    history_types: frozenset[str] = frozenset()
    history_window_ms: int = 0
    budgeted: tuple[CompiledTrigger, ...] = ()  # those with a global budget (limit per global)

    @classmethod
    def of(cls, triggers: Iterable[CompiledTrigger]) -> TriggerSet:
        """Triggers in the order given (config order): later triggers see earlier effects."""
        by_id = {t.id: t for t in triggers}
        by_type: dict[str, list[CompiledTrigger]] = {}
        for trigger in by_id.values():
            if not trigger.enabled:
                continue
            for type_ in sorted(trigger.on):
                by_type.setdefault(type_, []).append(trigger)
        history = frozenset(t for trigger in by_id.values() for t in trigger.history_types)
        window = max(
            (t.when.history_window_ms for t in by_id.values() if t.when is not None), default=0
        )
        budgeted = tuple(global_triggers(by_id.values()))
        return cls(by_id, {k: tuple(v) for k, v in by_type.items()}, history, window, budgeted)
