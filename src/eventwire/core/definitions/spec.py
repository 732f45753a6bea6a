"""What an event definition looks like when written in config/ or sent to the API
(docs/definitions.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from annotated_types import Len
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, model_validator

FieldType = Literal["string", "number", "integer", "boolean", "date", "object", "array"]
Additional = Literal["allow", "reject"]
# enforce: a violating event is rejected; observe: accepted, with its violations listed on it.
Mode = Literal["enforce", "observe"]
EnumValue = str | int | float | bool

# Names people see in dotted paths: no dots (they would make paths ambiguous), no spaces.
FieldName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_$@-][A-Za-z0-9_$@-]*$"), Len(1, 200)
]
DefinitionName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$"), Len(1, 200)
]

_ENUM_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
}


class ItemSpec(BaseModel):
    """A value's type and constraints; the items of an array are described by one of these."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: FieldType
    description: str | None = None
    enum: Annotated[list[EnumValue], Len(1, 1000)] | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    pattern: Annotated[str, Len(1, 1000)] | None = None
    max_length: Annotated[int, Field(ge=0)] | None = None
    fields: list[FieldSpec] | None = None
    items: ItemSpec | None = None
    additional_fields: Additional | None = None

    @model_validator(mode="after")
    def _constraints_fit_type(self) -> ItemSpec:
        problems = constraint_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class FieldSpec(ItemSpec):
    name: FieldName
    required: bool = False


class DefinitionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: DefinitionName
    description: str | None = None
    fields: list[FieldSpec] = Field(default_factory=list)
    additional_fields: Additional = "reject"
    mode: Mode = "enforce"

    @model_validator(mode="after")
    def _unique_names(self) -> DefinitionSpec:
        duplicates = _duplicate_names(self.fields)
        if duplicates:
            raise ValueError(f"field names must be unique: {', '.join(duplicates)}")
        return self

    def as_object(self) -> ItemSpec:
        """The definition seen as the object its events' properties must be."""
        return ItemSpec(type="object", fields=self.fields, additional_fields=self.additional_fields)

    def same_schema(self, other: DefinitionSpec) -> bool:
        """True when only the description differs: such a change is not a new version."""
        return self.model_dump(exclude={"description"}) == other.model_dump(exclude={"description"})


def _duplicate_names(fields: list[FieldSpec]) -> list[str]:
    seen: set[str] = set()
    duplicates = []
    for spec in fields:
        if spec.name in seen:
            duplicates.append(spec.name)
        seen.add(spec.name)
    return duplicates


# Which types each constraint applies to.
_APPLIES_TO: dict[str, tuple[str, ...]] = {
    "enum": tuple(_ENUM_TYPES),
    "minimum": ("number", "integer"),
    "maximum": ("number", "integer"),
    "pattern": ("string",),
    "max_length": ("string", "array"),
    "fields": ("object",),
    "additional_fields": ("object",),
    "items": ("array",),
}


def constraint_problems(spec: ItemSpec) -> list[str]:
    """Every constraint that makes no sense for the spec's type, in one list."""
    problems = [
        f"{name} applies to {' and '.join(kinds)}, not {spec.type}"
        for name, kinds in _APPLIES_TO.items()
        if getattr(spec, name) is not None and spec.type not in kinds
    ]
    if spec.enum is not None and spec.type in _ENUM_TYPES:
        allowed = _ENUM_TYPES[spec.type]
        if any(
            not isinstance(v, allowed) or (spec.type != "boolean" and isinstance(v, bool))
            for v in spec.enum
        ):
            problems.append(f"every enum value must be of type {spec.type}")
    if spec.minimum is not None and spec.maximum is not None and spec.minimum > spec.maximum:
        problems.append("minimum is greater than maximum")
    if spec.pattern is not None and spec.type == "string":
        error = pattern_error(spec.pattern)
        if error:
            problems.append(f"pattern does not compile: {error}")
    if spec.fields is not None:
        duplicates = _duplicate_names(spec.fields)
        if duplicates:
            problems.append(f"field names must be unique: {', '.join(duplicates)}")
    return problems


def pattern_error(pattern: str) -> str | None:
    """Why a pattern does not compile in the linear-time engine validators use, or None."""
    try:
        TypeAdapter(Annotated[str, StringConstraints(pattern=pattern)])
    except Exception as exc:  # pydantic_core.SchemaError carries the regex parser's message
        return str(exc).strip().splitlines()[-1].removeprefix("error: ")
    return None
