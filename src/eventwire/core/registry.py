"""What this worker knows: sources and versioned definitions, as one immutable snapshot.

A snapshot is swapped whole when configuration changes, so an event is never checked
against half of a change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from eventwire.core.definitions.breaking import breaking_changes
from eventwire.core.definitions.compiler import CompiledDefinition, compile_definition
from eventwire.core.definitions.spec import DefinitionSpec
from eventwire.core.sources import Source, SourceSpec
from eventwire.core.triggers.trigger_set import TriggerSet


@dataclass(frozen=True, slots=True)
class DefinitionChange:
    name: str
    version: int
    created: bool
    breaking: list[str]


@dataclass(frozen=True, slots=True)
class Registry:
    sources: Mapping[str, Source] = field(default_factory=dict)
    # name -> every version, oldest first; version n is at index n - 1.
    definitions: Mapping[str, tuple[CompiledDefinition, ...]] = field(default_factory=dict)
    triggers: TriggerSet = field(default_factory=TriggerSet)

    def source(self, source_id: str) -> Source | None:
        return self.sources.get(source_id)

    def definition(self, name: str) -> CompiledDefinition | None:
        versions = self.definitions.get(name)
        return versions[-1] if versions else None

    def version(self, name: str, version: int) -> CompiledDefinition | None:
        versions = self.definitions.get(name, ())
        return versions[version - 1] if 0 < version <= len(versions) else None

    def with_sources(self, specs: Iterable[SourceSpec]) -> Registry:
        sources = dict(self.sources)
        sources.update((spec.id, Source.from_spec(spec)) for spec in specs)
        return Registry(sources, self.definitions, self.triggers)

    def with_triggers(self, triggers: TriggerSet) -> Registry:
        return Registry(self.sources, self.definitions, triggers)

    def with_definition(self, spec: DefinitionSpec) -> tuple[Registry, DefinitionChange]:
        """A registry holding ``spec`` as the next version of its name (or unchanged if the
        fields are the same), and what that change was."""
        versions = self.definitions.get(spec.name, ())
        if versions and versions[-1].spec.same_schema(spec):
            return self, DefinitionChange(spec.name, len(versions), False, [])
        breaking = breaking_changes(versions[-1].spec, spec) if versions else []
        compiled = compile_definition(spec, len(versions) + 1)
        definitions = dict(self.definitions)
        definitions[spec.name] = (*versions, compiled)
        return Registry(self.sources, definitions, self.triggers), DefinitionChange(
            spec.name, compiled.version, True, breaking
        )
