"""Trigger compilation (every problem named), action semantics, and the dry run."""

import pytest

from eventwire.core.triggers.actions import ProfileState, apply_action
from eventwire.core.triggers.compiled import TriggerError, compile_trigger
from eventwire.core.triggers.dry_run import dry_run
from eventwire.core.triggers.effects import effect_id

PURCHASE = {
    "id": "points-per-purchase",
    "on": "order.completed",
    "when": {"event.properties.total": {"$gt": 0}},
    "actions": [{"type": "award_points", "amount": {"$round": "$event.properties.total"}}],
}
NOW = 1_764_000_000_000


def test_a_trigger_compiles_once_into_closures():
    trigger = compile_trigger(
        {
            **PURCHASE,
            "on": ["order.completed", "pos.sale"],
            "segments": {"exclude": ["staff"]},
            "limit": {"times": 2, "per": "profile", "window": "1d"},
            "absent": {"type": "review.submitted", "within": "7d"},
        }
    )
    assert trigger.on == {"order.completed", "pos.sale"}
    assert trigger.exclude == {"staff"}
    assert trigger.limit is not None
    assert trigger.absent is not None
    assert (trigger.limit.times, trigger.limit.per, trigger.limit.window_ms) == (
        2,
        "profile",
        86_400_000,
    )
    assert (trigger.absent.type, trigger.absent.within_ms) == ("review.submitted", 604_800_000)
    assert trigger.actions[0].params({"event": {"properties": {"total": 9.6}}}) == {"amount": 10}


def test_one_key_action_form():
    trigger = compile_trigger({**PURCHASE, "actions": [{"grant_badge": {"badge": "first"}}]})
    assert trigger.actions[0].type == "grant_badge"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"when": {"event.total": {"$near": 1}}}, "when.event.total.$near: unknown operator $near"),
        ({"when": {"order.total": 1}}, "bad path 'order.total'"),
        ({"limit": {"times": 1, "window": "a while"}}, "limit.window"),
        ({"absent": {"type": "x", "within": "soon"}}, "absent.within"),
        ({"actions": [{"type": "send_sms", "to": "x"}]}, "actions.0"),
        (
            {"actions": [{"type": "award_points", "amount": {"$pow": [2, 2]}}]},
            "unknown expression operator $pow",
        ),
        (
            {"actions": [{"type": "award_points", "amount": "$basket.total"}]},
            "bad reference '$basket.total'",
        ),
        ({"actions": []}, "actions"),
        ({"on": []}, "on"),
        ({"id": "has space"}, "id"),
        ({"colour": "red"}, "colour"),
        (
            {"actions": [{"type": "call_webhook", "url": "ftp://x.example"}]},
            "actions.0.call_webhook.url",
        ),
        (
            {
                "actions": [
                    {
                        "type": "call_webhook",
                        "url": "https://x.example",
                        "headers": {"X": "a\r\nEvil: 1"},
                    }
                ]
            },
            "headers",
        ),
        ({"absent": {"type": "order.completed", "within": "1d"}}, "absent.type must differ"),
    ],
)
def test_invalid_triggers_name_the_problem(change, problem):
    with pytest.raises(TriggerError) as caught:
        compile_trigger({**PURCHASE, **change})
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_every_problem_of_a_trigger_is_named_together():
    with pytest.raises(TriggerError) as caught:
        compile_trigger(
            {
                **PURCHASE,
                "when": {"$where": 1, "bad.path": 2},
                "actions": [
                    {"type": "award_points", "amount": "$nope.x"},
                    {"type": "issue_reward", "reward": {"$pow": 1}},
                ],
            }
        )
    assert len(caught.value.problems) == 4


