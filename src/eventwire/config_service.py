"""Changing the configuration while replicas run: validate (pure), write with compare-and-set
(retrying if another change landed first), and let every replica pick it up.

Shared by the admin API, the CLI (through the API) and the start-up seeding from config/.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from eventwire.config_loader import FileConfig
from eventwire.core.configuration import (
    ConfigDocs,
    build_registry,
    public_source,
    stored_source,
)
from eventwire.core.definitions.breaking import breaking_changes
from eventwire.core.definitions.spec import DefinitionSpec
from eventwire.core.registry import Registry
from eventwire.core.sources import SourceSpec
from eventwire.core.triggers.compiled import compile_trigger
from eventwire.metrics import CONFIG_VERSION
from eventwire.redis_store.config_store import ConfigStore

log = logging.getLogger(__name__)
ATTEMPTS = 50


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass
class Holder:
    """The registry in force on this replica and the configuration version it came from."""

    current: Registry
    version: int = -1


class ConfigService:
    def __init__(self, store: ConfigStore, holder: Holder) -> None:
        self._store = store
        self.holder = holder

    async def refresh(self) -> bool:
        """Load the configuration if it changed; True when the registry was swapped."""
        if await self._store.version() == self.holder.version:
            return False
        docs = await self._store.read()
        self.holder.current = build_registry(docs)
        self.holder.version = docs.version
        CONFIG_VERSION.set(docs.version)
        return True

    async def docs(self) -> ConfigDocs:
        return await self._store.read()

    async def _change(
        self, decide: Callable[[ConfigDocs], Awaitable[tuple[str, str, Any | None, Any]]]
    ) -> Any:
        """Read, decide one write, compare-and-set it; again if another change came first."""
        for _ in range(ATTEMPTS):
            docs = await self._store.read()
            part, name, value, answer = await decide(docs)
            if await self._store.put(docs.version, part, name, value) >= 0:
                await self.refresh()
                return answer
        raise RuntimeError("the configuration kept changing; try again")

    # --- definitions ----------------------------------------------------------------------

    async def apply_definition(self, spec: DefinitionSpec, allow_breaking: bool) -> dict[str, Any]:
        async def decide(docs: ConfigDocs) -> tuple[str, str, Any | None, Any]:
            versions = [
                DefinitionSpec.model_validate(v) for v in docs.definitions.get(spec.name, [])
            ]
            if versions and versions[-1].same_schema(spec):
                answer = {
                    "name": spec.name,
                    "version": len(versions),
                    "created": False,
                    "breaking": [],
                }
                stored = [
                    *[v.model_dump(exclude_none=True) for v in versions[:-1]],
                    spec.model_dump(exclude_none=True),
                ]
                return "definitions", spec.name, stored, answer
            breaking = breaking_changes(versions[-1], spec) if versions else []
            if breaking and not allow_breaking:
                raise Conflict(
                    "the change would reject events the current version accepts", breaking
                )
            stored = [
                *[v.model_dump(exclude_none=True) for v in versions],
                spec.model_dump(exclude_none=True),
            ]
            answer = {
                "name": spec.name,
                "version": len(stored),
                "created": True,
                "breaking": breaking,
            }
            return "definitions", spec.name, stored, answer

        result: dict[str, Any] = await self._change(decide)
        return result

    async def delete_definition(self, name: str) -> None:
        async def decide(docs: ConfigDocs) -> tuple[str, str, Any | None, Any]:
            if name not in docs.definitions:
                raise NotFound(f"no definition {name!r}")
            return "definitions", name, None, None

        await self._change(decide)

    # --- sources --------------------------------------------------------------------------

    async def create_source(self, spec: SourceSpec) -> dict[str, Any]:
        async def decide(docs: ConfigDocs) -> tuple[str, str, Any | None, Any]:
            if spec.id in docs.sources:
                raise Conflict(
                    f"source {spec.id!r} exists; its secret is set once (delete it to replace it)"
                )
            stored = stored_source(spec)
            return "sources", spec.id, stored, public_source(stored)

        result: dict[str, Any] = await self._change(decide)
        return result

    async def update_source(self, source_id: str, changes: dict[str, bool]) -> dict[str, Any]:
        async def decide(docs: ConfigDocs) -> tuple[str, str, Any | None, Any]:
            if source_id not in docs.sources:
                raise NotFound(f"no source {source_id!r}")
            stored = {**docs.sources[source_id], **changes}
            return "sources", source_id, stored, public_source(stored)

        result: dict[str, Any] = await self._change(decide)
        return result

    async def delete_source(self, source_id: str) -> None:
        async def decide(docs: ConfigDocs) -> tuple[str, str, Any | None, Any]:
            if source_id not in docs.sources:
                raise NotFound(f"no source {source_id!r}")
            return "sources", source_id, None, None

        await self._change(decide)

    # --- triggers -------------------------------------------------------------------------

    async def put_trigger(self, document: dict[str, Any], *, create: bool) -> dict[str, Any]:
        """Create (409 if it exists) or replace (404 if it does not) a trigger; it is compiled
        first, so an invalid one is refused whole (TriggerError)."""
        trigger = compile_trigger(document)

        async def decide(docs: ConfigDocs) -> tuple[str, str, Any | None, Any]:
            existing = docs.triggers.get(trigger.id)
            if create and existing is not None:
                raise Conflict(
                    f"trigger {trigger.id!r} exists; PUT /v1/triggers/{trigger.id} replaces it"
                )
            if not create and existing is None:
                raise NotFound(f"no trigger {trigger.id!r}")
            order = existing["order"] if existing else docs.next_order()
            stored = {"order": order, "trigger": document}
            return "triggers", trigger.id, stored, stored

        result: dict[str, Any] = await self._change(decide)
        return result

    async def delete_trigger(self, trigger_id: str) -> None:
        async def decide(docs: ConfigDocs) -> tuple[str, str, Any | None, Any]:
            if trigger_id not in docs.triggers:
                raise NotFound(f"no trigger {trigger_id!r}")
            return "triggers", trigger_id, None, None

        await self._change(decide)

    # --- start-up -------------------------------------------------------------------------

    async def seed(self, files: FileConfig) -> int:
        """Store what config/ holds and the store lacks; never overwrite a runtime change.
        Returns how many items were added."""
        added = 0
        docs = await self._store.read()
        for source in files.sources:
            if source.id not in docs.sources:
                added += await self._seed(docs, "sources", source.id, stored_source(source))
        names = {d.name for d in files.definitions}
        for name in sorted(names):
            if name not in docs.definitions:
                versions: list[DefinitionSpec] = []
                for spec in (d for d in files.definitions if d.name == name):
                    if not versions or not versions[-1].same_schema(spec):
                        versions.append(spec)
                stored = [v.model_dump(exclude_none=True) for v in versions]
                added += await self._seed(docs, "definitions", name, stored)
        order = docs.next_order()
        for document in files.triggers:
            if document["id"] not in docs.triggers:
                added += await self._seed(
                    docs, "triggers", document["id"], {"order": order, "trigger": document}
                )
                order += 1
        await self.refresh()
        return added

    async def _seed(self, docs: ConfigDocs, part: str, name: str, value: Any) -> int:
        for _ in range(ATTEMPTS):
            version = await self._store.put(docs.version, part, name, value)
            if version >= 0:
                docs.version = version
                return 1
            fresh = await self._store.read()
            if name in getattr(fresh, part):
                docs.version = fresh.version
                return 0  # another replica seeded it first
            docs.version = fresh.version
        raise RuntimeError("could not seed the configuration")
