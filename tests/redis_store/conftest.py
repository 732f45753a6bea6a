from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest

from eventwire.redis_store.connection import connect
from eventwire.redis_store.keys import Keys
from tests.conftest import ROOT


@pytest.fixture(scope="session")
def redis_cluster_url(services) -> str:
    """A local 3-master Redis Cluster, started by scripts/redis_cluster.sh (never skipped in CI)."""
    script = str(ROOT / "scripts" / "redis_cluster.sh")
    result = subprocess.run([script, "start"], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        message = f"could not start the Redis Cluster:\n{result.stderr[-2000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
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
