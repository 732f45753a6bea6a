"""The configuration in Redis, the shared source of truth of every replica."""

from __future__ import annotations

from typing import Any

import orjson

from eventwire.core.configuration import ConfigDocs
from eventwire.redis_store.keys import Keys
from eventwire.redis_store.scripts import CONFIG_PUT, CONFIG_READ, ScriptRunner

PARTS = ("sources", "definitions", "triggers")


def _pairs(flat: list[Any]) -> dict[str, Any]:
    return {str(flat[i]): orjson.loads(flat[i + 1]) for i in range(0, len(flat), 2)}


class ConfigStore:
    def __init__(self, client: Any, keys: Keys) -> None:
        self._redis = client
        self._keys = keys
        self._scripts = ScriptRunner(client)

    async def version(self) -> int:
        return int(await self._redis.get(self._keys.config("version")) or 0)

    async def read(self) -> ConfigDocs:
        keys = self._keys
        [reply] = await self._scripts.run(
            lambda pipe: self._scripts.queue(
                pipe, CONFIG_READ, [keys.config("version"), *(keys.config(p) for p in PARTS)], []
            )
        )
        version, sources, definitions, triggers = reply
        return ConfigDocs(int(version), _pairs(sources), _pairs(definitions), _pairs(triggers))

    async def put(self, expected_version: int, part: str, name: str, value: Any | None) -> int:
        """Store (or, with None, delete) one item; the new version, or -1 if the configuration
        changed since ``expected_version`` was read."""
        keys = self._keys
        encoded = "" if value is None else orjson.dumps(value).decode()
        [version] = await self._scripts.run(
            lambda pipe: self._scripts.queue(
                pipe,
                CONFIG_PUT,
                [keys.config("version"), keys.config(part)],
                [expected_version, name, encoded],
            )
        )
        return int(version)
