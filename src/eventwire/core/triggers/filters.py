"""MongoDB-style filters over ``{"event", "session", "profile"}``, compiled once into closures.

Semantics follow MongoDB's query language:

- a dotted path that reaches an array continues into every element, and a numeric part
  also indexes the array;
- a condition on an array field matches when the array itself, or any element, matches;
- ``$ne`` and ``$nin`` match missing fields, and ``{"$eq": null}`` matches missing or null;
- ordering operators compare only within one type bracket: numbers (int and float alike),
  strings, booleans;
- ``true`` is never equal to ``1``.

``$regex`` runs on RE2 (linear time). ``$history: {type, within, count}`` counts this
profile's events of a type in a window ending at the event's time. The document carries
those as ``history: {type: [epoch ms, ...]}`` and ``now`` (epoch ms). The current event is
included.

Each node compiles to two closures: ``match`` for the hot path, and ``explain`` for the dry
run, which says which conditions failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import re2

from eventwire.core.durations import DurationError, parse_duration

Doc = dict[str, Any]
ROOTS = ("event", "session", "profile")
LOGICAL = ("$and", "$or", "$nor")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
_MISSING_TEXT = "missing"


@dataclass(frozen=True, slots=True)
class Failure:
    path: str
    operator: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "operator": self.operator, "message": self.message}


@dataclass(frozen=True, slots=True)
class Node:
    match: Callable[[Doc], bool]
    explain: Callable[[Doc], list[Failure]]


@dataclass(frozen=True, slots=True)
class CompiledFilter:
    node: Node
    history_types: frozenset[str]
    history_window_ms: int = 0  # the longest $history window, so reads can stop there

    def match(self, doc: Doc) -> bool:
        return self.node.match(doc)

    def explain(self, doc: Doc) -> list[Failure]:
        return self.node.explain(doc)


class FilterError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# --- values at a path ---------------------------------------------------------------------


def values_at(node: Any, parts: Sequence[str]) -> list[Any]:
    """Every value a dotted path reaches (MongoDB's array traversal); empty when missing."""
    found: list[Any] = []
    _collect(node, parts, 0, found)
    return found


def _collect(node: Any, parts: Sequence[str], i: int, found: list[Any]) -> None:
    if i == len(parts):
        found.append(node)
        return
    key = parts[i]
    if isinstance(node, dict):
        if key in node:
            _collect(node[key], parts, i + 1, found)
    elif isinstance(node, list):
        if key.isdigit() and int(key) < len(node):
            _collect(node[int(key)], parts, i + 1, found)
        for element in node:
            if isinstance(element, dict):
                _collect(element, parts, i, found)


def candidates(values: list[Any]) -> list[Any]:
    """The values and, for arrays, their elements: what a scalar condition is tested on."""
    out: list[Any] = []
    for value in values:
        out.append(value)
        if isinstance(value, list):
            out.extend(value)
    return out


# --- typed comparison ---------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """MongoDB equality: numbers compare as numbers, booleans only with booleans."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def bracket(value: Any) -> int | None:
    """The type bracket ordering operators compare within; None: not orderable."""
    if isinstance(value, bool):
        return 3
    if isinstance(value, int | float):
        return 1
    if isinstance(value, str):
        return 2
    return None


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}

# --- compiling ----------------------------------------------------------------------------

ValueTest = Callable[[list[Any]], bool]


