"""The Lua scripts in scripts/*.lua, loaded once and run by SHA inside pipelines.

Works on standalone Redis and Redis Cluster alike: SCRIPT LOAD goes to every primary, and a
pipeline that meets NOSCRIPT (Redis restarted, cache flushed) reloads them and runs again;
every script is idempotent, so running a batch twice changes nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from redis.exceptions import NoScriptError

from eventwire.metrics import REDIS_ROUND_TRIPS


@dataclass(frozen=True, slots=True)
class Script:
    name: str
    text: str
    sha: str

    @classmethod
    def load(cls, name: str) -> Script:
        text = resources.files("eventwire.redis_store").joinpath(f"scripts/{name}.lua").read_text()
        return cls(name, text, hashlib.sha1(text.encode()).hexdigest())


COMMIT_OWNERS = Script.load("commit_owners")
CLAIM_TIMERS = Script.load("claim_timers")
CONFIG_PUT = Script.load("config_put")
CONFIG_READ = Script.load("config_read")
READ_OWNERS = Script.load("read_owners")
CLAIM_BUDGETS = Script.load("claim_budgets")
ALL = (COMMIT_OWNERS, CLAIM_TIMERS, CONFIG_PUT, CONFIG_READ, READ_OWNERS, CLAIM_BUDGETS)


class ScriptRunner:
    def __init__(self, client: Any, stage: str = "other") -> None:
        self._client = client
        self._loaded = False
        self.round_trips = 0
        self._counter = REDIS_ROUND_TRIPS.labels(stage)

    async def load(self) -> None:
        for script in ALL:
            await self._client.script_load(script.text)
        self._loaded = True

    @staticmethod
    def queue(pipe: Any, script: Script, keys: Sequence[str], args: Sequence[Any]) -> None:
        # Not pipe.evalsha(): redis-py blocks that name in cluster pipelines, while the
        # command itself is routed by its keys (which share one hash tag) and works.
        pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)

    async def run(self, build: Callable[[Any], None]) -> list[Any]:
        """Build a pipeline with ``build`` and execute it (one round trip)."""
        if not self._loaded:
            await self.load()
        for attempt in (1, 2):
            pipe = self._client.pipeline(transaction=False)
            build(pipe)
            if not len(pipe):
                return []
            try:
                self.round_trips += 1
                self._counter.inc()
                return list(await pipe.execute())
            except NoScriptError:
                if attempt == 2:
                    raise
                await self.load()
        raise AssertionError("unreachable")
