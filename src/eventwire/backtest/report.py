"""The backtest's answer from the effects a replay produced (pure): per trigger its fires,
profiles, effects by type, points, fires per day and a few examples; for a changed version
of a live trigger, what it gains and loses against the live version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eventwire.core.durations import parse_duration
from eventwire.core.timestamps import ms_from_iso
from eventwire.core.triggers.effects import EffectRecord

EXAMPLES = 3


def trigger_reports(
    effects: Iterable[EffectRecord],
    triggers: Sequence[Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """One entry per trigger document in ``triggers`` (in their order), fired or not."""
    reports: dict[str, dict[str, Any]] = {
        str(t["id"]): _empty(passed_conditions(t)) for t in triggers
    }
    fires: dict[str, set[str]] = {tid: set() for tid in reports}
    profiles: dict[str, set[str]] = {tid: set() for tid in reports}
    effects_seen = list(effects)
    for effect in effects_seen:
        report = reports.get(effect["trigger_id"])
        if report is None:
            continue
        tid = effect["trigger_id"]
        report["effects"][effect["type"]] = report["effects"].get(effect["type"], 0) + 1
        report["points"] += _points(effect)
        if effect["event_id"] not in fires[tid]:
            fires[tid].add(effect["event_id"])
            day = effect["created_at"][:10]
            report["per_day"][day] = report["per_day"].get(day, 0) + 1
            if len(report["examples"]) < EXAMPLES:
                report["examples"].append(
                    {
                        "event_id": effect["event_id"],
                        "profile_id": effect["profile_id"],
                        "passed": report["_passed"],
                    }
                )
        if effect["profile_id"]:
            profiles[tid].add(effect["profile_id"])
    for t in triggers:
        budget = _budget(t, [e for e in effects_seen if e["trigger_id"] == t["id"]])
        if budget is not None:
            reports[str(t["id"])]["budget"] = budget
    for tid, report in reports.items():
        del report["_passed"]
        report["fires"] = len(fires[tid])
        report["profiles"] = len(profiles[tid])
        report["per_day"] = dict(sorted(report["per_day"].items()))
    return reports


def fired_keys(effects: Iterable[EffectRecord], trigger_id: str) -> tuple[set[str], set[str], int]:
    """What one trigger did: the events it fired on, the profiles, the points it moved."""
    events: set[str] = set()
    profiles: set[str] = set()
    points = 0
    for effect in effects:
        if effect["trigger_id"] == trigger_id:
            events.add(effect["event_id"])
            if effect["profile_id"]:
                profiles.add(effect["profile_id"])
            points += _points(effect)
    return events, profiles, points


def difference(
    live: Iterable[EffectRecord], candidate: Iterable[EffectRecord], trigger_id: str
) -> dict[str, int]:
    """The candidate version against the live one: fires and profiles gained and lost (by
    event and profile id), and the points it moves more (or less)."""
    live_events, live_profiles, live_points = fired_keys(live, trigger_id)
    new_events, new_profiles, new_points = fired_keys(candidate, trigger_id)
    return {
        "fires_gained": len(new_events - live_events),
        "fires_lost": len(live_events - new_events),
        "profiles_gained": len(new_profiles - live_profiles),
        "profiles_lost": len(live_profiles - new_profiles),
        "points_delta": new_points - live_points,
    }


def passed_conditions(trigger: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What an event had to pass for the trigger to fire: its type, segments and ``when``."""
    on = trigger.get("on")
    passed: list[dict[str, Any]] = [
        {"path": "event.type", "operator": "on", "value": on if isinstance(on, list) else [on]}
    ]
    segments = trigger.get("segments") or {}
    for operator in ("include", "exclude"):
        if segments.get(operator):
            passed.append(
                {
                    "path": "profile.segments",
                    "operator": f"segments.{operator}",
                    "value": segments[operator],
                }
            )
    if trigger.get("when") is not None:
        passed.append({"path": "when", "operator": "when", "value": trigger["when"]})
    return passed


def _budget(trigger: Mapping[str, Any], effects: Sequence[EffectRecord]) -> dict[str, Any] | None:
    """For a global budget: when it would have run out (the event time of the fire that took
    its last unit, first window to run out), and in how many windows it did."""
    limit = trigger.get("limit") or {}
    if limit.get("per") != "global":
        return None
    times = int(limit["times"])
    window_ms = int(parse_duration(limit["window"]) * 1000) if limit.get("window") else None
    counts: dict[int, int] = {}
    ran_out: list[str] = []
    for at in sorted({(e["created_at"], e["event_id"]) for e in effects}):
        window = ms_from_iso(at[0]) // window_ms if window_ms else 0
        counts[window] = counts.get(window, 0) + 1
        if counts[window] == times:
            ran_out.append(at[0])
    return {
        "times": times,
        "window": limit.get("window"),
        "ran_out_at": ran_out[0] if ran_out else None,
        "windows_run_out": len(ran_out),
    }


def _points(effect: EffectRecord) -> int:
    result = effect.get("result") or {}
    awarded = result.get("awarded", 0) if effect["type"] == "award_points" else 0
    deducted = result.get("deducted", 0) if effect["type"] == "deduct_points" else 0
    return int(awarded) - int(deducted)


def _empty(passed: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "fires": 0,
        "profiles": 0,
        "effects": {},
        "points": 0,
        "per_day": {},
        "examples": [],
        "_passed": passed,
    }
