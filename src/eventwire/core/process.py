"""The process stage as pure functions: one event (or one due timer) applied to its owner's
state, with the built-in events, trigger effects and automation starts it causes.

Rules (docs/topics.md, docs/triggers.md, docs/guarantees.md):

- **Sessions**: the first event of a session id creates it (``session_created``). Every later
  ordinary event of an open session updates it (``session_updated``) and merges Talon.One
  attributes. ``session.close|cancel|revoke`` move it through ``core.session_rules.TRANSITIONS``.
  An ordinary event for a session that is no longer open leaves the session as it is.
- **Profiles**: the first event processed publishes ``profile_created``. Every event counts
  toward its type's counter. ``profile.update`` / ``profile.identify`` set traits
  (``profile_updated`` when something changed).
- **Triggers** run, in config order, on the event and then on each built-in event it causes,
  for events that have a profile. A trigger that changes segment membership causes
  ``segment_entered`` / ``segment_exited``, which triggers see in the same step (at most
  ``MAX_BUILTINS`` built-ins per step, so triggers that undo each other cannot loop).
  A later trigger sees what an earlier one did. ``limit``
  counts fires per profile or per session (within ``window``). An ``absent`` trigger opens a
  window instead of acting: an event of the awaited type cancels it, and otherwise it acts
  once the deadline passes (``fire_absence``).

Each step has an id: the event id, ``timeout:<session>`` or ``absent:<window>``. The Redis
commit applies a step once per id, so the step's effects happen exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventwire.core.ingest import EventRecord
from eventwire.core.outputs import Output
from eventwire.core.owner import (
    HISTORY_CAP,
    AbsenceWindow,
    OwnerState,
    SessionState,
    window_key,
)
from eventwire.core.session_rules import (
    SESSION_CONTROLS,
    Facts,
    builtins_for,
    segment_event,
    session_timeout_closed,
    transition,
)
from eventwire.core.step_input import StepInput
from eventwire.core.timestamps import iso_from_ms
from eventwire.core.triggers.budgets import BudgetClaim, BudgetView, claims_of
from eventwire.core.triggers.compiled import CompiledTrigger
from eventwire.core.triggers.effects import AutomationRecord, EffectRecord
from eventwire.core.triggers.evaluate import passes, run_actions
from eventwire.core.triggers.trigger_set import TriggerSet

MAX_BUILTINS = 50
SEGMENT_ACTIONS = ("add_to_segment", "remove_from_segment")
SESSION_TIMER = "session"
ABSENT_TIMER = "absent"
# Not a timer but a change the admin API asked for, handed on the same way (due at once):
# ("segment", owner, segment, "1" to add or "0" to remove, request id).
SEGMENT_CHANGE = "segment"
Timer = tuple[str, ...]


@dataclass
class Step:
    id: str
    owner: str
    builtins: list[EventRecord] = field(default_factory=list)
    effects: list[EffectRecord] = field(default_factory=list)
    automations: list[AutomationRecord] = field(default_factory=list)
    timers_due: list[tuple[Timer, int]] = field(default_factory=list)
    timers_gone: list[Timer] = field(default_factory=list)
    session_index: list[str] = field(default_factory=list)
    # Units of global budgets this step's fires took (the stage claims them before commit)
    budget_claims: list[BudgetClaim] = field(default_factory=list)
    # The encoded records, once core.outputs.encode_step made them
    outputs: list[Output] | None = None
    # What global budgets the batch may still spend (None: unknown, every fire is claimed)
    budgets: BudgetView | None = None

    @classmethod
    def replay(cls, step_id: str, owner: str, outcome: dict[str, Any]) -> Step:
        return cls(step_id, owner, list(outcome["b"]), list(outcome["e"]), list(outcome["a"]))


@dataclass(frozen=True, slots=True)
class NotDue:
    due_ms: int


def process_event(
    state: OwnerState,
    record: StepInput,
    triggers: TriggerSet,
    timeout_ms: int,
    budgets: BudgetView | None = None,
) -> Step:
    event = record["event"]
    at_ms = record["at_ms"]
    basis = record["basis"]
    step = Step(basis, state.owner, budgets=budgets)
    profile_created, traits_changed = _apply_profile(state, record, event)
    session_facts = _apply_session(state, event, record, at_ms, timeout_ms, step)
    _index_history(state, event["type"], at_ms, event["id"])
    facts = Facts(
        profile_created=profile_created,
        traits_changed=traits_changed,
        **session_facts,
    )
    step.builtins = builtins_for(event, facts, basis)
    _cancel_absences(state, event["type"], at_ms, step)
    _run_triggers(state, event, triggers, at_ms, step, basis)
    _run_builtins(state, triggers, at_ms, step, 0)
    return step


def _run_builtins(
    state: OwnerState, triggers: TriggerSet, now_ms: int, step: Step, first: int
) -> None:
    """Triggers on the step's built-ins from ``first`` on, including those they cause."""
    i = first
    while i < len(step.builtins) and i < MAX_BUILTINS:
        builtin = step.builtins[i]
        _run_triggers(state, builtin, triggers, now_ms, step, builtin["id"])
        i += 1


