"""pydantic's validation errors as docs/topics.md reasons, with dotted paths."""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from eventwire.core.reasons import Code, Reason, join_path

_TYPE_MESSAGES = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "float_type": "expected a number",
    "bool_type": "expected a boolean",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "dict_type": "expected an object",
    "list_type": "expected an array",
    "none_required": "expected null",
}


def reasons_from(exc: ValidationError, prefix: str) -> list[Reason]:
    return [error_reason(err, prefix) for err in exc.errors(include_url=False)]


def error_reason(err: ErrorDetails, prefix: str) -> Reason:
    kind = err["type"]
    # Unions add the member's name to the path (``sent_at.str``); people never wrote it.
    loc = [part for part in err["loc"] if not (isinstance(part, str) and part.startswith("<"))]
    path = join_path(prefix, *loc)
    if kind == "missing":
        return Reason(Code.MISSING_FIELD, path, "required field is missing")
    if kind == "extra_forbidden":
        return Reason(Code.UNKNOWN_FIELD, path, "field is not allowed here")
    if kind in _TYPE_MESSAGES:
        return Reason(Code.WRONG_TYPE, path, _TYPE_MESSAGES[kind])
    return Reason(Code.INVALID_VALUE, path, err["msg"])
