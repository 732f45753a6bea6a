"""The backtest's answer from the effects a replay produced (pure): per trigger its fires,
profiles, effects by type, points, fires per day and a few examples; for a changed version
of a live trigger, what it gains and loses against the live version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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
    for effect in effects:
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
