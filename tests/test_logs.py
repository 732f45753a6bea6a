import logging

from pydantic import SecretStr

from eventwire.logs import MASK, SecretsFilter, logging_config, secrets_of
from eventwire.settings import Settings


def test_configured_secrets_are_masked_in_any_record():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "token=%s url=%s", ("s3cr3t-token", "ok"), None
    )
    assert SecretsFilter(["s3cr3t-token"]).filter(record) is True
    assert record.getMessage() == f"token={MASK} url=ok"


def test_secrets_come_from_the_settings():
    settings = Settings(
        admin_token=SecretStr("admin-tok"),
        webhook_secret=SecretStr("hook-sec"),
        redis_url=SecretStr("redis://user:redis-pass@127.0.0.1:6379/0"),
    )
    assert secrets_of(settings) == ["admin-tok", "hook-sec", "redis-pass"]


def test_json_lines_or_text():
    settings = Settings()
    assert (
        "JsonFormatter" in logging_config(settings, json_lines=True)["formatters"]["default"]["()"]
    )
    assert "format" in logging_config(settings, json_lines=False)["formatters"]["default"]
