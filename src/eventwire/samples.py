"""Realistic sample payloads of every input format, for `eventwire send --format` and demos.

They match the shipped config/ (sources and definitions), so each one is accepted.
"""

from __future__ import annotations

from typing import Any

import orjson

FORMATS = ("canonical", "tracardi", "talon", "simon", "arsel", "segment")
SEGMENT_WRITE_KEY = "dev-segment-write-key"

# Where each format's samples go through the HTTP collector (canonical has no HTTP API:
# it is eventwire's own shape, for Kafka producers).
HTTP_PATHS = {
    "tracardi": "/track",
    "talon": "/v1/events",
    "simon": "/http/v1/collect",
    "arsel": "/v1/send",
    "segment": "/v1/batch",
}


def sample(fmt: str, n: int = 0) -> tuple[bytes, dict[str, bytes]]:
    """The ``n``-th sample of ``fmt``: the payload and the Kafka headers to send it with."""
    builder = _BUILDERS.get(fmt)
    if builder is None:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    document, headers = builder(n)
    return orjson.dumps(document), headers


def _canonical(n: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    return {
        "type": "order.completed",
        "source": {"id": "web", "secret": "dev-web-secret"},
        "profile": {"id": f"customer-{n % 50}", "email": f"customer{n % 50}@example.com"},
        "session": {"id": f"web-session-{n % 20}"},
        "properties": {
            "order_id": f"A-{1000 + n}",
            "total": round(19.9 + (n % 7) * 10.5, 2),
            "currency": "EUR",
            "items": [{"sku": f"SKU-{n % 9}", "quantity": 1 + n % 3}],
        },
        "context": {"channel": "web"},
    }, {}


def _tracardi(n: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    return {
        "source": {"id": "tracardi-site"},
        "session": {"id": f"tracardi-session-{n % 20}"},
        "profile": {"id": f"visitor-{n % 40}"},
        "context": {"device": "iPhone X"},
        "properties": {},
        "events": [
            {"type": "page.viewed", "properties": {"url": f"https://shop.example.com/p/{n % 9}"}},
            {"type": "cart.updated", "properties": {"cart_id": f"cart-{n % 40}", "total": 42.5}},
            # Observe mode (config/definitions/search.performed.yaml): one search in four
            # sends its count as text, and is accepted with that violation listed.
            {
                "type": "search.performed",
                "properties": {
                    "query": "red shoes",
                    "results": str(n % 7) if n % 4 == 3 else n % 7,
                },
            },
        ],
        "options": {},
    }, {"secret": b"dev-tracardi-secret"}


def _talon(n: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    return {
        "sessionId": f"talon-session-{n % 20}",
        "profileId": f"talon-profile-{n % 40}",
        "type": "page.viewed",
        "attributes": {"url": f"https://shop.example.com/c/{n % 5}"},
    }, {"source": b"talon-app", "authorization": b"ApiKey-v1 dev-talon-key"}


def _simon(n: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    return {
        "partnerId": "acme-partner",
        "partnerSecret": "dev-simon-secret",
        "clientId": f"client-{n % 60}",
        "sentAt": 1764000000000 + n,
        "type": "track",
        "event": "custom",
        "properties": {
            "eventName": "user.signed_up",
            "properties": {"plan": ("free", "pro", "enterprise")[n % 3], "newsletter": n % 2 == 0},
        },
        "traits": {"userId": f"u-{n % 60}", "email": f"member{n % 60}@example.com"},
        "context": {"debug": False},
    }, {}


def _arsel(n: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    return {
        "event": "order.completed",
        "email": f"buyer{n % 30}@example.com",
        "data": {"order_id": f"R-{500 + n}", "total": 12.0 + n % 5, "channel": "app"},
        "source": {"id": "arsel-app", "secret": "dev-arsel-secret"},
    }, {}


def _segment(n: int) -> tuple[dict[str, Any], dict[str, bytes]]:
    user = f"segment-user-{n % 25}"
    return {
        "batch": [
            {
                "type": "identify",
                "messageId": f"seg-{n}-identify",
                "userId": user,
                "anonymousId": f"device-{n % 25}",
                "traits": {"email": f"{user}@example.com", "plan": ("free", "pro")[n % 2]},
            },
            {
                "type": "track",
                "messageId": f"seg-{n}-order",
                "userId": user,
                "event": "order.completed",
                "properties": {"order_id": f"S-{n}", "total": 10.0 + n % 9},
            },
        ],
        "sentAt": "2026-11-24T10:00:00.000Z",
    }, {"source": SEGMENT_WRITE_KEY.encode()}


_BUILDERS = {
    "canonical": _canonical,
    "tracardi": _tracardi,
    "talon": _talon,
    "simon": _simon,
    "arsel": _arsel,
    "segment": _segment,
}
