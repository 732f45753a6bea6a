"""Shared fixtures: the real services, and per-test names so tests never share data."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eventwire.redis_store.connection import connect
from eventwire.redis_store.keys import Keys

ROOT = Path(__file__).resolve().parents[1]
KAFKA = os.environ.get("EVENTWIRE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
REDIS_URL = os.environ.get("EVENTWIRE_REDIS_URL", "redis://127.0.0.1:6379/0")


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _redis_address() -> str:
    rest = REDIS_URL.split("://", 1)[-1].rsplit("@", 1)[-1].split("/", 1)[0]
    return rest if ":" in rest else f"{rest}:6379"


@pytest.fixture(scope="session")
def services() -> dict[str, str]:
    """Kafka and Redis, reused when they answer, else started by scripts/services.sh.

    A service that cannot be started fails the test; it never skips."""
    if not (_answers(KAFKA.split(",")[0]) and _answers(_redis_address())):
        result = subprocess.run(
            [str(ROOT / "scripts" / "services.sh"), "start"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            pytest.fail(f"could not start Kafka/Redis:\n{result.stderr[-3000:]}")
    return {"kafka": KAFKA, "redis": REDIS_URL}


@dataclass(frozen=True)
class Names:
    """A test's own topic prefix, Redis key prefix and consumer group."""

    token: str

    @property
    def topic_prefix(self) -> str:
        return f"ewtest.{self.token}."

    @property
    def redis_prefix(self) -> str:
        return f"ewtest:{self.token}:"

    @property
    def app_id(self) -> str:
        return f"ewtest-{self.token}"


@pytest.fixture
def names() -> Names:
    return Names(uuid.uuid4().hex[:10])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_cluster_url(services) -> str:
    """A local 3-master Redis Cluster, started by scripts/redis_cluster.sh (never skipped)."""
    script = str(ROOT / "scripts" / "redis_cluster.sh")
    result = subprocess.run([script, "start"], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        pytest.fail(f"could not start the Redis Cluster:\n{result.stderr[-2000:]}")
    return subprocess.run(
        [script, "url"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(params=["standalone", "cluster"])
def redis_url(request, services) -> str:
    if request.param == "cluster":
        return str(request.getfixturevalue("redis_cluster_url"))
    return str(services["redis"])


@pytest.fixture
async def redis_client(redis_url) -> AsyncIterator[Any]:
    client = connect(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def keys(redis_client, names) -> AsyncIterator[Keys]:
    """This test's own key prefix; everything under it is deleted afterwards."""
    yield Keys(names.redis_prefix)
    async for key in redis_client.scan_iter(match=f"{names.redis_prefix}*", count=1000):
        await redis_client.delete(key)
