"""Global budgets (``limit: {times, per: "global", window?}``): a trigger's fires over all
profiles, capped. The count lives in the state store, one counter per trigger and window
(fixed windows from the epoch: ``at_ms // window_ms``; a single one without ``window``),
with the units each step holds beside it.

The pure step cannot ask the store, so it decides against a view read before the batch: a
fire takes a unit from the view and notes it on its step. The stage then claims the steps'
units from the store at once, per step id (a step computed again holds what it was granted
and claims nothing twice); a step refused there is computed again with that budget known to
be spent. A budget is never exceeded; a unit granted to a step that, computed again on
newer state, no longer fires stays unused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from eventwire.core.triggers.compiled import CompiledTrigger

BudgetKey = tuple[str, int]  # (trigger id, window index)


@dataclass(frozen=True, slots=True)
class BudgetClaim:
    """The units one step takes from one budget."""

    key: BudgetKey
    times: int
    expires_ms: int | None  # when the window's counter may go (None: never)
    step_id: str
    units: int


def window_of(trigger: CompiledTrigger, at_ms: int) -> int:
    window_ms = trigger.limit.window_ms if trigger.limit else None
    return at_ms // window_ms if window_ms else 0


def global_triggers(triggers: Iterable[CompiledTrigger]) -> list[CompiledTrigger]:
    return [t for t in triggers if t.limit is not None and t.limit.per == "global"]


def wanted_keys(triggers: Iterable[CompiledTrigger], times_ms: Iterable[int]) -> set[BudgetKey]:
    """The counters a batch of steps at ``times_ms`` may touch."""
    moments = set(times_ms)
    return {(t.id, window_of(t, at_ms)) for t in global_triggers(triggers) for at_ms in moments}


@dataclass
class BudgetView:
    """What one attempt at a batch believes it may still spend: the counts read plus what
    its own steps took; the units its steps already hold (granted to the same step id
    before, so it is being computed again); and the budgets the store refused."""

    used: dict[BudgetKey, int] = field(default_factory=dict)
    held: dict[tuple[BudgetKey, str], int] = field(default_factory=dict)
    spent: set[BudgetKey] = field(default_factory=set)

    def take(self, trigger: CompiledTrigger, at_ms: int, step_id: str, nth: int) -> bool:
        """May the step fire ``trigger`` once more (its ``nth`` fire, from 0)?"""
        assert trigger.limit is not None
        key = (trigger.id, window_of(trigger, at_ms))
        if self.held.get((key, step_id), 0) > nth:
            return True
        n = self.used.get(key, 0)
        if key in self.spent or n >= trigger.limit.times:
            return False
        self.used[key] = n + 1
        return True


def claims_of(trigger: CompiledTrigger, at_ms: int, step_id: str, units: int) -> BudgetClaim:
    assert trigger.limit is not None
    window = window_of(trigger, at_ms)
    window_ms = trigger.limit.window_ms
    expires = (window + 2) * window_ms if window_ms else None  # a window of slack for clocks
    return BudgetClaim((trigger.id, window), trigger.limit.times, expires, step_id, units)


def merged(claims: Sequence[BudgetClaim]) -> list[BudgetClaim]:
    """One claim per budget and step, with all its units."""
    out: dict[tuple[BudgetKey, str], BudgetClaim] = {}
    for claim in claims:
        found = out.get((claim.key, claim.step_id))
        units = claim.units + (found.units if found else 0)
        out[(claim.key, claim.step_id)] = BudgetClaim(
            claim.key, claim.times, claim.expires_ms, claim.step_id, units
        )
    return list(out.values())
