"""Signed webhook requests: HMAC-SHA256 over ``<timestamp>.<exact body>``.

Header ``Eventwire-Signature: t=<unix seconds>,v1=<hex digest>``. A receiver recomputes the
digest with the shared secret (EVENTWIRE_WEBHOOK_SECRET) over the timestamp and the raw body
it received, compares in constant time, and rejects old timestamps to stop replays.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Eventwire-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """The receiver's check; docs/webhooks.md shows the same few lines."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
