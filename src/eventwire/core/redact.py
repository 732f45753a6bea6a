"""Keep secrets off every output topic and log (docs/topics.md): redact before anything is kept."""

from __future__ import annotations

import re
from typing import Any

import orjson

REDACTED = "[REDACTED]"
SECRET_KEYS = frozenset(
    {
        "secret",
        "partnersecret",
        "password",
        "apikey",
        "api_key",
        "token",
        "access_token",
        "authorization",
        "client_secret",
    }
)
_SECRET_TEXT = re.compile(
    r'("(?:' + "|".join(sorted(SECRET_KEYS)) + r')"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE
)
MAX_KEPT_CHARS = 4096


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.lower() in SECRET_KEYS


def redact_document(document: Any) -> tuple[Any, bool]:
    """A copy of ``document`` with every secret value replaced, and whether any was found."""
    found = False

    def walk(node: Any) -> Any:
        nonlocal found
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if is_secret_key(key) and value is not None:
                    found = True
                    out[key] = REDACTED
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(document), found


def redacted_payload(raw: bytes | None, document: Any | None) -> str:
    """The original message text with secrets redacted.

    A parsed document keeps its exact text unless it holds a secret, in which case it is
    re-serialised without it. Text that could not be parsed (malformed, too large, too deep)
    is redacted by pattern and kept up to ``MAX_KEPT_CHARS`` characters.
    """
    if raw is None:
        return ""
    if document is not None:
        clean, found = redact_document(document)
        if found:
            return orjson.dumps(clean).decode()
        return raw.decode("utf-8", errors="replace")
    text = raw[: MAX_KEPT_CHARS * 4].decode("utf-8", errors="replace")
    text = _SECRET_TEXT.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    if len(raw) > MAX_KEPT_CHARS * 4 or len(text) > MAX_KEPT_CHARS:
        return f"{text[:MAX_KEPT_CHARS]}…[truncated; {len(raw)} bytes in all]"
    return text
