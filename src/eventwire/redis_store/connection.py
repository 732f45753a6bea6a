"""A Redis client from EVENTWIRE_REDIS_URL (decoded strings, hiredis when installed).

``redis://`` / ``rediss://`` connect to one node; ``redis+cluster://host:port`` (or
``rediss+cluster://``) to a Redis Cluster through any of its nodes.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def connect(url: str) -> Any:
    scheme, sep, rest = url.partition("://")
    if sep and scheme in CLUSTER_SCHEMES:
        return RedisCluster.from_url(f"{CLUSTER_SCHEMES[scheme]}://{rest}", decode_responses=True)
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=10)
