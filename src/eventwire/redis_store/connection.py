"""A Redis client from EVENTWIRE_REDIS_URL (decoded strings, hiredis when installed).

``redis://`` / ``rediss://`` connect to one node; ``redis+cluster://host:port`` (or
``rediss+cluster://``) to a Redis Cluster through any of its nodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster
from redis.connection import HiredisRespSerializer
from redis.exceptions import DataError
from redis.utils import HIREDIS_AVAILABLE

if HIREDIS_AVAILABLE:
    import hiredis

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


class HiredisPackingConnection(redis.Connection):
    """redis-py's asyncio connection packs commands in Python, with one bytes join per
    argument; its sync client packs them with hiredis, in C. Profiles put the Python packer
    at ~7% of the worker's CPU (pipelines of EVALSHA with a dozen arguments each). Same bytes
    on the wire, packed by redis-py's own hiredis serializer."""

    _serializer = HiredisRespSerializer()

    def pack_command(self, *args: Any) -> list[bytes]:
        return self._serializer.pack(*args)  # type: ignore[no-any-return]

    def pack_commands(self, commands: Iterable[Iterable[Any]]) -> list[bytes]:
        # hiredis itself, not the serializer's wrapper: that one walks every argument in
        # Python (for bytearray/memoryview, which eventwire never sends), and a batch's
        # script call has thousands. Command names here are single words.
        pack, wrapped = hiredis.pack_command, self._serializer.pack
        out: list[bytes] = []
        for command in commands:
            args = tuple(command)
            if isinstance(args[0], str) and " " not in args[0]:
                try:
                    out.append(pack(args))
                except TypeError as exc:  # as redis-py says it: None, say, is no argument
                    raise DataError(str(exc)) from exc
            else:
                out += wrapped(*args)
        return [b"".join(out)]


def connect(url: str) -> Any:
    scheme, sep, rest = url.partition("://")
    if sep and scheme in CLUSTER_SCHEMES:
        # RedisCluster drops a custom connection_class (it keeps only TLS): default packing.
        return RedisCluster.from_url(f"{CLUSTER_SCHEMES[scheme]}://{rest}", decode_responses=True)
    options: dict[str, Any] = {"decode_responses": True, "health_check_interval": 10}
    if HIREDIS_AVAILABLE and scheme == "redis":  # TLS keeps redis-py's own connection
        options["connection_class"] = HiredisPackingConnection
    return redis.Redis.from_url(url, **options)
