"""segment_entered / segment_exited: published exactly when a trigger changes membership,
seen by triggers in the same step, with ids that a step applied again derives the same."""

from __future__ import annotations

from eventwire.core.owner import OwnerState
from eventwire.core.process import MAX_BUILTINS, process_event
from eventwire.core.triggers.compiled import compile_trigger
from eventwire.core.triggers.trigger_set import TriggerSet
from tests.core.test_process import record

# Also the end-to-end test's triggers (tests/kafka/test_segment_events_e2e.py).
VIP_TRIGGERS = [
    {
        "id": "big-spender",
        "on": "order.completed",
        "when": {"event.properties.total": {"$gte": 100}},
        "actions": [{"type": "add_to_segment", "segment": "vip"}],
    },
    {
        "id": "refund-demotes",
        "on": "order.refunded",
        "actions": [{"type": "remove_from_segment", "segment": "vip"}],
    },
    {
        "id": "vip-welcome",
        "on": "segment_entered",
        "when": {"event.properties.segment": "vip"},
        "actions": [{"type": "award_points", "amount": 50}],
    },
    {
        "id": "vip-goodbye",
        "on": "segment_exited",
        "actions": [{"type": "start_automation", "automation": "win-back"}],
    },
]
VIP = TriggerSet.of(compile_trigger(t) for t in VIP_TRIGGERS)


def segment_events(step):
    return [(b["type"], b["properties"]) for b in step.builtins if b["type"].startswith("segment")]


def test_entering_and_leaving_a_segment_publish_once_and_run_triggers_in_the_same_step():
    state = OwnerState("p-1", "p-1")
    big = process_event(
        state, record("o1", "order.completed", props={"total": 150}), VIP, 30 * 60_000
    )
    assert segment_events(big) == [("segment_entered", {"segment": "vip"})]
    assert [(e["trigger_id"], e["type"]) for e in big.effects] == [
        ("big-spender", "add_to_segment"),
        ("vip-welcome", "award_points"),
    ]
    assert state.wallet.points == 50
    entered = next(b for b in big.builtins if b["type"] == "segment_entered")
    assert (entered["builtin"], entered["profile_id"], entered["format"]) == (
        True,
        "p-1",
        "builtin",
    )

    # Already a member: no change, no event, no welcome points again.
    again = process_event(
        state, record("o2", "order.completed", props={"total": 200}, when=60_000), VIP, 1_800_000
    )
    assert segment_events(again) == []
    assert state.wallet.points == 50

    refund = process_event(state, record("r1", "order.refunded", when=120_000), VIP, 1_800_000)
    assert segment_events(refund) == [("segment_exited", {"segment": "vip"})]
    assert [a["automation"] for a in refund.automations] == ["win-back"]
    assert state.wallet.segments == []


def test_the_same_event_applied_to_the_same_state_derives_the_same_segment_event_ids():
    steps = [
        process_event(
            OwnerState("p-1", "p-1"),
            record("o1", "order.completed", props={"total": 150}),
            VIP,
            1_800_000,
        )
        for _ in range(2)
    ]
    ids = [[b["id"] for b in s.builtins if b["type"] == "segment_entered"] for s in steps]
    assert ids[0] == ids[1]
    assert len(ids[0]) == 1
    other = process_event(
        OwnerState("p-1", "p-1"),
        record("o9", "order.completed", props={"total": 150}),
        VIP,
        1_800_000,
    )
    assert [b["id"] for b in other.builtins if b["type"] == "segment_entered"] != ids[0]


def test_triggers_that_undo_each_other_stop_at_the_built_in_cap():
    flip_flop = TriggerSet.of(
        compile_trigger(t)
        for t in [
            {
                "id": "in",
                "on": ["page.viewed", "segment_exited"],
                "actions": [{"type": "add_to_segment", "segment": "x"}],
            },
            {
                "id": "out",
                "on": "segment_entered",
                "actions": [{"type": "remove_from_segment", "segment": "x"}],
            },
        ]
    )
    step = process_event(OwnerState("p-1", "p-1"), record("v1"), flip_flop, 1_800_000)
    assert len(step.builtins) <= MAX_BUILTINS + 1
    assert len(segment_events(step)) >= 10  # it did cascade before it was stopped
