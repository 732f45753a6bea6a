from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from eventwire.redis_store.connection import connect
from eventwire.redis_store.keys import Keys


@pytest.fixture
async def redis_client(services) -> AsyncIterator[Any]:
    client = connect(services["redis"])
    yield client
    await client.aclose()


@pytest.fixture
async def keys(redis_client, names) -> AsyncIterator[Keys]:
    """This test's own key prefix; everything under it is deleted afterwards."""
    yield Keys(names.redis_prefix)
    async for key in redis_client.scan_iter(match=f"{names.redis_prefix}*", count=1000):
        await redis_client.delete(key)
