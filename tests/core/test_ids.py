"""Ids are exactly the UUIDv5 that ``uuid.uuid5`` gives, so no id changes with the fast path."""

import uuid

from hypothesis import given
from hypothesis import strategies as st

from eventwire.core import ids

NS = ids.EVENTWIRE_NAMESPACE
text = st.text(min_size=0, max_size=40)


@given(text, st.integers(0, 2**31), st.integers(0, 2**62), st.integers(0, 1000))
def test_event_ids_are_uuid5(topic, partition, offset, position):
    expected = uuid.uuid5(NS, f"event:{topic}:{partition}:{offset}:{position}")
    assert ids.event_id(topic, partition, offset, position) == str(expected)


@given(text, st.integers(0, 2**31), st.integers(0, 2**62))
def test_rejection_ids_are_uuid5(topic, partition, offset):
    expected = uuid.uuid5(NS, f"rejection:{topic}:{partition}:{offset}")
    assert ids.rejection_id(topic, partition, offset) == str(expected)


@given(text, st.lists(st.one_of(text, st.integers()), max_size=4))
def test_derived_ids_are_uuid5(kind, parts):
    expected = uuid.uuid5(NS, ":".join([kind, *map(str, parts)]))
    assert ids.derived_id(kind, *parts) == str(expected)
