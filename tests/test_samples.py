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
