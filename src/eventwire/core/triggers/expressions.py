"""Values of actions: literals, references and arithmetic, compiled once into closures.

``"$event.properties.total"`` (or ``$session.``, ``$profile.``) reads the document;
``{"$add": [a, b, ...]}``, ``$subtract``, ``$multiply``, ``$divide``, ``$round`` (``x`` or
``[x, places]``), ``$floor`` and ``$ceil`` compute. Objects and lists are built from their
compiled members, so a webhook body can be a template. ``"$$text"`` is the literal ``"$text"``.
Expressions are data: nothing a user sends is evaluated as Python. A reference to a missing
field, or arithmetic on something that is not a number, gives None (null), as in MongoDB; so
does a result past 2^53, where JSON numbers stop being exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Doc = dict[str, Any]
Expr = Callable[[Doc], Any]
ROOTS = ("event", "session", "profile")


class ExpressionError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def lookup(doc: Any, parts: tuple[str, ...]) -> Any:
    node = doc
    for part in parts:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


# Numbers beyond this are not exact in JSON (2^53); expressions give null past it.
SAFE = 2**53


def _number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and abs(value) <= SAFE
    )


def _tidy(value: float) -> int | float | None:
    """12.0 as 12, so that points stay whole numbers; null when out of the safe range."""
    if not math.isfinite(value) or abs(value) > SAFE:
        return None
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _add(values: list[Any]) -> Any:
    return _tidy(sum(values)) if all(_number(v) for v in values) else None


def _multiply(values: list[Any]) -> Any:
    return _tidy(math.prod(values)) if all(_number(v) for v in values) else None


def _subtract(values: list[Any]) -> Any:
    a, b = values
    return _tidy(a - b) if _number(a) and _number(b) else None


def _divide(values: list[Any]) -> Any:
    a, b = values
    if not (_number(a) and _number(b)) or b == 0:
        return None
    return _tidy(a / b)


def _round(values: list[Any]) -> Any:
    value, places = (values[0], values[1]) if len(values) == 2 else (values[0], 0)
    if not _number(value) or not isinstance(places, int) or isinstance(places, bool):
        return None
    return _tidy(round(value, min(places, 15))) if places else _tidy(round(value))


def _floor(values: list[Any]) -> Any:
    return _tidy(math.floor(values[0])) if _number(values[0]) else None


def _ceil(values: list[Any]) -> Any:
    return _tidy(math.ceil(values[0])) if _number(values[0]) else None


# operator -> (function, fewest arguments, most arguments or None)
_OPERATORS: dict[str, tuple[Callable[[list[Any]], Any], int, int | None]] = {
    "$add": (_add, 2, None),
    "$subtract": (_subtract, 2, 2),
    "$multiply": (_multiply, 2, None),
    "$divide": (_divide, 2, 2),
    "$round": (_round, 1, 2),
    "$floor": (_floor, 1, 1),
    "$ceil": (_ceil, 1, 1),
}


def compile_expression(spec: Any, where: str) -> Expr:
    """``spec`` as a closure over the document, or ExpressionError naming every problem."""
    problems: list[str] = []
    compiled = _compile(spec, where, problems)
    if problems:
        raise ExpressionError(problems)
    return compiled


def _compile(spec: Any, where: str, problems: list[str]) -> Expr:
    if isinstance(spec, str) and spec.startswith("$$"):
        literal = spec[1:]
        return lambda doc: literal
    if isinstance(spec, str) and spec.startswith("$"):
        parts = tuple(spec[1:].split("."))
        if parts[0] not in ROOTS or len(parts) < 2 or "" in parts:
            problems.append(f"{where}: bad reference {spec!r}: use $event., $session. or $profile.")
        return lambda doc: lookup(doc, parts)
    if isinstance(spec, dict):
        operators = [key for key in spec if key.startswith("$")]
        if operators:
            return _operator(spec, operators, where, problems)
        members = {key: _compile(value, f"{where}.{key}", problems) for key, value in spec.items()}
        return lambda doc: {key: member(doc) for key, member in members.items()}
    if isinstance(spec, list):
        items = [_compile(item, f"{where}.{i}", problems) for i, item in enumerate(spec)]
        return lambda doc: [item(doc) for item in items]
    return lambda doc: spec


def _operator(spec: dict[str, Any], operators: list[str], where: str, problems: list[str]) -> Expr:
    if len(spec) != 1:
        problems.append(f"{where}: an expression object has exactly one operator")
        return lambda doc: None
    [name] = operators
    found = _OPERATORS.get(name)
    if found is None:
        problems.append(f"{where}: unknown expression operator {name}")
        return lambda doc: None
    function, fewest, most = found
    raw = spec[name]
    arguments = raw if isinstance(raw, list) else [raw]
    if len(arguments) < fewest or (most is not None and len(arguments) > most):
        count = f"{fewest}" if most == fewest else f"{fewest} to {most or 'any'}"
        problems.append(f"{where}.{name}: takes {count} arguments, got {len(arguments)}")
        return lambda doc: None
    compiled = [_compile(a, f"{where}.{name}.{i}", problems) for i, a in enumerate(arguments)]
    return lambda doc: function([argument(doc) for argument in compiled])