class _Compiler:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.history_types: set[str] = set()
        self.history_window_ms = 0

    def fail(self, where: str, message: str) -> Node:
        self.problems.append(f"{where}: {message}")
        return Node(lambda doc: False, lambda doc: [])

    def filter(self, spec: Any, where: str) -> Node:
        if not isinstance(spec, dict):
            return self.fail(where, "a filter is an object")
        nodes = [self.clause(key, value, f"{where}.{key}") for key, value in spec.items()]
        return _all(nodes)

    def clause(self, key: str, value: Any, where: str) -> Node:
        if key in LOGICAL:
            return self.logical(key, value, where)
        if key == "$history":
            return self.history(value, where)
        if key.startswith("$"):
            return self.fail(where, f"unknown operator {key}")
        parts = key.split(".")
        if parts[0] not in ROOTS or len(parts) < 2 or "" in parts:
            return self.fail(where, f"bad path {key!r}: start with event., session. or profile.")
        return self.field(key, tuple(parts[1:]), parts[0], value, where)

    def logical(self, op: str, value: Any, where: str) -> Node:
        if not isinstance(value, list) or not value:
            return self.fail(where, f"{op} takes a non-empty list of filters")
        nodes = [self.filter(item, f"{where}.{i}") for i, item in enumerate(value)]
        if op == "$and":
            return _all(nodes)
        if op == "$or":
            return Node(
                lambda doc: any(n.match(doc) for n in nodes),
                lambda doc: (
                    []
                    if any(n.match(doc) for n in nodes)
                    else [Failure("$or", "$or", f"none of {len(nodes)} branches matched")]
                    + [f for n in nodes for f in n.explain(doc)]
                ),
            )
        return Node(
            lambda doc: not any(n.match(doc) for n in nodes),
            lambda doc: (
                []
                if not any(n.match(doc) for n in nodes)
                else [Failure("$nor", "$nor", "a branch matched")]
            ),
        )

    def field(self, path: str, parts: tuple[str, ...], root: str, spec: Any, where: str) -> Node:
        def get(doc: Doc) -> list[Any]:
            return values_at(doc.get(root), parts)

        if isinstance(spec, dict) and spec and all(k.startswith("$") for k in spec):
            tests = self.operators(spec, where)
        elif isinstance(spec, dict) and any(k.startswith("$") for k in spec):
            return self.fail(where, "do not mix operators and fields in one object")
        else:
            tests = [("$eq", spec, self.operator("$eq", spec, {}, where))]
        return _field_node(path, get, tests)

    def operators(self, spec: dict[str, Any], where: str) -> list[tuple[str, Any, ValueTest]]:
        return [
            (op, operand, self.operator(op, operand, spec, f"{where}.{op}"))
            for op, operand in spec.items()
            if op != "$options"
        ] + ([] if "$options" not in spec or "$regex" in spec else [self._options_alone(where)])

    def _options_alone(self, where: str) -> tuple[str, Any, ValueTest]:
        self.problems.append(f"{where}.$options: $options goes with $regex")
        return ("$options", None, lambda values: False)

    def operator(self, op: str, operand: Any, siblings: dict[str, Any], where: str) -> ValueTest:
        builder = _OPERATORS.get(op)
        if builder is None:
            self.problems.append(f"{where}: unknown operator {op}")
            return lambda values: False
        try:
            return builder(self, operand, siblings, where)
        except _OperandError as exc:
            self.problems.append(f"{where}: {exc}")
            return lambda values: False

    def history(self, spec: Any, where: str) -> Node:
        if not isinstance(spec, dict) or set(spec) - {"type", "within", "count"}:
            return self.fail(where, "$history takes {type, within, count}")
        type_, within, count = spec.get("type"), spec.get("within"), spec.get("count")
        if not isinstance(type_, str) or not type_:
            return self.fail(where, "$history.type must be an event type")
        try:
            within_ms = (
                parse_duration(within if isinstance(within, str | int | float) else "") * 1000
            )
        except DurationError:
            return self.fail(where, f"$history.within: not a duration: {within!r}")
        if isinstance(count, dict) and count and all(k.startswith("$") for k in count):
            tests = self.operators(count, f"{where}.count")
        elif count is None:
            return self.fail(where, '$history.count is required, e.g. {"$gte": 3}')
        else:
            tests = [("$eq", count, self.operator("$eq", count, {}, f"{where}.count"))]
        self.history_types.add(type_)
        self.history_window_ms = max(self.history_window_ms, int(within_ms))

        def get(doc: Doc) -> list[Any]:
            now = doc.get("now") or 0
            stamps = (doc.get("history") or {}).get(type_, ())
            return [sum(1 for t in stamps if now - within_ms <= t <= now)]

        return _field_node(f"$history.{type_}", get, tests)


class _OperandError(ValueError):
    pass


def _field_node(
    path: str, get: Callable[[Doc], list[Any]], tests: list[tuple[str, Any, ValueTest]]
) -> Node:
    checks = [test for _, _, test in tests]

    def match(doc: Doc) -> bool:
        values = get(doc)
        return all(check(values) for check in checks)

    def explain(doc: Doc) -> list[Failure]:
        values = get(doc)
        return [
            Failure(path, op, f"{path} is {_shown(values)}; expected {op} {_short(operand)}")
            for op, operand, test in tests
            if not test(values)
        ]

    return Node(match, explain)


def _all(nodes: list[Node]) -> Node:
    if len(nodes) == 1:
        return nodes[0]
    return Node(
        lambda doc: all(n.match(doc) for n in nodes),
        lambda doc: [f for n in nodes for f in n.explain(doc)],
    )


def _shown(values: list[Any]) -> str:
    if not values:
        return _MISSING_TEXT
    return _short(values[0] if len(values) == 1 else values)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# --- operators ----------------------------------------------------------------------------


def _eq(c: _Compiler, operand: Any, siblings: dict[str, Any], where: str) -> ValueTest:
    if operand is None:
        return lambda values: not values or any(v is None for v in candidates(values))
    return lambda values: any(same(v, operand) for v in candidates(values))


def _ne(c: _Compiler, operand: Any, siblings: dict[str, Any], where: str) -> ValueTest:
    equal = _eq(c, operand, siblings, where)
    return lambda values: not equal(values)


