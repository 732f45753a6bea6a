"""Does a trigger fire for a document, and what does it do? Pure: the live path and the dry
run (``POST /v1/triggers/test``) both come here.

The document is ``{"event", "session", "profile", "history", "now"}``. ``segments.include``
passes when the profile is in any of the listed segments, ``exclude`` when it is in none.
Action values are computed from the document as it was when the event arrived: an
expression in a later action does not see the points an earlier action awarded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventwire.core.ingest import EventRecord
from eventwire.core.triggers.actions import REPORT_WHEN_UNCHANGED, ProfileState, apply_action
from eventwire.core.triggers.compiled import CompiledTrigger
from eventwire.core.triggers.effects import (
    AutomationRecord,
    EffectRecord,
    automation_record,
    effect_record,
)
from eventwire.core.triggers.filters import Failure

Doc = dict[str, Any]


def _segments(doc: Doc) -> set[str]:
    segments = (doc.get("profile") or {}).get("segments") or []
    return {s for s in segments if isinstance(s, str)}


def passes(trigger: CompiledTrigger, doc: Doc) -> bool:
    """The hot-path check: type, segments and ``when`` (limits and absence are state's)."""
    if (doc.get("event") or {}).get("type") not in trigger.on:
        return False
    if trigger.include or trigger.exclude:
        segments = _segments(doc)
        if trigger.include and not segments & trigger.include:
            return False
        if segments & trigger.exclude:
            return False
    return trigger.when is None or trigger.when.match(doc)


def failures(trigger: CompiledTrigger, doc: Doc) -> list[Failure]:
    """Why the trigger does not fire for ``doc``: every failed condition (empty: it fires)."""
    found: list[Failure] = []
    event_type = (doc.get("event") or {}).get("type")
    if event_type not in trigger.on:
        on = ", ".join(sorted(trigger.on))
        found.append(
            Failure("event.type", "on", f"event.type is {event_type!r}; the trigger is on {on}")
        )
    segments = _segments(doc)
    if trigger.include and not segments & trigger.include:
        wanted = ", ".join(sorted(trigger.include))
        found.append(
            Failure("profile.segments", "segments.include", f"the profile is in none of: {wanted}")
        )
    if segments & trigger.exclude:
        found.append(
            Failure(
                "profile.segments",
                "segments.exclude",
                f"the profile is in {', '.join(sorted(segments & trigger.exclude))}",
            )
        )
    if trigger.when is not None:
        found += trigger.when.explain(doc)
    return found


@dataclass(slots=True)
class Fired:
    effects: list[EffectRecord] = field(default_factory=list)
    automations: list[AutomationRecord] = field(default_factory=list)


def profile_summary(profile: dict[str, Any] | None) -> dict[str, Any]:
    """What an automation start carries of the profile."""
    profile = profile or {}
    out = {
        key: profile[key] for key in ("id", "email", "contact_id", "user_id") if profile.get(key)
    }
    out["traits"] = profile.get("traits") or {}
    return out


def run_actions(
    trigger: CompiledTrigger,
    doc: Doc,
    event: EventRecord,
    state: ProfileState,
    basis: str | None = None,
) -> Fired:
    """Apply the trigger's actions to ``state`` in order; the effects and automation starts
    (their ids derive from ``basis``, the event id unless given)."""
    fired = Fired()
    for action in trigger.actions:
        params = action.params(doc)
        applied = apply_action(state, action.type, params)
        if applied.changed or action.type in REPORT_WHEN_UNCHANGED:
            fired.effects.append(
                effect_record(
                    event, trigger.id, action.index, action.type, params, applied.result, basis
                )
            )
        if action.type == "start_automation":
            fired.automations.append(
                automation_record(
                    event,
                    trigger.id,
                    action.index,
                    params["automation"],
                    profile_summary(doc.get("profile")),
                    basis,
                )
            )
    return fired
