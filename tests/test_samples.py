"""The samples `eventwire send --format` sends are accepted by the shipped config/."""

import pytest

from eventwire.config_loader import load_registry
from eventwire.core.decode import Limits
from eventwire.core.ingest import Accepted, ingest
from eventwire.core.raw import RawMessage
from eventwire.samples import FORMATS, sample
from tests.conftest import ROOT

REGISTRY = load_registry(ROOT / "config")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_sample_is_accepted_as_its_format(fmt):
    for n in range(10):
        value, headers = sample(fmt, n)
        outcome = ingest(
            RawMessage(value, "eventwire.raw", 0, n, 0, headers=headers), REGISTRY, Limits()
        )
        assert isinstance(outcome, Accepted), outcome
        assert {event["format"] for event in outcome.events} == {fmt}


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown format"):
        sample("snowplow")


def accepted(fmt: str, n: int) -> Accepted:
    value, headers = sample(fmt, n)
    outcome = ingest(
        RawMessage(value, "eventwire.raw", 0, n, 0, headers=headers), REGISTRY, Limits()
    )
    assert isinstance(outcome, Accepted), outcome
    return outcome


def test_tracardi_samples_exercise_observe_mode():
    """One search in four breaks the observe-mode definition and is accepted all the same."""
    searches = [
        next(e for e in accepted("tracardi", n).events if e["type"] == "search.performed")
        for n in range(8)
    ]
    flagged = [e for e in searches if "violations" in e]
    assert len(flagged) == 2
    assert {(v["code"], v["field"]) for e in flagged for v in e["violations"]} == {
        ("wrong_type", "events.2.properties.results")
    }


def test_simon_sign_ups_enter_a_segment_and_its_trigger_runs_in_the_same_step():
    from eventwire.core.owner import OwnerState
    from eventwire.core.process import process_event
    from eventwire.core.step_input import step_input

    outcome = accepted("simon", 0)
    [event] = outcome.events
    event["profile_id"] = "member-0"
    step = process_event(
        OwnerState("member-0", "member-0"),
        step_input(event, outcome.parsed, True, 0, False),
        REGISTRY.triggers,
        1_800_000,
    )
    assert [(b["type"], b["properties"]) for b in step.builtins if "segment" in b["type"]] == [
        ("segment_entered", {"segment": "members"})
    ]
    assert {e["trigger_id"] for e in step.effects} >= {
        "welcome-member",
        "member-welcome-points",
        "founding-members",
    }