def _in(c: _Compiler, operand: Any, siblings: dict[str, Any], where: str) -> ValueTest:
    if not isinstance(operand, list):
        raise _OperandError("$in takes a list")
    tests = [_eq(c, item, siblings, where) for item in operand]
    return lambda values: any(test(values) for test in tests)


def _nin(c: _Compiler, operand: Any, siblings: dict[str, Any], where: str) -> ValueTest:
    if not isinstance(operand, list):
        raise _OperandError("$nin takes a list")
    inside = _in(c, operand, siblings, where)
    return lambda values: not inside(values)


def _ordering(op: str) -> Callable[[_Compiler, Any, dict[str, Any], str], ValueTest]:
    compare = _ORDER[op]

    def build(c: _Compiler, operand: Any, siblings: dict[str, Any], where: str) -> ValueTest:
        kind = bracket(operand)
        if kind is None:
            raise _OperandError(f"{op} compares with a number, string or boolean")
        return lambda values: any(
            bracket(v) == kind and compare(v, operand) for v in candidates(values)
        )

    return build


def _exists(c: _Compiler, operand: Any, siblings: dict[str, Any], where: str) -> ValueTest:
    if not isinstance(operand, bool):
        raise _OperandError("$exists takes true or false")
    return lambda values: bool(values) == operand


def _regex(c: _Compiler, operand: Any, siblings: dict[str, Any], where: str) -> ValueTest:
    if not isinstance(operand, str):
        raise _OperandError("$regex takes a string")
    options = siblings.get("$options", "")
    if not isinstance(options, str) or set(options) - set("ims"):
        raise _OperandError("$options takes any of i, m, s")
    flags = f"(?{options})" if options else ""
    try:
        pattern = re2.compile(flags + operand, _RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        raise _OperandError(f"$regex does not compile in RE2: {detail}") from None
    search = pattern.search
    return lambda values: any(
        isinstance(v, str) and search(v) is not None for v in candidates(values)
    )


def _size(c: _Compiler, operand: Any, siblings: dict[str, Any], where: str) -> ValueTest:
    if isinstance(operand, bool) or not isinstance(operand, int) or operand < 0:
        raise _OperandError("$size takes a whole number")
    return lambda values: any(isinstance(v, list) and len(v) == operand for v in values)


def _all_of(c: _Compiler, operand: Any, siblings: dict[str, Any], where: str) -> ValueTest:
    if not isinstance(operand, list):
        raise _OperandError("$all takes a list")
    if not operand:
        return lambda values: False

    def holds(value: Any) -> bool:
        items = value if isinstance(value, list) else [value]
        return all(any(same(item, wanted) for item in items) for wanted in operand)

    return lambda values: any(holds(v) for v in values)


def _elem_match(c: _Compiler, operand: Any, siblings: dict[str, Any], where: str) -> ValueTest:
    if not isinstance(operand, dict) or not operand:
        raise _OperandError("$elemMatch takes a filter object")
    if all(k.startswith("$") for k in operand):
        tests = [test for _, _, test in c.operators(operand, where)]

        def element_matches(element: Any) -> bool:
            return all(test([element]) for test in tests)
    else:
        sub = c.filter({f"event.{k}": v for k, v in operand.items()}, where)

        def element_matches(element: Any) -> bool:
            return isinstance(element, dict) and sub.match({"event": element})

    return lambda values: any(
        isinstance(v, list) and any(element_matches(e) for e in v) for v in values
    )


def _not(c: _Compiler, operand: Any, siblings: dict[str, Any], where: str) -> ValueTest:
    if isinstance(operand, str):
        operand = {"$regex": operand}
    if not isinstance(operand, dict) or not operand or not all(k.startswith("$") for k in operand):
        raise _OperandError('$not takes an operator object, e.g. {"$gt": 5}')
    tests = [test for _, _, test in c.operators(operand, where)]
    return lambda values: not all(test(values) for test in tests)


_OPERATORS: dict[str, Callable[[_Compiler, Any, dict[str, Any], str], ValueTest]] = {
    "$eq": _eq,
    "$ne": _ne,
    "$in": _in,
    "$nin": _nin,
    "$gt": _ordering("$gt"),
    "$gte": _ordering("$gte"),
    "$lt": _ordering("$lt"),
    "$lte": _ordering("$lte"),
    "$exists": _exists,
    "$regex": _regex,
    "$size": _size,
    "$all": _all_of,
    "$elemMatch": _elem_match,
    "$not": _not,
}


def compile_filter(spec: Any, where: str = "when") -> CompiledFilter:
    """The filter as closures, or FilterError naming every problem in it."""
    compiler = _Compiler()
    node = compiler.filter(spec, where)
    if compiler.problems:
        raise FilterError(compiler.problems)
    return CompiledFilter(node, frozenset(compiler.history_types), compiler.history_window_ms)
