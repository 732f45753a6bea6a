"""What each action does to a profile, as a pure function: the dry run and the live path use
the same one, so an effect's ``result`` (the state after it) is the same in both.

- ``award_points`` / ``deduct_points`` change the balance; a deduction never takes it below 0.
- ``grant_badge`` is once per profile: a badge the profile holds already is no effect.
- ``issue_reward`` appends a reward; ``set_attribute`` sets a profile trait.
- ``add_to_segment`` / ``remove_from_segment``: a change that changes nothing is no effect.
- ``call_webhook`` and ``start_automation`` change no state: delivery and automations happen
  downstream, from the effect and automation messages.

An amount that is not a positive number (a reference to a missing field, say) is no effect
either; the result says why, so nothing disappears silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProfileState:
    points: int | float = 0
    badges: list[str] = field(default_factory=list)
    rewards: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    traits: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_view(cls, profile: dict[str, Any] | None) -> ProfileState:
        profile = profile or {}
        points = profile.get("points", 0)
        return cls(
            points=points
            if isinstance(points, int | float) and not isinstance(points, bool)
            else 0,
            badges=[str(b) for b in profile.get("badges") or []],
            rewards=[str(r) for r in profile.get("rewards") or []],
            segments=[str(s) for s in profile.get("segments") or []],
            traits=dict(profile.get("traits") or {}),
        )


@dataclass(frozen=True, slots=True)
class Applied:
    """An action's outcome: ``changed`` is False when it was no effect."""

    changed: bool
    result: dict[str, Any]


def _amount(value: Any) -> int | float | None:
    """A positive amount within JSON's exact range (2^53), else None (no effect)."""
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 < value <= 2**53
    ):
        return value
    return None


def _points(state: ProfileState, params: dict[str, Any], award: bool) -> Applied:
    amount = _amount(params.get("amount"))
    if amount is None:
        return Applied(
            False, {"points": state.points, "skipped": "amount is not a positive number up to 2^53"}
        )
    if award:
        state.points += amount
        return Applied(True, {"points": state.points, "awarded": amount})
    taken = min(amount, state.points)
    state.points -= taken
    return Applied(taken > 0, {"points": state.points, "deducted": taken})


def _badge(state: ProfileState, params: dict[str, Any]) -> Applied:
    badge = params.get("badge")
    if not isinstance(badge, str) or not badge or badge in state.badges:
        return Applied(False, {"badges": list(state.badges)})
    state.badges.append(badge)
    return Applied(True, {"badge": badge, "badges": list(state.badges)})


def _reward(state: ProfileState, params: dict[str, Any]) -> Applied:
    reward = params.get("reward")
    if not isinstance(reward, str) or not reward:
        return Applied(False, {"rewards": list(state.rewards), "skipped": "reward is not a name"})
    state.rewards.append(reward)
    return Applied(True, {"reward": reward, "rewards": list(state.rewards)})


def _attribute(state: ProfileState, params: dict[str, Any]) -> Applied:
    name, value = params["name"], params.get("value")
    changed = name not in state.traits or state.traits[name] != value
    state.traits[name] = value
    return Applied(changed, {"name": name, "value": value})


def _segment(state: ProfileState, params: dict[str, Any], add: bool) -> Applied:
    segment = params.get("segment")
    if not isinstance(segment, str) or not segment or (segment in state.segments) == add:
        return Applied(False, {"segments": list(state.segments)})
    if add:
        state.segments.append(segment)
    else:
        state.segments.remove(segment)
    return Applied(True, {"segment": segment, "segments": list(state.segments)})


_APPLY: dict[str, Callable[[ProfileState, dict[str, Any]], Applied]] = {
    "award_points": lambda state, params: _points(state, params, award=True),
    "deduct_points": lambda state, params: _points(state, params, award=False),
    "grant_badge": _badge,
    "issue_reward": _reward,
    "set_attribute": _attribute,
    "add_to_segment": lambda state, params: _segment(state, params, add=True),
    "remove_from_segment": lambda state, params: _segment(state, params, add=False),
    "call_webhook": lambda state, params: Applied(True, {"delivery": "pending"}),
    "start_automation": lambda state, params: Applied(True, {"automation": params["automation"]}),
}


def apply_action(state: ProfileState, type_: str, params: dict[str, Any]) -> Applied:
    """Apply one action to ``state`` (in place) and say what it did."""
    apply = _APPLY.get(type_)
    if apply is None:
        raise ValueError(f"unknown action {type_!r}")
    return apply(state, params)


# Actions whose no-effect outcome is still published (the result says why), so that a
# trigger that fired is always visible; a badge already held or a segment unchanged is not.
REPORT_WHEN_UNCHANGED = frozenset({"award_points", "deduct_points", "issue_reward"})
