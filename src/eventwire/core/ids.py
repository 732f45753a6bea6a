"""Deterministic ids, so that a re-read Kafka message yields the same ids (docs/formats.md,
docs/triggers.md).

Every id is a UUIDv5 in eventwire's namespace, exactly as ``uuid.uuid5`` makes it; the SHA-1
state after the namespace and each id kind's prefix is computed once, so an id costs one
SHA-1 update of its own parts and no UUID object.
"""

from __future__ import annotations

import hashlib
import uuid

# Fixed namespace: changing it would change every derived id, so never do.
EVENTWIRE_NAMESPACE = uuid.UUID("6f1f3c4e-8b0e-5d7a-9a57-2f0d3c1b7e11")
_NAMESPACE_SHA1 = hashlib.sha1(EVENTWIRE_NAMESPACE.bytes, usedforsecurity=False)
_PREFIXED: dict[str, hashlib._Hash] = {}


def _uuid5(prefix: str, rest: str) -> str:
    """``str(uuid.uuid5(EVENTWIRE_NAMESPACE, prefix + rest))``, without repeating the prefix."""
    base = _PREFIXED.get(prefix)
    if base is None:
        base = _PREFIXED[prefix] = _NAMESPACE_SHA1.copy()
        base.update(prefix.encode())
    sha = base.copy()
    sha.update(rest.encode())
    digest = bytearray(sha.digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def event_id(topic: str, partition: int, offset: int, position: int) -> str:
    """Id of the ``position``-th event of the raw message at ``topic/partition/offset``."""
    return _uuid5("event:", f"{topic}:{partition}:{offset}:{position}")


def rejection_id(topic: str, partition: int, offset: int) -> str:
    """Id of the rejection record of one raw message (a message is rejected whole)."""
    return _uuid5("rejection:", f"{topic}:{partition}:{offset}")


def derived_id(kind: str, *parts: str | int) -> str:
    """Id of anything eventwire derives from other ids (built-in events, effects)."""
    if not parts:
        return _uuid5("", kind)
    return _uuid5(f"{kind}:", ":".join(map(str, parts)))
