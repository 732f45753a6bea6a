"""A Redis client from EVENTWIRE_REDIS_URL (decoded strings, hiredis when installed)."""

from __future__ import annotations

from typing import Any

import redis.asyncio as redis


def connect(url: str) -> Any:
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=10)