def _apply_profile(
    state: OwnerState, record: StepInput, event: EventRecord
) -> tuple[bool, dict[str, Any]]:
    if state.profile_id is None:
        return False, {}
    at = event["received_at"]
    created = state.created_at is None
    if created:
        state.created_at = at
        state.first_seen = state.first_seen or at
        state.touch("profile", "created_at")
        state.touch("profile", "first_seen")
        state.touch("profile", "id")
    state.last_seen = at
    state.touch("profile", "last_seen")
    state.counters[event["type"]] = state.counters.get(event["type"], 0) + 1
    state.touch("counters", event["type"])
    identities: dict[str, str] = dict(record["identities"])  # type: ignore[arg-type]
    for name, value in identities.items():
        if name == "client_id":
            if value not in state.client_ids:
                state.client_ids.add(value)
                state.touch("clients", value)
        elif name not in state.identities:
            state.identities[name] = value
            state.touch("profile", name)
    changed = {}
    for name, value in record["traits"].items():
        if name not in state.wallet.traits or state.wallet.traits[name] != value:
            state.wallet.traits[name] = value
            state.touch("traits", name)
            changed[name] = value
    return created, changed


def _apply_session(
    state: OwnerState,
    event: EventRecord,
    record: StepInput,
    at_ms: int,
    timeout_ms: int,
    step: Step,
) -> dict[str, Any]:
    session_id = event["session_id"]
    if not session_id:
        return {}
    session = state.sessions.get(session_id)
    control = SESSION_CONTROLS.get(event["type"])
    at = event["received_at"]
    facts: dict[str, Any] = {}
    if control is None:
        if session is None:
            session = SessionState(session_id, state.profile_id, "open", at, at, at_ms, 1)
            state.sessions[session_id] = session
            facts = {"session_created": True, "event_count": 1}
            step.session_index.append(session_id)
        elif session.status == "open":
            session.event_count += 1
            session.last_event_at, session.last_event_ms = at, at_ms
            facts = {"session_updated": True, "event_count": session.event_count}
        if session.status == "open":
            session.attributes.update(record["session_attributes"])
            timer = (SESSION_TIMER, state.owner, session_id, event["source_id"])
            step.timers_due.append((timer, session.last_event_ms + timeout_ms))
    elif session is not None:
        target = transition(session.status, control)
        if target is not None:
            facts = {"status_change": (session.status, target)}
            session.status, session.ended_at = target, at
    if facts:
        state.touch(f"session:{session_id}")
    return facts


def _index_history(state: OwnerState, type_: str, at_ms: int, event_id: str) -> None:
    stamps = state.history.setdefault(type_, [])
    stamps.append(at_ms)
    del stamps[:-HISTORY_CAP]
    state.history_added.append((type_, at_ms, event_id))


def _cancel_absences(state: OwnerState, type_: str, at_ms: int, step: Step) -> None:
    prefix = f"{type_}|"
    for key in [k for k in state.absences if k.startswith(prefix)]:
        window = state.window(key)
        if window is not None and at_ms <= window.deadline_ms:
            del state.absences[key]
            state.touch("absences", key)
            step.timers_gone.append((ABSENT_TIMER, state.owner, key))


def document(state: OwnerState, event: EventRecord, now_ms: int) -> dict[str, Any]:
    """What a trigger's filter and expressions read."""
    session = state.sessions.get(event["session_id"] or "")
    return {
        "event": event,
        "session": session.view() if session else {},
        "profile": state.profile_view(),
        "history": state.history,
        "now": now_ms,
    }


def _run_triggers(
    state: OwnerState,
    event: EventRecord,
    triggers: TriggerSet,
    now_ms: int,
    step: Step,
    basis: str,
) -> None:
    """``basis``: what the effects' ids derive from (the event's id, scoped by its source
    when a producer gave it; see core.step_input)."""
    if state.profile_id is None:
        return
    doc: dict[str, Any] | None = None  # built once, again only after a trigger acted
    for trigger in triggers.by_type.get(event["type"], ()):
        if doc is None:
            doc = document(state, event, now_ms)
        if not passes(trigger, doc):
            continue
        if trigger.absent is not None:
            key = window_key(trigger.absent.type, trigger.id, basis)
            deadline = now_ms + trigger.absent.within_ms
            state.absences[key] = AbsenceWindow(
                trigger.id, trigger.absent.type, deadline, event, basis=basis
            )
            state.touch("absences", key)
            step.timers_due.append(((ABSENT_TIMER, state.owner, key), deadline))
            continue
        if _act(state, trigger, doc, event, now_ms, step, basis):
            doc = None  # the next trigger sees what this one did


