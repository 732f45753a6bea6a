"""An accepted event read back from ``events`` as the step input the live stage made of it.

The record carries the event; its ``eventwire-step`` header (core/outputs.py: replay_facts)
carries what else the step took: a producer-given id's basis, identities, session
attributes. Traits come from the event itself, and the time from its ``received_at``.
"""

from __future__ import annotations

from typing import Any

import orjson

from eventwire.core.ingest import EventRecord
from eventwire.core.step_input import StepInput, traits_of
from eventwire.core.timestamps import ms_from_iso


def replay_input(event: EventRecord, facts_header: bytes | None) -> StepInput:
    facts: dict[str, Any] = orjson.loads(facts_header) if facts_header else {}
    return {
        "event": event,
        "basis": facts.get("basis", event["id"]),
        "at_ms": ms_from_iso(event["received_at"]),
        "publish": True,
        "session_attributes": facts.get("session_attributes", {}),
        "traits": traits_of(event),
        "identities": facts.get("identities", {}),
    }
