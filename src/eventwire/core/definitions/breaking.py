"""Would the new version of a definition reject events the previous one accepted?
(docs/definitions.md)"""

from __future__ import annotations

from eventwire.core.definitions.spec import Additional, DefinitionSpec, ItemSpec


def breaking_changes(old: DefinitionSpec, new: DefinitionSpec) -> list[str]:
    """One line per change that can reject a previously valid event; empty when compatible."""
    return _compare(old.as_object(), new.as_object(), "properties", "reject", "reject")


def _compare(
    old: ItemSpec, new: ItemSpec, path: str, old_extra: Additional, new_extra: Additional
) -> list[str]:
    if old.type != new.type and not (old.type == "integer" and new.type == "number"):
        return [f"{path}: type changed from {old.type} to {new.type}"]
    found: list[str] = []
    if new.enum is not None and (old.enum is None or not set(new.enum) >= set(old.enum)):
        found.append(f"{path}: enum allows fewer values")
    if new.minimum is not None and (old.minimum is None or new.minimum > old.minimum):
        found.append(f"{path}: minimum raised to {new.minimum}")
    if new.maximum is not None and (old.maximum is None or new.maximum < old.maximum):
        found.append(f"{path}: maximum lowered to {new.maximum}")
    if new.pattern is not None and new.pattern != old.pattern:
        found.append(f"{path}: pattern added or changed")
    if new.max_length is not None and (old.max_length is None or new.max_length < old.max_length):
        found.append(f"{path}: max_length lowered to {new.max_length}")
    if new.type == "object":
        found += _compare_objects(old, new, path, old_extra, new_extra)
    if new.type == "array" and new.items is not None:
        if old.items is None:
            found.append(f"{path}: items now constrained")
        else:
            found += _compare(old.items, new.items, f"{path}.*", old_extra, new_extra)
    return found


def _compare_objects(
    old: ItemSpec, new: ItemSpec, path: str, old_extra: Additional, new_extra: Additional
) -> list[str]:
    old_extra = old.additional_fields or old_extra
    new_extra = new.additional_fields or new_extra
    if new.fields is None:
        return []
    if old.fields is None:
        return [f"{path}: fields now constrained"]
    found: list[str] = []
    if old_extra == "allow" and new_extra == "reject":
        found.append(f"{path}: additional fields now rejected")
    old_fields = {f.name: f for f in old.fields}
    new_fields = {f.name: f for f in new.fields}
    for name, field in new_fields.items():
        where = f"{path}.{name}"
        before = old_fields.get(name)
        if before is None:
            if field.required:
                found.append(f"{where}: new required field")
            elif old_extra == "allow":
                found.append(f"{where}: new field may reject values accepted as additional")
            continue
        if field.required and not before.required:
            found.append(f"{where}: now required")
        found += _compare(before, field, where, old_extra, new_extra)
    for name in old_fields.keys() - new_fields.keys():
        if new_extra == "reject":
            found.append(f"{path}.{name}: field removed (now an unknown field)")
    return found
