"""``POST /v1/triggers/test`` and ``eventwire triggers test``: would this trigger fire for these
documents, which condition failed, and what would it do? Touches no state.

Limits (``limit``) depend on how often the trigger already fired, which is state, so the dry
run does not apply them. For a global budget it says at which document the budget would run
out if it started full (``budget.runs_out_at``: the position of the fire that takes its last
unit, counting windows as the live worker does). An ``absent`` trigger that "fires" would
start its window, and its effects are those it would produce if nothing followed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventwire.core.ingest import EventRecord
from eventwire.core.timestamps import iso_from_ms
from eventwire.core.triggers.actions import ProfileState
from eventwire.core.triggers.budgets import window_of
from eventwire.core.triggers.compiled import TriggerError, compile_trigger
from eventwire.core.triggers.evaluate import failures, run_actions


def _event(sample: dict[str, Any], position: int, now_ms: int) -> EventRecord:
    event = sample["event"]
    profile = sample.get("profile") or {}
    session = sample.get("session") or {}
    return {
        "id": str(event.get("id") or f"dry-run-{position}"),
        "type": event["type"],
        "source_id": str(event.get("source_id") or "dry-run"),
        "profile_id": event.get("profile_id") or profile.get("id"),
        "session_id": event.get("session_id") or session.get("id"),
        "properties": event.get("properties") or {},
        "context": event.get("context") or {},
        "sent_at": event.get("sent_at"),
        "received_at": event.get("received_at") or iso_from_ms(now_ms),
        "definition_version": None,
        "format": "dry-run",
        "builtin": False,
    }


def _check(documents: Any) -> list[str]:
    if not isinstance(documents, list) or not documents:
        return ["documents: give a non-empty list of {event, session?, profile?, history?}"]
    problems = []
    for i, sample in enumerate(documents):
        if not isinstance(sample, dict) or not isinstance(sample.get("event"), dict):
            problems.append(f"documents.{i}.event: required, an object")
        elif not isinstance(sample["event"].get("type"), str):
            problems.append(f"documents.{i}.event.type: required, a string")
        for part in ("session", "profile", "history"):
            if (
                isinstance(sample, dict)
                and sample.get(part) is not None
                and not isinstance(sample[part], dict)
            ):
                problems.append(f"documents.{i}.{part}: must be an object")
    return problems


def dry_run(trigger_document: Any, documents: Any, now_ms: int) -> dict[str, Any]:
    """``{"results": [{"fires", "failed", "effects"}, ...]}``, or TriggerError naming every
    problem of the trigger and of the documents."""
    problems = _check(documents)
    try:
        trigger = compile_trigger(trigger_document)
    except TriggerError as exc:
        raise TriggerError([f"trigger.{p}" for p in exc.problems] + problems) from None
    if problems:
        raise TriggerError(problems)
    results = []
    window_fires: dict[int, int] = {}
    runs_out_at: int | None = None
    for position, sample in enumerate(documents):
        event = _event(sample, position, now_ms)
        when = datetime.fromisoformat(event["received_at"]).timestamp() * 1000
        profile: dict[str, Any] = sample.get("profile") or {}
        doc: dict[str, Any] = {
            "event": event,
            "session": sample.get("session") or {},
            "profile": profile,
            "history": sample.get("history") or {},
            "now": int(when),
        }
        failed = failures(trigger, doc)
        effects: list[Any] = []
        if not failed:
            state = ProfileState.from_view(profile)
            effects = list(run_actions(trigger, doc, event, state).effects)
            if trigger.limit is not None and trigger.limit.per == "global":
                window = window_of(trigger, int(when))
                window_fires[window] = window_fires.get(window, 0) + 1
                if window_fires[window] == trigger.limit.times and runs_out_at is None:
                    runs_out_at = position
        results.append(
            {"fires": not failed, "failed": [f.as_dict() for f in failed], "effects": effects}
        )
    answer: dict[str, Any] = {"results": results}
    if trigger.limit is not None and trigger.limit.per == "global":
        answer["budget"] = {"times": trigger.limit.times, "runs_out_at": runs_out_at}
    return answer
