"""Prometheus metrics (served on /metrics): counters the stages increment."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WEBHOOK_ATTEMPTS = Counter(
    "eventwire_webhook_attempts", "Webhook HTTP attempts, by outcome", ["outcome"]
)
WEBHOOK_DELIVERIES = Counter(
    "eventwire_webhook_deliveries", "Webhook effects finished, by result", ["result"]
)
WEBHOOK_RETRIES = Counter("eventwire_webhook_retries", "Webhook attempts scheduled again")

CONFIG_VERSION = Gauge("eventwire_config_version", "Configuration version in force on this replica")
ACCEPTED = Counter("eventwire_events_accepted", "Accepted events, by type", ["type"])
REJECTED = Counter("eventwire_messages_rejected", "Rejected messages, by reason", ["reason"])
VIOLATIONS = Counter(
    "eventwire_violations",
    "Violations on events accepted under a definition in observe mode, by type and code",
    ["type", "code"],
)
COLLECTOR_REQUESTS = Counter(
    "eventwire_collector_requests",
    "HTTP collector requests, by endpoint and status",
    ["endpoint", "status"],
)
COLLECTOR_PRODUCE = Histogram(
    "eventwire_collector_produce_seconds",
    "From a collector request read to its messages acknowledged by Kafka (acks=all)",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
EFFECTS = Counter("eventwire_effects", "Effects produced, by action type", ["type"])
LATENCY = Histogram(
    "eventwire_processing_latency_seconds",
    "From the raw message's Kafka timestamp to its events being published",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CONSUMER_LAG = Gauge("eventwire_consumer_lag", "Messages not yet consumed, by topic", ["topic"])
REDIS_ROUND_TRIPS = Counter(
    "eventwire_redis_round_trips", "Pipelined Redis round trips made by the hot path", ["stage"]
)
PROCESS_ERRORS = Counter(
    "eventwire_process_errors", "Events published without their state because of a bug (see logs)"
)
BATCH_SIZE = Histogram(
    "eventwire_batch_size",
    "Messages an agent took in one batch, by stage",
    ["stage"],
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
)
OWNER_COMMITS = Counter(
    "eventwire_owner_commits",
    "Owner commits, by result: ok, or conflict (another replica changed the owner; retried)",
    ["result"],
)
TASK_ERRORS = Counter(
    "eventwire_task_errors",
    "Failures of periodic tasks that only observe (logged; the worker goes on), by task",
    ["task"],
)
