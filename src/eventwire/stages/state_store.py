"""The state store: where owners' state, their committed steps and the due timers live.

Two implementations: Redis (redis_store/owners.py), used live by every replica, and memory
(memory_store/owners.py), used by the backtest and by tests of the commit/conflict/retry
loop and of timers that need no services. The stages (apply_state, timers) see only this.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from eventwire.core.owner import OwnerState
from eventwire.core.process import Step
from eventwire.core.triggers.budgets import BudgetClaim, BudgetKey


@dataclass
class Wants:
    """What to read for one owner."""

    profile_id: str | None
    sessions: set[str] = field(default_factory=set)
    steps: set[str] = field(default_factory=set)
    history_types: frozenset[str] = frozenset()
    # Absence windows are kept by the event type they await: only the types that the
    # owner's events (or timers) can cancel or fire are read.
    absence_types: set[str] = field(default_factory=set)
    # Only timestamps from here on are read: the oldest any $history window can reach.
    history_since_ms: int = 0


@dataclass
class Snapshot:
    state: OwnerState
    committed: dict[str, dict[str, Any]]  # step id -> stored outcome


@dataclass
class Planned:
    """All of one owner's steps of a batch, ready to commit together."""

    owner: str
    steps: list[Step]
    stored: list[bytes]  # per step: what to re-publish if it is ever redelivered
    expected: str
    following: str
    writes: list[Any]  # the changes in the store's own form (Redis: flat commands)
    write_count: int


def next_version(previous: str, step_id: str) -> str:
    """The token of the state after ``step_id`` is applied to the state named ``previous``."""
    return hashlib.blake2b(f"{previous}\n{step_id}".encode(), digest_size=12).hexdigest()


class StateStore(Protocol):
    async def read(self, wanted: Mapping[str, Wants]) -> dict[str, Snapshot]:
        """Each wanted owner's state (what ``Wants`` names, at least) and committed steps."""
        ...

    def plan(self, state: OwnerState, steps: list[Step], stored: list[bytes]) -> Planned:
        """The steps' changes, ready to commit together; moves ``state``'s version on."""
        ...

    async def commit(self, plans: Sequence[Planned]) -> list[str]:
        """Per plan "ok", or "conflict" when the owner changed since it was read."""
        ...

    async def read_budgets(
        self, keys: set[BudgetKey], step_ids: set[str]
    ) -> tuple[dict[BudgetKey, int], dict[tuple[BudgetKey, str], int]]:
        """Global budgets' units granted, and the units each of ``step_ids`` holds."""
        ...

    async def claim_budgets(self, claims: Sequence[BudgetClaim]) -> list[bool]:
        """Per claim (one per budget and step): whether the step holds its units now."""
        ...

    async def claim_timers(self, now_ms: int, lease_ms: int, limit: int) -> list[str]:
        """Due timers (JSON members), each to one caller at a time, under a lease."""
        ...

    async def reschedule(self, due: Mapping[str, int]) -> None: ...

    async def release(self, claimed: Sequence[str]) -> None:
        """Forget claimed timers (they were handed on)."""
        ...