def _act(
    state: OwnerState,
    trigger: CompiledTrigger,
    doc: dict[str, Any],
    event: EventRecord,
    now_ms: int,
    step: Step,
    basis: str,
) -> bool:
    """Run the trigger's actions within its limit; whether it acted."""
    if not _within_limit(state, trigger, event, now_ms, step):
        return False
    before_traits = dict(state.wallet.traits)
    fired = run_actions(trigger, doc, event, state.wallet, basis)
    for effect in fired.effects:  # a segment effect is there only when membership changed
        if effect["type"] in SEGMENT_ACTIONS and len(step.builtins) < MAX_BUILTINS:
            entered = effect["type"] == "add_to_segment"
            segment = str(effect["result"]["segment"])
            parts = ("segment", trigger.id, basis)
            step.builtins.append(segment_event(event, segment, entered, parts))
    state.touch("profile", "wallet")
    for name, value in state.wallet.traits.items():
        if name not in before_traits or before_traits[name] != value:
            state.touch("traits", name)
    step.effects += fired.effects
    step.automations += fired.automations
    return True


def _within_limit(
    state: OwnerState, trigger: CompiledTrigger, event: EventRecord, now_ms: int, step: Step
) -> bool:
    limit = trigger.limit
    if limit is None:
        return True
    if limit.per == "global":
        nth = sum(c.units for c in step.budget_claims if c.key[0] == trigger.id)
        if step.budgets is not None and not step.budgets.take(trigger, now_ms, step.id, nth):
            return False
        step.budget_claims.append(claims_of(trigger, now_ms, step.id, 1))
        return True
    scope = state.profile_id if limit.per == "profile" else event["session_id"] or "-"
    key = f"{trigger.id}|{scope}"
    times = state.fired.get(key, [])
    if limit.window_ms is not None:
        times = [t for t in times if t > now_ms - limit.window_ms]
    if len(times) >= limit.times:
        return False
    state.fired[key] = [*times, now_ms][-limit.times :]
    state.touch("fired", key)
    return True


def close_if_timed_out(
    state: OwnerState,
    session_id: str,
    source_id: str,
    now_ms: int,
    timeout_ms: int,
    closed_at: str,
    triggers: TriggerSet,
    budgets: BudgetView | None = None,
) -> Step | NotDue | None:
    """Close an open session whose last event is older than the timeout (None: nothing to do)."""
    session = state.sessions.get(session_id)
    if session is None or session.status != "open":
        return None
    due = session.last_event_ms + timeout_ms
    if due > now_ms:
        return NotDue(due)
    session.status, session.ended_at, session.closed_by = "closed", closed_at, "timeout"
    state.touch(f"session:{session_id}")
    closed = session_timeout_closed(
        state.profile_id, session_id, session.event_count, closed_at, source_id
    )
    step = Step(f"timeout:{session_id}", state.owner, builtins=[closed], budgets=budgets)
    _run_builtins(state, triggers, now_ms, step, 0)
    return step


def change_segment(
    state: OwnerState,
    segment: str,
    member: bool,
    request_id: str,
    now_ms: int,
    triggers: TriggerSet,
    budgets: BudgetView | None = None,
) -> Step:
    """A membership change asked for through the admin API: ``segment_entered`` or
    ``segment_exited`` when it changes something (and the triggers on it), else nothing."""
    step = Step(f"segment:{request_id}", state.owner, budgets=budgets)
    before = list(state.wallet.segments)
    if (segment in before) == member or state.profile_id is None:
        return step
    state.wallet.segments = [*before, segment] if member else [s for s in before if s != segment]
    state.touch("profile", "wallet")
    cause = admin_event(state.profile_id, request_id, now_ms)
    step.builtins = [segment_event(cause, segment, member, ("admin", request_id))]
    _run_builtins(state, triggers, now_ms, step, 0)
    return step


def admin_event(profile_id: str, request_id: str, now_ms: int) -> EventRecord:
    """What a built-in caused by the admin API says it came from."""
    return {
        "id": request_id,
        "type": "admin.request",
        "source_id": "eventwire-admin",
        "profile_id": profile_id,
        "session_id": None,
        "properties": {},
        "context": {},
        "sent_at": None,
        "received_at": iso_from_ms(now_ms),
        "definition_version": None,
        "format": "builtin",
        "builtin": True,
    }


def fire_absence(
    state: OwnerState,
    key: str,
    now_ms: int,
    triggers: TriggerSet,
    budgets: BudgetView | None = None,
) -> Step | NotDue | None:
    """Act on an absence window whose deadline passed, and forget it (None: cancelled or
    fired before)."""
    window = state.window(key)
    if window is None:
        return None
    if window.deadline_ms > now_ms:
        return NotDue(window.deadline_ms)
    step = Step(f"absent:{key}", state.owner, budgets=budgets)
    del state.absences[key]
    state.touch("absences", key)
    trigger = triggers.by_id.get(window.trigger_id)
    if trigger is not None and trigger.enabled:
        doc = document(state, window.cause, now_ms)
        _act(state, trigger, doc, window.cause, now_ms, step, window.basis or window.cause["id"])
        _run_builtins(state, triggers, now_ms, step, 0)
    return step