@pytest.mark.parametrize(
    ("start", "action", "params", "changed", "result", "after"),
    [
        (
            ProfileState(points=10),
            "award_points",
            {"amount": 5},
            True,
            {"points": 15, "awarded": 5},
            {"points": 15},
        ),
        (
            ProfileState(points=10),
            "award_points",
            {"amount": None},
            False,
            {"points": 10, "skipped": "amount is not a positive number up to 2^53"},
            {"points": 10},
        ),
        (
            ProfileState(points=10),
            "award_points",
            {"amount": 10**30},
            False,
            {"points": 10, "skipped": "amount is not a positive number up to 2^53"},
            {"points": 10},
        ),
        (
            ProfileState(points=10),
            "award_points",
            {"amount": -5},
            False,
            {"points": 10, "skipped": "amount is not a positive number up to 2^53"},
            {"points": 10},
        ),
        (
            ProfileState(points=10),
            "deduct_points",
            {"amount": 4},
            True,
            {"points": 6, "deducted": 4},
            {"points": 6},
        ),
        (
            ProfileState(points=3),
            "deduct_points",
            {"amount": 4},
            True,
            {"points": 0, "deducted": 3},
            {"points": 0},
        ),
        (
            ProfileState(),
            "grant_badge",
            {"badge": "gold"},
            True,
            {"badge": "gold", "badges": ["gold"]},
            {"badges": ["gold"]},
        ),
        (
            ProfileState(badges=["gold"]),
            "grant_badge",
            {"badge": "gold"},
            False,
            {"badges": ["gold"]},
            {"badges": ["gold"]},
        ),
        (
            ProfileState(),
            "issue_reward",
            {"reward": "free-coffee"},
            True,
            {"reward": "free-coffee", "rewards": ["free-coffee"]},
            {"rewards": ["free-coffee"]},
        ),
        (
            ProfileState(),
            "set_attribute",
            {"name": "tier", "value": "vip"},
            True,
            {"name": "tier", "value": "vip"},
            {"traits": {"tier": "vip"}},
        ),
        (
            ProfileState(traits={"tier": "vip"}),
            "set_attribute",
            {"name": "tier", "value": "vip"},
            False,
            {"name": "tier", "value": "vip"},
            {"traits": {"tier": "vip"}},
        ),
        (
            ProfileState(),
            "add_to_segment",
            {"segment": "new"},
            True,
            {"segment": "new", "segments": ["new"]},
            {"segments": ["new"]},
        ),
        (
            ProfileState(segments=["new"]),
            "add_to_segment",
            {"segment": "new"},
            False,
            {"segments": ["new"]},
            {"segments": ["new"]},
        ),
        (
            ProfileState(segments=["new"]),
            "remove_from_segment",
            {"segment": "new"},
            True,
            {"segment": "new", "segments": []},
            {"segments": []},
        ),
        (ProfileState(), "call_webhook", {"url": "https://x"}, True, {"delivery": "pending"}, {}),
        (
            ProfileState(),
            "start_automation",
            {"automation": "welcome"},
            True,
            {"automation": "welcome"},
            {},
        ),
    ],
)
def test_actions(start, action, params, changed, result, after):
    applied = apply_action(start, action, params)
    assert (applied.changed, applied.result) == (changed, result)
    for name, value in after.items():
        assert getattr(start, name) == value


def test_dry_run_explains_each_document():
    trigger = {
        **PURCHASE,
        "segments": {"exclude": ["staff"]},
        "when": {
            "event.properties.total": {"$gte": 20},
            "$history": {"type": "order.completed", "within": "30d", "count": {"$gte": 2}},
        },
        "actions": [
            {"type": "award_points", "amount": {"$round": "$event.properties.total"}},
            {"type": "grant_badge", "badge": "regular"},
            {"type": "start_automation", "automation": "thank-you"},
        ],
    }
    day = 86_400_000
    documents = [
        {
            "event": {"id": "e1", "type": "order.completed", "properties": {"total": 24.5}},
            "profile": {"id": "p1", "points": 100, "badges": ["regular"]},
            "history": {"order.completed": [NOW - day, NOW]},
        },
        {
            "event": {"type": "order.completed", "properties": {"total": 5}},
            "profile": {"segments": ["staff"]},
            "history": {"order.completed": [NOW]},
        },
        {"event": {"type": "page.viewed"}},
    ]
    [first, second, third] = dry_run(trigger, documents, NOW)["results"]
    assert first["fires"] is True
    assert first["failed"] == []
    assert [(e["type"], e["result"]) for e in first["effects"]] == [
        ("award_points", {"points": 124, "awarded": 24}),
        ("start_automation", {"automation": "thank-you"}),
    ]
    assert first["effects"][0]["id"] == effect_id("e1", "points-per-purchase", 0)
    assert second["fires"] is False
    assert [(f["path"], f["operator"]) for f in second["failed"]] == [
        ("profile.segments", "segments.exclude"),
        ("event.properties.total", "$gte"),
        ("$history.order.completed", "$gte"),
    ]
    assert second["effects"] == []
    assert next(f["operator"] for f in third["failed"]) == "on"


def test_dry_run_refuses_bad_input_with_every_problem():
    with pytest.raises(TriggerError) as caught:
        dry_run({"id": "x", "on": "a", "actions": [{"type": "nope"}]}, [{"event": {}}, 5], NOW)
    problems = caught.value.problems
    assert any(p.startswith("trigger.actions.0") for p in problems)
    assert "documents.0.event.type: required, a string" in problems
    assert "documents.1.event: required, an object" in problems
