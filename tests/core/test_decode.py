import orjson
import pytest

from eventwire.core.decode import Limits, decode_document, json_depth
from eventwire.core.reasons import Code, Reason

LIMITS = Limits(max_bytes=1000, max_depth=5)


def nested(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (None, Code.MALFORMED_JSON),
        (b"", Code.MALFORMED_JSON),
        (b"{not json", Code.MALFORMED_JSON),
        (b'{"a": NaN}', Code.MALFORMED_JSON),
        (b'{"a": Infinity}', Code.MALFORMED_JSON),
        (b'{"a": "\xff\xfe"}', Code.MALFORMED_JSON),
        (b'{"a": 1} trailing', Code.MALFORMED_JSON),
        (b"x" * 1001, Code.TOO_LARGE),
        (nested(6), Code.TOO_DEEP),
        (b"[" * 400 + b"]" * 400, Code.TOO_DEEP),
        (b"[1, 2]", Code.UNKNOWN_FORMAT),
        (b'"text"', Code.UNKNOWN_FORMAT),
        (b"null", Code.UNKNOWN_FORMAT),
        (b"42", Code.UNKNOWN_FORMAT),
    ],
)
def test_rejects(value, code):
    result = decode_document(value, LIMITS)
    assert isinstance(result, Reason)
    assert result.code is code
    assert result.field is None
    assert result.message


@pytest.mark.parametrize("value", [nested(5), b'{"a": [1, 2, {"b": 3}]}', b"{}"])
def test_accepts(value):
    assert decode_document(value, LIMITS) == orjson.loads(value)


def test_exactly_max_bytes_is_accepted():
    value = b'{"a":"' + b"x" * (1000 - 8) + b'"}'
    assert len(value) == 1000
    assert isinstance(decode_document(value, LIMITS), dict)


@pytest.mark.parametrize(
    ("document", "depth"),
    [(1, 0), ({}, 1), ([], 1), ({"a": [1]}, 2), ({"a": [{"b": {}}]}, 4), ([[[]], {}], 3)],
)
def test_json_depth(document, depth):
    assert json_depth(document) == depth


def test_duplicate_keys_keep_the_last_value():
    assert decode_document(b'{"a": 1, "a": 2}', LIMITS) == {"a": 2}


def test_deeper_than_the_parser_allows_is_too_deep_not_malformed():
    reason = decode_document(b"[" * 2000 + b"]" * 2000, Limits(max_bytes=10_000, max_depth=32))
    assert isinstance(reason, Reason)
    assert reason.code is Code.TOO_DEEP
