"""Compile a definition once into a strict pydantic validator; validating an event is then one
call into pydantic-core, with every violation mapped to a docs/topics.md reason and dotted path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import annotated_types as at
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
)
from pydantic_core import PydanticCustomError

from eventwire.core.definitions.spec import Additional, DefinitionSpec, EnumValue, ItemSpec
from eventwire.core.reasons import Reason
from eventwire.core.timestamps import is_rfc3339_date
from eventwire.core.validation import reasons_from


@dataclass(frozen=True, slots=True)
class CompiledDefinition:
    spec: DefinitionSpec
    version: int
    _adapter: TypeAdapter[Any]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def observing(self) -> bool:
        """Observe mode: violations are listed on the accepted event, not rejected."""
        return self.spec.mode == "observe"

    def validate(self, properties: Any, prefix: str) -> list[Reason]:
        """Every violation in ``properties``, with paths under ``prefix`` (empty if valid)."""
        try:
            self._adapter.validate_python(properties)
        except ValidationError as exc:
            return reasons_from(exc, prefix)
        return []


def compile_definition(spec: DefinitionSpec, version: int) -> CompiledDefinition:
    root = _object_type(spec.as_object(), spec.name, "reject")
    return CompiledDefinition(spec, version, TypeAdapter(root))


def _value_type(spec: ItemSpec, where: str, inherited: Additional) -> Any:
    match spec.type:
        case "string":
            base: Any = Annotated[
                str, Strict(), StringConstraints(max_length=spec.max_length, pattern=spec.pattern)
            ]
        case "number":
            base = Annotated[float, Strict(), *_bounds(spec)]
        case "integer":
            base = Annotated[int, Strict(), *_bounds(spec)]
        case "boolean":
            base = Annotated[bool, Strict()]
        case "date":
            base = Annotated[str, Strict(), AfterValidator(_check_date)]
        case "object":
            base = _object_type(spec, where, inherited)
        case "array":
            item = (
                _value_type(spec.items, f"{where}[]", inherited) if spec.items is not None else Any
            )
            base = Annotated[list[item], Strict(), Field(max_length=spec.max_length)]  # type: ignore[valid-type]
    if spec.enum is not None:
        base = Annotated[base, AfterValidator(_enum_check(spec.enum))]
    return base


def _object_type(spec: ItemSpec, where: str, inherited: Additional) -> Any:
    if spec.fields is None:
        return Annotated[dict[str, Any], Strict()]
    extra = spec.additional_fields or inherited
    attributes: dict[str, Any] = {}
    for index, field in enumerate(spec.fields):
        value_type = _value_type(field, f"{where}.{field.name}", extra)
        if field.required:
            attributes[f"f{index}"] = (value_type, Field(alias=field.name))
        else:
            attributes[f"f{index}"] = (value_type, Field(default=None, alias=field.name))
    model: type[BaseModel] = create_model(
        f"Object[{where}]",
        __config__=ConfigDict(extra="allow" if extra == "allow" else "forbid", strict=True),
        **attributes,
    )
    return model


def _bounds(spec: ItemSpec) -> list[Any]:
    bounds: list[Any] = []
    if spec.minimum is not None:
        bounds.append(at.Ge(spec.minimum))
    if spec.maximum is not None:
        bounds.append(at.Le(spec.maximum))
    return bounds


def _check_date(value: str) -> str:
    if not is_rfc3339_date(value):
        raise PydanticCustomError(
            "date", "expected an RFC 3339 date (2026-11-24) or date-time (2026-11-24T09:00:00Z)"
        )
    return value


def _enum_check(allowed: list[EnumValue]) -> Callable[[Any], Any]:
    # Booleans are ints in Python; keep them apart so that 1 never matches true.
    members = {(type(v) is bool, v) for v in allowed}
    shown = ", ".join(repr(v) for v in allowed[:20])

    def check(value: Any) -> Any:
        if (type(value) is bool, value) not in members:
            raise PydanticCustomError("enum", "must be one of: {allowed}", {"allowed": shown})
        return value

    return check
