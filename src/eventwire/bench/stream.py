"""A realistic mixed stream: every input format, 10,000 profiles, about 5% invalid messages of
varied kinds. It matches the shipped config/ (sources, definitions, triggers)."""

from __future__ import annotations

from typing import Any

import orjson

from eventwire.samples import sample

PROFILES = 10_000
Message = tuple[bytes, dict[str, bytes]]


def _canonical(n: int, type_: str, properties: dict[str, Any]) -> Message:
    profile = n % PROFILES
    return orjson.dumps(
        {
            "type": type_,
            "source": {"id": "web", "secret": "dev-web-secret"},
            "profile": {"id": f"bench-{profile}"},
            "session": {"id": f"bench-{profile}-{n // (PROFILES * 3)}"},
            "properties": properties,
        }
    ), {}


def _invalid(n: int) -> Message:
    kind = (n // 20) % 5
    if kind == 0:
        return _canonical(n, "order.completed", {"order_id": f"x{n}", "total": "12"})
    if kind == 1:
        return _canonical(n, "order.completed", {"total": 5})
    if kind == 2:
        return _canonical(n, "order.unknown", {})
    if kind == 3:
        return b'{"type": "order.completed", "source": ', {}
    message, headers = _canonical(n, "page.viewed", {"url": "/x"})
    return message.replace(b"dev-web-secret", b"wrong-secret"), headers


def message(n: int) -> Message:
    """The n-th message of the stream."""
    slot = n % 20
    if slot == 0:
        return _invalid(n)
    if slot in (1, 2, 3, 4, 5, 6):
        total = round(5 + (n % 90) * 1.5, 2)
        return _canonical(
            n, "order.completed", {"order_id": f"o{n}", "total": total, "currency": "EUR"}
        )
    if slot in (7, 8, 9):
        return _canonical(n, "page.viewed", {"url": f"https://shop.example.com/p/{n % 500}"})
    if slot == 10:
        return _canonical(n, "cart.updated", {"cart_id": f"c{n % PROFILES}", "total": 20.0})
    if slot == 11:
        return _canonical(n, "product.reviewed", {"sku": f"SKU-{n % 40}", "rating": 1 + n % 5})
    fmt = ("tracardi", "talon", "simon", "arsel", "tracardi", "talon", "simon", "arsel")[slot - 12]
    return sample(fmt, n)


def stream(count: int) -> list[Message]:
    return [message(n) for n in range(count)]
