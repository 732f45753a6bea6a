"""A draft definition inferred from the properties of accepted events (pure).

For each field, over every event (or, nested, every object) it could appear in: its type
(the most common among the values it took: ``boolean``, ``integer`` if every number is
whole, else ``number``, ``date`` when every string parses as an RFC 3339 date or date-time,
``string``, ``object`` with its own fields, ``array`` with its items), ``required`` when it
is present (and not null) in every one, an ``enum`` for strings with few distinct values
seen again and again, and a ``max_length`` hint above the longest string seen. Beside each
field go the counts it saw: present / total, distinct values, the other types it took.

The draft is in observe mode: applied as it is, it rejects nothing and lists what breaks
it, until producers are clean and it is switched to enforce.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from eventwire.core.timestamps import is_rfc3339_date

ENUM_MAX = 10  # at most this many distinct strings make an enum...
ENUM_REPEATS = 3  # ...when each was seen this many times on average
LENGTH_HINTS = (64, 256, 1024, 4096, 65536)
FIELD_NAME = re.compile(r"[A-Za-z0-9_$@-]{1,200}")  # what a definition's field may be named


@dataclass
class FieldCounts:
    present: int
    total: int
    distinct: int
    other_types: dict[str, int] = field(default_factory=dict)


@dataclass
class Draft:
    definition: dict[str, Any]  # the config format (DefinitionSpec), as plain data
    counts: dict[str, FieldCounts]  # by dotted field path
    events: int
    skipped: list[str] = field(default_factory=list)  # names no definition can hold


def infer_definition(name: str, properties: Sequence[dict[str, Any]]) -> Draft:
    counts: dict[str, FieldCounts] = {}
    skipped: list[str] = []
    fields = _fields(properties, "", counts, skipped)
    definition = {
        "name": name,
        "description": f"Inferred from {len(properties)} events; review before enforcing.",
        "mode": "observe",
        "additional_fields": "reject",
        "fields": fields,
    }
    return Draft(definition, counts, len(properties), skipped)


def _fields(
    objects: Sequence[dict[str, Any]],
    prefix: str,
    counts: dict[str, FieldCounts],
    skipped: list[str],
) -> list[dict[str, Any]]:
    names: dict[str, None] = {}
    for obj in objects:
        names.update(dict.fromkeys(obj))
    out = []
    for name in names:
        path = f"{prefix}{name}"
        if not FIELD_NAME.fullmatch(name):
            skipped.append(path)
            continue
        values = [obj[name] for obj in objects if obj.get(name) is not None]
        spec = {"name": name, **_value(values, path, counts, skipped, len(objects))}
        if len(values) == len(objects):
            spec["required"] = True
        out.append(spec)
    return out


def _value(
    values: list[Any],
    path: str,
    counts: dict[str, FieldCounts],
    skipped: list[str],
    total: int,
) -> dict[str, Any]:
    kinds = Counter(_kind(v) for v in values)
    kind = _chosen(kinds)
    same = [v for v in values if _kind(v) == kind or (kind == "number" and _kind(v) == "integer")]
    distinct = len({orjson.dumps(v, option=orjson.OPT_SORT_KEYS) for v in values})
    others = {
        k: n for k, n in kinds.items() if k != kind and not (kind == "number" and k == "integer")
    }
    counts[path] = FieldCounts(len(values), total, distinct, others)
    spec: dict[str, Any] = {"type": kind}
    if kind == "object":
        spec["fields"] = _fields(same, f"{path}.", counts, skipped)
    elif kind == "array":
        elements = [e for v in same for e in v if e is not None]
        if elements:
            spec["items"] = _value(elements, f"{path}[]", counts, skipped, len(elements))
    elif kind == "string":
        texts = sorted({str(v) for v in same})
        if len(texts) <= ENUM_MAX and len(same) >= ENUM_REPEATS * len(texts):
            spec["enum"] = texts
        else:
            longest = max((len(t) for t in texts), default=0)
            spec["max_length"] = next((h for h in LENGTH_HINTS if h >= 2 * longest), 65536)
    return spec


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "date" if is_rfc3339_date(value) else "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string"


def _fits(chosen: str, kind: str) -> bool:
    """A value of ``kind`` is valid for a field of type ``chosen``."""
    return kind == chosen or (chosen, kind) in (("number", "integer"), ("string", "date"))


def _chosen(kinds: Counter[str]) -> str:
    """The most common type; numbers together, ``number`` if any is not whole; strings that
    are sometimes dates are strings."""
    if not kinds:
        return "string"
    merged = Counter(kinds)
    if "number" in merged and "integer" in merged:
        merged["number"] += merged.pop("integer")
    if "date" in merged and "string" in merged:
        merged["string"] += merged.pop("date")
    return merged.most_common(1)[0][0]


# --- the draft as the config format, with the counts as comments ----------------------------


def draft_yaml(draft: Draft, source_note: str) -> str:
    d = draft.definition
    lines = [
        f"# Draft definition of {d['name']!r}, inferred from {draft.events} accepted events"
        f" ({source_note}).",
        "# Beside each field: present / total events (or objects), distinct values.",
        "# Observe mode: applied as it is, it rejects nothing and lists what breaks it.",
        f"name: {_flow(d['name'])}",
        f"description: {_flow(d['description'])}",
        f"mode: {d['mode']}",
        f"additional_fields: {d['additional_fields']}",
        "fields:" if d["fields"] else "fields: []",
    ]
    lines += _field_lines(d["fields"], "", draft.counts, "  ")
    lines += [f"# skipped {path!r}: not a name a field can have" for path in draft.skipped]
    return "\n".join(lines) + "\n"


def _field_lines(
    fields: Iterable[dict[str, Any]], prefix: str, counts: dict[str, FieldCounts], indent: str
) -> list[str]:
    lines: list[str] = []
    for spec in fields:
        path = f"{prefix}{spec['name']}"
        note = _note(counts.get(path))
        nested = {k: v for k, v in spec.items() if k in ("fields", "items")}
        flat = {k: v for k, v in spec.items() if k not in nested}
        if not nested:
            lines.append(f"{indent}- {_flow(flat)}  # {note}")
            continue
        lines.append(f"{indent}- name: {_flow(spec['name'])}  # {note}")
        for key, value in flat.items():
            if key != "name":
                lines.append(f"{indent}  {key}: {_flow(value)}")
        lines += _nested_lines(nested, path, counts, indent + "  ")
    return lines


def _nested_lines(
    nested: dict[str, Any], path: str, counts: dict[str, FieldCounts], indent: str
) -> list[str]:
    lines: list[str] = []
    if "fields" in nested:
        lines.append(f"{indent}fields:" if nested["fields"] else f"{indent}fields: []")
        lines += _field_lines(nested["fields"], f"{path}.", counts, indent + "  ")
    if "items" in nested:
        items = nested["items"]
        inner = {k: v for k, v in items.items() if k in ("fields", "items")}
        note = _note(counts.get(f"{path}[]"))
        if not inner:
            lines.append(f"{indent}items: {_flow(items)}  # {note}")
        else:
            lines.append(f"{indent}items:  # {note}")
            for key, value in items.items():
                if key not in inner:
                    lines.append(f"{indent}  {key}: {_flow(value)}")
            lines += _nested_lines(inner, f"{path}[]", counts, indent + "  ")
    return lines


def _note(found: FieldCounts | None) -> str:
    if found is None:
        return ""
    note = f"{found.present}/{found.total}, {found.distinct} distinct"
    if found.other_types:
        seen = ", ".join(f"{k} x{n}" for k, n in sorted(found.other_types.items()))
        note += f"; also seen: {seen}"
    return note


def _flow(value: Any) -> str:
    """A value in YAML flow style: JSON is YAML, and keeps every string exactly."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    return orjson.dumps(value).decode()
