"""An accepted event read back from ``events`` as the step input the live stage made of it.

The record carries the event; its ``eventwire-step`` header (core/outputs.py: replay_facts)
carries what else the step took: a producer-given id's basis, identities, session
attributes. Traits come from the event itself.
"""

from __future__ import annotations

from typing import Any

import orjson

from eventwire.core.ingest import EventRecord
from eventwire.core.step_input import StepInput, traits_of


def replay_input(at_ms: int, event: EventRecord, facts_header: bytes | None) -> StepInput:
    """``at_ms``: the event's ``received_at``, as the reader already parsed it."""
    facts: dict[str, Any] = orjson.loads(facts_header) if facts_header else {}
    return {
        "event": event,
        "basis": facts.get("basis", event["id"]),
        "at_ms": at_ms,
        "publish": True,
        "session_attributes": facts.get("session_attributes", {}),
        "traits": traits_of(event),
        "identities": facts.get("identities", {}),
    }
