"""The pure session/profile rules: transitions, built-in events derived from facts."""

import pytest

from eventwire.core import ids
from eventwire.core.ingest import EventRecord
from eventwire.core.session_rules import (
    Facts,
    builtins_for,
    session_timeout_closed,
    transition,
)
from eventwire.core.step_input import owner_tag

EVENT: EventRecord = {
    "id": "e-1",
    "type": "order.completed",
    "source_id": "web",
    "profile_id": "p-1",
    "session_id": "s-1",
    "properties": {"total": 5},
    "context": {},
    "sent_at": None,
    "received_at": "2026-11-24T09:00:00.000Z",
    "definition_version": 1,
    "format": "canonical",
    "builtin": False,
}


@pytest.mark.parametrize(
    ("status", "control", "after"),
    [
        ("open", "close", "closed"),
        ("open", "cancel", "cancelled"),
        ("open", "revoke", "revoked"),
        ("closed", "cancel", "cancelled"),
        ("closed", "revoke", "revoked"),
        ("cancelled", "revoke", "revoked"),
        ("closed", "close", None),
        ("cancelled", "close", None),
        ("cancelled", "cancel", None),
        ("revoked", "revoke", None),
        ("revoked", "close", None),
    ],
)
def test_transitions(status, control, after):
    assert transition(status, control) == after


@pytest.mark.parametrize(
    ("facts", "types"),
    [
        (Facts(), []),
        (
            Facts(profile_created=True, session_created=True, event_count=1),
            ["profile_created", "session_created"],
        ),
        (Facts(session_updated=True, event_count=4), ["session_updated"]),
        (Facts(status_change=("open", "closed")), ["session_closed"]),
        (Facts(status_change=("closed", "cancelled")), ["session_cancelled"]),
        (Facts(status_change=("open", "revoked")), ["session_revoked"]),
        (Facts(traits_changed={"tier": "gold"}), ["profile_updated"]),
        (
            Facts(profile_created=True, session_created=True, traits_changed={"a": 1}),
            ["profile_created", "session_created", "profile_updated"],
        ),
    ],
)
def test_builtins_for_facts(facts, types):
    builtins = builtins_for(EVENT, facts)
    assert [b["type"] for b in builtins] == types
    for builtin in builtins:
        assert builtin["builtin"] is True
        assert builtin["id"] == ids.derived_id("builtin", builtin["type"], "e-1")
        assert (builtin["profile_id"], builtin["session_id"]) == ("p-1", "s-1")
        assert builtin["received_at"] == EVENT["received_at"]


def test_builtin_properties():
    [updated] = builtins_for(EVENT, Facts(session_updated=True, event_count=4))
    assert updated["properties"] == {"event_count": 4}
    [closed] = builtins_for(EVENT, Facts(status_change=("open", "closed")))
    assert closed["properties"] == {
        "previous_status": "open",
        "status": "closed",
        "reason": "control",
    }
    [profile] = builtins_for(EVENT, Facts(traits_changed={"tier": "gold"}))
    assert profile["properties"] == {"traits": {"tier": "gold"}}


def test_timeout_close_depends_only_on_the_session():
    first = session_timeout_closed("p-1", "s-1", 3, "2026-11-24T10:00:00.000Z", "web")
    again = session_timeout_closed("p-1", "s-1", 3, "2026-11-24T10:00:00.000Z", "web")
    assert first == again
    assert first["properties"] == {
        "previous_status": "open",
        "status": "closed",
        "reason": "timeout",
        "event_count": 3,
    }


@pytest.mark.parametrize(
    ("profile", "session", "owner"),
    [("p", "s", "p"), (None, "s", "s:s"), ("p", None, "p"), (None, None, None)],
)
def test_owner_tag(profile, session, owner):
    assert owner_tag(profile, session) == owner
