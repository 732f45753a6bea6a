"""A trigger compiled once: filter and expressions as closures, durations in ms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from eventwire.core.durations import parse_duration
from eventwire.core.triggers.expressions import Expr, ExpressionError, compile_expression
from eventwire.core.triggers.filters import CompiledFilter, FilterError, compile_filter
from eventwire.core.triggers.model import CallWebhook, TriggerSpec
from eventwire.core.validation import reasons_from

# Parameters that are names, not values: never evaluated as expressions.
_LITERAL_PARAMS = {"type", "method", "headers", "url", "name", "automation"}


class TriggerError(ValueError):
    """An invalid trigger, with every problem in it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class CompiledAction:
    index: int
    type: str
    literals: dict[str, Any]
    values: dict[str, Expr]

    def params(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {**self.literals, **{name: value(doc) for name, value in self.values.items()}}


@dataclass(frozen=True, slots=True)
class LimitRule:
    times: int
    per: str
    window_ms: int | None


@dataclass(frozen=True, slots=True)
class AbsentRule:
    type: str
    within_ms: int


@dataclass(frozen=True, slots=True)
class CompiledTrigger:
    spec: TriggerSpec
    on: frozenset[str]
    when: CompiledFilter | None
    include: frozenset[str]
    exclude: frozenset[str]
    limit: LimitRule | None
    absent: AbsentRule | None
    actions: tuple[CompiledAction, ...]
    document: dict[str, Any]

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def enabled(self) -> bool:
        return self.spec.enabled

    @property
    def history_types(self) -> frozenset[str]:
        return self.when.history_types if self.when else frozenset()


def compile_trigger(document: Any) -> CompiledTrigger:
    """The trigger as closures, or TriggerError naming every problem (never half-compiled)."""
    try:
        spec = TriggerSpec.model_validate(document)
    except ValidationError as exc:
        raise TriggerError(
            [f"{r.field or '(top level)'}: {r.message}" for r in reasons_from(exc, "")]
        ) from None
    problems: list[str] = []
    when = None
    if spec.when is not None:
        try:
            when = compile_filter(spec.when, "when")
        except FilterError as exc:
            problems += exc.problems
    actions = []
    for index, action in enumerate(spec.actions):
        fields = action.model_dump(exclude_none=False)
        literals = {k: v for k, v in fields.items() if k in _LITERAL_PARAMS and k != "type"}
        values: dict[str, Expr] = {}
        for name, value in fields.items():
            if name in _LITERAL_PARAMS:
                continue
            if isinstance(action, CallWebhook) and name == "body" and value is None:
                continue
            try:
                values[name] = compile_expression(value, f"actions.{index}.{name}")
            except ExpressionError as exc:
                problems += exc.problems
        actions.append(CompiledAction(index, action.type, literals, values))
    if problems:
        raise TriggerError(problems)
    segments = spec.segments
    limit = spec.limit
    return CompiledTrigger(
        spec=spec,
        on=frozenset(spec.types()),
        when=when,
        include=frozenset(segments.include if segments else ()),
        exclude=frozenset(segments.exclude if segments else ()),
        limit=LimitRule(
            limit.times,
            limit.per,
            int(parse_duration(limit.window) * 1000) if limit.window else None,
        )
        if limit
        else None,
        absent=AbsentRule(spec.absent.type, int(parse_duration(spec.absent.within) * 1000))
        if spec.absent
        else None,
        actions=tuple(actions),
        document=document,
    )
