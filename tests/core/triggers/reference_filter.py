"""A straightforward interpreter of MongoDB filters, written independently of the compiler,
to check it against: no closures, no precomputation, every rule spelled out where it applies."""

from __future__ import annotations

import re
from typing import Any

from eventwire.core.durations import parse_duration


def lookup(node: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return [node]
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        return lookup(node[head], rest) if head in node else []
    if isinstance(node, list):
        found = []
        if head.isdigit() and int(head) < len(node):
            found += lookup(node[int(head)], rest)
        for element in node:
            if isinstance(element, dict):
                found += lookup(element, parts)
        return found
    return []


def equal(a: Any, b: Any) -> bool:
    if type(a) is bool or type(b) is bool:
        return type(a) is bool and type(b) is bool and a == b
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return set(a) == set(b) and all(equal(a[k], b[k]) for k in a)
    return bool(a == b)


def kind(v: Any) -> str | None:
    if type(v) is bool:
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    return None


def scalars(values: list[Any]) -> list[Any]:
    out = []
    for v in values:
        out.append(v)
        if isinstance(v, list):
            out += v
    return out


def op_matches(op: str, arg: Any, values: list[Any], spec: dict[str, Any]) -> bool:
    if op == "$eq":
        if arg is None:
            return values == [] or any(v is None for v in scalars(values))
        return any(equal(v, arg) for v in scalars(values))
    if op == "$ne":
        return not op_matches("$eq", arg, values, spec)
    if op == "$in":
        return any(op_matches("$eq", a, values, spec) for a in arg)
    if op == "$nin":
        return not op_matches("$in", arg, values, spec)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        for v in scalars(values):
            if kind(v) is not None and kind(v) == kind(arg):
                if op == "$gt" and v > arg:
                    return True
                if op == "$gte" and v >= arg:
                    return True
                if op == "$lt" and v < arg:
                    return True
                if op == "$lte" and v <= arg:
                    return True
        return False
    if op == "$exists":
        return bool((len(values) > 0) == arg)
    if op == "$regex":
        flags = 0
        for letter in spec.get("$options", ""):
            flags |= {"i": re.I, "m": re.M, "s": re.S}[letter]
        return any(isinstance(v, str) and bool(re.search(arg, v, flags)) for v in scalars(values))
    if op == "$size":
        return any(isinstance(v, list) and len(v) == arg for v in values)
    if op == "$all":
        if not arg:
            return False
        for v in values:
            items = v if isinstance(v, list) else [v]
            if all(any(equal(i, a) for i in items) for a in arg):
                return True
        return False
    if op == "$elemMatch":
        for v in values:
            if isinstance(v, list):
                for element in v:
                    if all(x.startswith("$") for x in arg):
                        if all(
                            op_matches(o, a, [element], arg)
                            for o, a in arg.items()
                            if o != "$options"
                        ):
                            return True
                    elif isinstance(element, dict) and matches(
                        {f"event.{k}": val for k, val in arg.items()}, {"event": element}
                    ):
                        return True
        return False
    if op == "$not":
        inner = {"$regex": arg} if isinstance(arg, str) else arg
        return not all(op_matches(o, a, values, inner) for o, a in inner.items() if o != "$options")
    raise ValueError(op)


def matches(spec: dict[str, Any], doc: dict[str, Any]) -> bool:
    for key, value in spec.items():
        if key == "$and" and not all(matches(s, doc) for s in value):
            return False
        if key == "$or" and not any(matches(s, doc) for s in value):
            return False
        if key == "$nor" and any(matches(s, doc) for s in value):
            return False
        if key == "$history":
            window = parse_duration(value["within"]) * 1000
            now = doc.get("now", 0)
            count = len(
                [
                    t
                    for t in doc.get("history", {}).get(value["type"], [])
                    if now - window <= t <= now
                ]
            )
            condition = value["count"]
            ops = condition if isinstance(condition, dict) else {"$eq": condition}
            if not all(op_matches(o, a, [count], ops) for o, a in ops.items()):
                return False
        if key.startswith("$"):
            continue
        root, *rest = key.split(".")
        values = lookup(doc.get(root), rest)
        if isinstance(value, dict) and value and all(k.startswith("$") for k in value):
            if not all(
                op_matches(o, a, values, value) for o, a in value.items() if o != "$options"
            ):
                return False
        elif not op_matches("$eq", value, values, {}):
            return False
    return True
