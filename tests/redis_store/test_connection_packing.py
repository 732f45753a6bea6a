"""The hiredis packer puts the very same bytes on the wire as redis-py's Python packer."""

from __future__ import annotations

import pytest
import redis.asyncio as redis
from redis.exceptions import DataError

from eventwire.redis_store.connection import HiredisPackingConnection, connect

COMMANDS = [
    ("SET", "ew:{p-1}:x", "ééé", "NX"),
    ("EVALSHA", "ab" * 20, 3, "k1", "k2", "k3", 12, 1732450000000, '{"a":[1,2]}', b"\x00\xff"),
    ("ZADD", "ew:{timers}:due", "GT", 1.5, "member"),
    ("CONFIG GET", "maxmemory"),
    ("GET", "x" * 10_000),  # longer than redis-py's buffer cutoff
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: str(c[0]))
def test_one_command_packs_to_the_same_bytes(command):
    python, hiredis = redis.Connection(), HiredisPackingConnection()
    assert b"".join(hiredis.pack_command(*command)) == b"".join(python.pack_command(*command))


def test_a_pipeline_packs_to_the_same_bytes():
    python, hiredis = redis.Connection(), HiredisPackingConnection()
    assert b"".join(hiredis.pack_commands(COMMANDS)) == b"".join(python.pack_commands(COMMANDS))


def test_what_redis_py_refuses_is_still_refused():
    with pytest.raises(DataError):
        HiredisPackingConnection().pack_command("SET", "k", None)


def test_plain_urls_use_it_and_tls_urls_do_not():
    assert connect("redis://127.0.0.1:6379/0").connection_pool.connection_class is (
        HiredisPackingConnection
    )
    assert connect("rediss://127.0.0.1:6379/0").connection_pool.connection_class is not (
        HiredisPackingConnection
    )


def test_what_redis_py_refuses_in_a_pipeline_is_still_refused():
    with pytest.raises(DataError):
        HiredisPackingConnection().pack_commands([("GET", "k"), ("SET", "k", None)])
