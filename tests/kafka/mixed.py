"""A deterministic mix of canonical messages, each with what eventwire must do with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

SECRET = "web-secret-123"
WRONG_SECRET = "wrong-secret-xyz"
MAX_BYTES = 4096


@dataclass(frozen=True)
class Expected:
    accepted: bool
    code: str | None = None  # for rejections: a code that must be among the reasons
    event_id: str | None = None  # a producer-given id


def _order(i: int, **over: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "order.completed",
        "source": {"id": "web", "secret": SECRET},
        "profile": {"id": f"p-{i % 97}"},
        "session": {"id": f"s-{i % 31}"},
        "properties": {
            "order_id": f"o-{i}",
            "total": i % 500 + 0.5,
            "items": [{"sku": f"K{i % 13}", "quantity": 1 + i % 3}],
        },
    }
    event.update(over)
    return event


def _deep(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for _ in range(depth):
        node = {"n": node}
    return node


def message(i: int) -> tuple[bytes, dict[str, bytes], Expected]:
    """The i-th message of the mix: 20 kinds, 8 of them valid."""
    kind = i % 20
    headers: dict[str, bytes] = {}
    ok = Expected(True)
    match kind:
        case 0 | 1 | 2 | 3:
            doc: Any = _order(i)
            expected = ok
        case 4:
            doc, expected = _order(i, id=f"producer-{i}"), Expected(True, event_id=f"producer-{i}")
        case 5:
            doc = {"type": "thing.happened", "source": {"id": "backend"}, "properties": {"i": i}}
            expected = ok
        case 6:
            doc, expected = _order(i, type="session.close", properties={}), ok
        case 7:
            doc = _order(i, source={"id": "web"})
            headers = {"authorization": f"ApiKey-v1 {SECRET}".encode()}
            expected = ok
        case 8:
            doc = _order(i, properties={"order_id": "x", "total": "12"})
            expected = Expected(False, "wrong_type")
        case 9:
            doc, expected = _order(i, properties={"total": 1}), Expected(False, "missing_field")
        case 10:
            doc = _order(i, properties={"order_id": "x", "total": 1, "colour": "red"})
            expected = Expected(False, "unknown_field")
        case 11:
            doc = _order(i, properties={"order_id": "x", "total": -5})
            expected = Expected(False, "invalid_value")
        case 12:
            doc = _order(i, type="order.refunded")
            expected = Expected(False, "unknown_event_type")
        case 13:
            doc, expected = (
                _order(i, type="session_created"),
                Expected(False, "reserved_event_type"),
            )
        case 14:
            doc = _order(i, source={"id": "web", "secret": WRONG_SECRET})
            expected = Expected(False, "unauthorized")
        case 15:
            raw = (
                b'{"type": "order.completed", "source": {"id": "web", "secret": "'
                + SECRET.encode()
                + b'"'
            )
            return raw, headers, Expected(False, "malformed_json")
        case 16:
            doc = _order(i, context={"pad": "x" * (MAX_BYTES + 100)})
            expected = Expected(False, "too_large")
        case 17:
            doc, expected = _order(i, context=_deep(40)), Expected(False, "too_deep")
        case 18:
            doc = [1, 2, 3] if i % 40 == 18 else {"hello": "world", "i": i}
            expected = Expected(False, "unknown_format")
        case _:
            doc = _order(
                i, properties={"order_id": "x", "total": 1, "items": [{"sku": "a"}, {}, {"sku": 3}]}
            )
            expected = Expected(False, "missing_field")
    return orjson.dumps(doc), headers, expected
