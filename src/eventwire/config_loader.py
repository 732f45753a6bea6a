"""Load sources, definitions and triggers from YAML or JSON files under config/ (docs/settings.md).

Every file under ``sources/``, ``definitions/`` and ``triggers/`` holds one object or a list
of them. All
problems in all files are collected and reported together; nothing is applied unless every
file is valid. A definition name that appears more than once (in file-name order) gets one
version per distinct set of fields, so a folder can keep ``v1`` and ``v2`` side by side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from eventwire.core.definitions.spec import DefinitionSpec
from eventwire.core.registry import Registry
from eventwire.core.sources import SourceSpec
from eventwire.core.triggers.compiled import CompiledTrigger, TriggerError, compile_trigger
from eventwire.core.triggers.trigger_set import TriggerSet
from eventwire.core.validation import reasons_from


class _Yaml12Loader(yaml.SafeLoader):
    """YAML with YAML 1.2 booleans: only true/false. YAML 1.1 also reads on/off/yes/no as
    booleans, so a trigger's `on:` key or a source named `off` would silently change."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

SUFFIXES = (".yaml", ".yml", ".json")
M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_yaml(text: bytes | str) -> Any:
    return yaml.load(text, Loader=_Yaml12Loader)


def read_documents(folder: Path) -> tuple[list[tuple[str, Any]], list[str]]:
    """``(where, object)`` for every object in the folder's files, and the unreadable files."""
    documents: list[tuple[str, Any]] = []
    problems: list[str] = []
    if not folder.is_dir():
        return documents, problems
    for path in sorted(p for p in folder.rglob("*") if p.suffix in SUFFIXES and p.is_file()):
        try:
            text = path.read_bytes()
            loaded = orjson.loads(text) if path.suffix == ".json" else load_yaml(text)
        except (OSError, orjson.JSONDecodeError, yaml.YAMLError) as exc:
            problems.append(f"{path}: cannot be read: {exc}")
            continue
        items = loaded if isinstance(loaded, list) else [loaded]
        for index, item in enumerate(items):
            where = f"{path}[{index}]" if isinstance(loaded, list) else str(path)
            documents.append((where, item))
    return documents, problems


def load_kind(folder: Path, model: type[M]) -> tuple[list[M], list[str]]:
    """Every object in ``folder`` validated as ``model``, and every problem found."""
    documents, problems = read_documents(folder)
    found: list[M] = []
    for where, document in documents:
        try:
            found.append(model.model_validate(document))
        except ValidationError as exc:
            problems += [
                f"{where}: {r.field or '(top level)'}: {r.message}" for r in reasons_from(exc, "")
            ]
    return found, problems


def load_triggers(folder: Path) -> tuple[list[CompiledTrigger], list[str]]:
    """Every trigger in ``folder`` compiled, and every problem of every trigger."""
    documents, problems = read_documents(folder)
    triggers: list[CompiledTrigger] = []
    seen: set[str] = set()
    for where, document in documents:
        try:
            trigger = compile_trigger(document)
        except TriggerError as exc:
            problems += [f"{where}: {problem}" for problem in exc.problems]
            continue
        if trigger.id in seen:
            problems.append(f"{where}: trigger {trigger.id!r} is defined twice")
        seen.add(trigger.id)
        triggers.append(trigger)
    return triggers, problems


@dataclass
class FileConfig:
    """What config/ holds, every item validated."""

    sources: list[SourceSpec]
    definitions: list[DefinitionSpec]
    triggers: list[dict[str, Any]]


def load_files(config_dir: Path) -> FileConfig:
    """Everything under ``config_dir``, or ConfigError naming every problem in every file."""
    sources, problems = load_kind(config_dir / "sources", SourceSpec)
    definitions, definition_problems = load_kind(config_dir / "definitions", DefinitionSpec)
    problems += definition_problems
    seen_sources: set[str] = set()
    for source in sources:
        if source.id in seen_sources:
            problems.append(f"{config_dir}/sources: source {source.id!r} is defined twice")
        seen_sources.add(source.id)
    triggers, trigger_problems = load_triggers(config_dir / "triggers")
    problems += trigger_problems
    if problems:
        raise ConfigError(problems)
    return FileConfig(sources, definitions, [t.document for t in triggers])


def load_registry(config_dir: Path) -> Registry:
    """The registry ``config_dir`` describes, or ConfigError naming every problem."""
    files = load_files(config_dir)
    triggers = TriggerSet.of(compile_trigger(document) for document in files.triggers)
    registry = Registry().with_sources(files.sources).with_triggers(triggers)
    for definition in files.definitions:
        registry, _ = registry.with_definition(definition)
    return registry
