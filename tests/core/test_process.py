"""The process stage's pure rules: one owner's state, events in, built-ins and effects out."""

from __future__ import annotations

from eventwire.core.owner import OwnerState
from eventwire.core.process import (
    NotDue,
    Step,
    close_if_timed_out,
    fire_absence,
    process_event,
)
from eventwire.core.timestamps import ms_from_iso
from eventwire.core.triggers.compiled import compile_trigger
from eventwire.core.triggers.trigger_set import TriggerSet
from tests.core.factories import internal

T0 = "2026-11-24T09:00:00.000Z"
MS0 = ms_from_iso(T0)
MINUTE = 60_000


def at(offset_ms: int) -> str:
    from eventwire.core.timestamps import iso_from_ms

    return iso_from_ms(MS0 + offset_ms)


def record(
    eid,
    type_="page.viewed",
    session="s-1",
    props=None,
    traits=None,
    attrs=None,
    when=0,
    profile="p-1",
):
    return internal(
        eid,
        type_,
        profile=profile,
        session=session,
        properties=props,
        received_at=at(when),
        traits=traits,
        attributes=attrs,
    )


NO_TRIGGERS = TriggerSet()


def run(state, records, triggers=NO_TRIGGERS, timeout=30 * MINUTE) -> list[Step]:
    steps = []
    for rec in records:
        steps.append(process_event(state, rec, triggers, timeout))
        state.dirty.clear()
    return steps


def kinds(steps):
    return [[b["type"] for b in s.builtins] for s in steps]


def test_session_lifecycle_and_builtins():
    state = OwnerState("p-1", "p-1")
    steps = run(
        state,
        [
            record("e1", attrs={"url": "/a"}),
            record("e2", attrs={"url": "/b"}),
            record("e3", "profile.update", session=None, traits={"tier": "gold"}),
            record("e4", "profile.update", session=None, traits={"tier": "gold"}),
            record("e5", "session.close"),
            record("e6"),
            record("e7", "session.close"),
            record("e8", "session.cancel"),
            record("e9", "session.revoke", session="never-seen"),
        ],
    )
    assert kinds(steps) == [
        ["profile_created", "session_created"],
        ["session_updated"],
        ["profile_updated"],
        [],
        ["session_closed"],
        [],
        [],
        ["session_cancelled"],
        [],
    ]
    session = state.sessions["s-1"]
    assert (session.status, session.event_count, session.attributes) == (
        "cancelled",
        2,
        {"url": "/b"},
    )
    assert state.counters == {
        "page.viewed": 3,
        "profile.update": 2,
        "session.close": 2,
        "session.cancel": 1,
        "session.revoke": 1,
    }
    assert state.wallet.traits == {"tier": "gold"}
    assert steps[0].session_index == ["s-1"]


LOYALTY = TriggerSet.of(
    [
        compile_trigger(
            {
                "id": "points",
                "on": "order.completed",
                "actions": [
                    {"type": "award_points", "amount": {"$round": "$event.properties.total"}}
                ],
            }
        ),
        compile_trigger(
            {
                "id": "regular",
                "on": "order.completed",
                "when": {
                    "$history": {"type": "order.completed", "within": "365d", "count": {"$gte": 3}}
                },
                "actions": [{"type": "grant_badge", "badge": "regular"}],
            }
        ),
        compile_trigger(
            {
                "id": "hundred",
                "on": "order.completed",
                "when": {"profile.points": {"$gte": 100}},
                "limit": {"times": 1, "per": "profile"},
                "actions": [{"type": "issue_reward", "reward": "free-shipping"}],
            }
        ),
        compile_trigger(
            {
                "id": "welcome",
                "on": "session_created",
                "segments": {"exclude": ["members"]},
                "actions": [{"type": "add_to_segment", "segment": "visitors"}],
            }
        ),
    ]
)


def test_loyalty_rules_fire_in_order_and_see_each_other():
    state = OwnerState("p-1", "p-1")
    steps = run(
        state,
        [
            record(f"o{i}", "order.completed", props={"total": 30.4}, when=i * MINUTE)
            for i in range(5)
        ],
        LOYALTY,
    )
    effects = [[(e["trigger_id"], e["type"], e["result"]) for e in s.effects] for s in steps]
    assert effects[0] == [
        ("points", "award_points", {"points": 30, "awarded": 30}),
        ("welcome", "add_to_segment", {"segment": "visitors", "segments": ["visitors"]}),
    ]
    assert effects[2] == [
        ("points", "award_points", {"points": 90, "awarded": 30}),
        ("regular", "grant_badge", {"badge": "regular", "badges": ["regular"]}),
    ]
    assert effects[3] == [
        ("points", "award_points", {"points": 120, "awarded": 30}),
        ("hundred", "issue_reward", {"reward": "free-shipping", "rewards": ["free-shipping"]}),
    ]
    assert effects[4] == [("points", "award_points", {"points": 150, "awarded": 30})]
    assert state.wallet.badges == ["regular"]
    assert state.fired == {"hundred|p-1": [MS0 + 3 * MINUTE]}


