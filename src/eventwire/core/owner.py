"""Everything eventwire keeps about one owner (a profile, or a profile-less session), as
plain data. The process stage reads it from Redis, changes it with pure functions
(core.process) and writes back only what changed, recorded in ``dirty``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventwire.core.ingest import EventRecord
from eventwire.core.triggers.actions import ProfileState

# How many timestamps per event type the $history index keeps for an owner.
HISTORY_CAP = 1000


@dataclass
class SessionState:
    id: str
    profile_id: str | None
    status: str = "open"
    started_at: str = ""
    last_event_at: str = ""
    last_event_ms: int = 0
    event_count: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    ended_at: str | None = None
    closed_by: str | None = None

    def view(self) -> dict[str, Any]:
        """The session as triggers and the admin API see it (docs/guarantees.md)."""
        return {
            "id": self.id,
            "profile_id": self.profile_id,
            "status": self.status,
            "attributes": dict(self.attributes),
            "started_at": self.started_at,
            "last_event_at": self.last_event_at,
            "event_count": self.event_count,
        }


@dataclass
class AbsenceWindow:
    """An ``absent`` trigger waiting: fires at ``deadline`` unless ``type`` arrives first."""

    trigger_id: str
    type: str
    deadline_ms: int
    cause: EventRecord
    basis: str | None = None  # what the effects' ids derive from, when not the cause's id


@dataclass
class OwnerState:
    owner: str
    profile_id: str | None = None
    version: str = ""  # id of the last step committed for this owner
    created_at: str | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    identities: dict[str, str] = field(default_factory=dict)
    client_ids: set[str] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)
    wallet: ProfileState = field(default_factory=ProfileState)
    sessions: dict[str, SessionState] = field(default_factory=dict)
    # trigger cap key ("<trigger id>|<profile or session id>") -> fire times (ms)
    fired: dict[str, list[int]] = field(default_factory=dict)
    # event type -> times (ms) of this owner's events, newest last, at most HISTORY_CAP
    history: dict[str, list[int]] = field(default_factory=dict)
    # window key ("<awaited type>|<trigger id>|<event id>") -> window, or its stored JSON
    # until it is needed. Only the windows awaiting the types at hand are read.
    absences: dict[str, AbsenceWindow | str] = field(default_factory=dict)
    # what changed since the state was read: part -> names within it
    dirty: dict[str, set[str]] = field(default_factory=dict)
    # (type, time ms, event id) added to the history index since the state was read
    history_added: list[tuple[str, int, str]] = field(default_factory=list)

    def window(self, key: str) -> AbsenceWindow | None:
        """The absence window under ``key``, decoded on first use."""
        found = self.absences.get(key)
        if isinstance(found, str):
            found = self.absences[key] = decode_window(found)
        return found

    def touch(self, part: str, name: str = "") -> None:
        self.dirty.setdefault(part, set()).add(name)

    def profile_view(self) -> dict[str, Any]:
        """The profile as triggers and the admin API see it (docs/guarantees.md)."""
        return {
            "id": self.profile_id,
            "identities": {**self.identities, "client_ids": sorted(self.client_ids)},
            **{k: v for k, v in self.identities.items()},
            "traits": dict(self.wallet.traits),
            "counters": dict(self.counters),
            "points": self.wallet.points,
            "badges": list(self.wallet.badges),
            "rewards": list(self.wallet.rewards),
            "segments": list(self.wallet.segments),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }


def window_key(awaited_type: str, trigger_id: str, event_id: str) -> str:
    return f"{awaited_type}|{trigger_id}|{event_id}"


def awaited_type(key: str) -> str:
    """The event type a window (by its key) waits for."""
    return key.split("|", 1)[0]


def decode_window(text: str) -> AbsenceWindow:
    import orjson

    data = orjson.loads(text)
    return AbsenceWindow(
        data["trigger_id"],
        data["type"],
        data["deadline_ms"],
        data["cause"],
        data.get("basis"),
    )
