"""Small builders shared by the core tests."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import SecretStr

from eventwire.core.definitions.spec import DefinitionSpec
from eventwire.core.raw import RawMessage
from eventwire.core.registry import Registry
from eventwire.core.sources import SourceSpec
from eventwire.core.timestamps import ms_from_iso

SECRET = "web-secret-123"


def registry() -> Registry:
    reg = Registry().with_sources(
        [
            SourceSpec(id="web", secret=SecretStr(SECRET)),
            SourceSpec(id="open"),
            SourceSpec(id="backend", allow_undeclared=True),
            SourceSpec(id="off", enabled=False),
        ]
    )
    reg, _ = reg.with_definition(
        DefinitionSpec.model_validate(
            {
                "name": "order.completed",
                "fields": [
                    {"name": "order_id", "type": "string", "required": True},
                    {"name": "total", "type": "number", "required": True, "minimum": 0},
                    {
                        "name": "items",
                        "type": "array",
                        "items": {
                            "type": "object",
                            "fields": [{"name": "sku", "type": "string", "required": True}],
                        },
                    },
                ],
            }
        )
    )
    return reg


def raw(
    document: Any,
    *,
    headers: dict[str, bytes] | None = None,
    offset: int = 7,
    partition: int = 1,
    topic: str = "eventwire.raw",
) -> RawMessage:
    value = document if isinstance(document, bytes) else orjson.dumps(document)
    return RawMessage(
        value=value,
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp_ms=1764000000123,
        headers=headers or {},
    )


def order(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "order.completed",
        "source": {"id": "web", "secret": SECRET},
        "profile": {"id": "p-1"},
        "session": {"id": "s-1"},
        "properties": {"order_id": "A1", "total": 12.5},
    }
    event.update(overrides)
    return event


def internal(
    event_id: str,
    type_: str,
    *,
    profile: str | None = "p-1",
    session: str | None = "s-1",
    properties: dict[str, Any] | None = None,
    received_at: str = "2026-11-24T09:00:00.000Z",
    traits: dict[str, Any] | None = None,
    attributes: dict[str, Any] | None = None,
    identities: dict[str, str] | None = None,
) -> Any:
    """An accepted event as the state step takes it (a StepInput)."""
    return {
        "at_ms": ms_from_iso(received_at),
        "basis": event_id,
        "event": {
            "id": event_id,
            "type": type_,
            "source_id": "web",
            "profile_id": profile,
            "session_id": session,
            "properties": properties or {},
            "context": {},
            "sent_at": None,
            "received_at": received_at,
            "definition_version": None,
            "format": "canonical",
            "builtin": False,
        },
        "publish": True,
        "session_attributes": attributes or {},
        "traits": traits or {},
        "identities": identities or {},
    }
