"""Bytes to a JSON object, or the reason why not: size, JSON syntax, nesting depth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from eventwire.core.reasons import Code, Reason


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 1024 * 1024
    max_depth: int = 32


def json_depth(document: Any) -> int:
    """Nesting depth: a scalar is 0, ``{}`` is 1, ``{"a": [1]}`` is 2. Iterative, so any depth."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def decode_document(value: bytes | None, limits: Limits) -> dict[str, Any] | Reason:
    """The message's JSON object, or the one reason it cannot be read as one."""
    if value is None or not value:
        return Reason(Code.MALFORMED_JSON, None, "the message is empty")
    if len(value) > limits.max_bytes:
        return Reason(
            Code.TOO_LARGE,
            None,
            f"the message is {len(value)} bytes; the limit is {limits.max_bytes}",
        )
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc) or "recursion" in str(exc).lower():
            return Reason(Code.TOO_DEEP, None, f"nesting exceeds {limits.max_depth} levels")
        return Reason(Code.MALFORMED_JSON, None, f"not valid JSON: {exc}")
    # Counting brackets is C-fast and bounds the depth, so most messages skip the walk.
    if value.count(b"{") + value.count(b"[") > limits.max_depth:
        depth = json_depth(document)
        if depth > limits.max_depth:
            return Reason(
                Code.TOO_DEEP, None, f"nesting is {depth} levels; the limit is {limits.max_depth}"
            )
    if not isinstance(document, dict):
        kind = type(document).__name__ if document is not None else "null"
        return Reason(Code.UNKNOWN_FORMAT, None, f"the message is a JSON {kind}, not an object")
    return document
