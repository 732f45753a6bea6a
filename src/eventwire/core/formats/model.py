"""What every format parser produces: the message's events before they are checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventwire.core.reasons import Reason


@dataclass(slots=True)
class Identity:
    """Who the message says it is about; resolved to one profile id by core.identity."""

    profile_id: str | None = None
    email: str | None = None
    contact_id: str | None = None
    client_id: str | None = None
    user_id: str | None = None
    anonymous_id: str | None = None  # Segment's anonymousId: a device's lasting id
    # Tracardi: no profile id means "create a profile for this message".
    new_profile: bool = False

    def any(self) -> bool:
        return any(
            (
                self.profile_id,
                self.email,
                self.contact_id,
                self.client_id,
                self.user_id,
                self.anonymous_id,
            )
        )


@dataclass(slots=True)
class Identify:
    """Simon's ``identify``: map a client id to traits for a while."""

    client_id: str
    traits: dict[str, Any]


@dataclass(slots=True)
class Options:
    profile_less: bool = False
    requires_identity: bool = False
    debug: bool = False
    save_events: bool = True


@dataclass(slots=True)
class ParsedEvent:
    type: str
    properties: dict[str, Any]
    # Dotted paths in the original document, so reasons point where the producer must look.
    type_path: str
    properties_path: str
    id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    sent_at: str | None = None


@dataclass(slots=True)
class ParsedMessage:
    format: str
    source_id: str | None
    secret: str | None
    events: list[ParsedEvent]
    identity: Identity = field(default_factory=Identity)
    session_id: str | None = None
    options: Options = field(default_factory=Options)
    traits: dict[str, Any] = field(default_factory=dict)
    # Talon.One: attributes that are merged into the session's attributes.
    session_attributes: dict[str, Any] = field(default_factory=dict)
    identify: Identify | None = None
    # Envelope problems found while parsing; reported with the events' own violations.
    problems: list[Reason] = field(default_factory=list)


@dataclass(slots=True)
class ParseFailure:
    """A document of a known format that does not fit it; whatever could be read is kept."""

    format: str
    reasons: list[Reason]
    source_id: str | None = None
    type: str | None = None
    event_id: str | None = None
    # What could still be read (source, events), so their violations are reported too.
    partial: ParsedMessage | None = None
