"""A ``call_webhook`` effect as the exact HTTP request eventwire sends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from eventwire.core.webhooks.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature

USER_AGENT = "eventwire-webhooks/1"
EFFECT_HEADER = "Eventwire-Effect-Id"
# Headers a trigger may not set: eventwire's own, and those that change the transport.
_RESERVED = {
    h.lower()
    for h in (
        SIGNATURE_HEADER,
        IDEMPOTENCY_HEADER,
        EFFECT_HEADER,
        "Host",
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "Upgrade",
        "Te",
        "Trailer",
        "Proxy-Authorization",
    )
}
_TOKEN = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


def header_problem(name: str, value: str) -> str | None:
    """Why a trigger's header cannot be sent as is (no header injection), or None."""
    if not name or set(name) - _TOKEN:
        return f"header name {name!r} is not a valid token"
    if any(c in value for c in "\r\n\0"):
        return f"header {name} has a line break"
    if name.lower() in _RESERVED:
        return f"header {name} is set by eventwire"
    return None


def build_request(effect: dict[str, Any], secret: str, now_s: int) -> WebhookRequest:
    """The request: the trigger's method, URL, headers and body (else the effect itself as JSON),
    signed over the exact body, with the effect id as the idempotency key."""
    params = effect["params"]
    method = str(params.get("method") or "POST").upper()
    body = b""
    if method not in ("GET", "DELETE"):
        payload = params.get("body")
        body = orjson.dumps(payload if payload is not None else effect)
    headers = {
        name: value
        for name, value in (params.get("headers") or {}).items()
        if header_problem(name, value) is None
    }
    headers.setdefault("Content-Type", "application/json")
    headers["User-Agent"] = USER_AGENT
    headers[IDEMPOTENCY_HEADER] = effect["id"]
    headers[EFFECT_HEADER] = effect["id"]
    headers[SIGNATURE_HEADER] = signature(secret, now_s, body)
    return WebhookRequest(method, str(params["url"]), headers, body)
