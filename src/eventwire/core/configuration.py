"""The configuration as stored documents, and the registry they compile into.

Stored documents are what people wrote, with one exception: a source's secret is stored as
its hash. Definitions keep every version. Triggers keep their order (config order is the
order they run in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventwire.core.definitions.spec import DefinitionSpec
from eventwire.core.registry import Registry
from eventwire.core.sources import SourceSpec, hash_secret
from eventwire.core.triggers.compiled import compile_trigger
from eventwire.core.triggers.trigger_set import TriggerSet


@dataclass
class ConfigDocs:
    version: int = 0
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    definitions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # trigger id -> {"order": n, "trigger": document}
    triggers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def ordered_triggers(self) -> list[dict[str, Any]]:
        items = sorted(
            self.triggers.values(), key=lambda item: (item["order"], item["trigger"]["id"])
        )
        return [item["trigger"] for item in items]

    def next_order(self) -> int:
        return max((item["order"] for item in self.triggers.values()), default=-1) + 1


def stored_source(spec: SourceSpec) -> dict[str, Any]:
    """A source as stored: the secret replaced by its hash, never kept in clear."""
    document = spec.model_dump(exclude={"secret"}, exclude_none=True)
    if spec.secret is not None:
        document["secret_hash"] = hash_secret(spec.secret.get_secret_value())
    return document


def public_source(document: dict[str, Any]) -> dict[str, Any]:
    """A source as the API shows it: whether it has a secret, never the secret or its hash."""
    shown = {k: v for k, v in document.items() if k != "secret_hash"}
    shown.setdefault("allow_undeclared", False)
    shown.setdefault("enabled", True)
    shown["has_secret"] = bool(document.get("secret_hash"))
    return shown


def build_registry(docs: ConfigDocs) -> Registry:
    """Compile every stored document (they were validated before they were stored)."""
    registry = Registry().with_sources(SourceSpec.model_validate(d) for d in docs.sources.values())
    for name in sorted(docs.definitions):
        for version in docs.definitions[name]:
            registry, _ = registry.with_definition(DefinitionSpec.model_validate(version))
    triggers = TriggerSet.of(compile_trigger(t) for t in docs.ordered_triggers())
    return registry.with_triggers(triggers)