def test_a_windowed_cap_per_session():
    capped = TriggerSet.of(
        [
            compile_trigger(
                {
                    "id": "cap",
                    "on": "page.viewed",
                    "limit": {"times": 2, "per": "session", "window": "10m"},
                    "actions": [{"type": "award_points", "amount": 1}],
                }
            )
        ]
    )
    state = OwnerState("p-1", "p-1")
    steps = run(
        state,
        [
            record("a", when=0),
            record("b", when=MINUTE),
            record("c", when=2 * MINUTE),
            record("d", session="s-2", when=3 * MINUTE),
            record("e", when=11 * MINUTE),
        ],
        capped,
    )
    assert [len(s.effects) for s in steps] == [1, 1, 0, 1, 1]


def test_absence_window_opens_is_cancelled_or_fires_once():
    abandon = TriggerSet.of(
        [
            compile_trigger(
                {
                    "id": "abandoned",
                    "on": "cart.updated",
                    "absent": {"type": "order.completed", "within": "2s"},
                    "actions": [{"type": "start_automation", "automation": "cart-abandoned"}],
                }
            )
        ]
    )
    state = OwnerState("p-1", "p-1")
    [opened] = run(state, [record("c1", "cart.updated")], abandon)
    assert opened.effects == []
    [(timer, due)] = [t for t in opened.timers_due if t[0][0] == "absent"]
    assert due == MS0 + 2000
    assert fire_absence(state, timer[2], MS0 + 1000, abandon) == NotDue(MS0 + 2000)
    fired = fire_absence(state, timer[2], MS0 + 2500, abandon)
    assert isinstance(fired, Step)
    assert [a["automation"] for a in fired.automations] == ["cart-abandoned"]
    assert fired.automations[0]["event_id"] == "c1"
    assert fire_absence(state, timer[2], MS0 + 9000, abandon) is None

    other = OwnerState("p-2", "p-2")
    [opened] = run(other, [record("c2", "cart.updated", profile="p-2")], abandon)
    [ordered] = run(other, [record("o2", "order.completed", profile="p-2", when=1500)], abandon)
    key = opened.timers_due[-1][0][2]
    assert ordered.timers_gone == [("absent", "p-2", key)]
    assert fire_absence(other, key, MS0 + 5000, abandon) is None


def test_session_timeout_closes_once_and_runs_triggers():
    on_close = TriggerSet.of(
        [
            compile_trigger(
                {
                    "id": "bye",
                    "on": "session_closed",
                    "actions": [{"type": "start_automation", "automation": "survey"}],
                }
            )
        ]
    )
    state = OwnerState("p-1", "p-1")
    run(state, [record("e1"), record("e2", when=MINUTE)], on_close)
    timeout = 30 * MINUTE
    assert close_if_timed_out(
        state, "s-1", "web", MS0 + 10 * MINUTE, timeout, at(10 * MINUTE), on_close
    ) == NotDue(MS0 + 31 * MINUTE)
    step = close_if_timed_out(
        state, "s-1", "web", MS0 + 40 * MINUTE, timeout, at(40 * MINUTE), on_close
    )
    assert isinstance(step, Step)
    assert [b["properties"] for b in step.builtins] == [
        {"previous_status": "open", "status": "closed", "reason": "timeout", "event_count": 2}
    ]
    assert [a["automation"] for a in step.automations] == ["survey"]
    assert (
        close_if_timed_out(
            state, "s-1", "web", MS0 + 50 * MINUTE, timeout, at(50 * MINUTE), on_close
        )
        is None
    )


def test_profile_less_events_keep_session_state_and_run_no_triggers():
    state = OwnerState("s:anon", None)
    steps = run(
        state,
        [record("a", "order.completed", session="anon", profile=None, props={"total": 5})],
        LOYALTY,
    )
    assert kinds(steps) == [["session_created"]]
    assert steps[0].effects == []
    assert state.counters == {}
