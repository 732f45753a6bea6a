"""Owner state in memory, behind the same interface as Redis (stages/state_store.py).

The same rules as the Redis scripts: an owner's steps commit together only if its version
token is still the one they were computed from, each once per step id, with their timers.

``isolated`` copies a state on every read and commit, so two callers (two "replicas" in a
test) never share one object and a conflict is a real one. The backtest is the only reader
of its store, so it runs without copies: what a step computed is already the stored state
(a bug that raises half-way through a step leaves that state half changed, where Redis
would have kept the last commit).
"""

from __future__ import annotations

import copy
import heapq
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from eventwire.core.owner import OwnerState
from eventwire.core.process import Step
from eventwire.core.triggers.budgets import BudgetClaim, BudgetKey
from eventwire.stages.state_store import Planned, Snapshot, Wants, next_version

_NOTHING: dict[str, Any] = {"b": [], "e": [], "a": []}


class MemoryOwnerStore:
    def __init__(self, *, isolated: bool = True, keep_records: bool = True) -> None:
        self._isolated = isolated
        # Without records a step id is still remembered (never applied twice), but what it
        # published is not: the backtest counts each step once and re-publishes nothing.
        self._keep_records = keep_records
        self._states: dict[str, OwnerState] = {}
        # The committed version per owner, apart from the state (which, without copies, a
        # plan moves on before it is committed).
        self._versions: dict[str, str] = {}
        self._committed: dict[str, dict[str, dict[str, Any]]] = {}
        self._due: dict[str, int] = {}  # timer member -> due ms
        self._heap: list[tuple[int, str]] = []  # (due ms, member); stale entries skipped
        self._inflight: dict[str, int] = {}  # timer member -> lease end ms
        self._budgets: dict[BudgetKey, dict[str, int]] = {}  # "n", and "s:<step id>" -> units

    # --- the state store interface --------------------------------------------------------

    async def read(self, wanted: Mapping[str, Wants]) -> dict[str, Snapshot]:
        found: dict[str, Snapshot] = {}
        for owner, want in wanted.items():
            state = self._states.get(owner)
            if state is None:
                state = OwnerState(owner, want.profile_id)
            elif self._isolated:
                state = copy.deepcopy(state)
            state.profile_id = want.profile_id
            records = self._committed.get(owner, {})
            committed = {step: records[step] for step in want.steps if step in records}
            found[owner] = Snapshot(state, committed)
        return found

    def plan(self, state: OwnerState, steps: list[Step], stored: list[bytes]) -> Planned:
        following = state.version
        for step in steps:
            following = next_version(following, step.id)
        planned = Planned(state.owner, steps, stored, state.version, following, [state], 1)
        state.dirty.clear()
        state.history_added.clear()
        state.version = following
        return planned

    async def commit(self, plans: Sequence[Planned]) -> list[str]:
        replies: list[str] = []
        for plan in plans:
            if self._versions.get(plan.owner, "") != plan.expected:
                replies.append("conflict")
                continue
            self._versions[plan.owner] = plan.following
            state: OwnerState = plan.writes[0]
            self._states[plan.owner] = copy.deepcopy(state) if self._isolated else state
            records = self._committed.setdefault(plan.owner, {})
            for step, stored in zip(plan.steps, plan.stored, strict=True):
                records[step.id] = orjson.loads(stored) if self._keep_records else _NOTHING
                for timer, at_ms in step.timers_due:
                    member = orjson.dumps(list(timer)).decode()
                    self._schedule(member, max(at_ms, self._due.get(member, at_ms)))
                for timer in step.timers_gone:
                    member = orjson.dumps(list(timer)).decode()
                    self._due.pop(member, None)
                    self._inflight.pop(member, None)
            replies.append("ok")
        return replies

    async def read_budgets(
        self, keys: set[BudgetKey], step_ids: set[str]
    ) -> tuple[dict[BudgetKey, int], dict[tuple[BudgetKey, str], int]]:
        used = {key: self._budgets.get(key, {}).get("n", 0) for key in keys}
        held = {
            (key, step): self._budgets[key][f"s:{step}"]
            for key in keys
            for step in step_ids
            if f"s:{step}" in self._budgets.get(key, {})
        }
        return used, held

    async def claim_budgets(self, claims: Sequence[BudgetClaim]) -> list[bool]:
        granted: list[bool] = []
        for claim in claims:  # the Redis script's rule (claim_budgets.lua)
            budget = self._budgets.setdefault(claim.key, {"n": 0})
            held = budget.get(f"s:{claim.step_id}", 0)
            if held >= claim.units:
                granted.append(True)
            elif budget["n"] + claim.units - held <= claim.times:
                budget["n"] += claim.units - held
                budget[f"s:{claim.step_id}"] = claim.units
                granted.append(True)
            else:
                granted.append(False)
        return granted

    def budget_used(self, key: BudgetKey) -> int:
        return self._budgets.get(key, {}).get("n", 0)

    async def claim_timers(self, now_ms: int, lease_ms: int, limit: int) -> list[str]:
        claimed = [m for m, until in self._inflight.items() if until <= now_ms][:limit]
        while self._heap and len(claimed) < limit and self._heap[0][0] <= now_ms:
            due_ms, member = heapq.heappop(self._heap)
            if self._due.get(member) == due_ms:
                del self._due[member]
                claimed.append(member)
        for member in claimed:
            self._inflight[member] = now_ms + lease_ms
        return claimed

    async def reschedule(self, due: Mapping[str, int]) -> None:
        for member, at_ms in due.items():
            self._schedule(member, at_ms)

    async def release(self, claimed: Sequence[str]) -> None:
        for member in claimed:
            self._inflight.pop(member, None)

    # --- for the backtest ------------------------------------------------------------------

    def next_due_ms(self) -> int | None:
        """When the earliest timer is due (None: no timer)."""
        while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def states(self) -> Mapping[str, OwnerState]:
        return self._states

    def _schedule(self, member: str, at_ms: int) -> None:
        self._due[member] = at_ms
        heapq.heappush(self._heap, (at_ms, member))
