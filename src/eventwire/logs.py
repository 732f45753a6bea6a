"""Logging for the worker: JSON lines when stderr is not a terminal (for log shippers), plain
text on one; and a filter that masks every configured secret, should one ever reach a log."""

from __future__ import annotations

import logging
import sys
from typing import Any

from eventwire.settings import Settings

MASK = "[REDACTED]"


class SecretsFilter(logging.Filter):
    """Replaces configured secret values (admin token, webhook secret, Redis password) in
    every record. eventwire never logs them; this keeps a library's message from doing so."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            if any(secret in message for secret in self._secrets):
                for secret in self._secrets:
                    message = message.replace(secret, MASK)
                record.msg, record.args = message, None
        return True


def secrets_of(settings: Settings) -> list[str]:
    found = [s.get_secret_value() for s in (settings.admin_token, settings.webhook_secret) if s]
    url = settings.redis_url.get_secret_value()
    if "@" in url and ":" in url.split("://", 1)[-1].split("@", 1)[0]:
        found.append(url.split("://", 1)[-1].split("@", 1)[0].split(":", 1)[1])
    return found


def logging_config(settings: Settings, json_lines: bool | None = None) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the Faust worker."""
    if json_lines is None:
        json_lines = not sys.stderr.isatty()
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
        if json_lines
        else {"format": "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"secrets": {"()": SecretsFilter, "secrets": secrets_of(settings)}},
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["secrets"],
            }
        },
        "root": {"level": settings.log_level.upper(), "handlers": ["stderr"]},
    }
