import orjson

from eventwire.core.redact import MAX_KEPT_CHARS, REDACTED, redact_document, redacted_payload


def test_secrets_are_redacted_at_any_depth_and_any_case():
    clean, found = redact_document(
        {"partnerSecret": "a", "source": {"Secret": "b"}, "list": [{"password": "c"}], "ok": "d"}
    )
    assert found
    assert clean == {
        "partnerSecret": REDACTED,
        "source": {"Secret": REDACTED},
        "list": [{"password": REDACTED}],
        "ok": "d",
    }


def test_a_document_without_secrets_keeps_its_exact_text():
    text = b'{ "a" : 1,\n "b": [2] }'
    assert redacted_payload(text, orjson.loads(text)) == text.decode()


def test_text_that_is_not_json_is_redacted_by_pattern_and_bounded():
    text = b'{"partnerSecret": "p-123", "x": "' + b"y" * (MAX_KEPT_CHARS * 5) + b'"'
    kept = redacted_payload(text, None)
    assert "p-123" not in kept
    assert len(kept) < MAX_KEPT_CHARS + 100
    assert kept.endswith(f"[truncated; {len(text)} bytes in all]")
