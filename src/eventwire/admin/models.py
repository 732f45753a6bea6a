"""Request and response bodies of the admin API (and the OpenAPI document built from them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Health(BaseModel):
    status: str
    kafka: bool
    redis: bool
    partitions: list[str]
    config_version: int


class DefinitionOut(BaseModel):
    name: str
    version: int
    versions: int
    description: str | None = None
    fields: list[dict[str, Any]]
    additional_fields: str
    mode: str  # enforce: violations reject; observe: listed on the accepted event


class DefinitionChange(BaseModel):
    name: str
    version: int
    created: bool
    breaking: list[str]


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=200)
    secret: str | None = Field(default=None, min_length=8, max_length=500)
    allow_undeclared: bool = False
    enabled: bool = True


class SourcePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    allow_undeclared: bool | None = None
    enabled: bool | None = None


class SourceOut(BaseModel):
    id: str
    allow_undeclared: bool
    enabled: bool
    has_secret: bool


class TriggerOut(BaseModel):
    id: str
    order: int
    enabled: bool
    trigger: dict[str, Any]


class TriggerDocumentOut(BaseModel):
    """A trigger as it was sent, with ``enabled``: send it back to PUT unchanged."""

    model_config = ConfigDict(extra="allow")
    id: str
    enabled: bool


class TriggerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool


class TriggerTestIn(BaseModel):
    trigger: dict[str, Any]
    documents: list[dict[str, Any]]


class TriggerTestOut(BaseModel):
    results: list[dict[str, Any]]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any  # a JSON document, or a string: the raw text of the message
    headers: dict[str, str] = Field(default_factory=dict)  # format, source, secret, ...


class ValidateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[MessageIn] = Field(min_length=1, max_length=1000)


class ValidateOut(BaseModel):
    results: list[dict[str, Any]]  # per message: {"events": [...], "rejection": {...} | null}


class BacktestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    since: str = Field(min_length=1, max_length=100)  # RFC 3339, or back from now: "30d"
    until: str | None = Field(default=None, min_length=1, max_length=100)
    trigger: dict[str, Any] | None = None
    alone: bool = False
    include_effects: bool = False
    warmup: str | None = Field(default=None, min_length=1, max_length=100)


class BacktestOut(BaseModel):
    since: str
    until: str
    events: int
    profiles: int
    triggers: dict[str, dict[str, Any]]
    diff: dict[str, int] | None = None
    effects: list[dict[str, Any]] | None = None


class Identities(BaseModel):
    email: str | None = None
    contact_id: str | None = None
    user_id: str | None = None
    client_ids: list[str]


class ProfileOut(BaseModel):
    id: str
    identities: Identities
    traits: dict[str, Any]
    counters: dict[str, int]
    points: float
    badges: list[str]
    rewards: list[str]
    segments: list[str]
    first_seen: str | None
    last_seen: str | None


class SegmentChangeOut(BaseModel):
    profile_id: str
    segment: str
    member: bool
    request_id: str  # the id the segment events derive from


class SessionOut(BaseModel):
    id: str
    profile_id: str | None
    status: str
    attributes: dict[str, Any]
    started_at: str
    last_event_at: str
    event_count: int


class Stats(BaseModel):
    accepted: dict[str, int]
    rejected: dict[str, int]
    violations: dict[str, dict[str, int]]  # let through by observe mode: type -> code -> n
    config_version: int


class ListOf(BaseModel):
    items: list[dict[str, Any]]
