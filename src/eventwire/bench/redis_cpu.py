"""Redis server CPU, from INFO: the share of a run's cost that the worker's CPU time misses.

``used_cpu_sys`` + ``used_cpu_user`` count the whole server, so whatever else uses the same
Redis during a run is counted too. On a Redis Cluster the primaries are summed (replicas do
not run the scripts; they only apply the writes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from eventwire.redis_store.connection import connect


def info_cpu_seconds(info: Mapping[str, Any]) -> float:
    """CPU seconds in ``INFO cpu``: one node's section, or a cluster's {node: section}."""
    if "used_cpu_sys" in info:
        return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
    return sum(info_cpu_seconds(section) for section in info.values())


async def redis_cpu_seconds(url: str) -> float | None:
    """CPU seconds the Redis server (every primary of a cluster) has used so far; None when
    INFO cannot be read (a managed Redis may refuse it)."""
    client = connect(url)
    try:
        if isinstance(client, RedisCluster):  # {node: section}, one per primary
            info = await client.info("cpu", target_nodes=client.PRIMARIES)
        else:
            info = await client.info("cpu")
        return info_cpu_seconds(info)
    except (RedisError, KeyError, ValueError):
        return None
    finally:
        await client.aclose()


def per_event_us(before: float | None, after: float | None, events: int) -> float | None:
    """µs per raw message between two readings, or None when either is missing."""
    if before is None or after is None or not events:
        return None
    return round(max(0.0, after - before) * 1e6 / events, 1)
