"""Prometheus metrics (served on /metrics): counters the stages increment."""

from __future__ import annotations

from prometheus_client import Counter

WEBHOOK_ATTEMPTS = Counter(
    "eventwire_webhook_attempts", "Webhook HTTP attempts, by outcome", ["outcome"]
)
WEBHOOK_DELIVERIES = Counter(
    "eventwire_webhook_deliveries", "Webhook effects finished, by result", ["result"]
)
WEBHOOK_RETRIES = Counter("eventwire_webhook_retries", "Webhook attempts scheduled again")
