"""Settings from ``EVENTWIRE_*`` environment variables (docs/settings.md); credentials are
SecretStr."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from eventwire.core.durations import parse_duration

Seconds = Annotated[float, BeforeValidator(parse_duration)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVENTWIRE_", extra="ignore", frozen=True)

    kafka_bootstrap: str = "127.0.0.1:9092"
    # A Redis URL may carry a password, so it is a secret too.
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    topic_prefix: str = "eventwire."
    redis_prefix: str = "ew:"
    app_id: str = "eventwire"
    # exactly_once: each batch's outputs and input offsets in one Kafka transaction per
    # input partition; at_least_once: outputs may repeat (same ids, same bytes).
    guarantee: Literal["exactly_once", "at_least_once"] = "exactly_once"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=6066, ge=0, le=65535)
    admin_token: SecretStr | None = None
    config_dir: Path = Path("config")
    session_timeout: Seconds = 1800.0
    # How often each replica checks for configuration changes (they reach it within this).
    config_refresh: Seconds = 0.5
    # How often each replica looks for due timers (session inactivity, absence windows).
    scheduler_interval: Seconds = 0.5
    # How long a Simon identify call maps a client id to its traits.
    identify_ttl: Seconds = 7 * 86400.0
    # How long a producer's event id is remembered per source, to absorb producer retries.
    dedupe_window: Seconds = 7 * 86400.0
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_secret: SecretStr | None = None
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_max_total: Seconds = 3600.0
    webhook_first_backoff: Seconds = 1.0
    webhook_max_backoff: Seconds = 300.0
    webhook_connect_timeout: Seconds = 5.0
    webhook_read_timeout: Seconds = 10.0
    webhook_concurrency: int = Field(default=32, ge=1)
    # How long a claimed delivery is a replica's before another may take it over.
    webhook_lease: Seconds = 120.0
    max_message_bytes: int = Field(default=1024 * 1024, ge=64)
    # The largest admin API request body (a validation of many messages, a backtest's
    # trigger); larger ones are answered 413.
    admin_max_body: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_depth: int = Field(default=32, ge=2, le=512)
    # Partitions of the topics eventwire creates; the replicas that can share work.
    partitions: int = Field(default=8, ge=1)
    batch_size: int = Field(default=1000, ge=1)
    commit_interval: Seconds = 1.0
    # How soon a replica that died (SIGKILL, lost host) loses its partitions to the others.
    kafka_session_timeout: Seconds = 10.0
    log_level: str = "info"
    # The HTTP collector: browser origins allowed to call it (CORS; "*" for any), requests
    # being written to Kafka at once per replica (more are answered 503), and how long a
    # write may take before the request is answered 503 (Kafka unavailable).
    collector_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    collector_max_in_flight: int = Field(default=1000, ge=1)
    collector_produce_timeout: Seconds = 5.0

    @field_validator("collector_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [host.strip().lower() for host in value.split(",") if host.strip()]
        return value
