"""Signatures: the receiver's check, including the snippet docs/webhooks.md documents, verbatim."""

import re

import orjson

from eventwire.core.webhooks.requests import build_request, header_problem
from eventwire.core.webhooks.retries import RetryPolicy
from eventwire.core.webhooks.signing import signature, verify
from tests.conftest import ROOT

SECRET = "whsec-test"
EFFECT = {
    "id": "fx-1",
    "type": "call_webhook",
    "params": {
        "url": "https://hooks.example.com/in",
        "method": "POST",
        "headers": {
            "X-Team": "support",
            "Bad\r\nInjected": "x",
            "X-Evil": "a\r\nSet-Cookie: 1",
            "Idempotency-Key": "mine",
            "Host": "elsewhere",
        },
        "body": {"sku": "A-1", "rating": 1},
    },
}


def readme_verifier():
    """The verification snippet of docs/webhooks.md, executed as it stands."""
    text = (ROOT / "docs" / "webhooks.md").read_text()
    [code] = re.findall(r"<!-- signature-snippet -->\s*```python\n(.*?)```", text, re.S)
    namespace: dict = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)
    return namespace["verify_eventwire_signature"]


def test_the_request_is_signed_over_the_exact_body():
    request = build_request(EFFECT, SECRET, 1_764_000_000)
    assert request.body == orjson.dumps({"sku": "A-1", "rating": 1})
    header = request.headers["Eventwire-Signature"]
    assert verify(SECRET, header, request.body, now=1_764_000_010)
    assert not verify(SECRET, header, request.body + b" ", now=1_764_000_010)
    assert not verify("other-secret", header, request.body, now=1_764_000_010)
    assert not verify(SECRET, header, request.body, now=1_764_000_000 + 3600)
    assert not verify(SECRET, "t=x,v1=y", request.body, now=1_764_000_000)


def test_the_readme_snippet_verifies_and_rejects_tampering():
    verify_eventwire_signature = readme_verifier()
    body = b'{"sku":"A-1","rating":1}'
    header = signature(SECRET, 1_764_000_000, body)
    assert verify_eventwire_signature(SECRET, header, body, now=1_764_000_030) is True
    assert (
        verify_eventwire_signature(SECRET, header, b'{"sku":"A-1","rating":5}', now=1_764_000_030)
        is False
    )
    assert verify_eventwire_signature(SECRET, header, body, now=1_764_009_000) is False


def test_headers_cannot_inject_or_override():
    request = build_request(EFFECT, SECRET, 1_764_000_000)
    assert request.headers["X-Team"] == "support"
    assert "Bad\r\nInjected" not in request.headers
    assert "X-Evil" not in request.headers
    assert request.headers["Idempotency-Key"] == "fx-1"
    assert "Host" not in request.headers
    assert header_problem("X-Ok", "value") is None
    assert header_problem("X Bad", "v") == "header name 'X Bad' is not a valid token"


def test_a_request_without_a_body_sends_the_effect_and_get_sends_nothing():
    no_body = {**EFFECT, "params": {"url": "https://hooks.example.com/in"}}
    assert orjson.loads(build_request(no_body, SECRET, 1).body)["id"] == "fx-1"
    get = {
        **EFFECT,
        "params": {"url": "https://hooks.example.com/in", "method": "GET", "body": {"a": 1}},
    }
    assert build_request(get, SECRET, 1).body == b""


def test_backoff_is_exponential_with_jitter_and_bounded():
    policy = RetryPolicy(max_attempts=5, max_total_s=60, first_backoff_s=1, max_backoff_s=8)
    assert [policy.delay(n, 0.0) for n in range(1, 6)] == [0.5, 1, 2, 4, 4]
    assert [policy.delay(n, 0.999) for n in range(1, 4)] == [0.9995, 1.999, 3.998]
    assert policy.next_attempt_at(1, first_at=100, now=101, jitter=0) == 101.5
    assert policy.next_attempt_at(5, first_at=100, now=101, jitter=0) is None
    assert policy.next_attempt_at(2, first_at=100, now=159, jitter=0) == 160  # 60 s in all
    assert policy.next_attempt_at(2, first_at=100, now=160, jitter=0) is None
