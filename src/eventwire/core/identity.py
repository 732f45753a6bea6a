"""Who an event belongs to: identity claims → one profile id, or the reason there is none.

Pure rules; the Redis adapter (redis_store.identities) only executes what ``needs`` and
``claims`` ask for, for a whole batch at once:

1. lookups (GET): a client id's identify traits, a contact id's profile;
2. the primary claim: ``SET identity candidate NX GET``. The candidate is derived from the
   identity itself, so two replicas that see a new email at once claim the same id, and the
   first SET wins for both;
3. links: the profile's other identities are claimed for it (first mapping wins; profiles
   are never merged), profile records are created, identify mappings stored.

Precedence: a profile id given by the producer, then email, user id, an anonymous id
(Segment's ``anonymousId``), contact id, and an identify mapping of the client id. A
message asking for a new profile (Tracardi with no profile id) gets one derived from the
message's origin, so a re-read message gets the same.
``requires_identity`` is met by a profile id, an email, a contact id or a live identify
mapping; a user id alone does not meet it (Simon's rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eventwire.core import ids
from eventwire.core.formats.model import ParsedMessage
from eventwire.core.reasons import Code, Reason

EMAIL, USER, CONTACT, ANONYMOUS = "email", "user", "contact", "anonymous"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def candidate_profile_id(kind: str, value: str) -> str:
    """The profile id a new identity claims: the same on every replica, every time."""
    return ids.derived_id("profile", kind, value)


@dataclass(frozen=True, slots=True)
class Needs:
    """What must be read from Redis before the profile can be chosen."""

    client_id: str | None = None
    contact_id: str | None = None


@dataclass(frozen=True, slots=True)
class Lookups:
    """Answers to ``Needs``: identify traits of the client id, the contact's profile id."""

    client_traits: dict[str, Any] | None = None
    contact_profile: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    kind: str
    value: str
    candidate: str


@dataclass(slots=True)
class Choice:
    """How the profile is chosen: a known id, or the winner of a primary claim."""

    profile_id: str | None = None
    primary: Claim | None = None
    # Other identities to link to the profile once it is known.
    links: list[tuple[str, str]] = field(default_factory=list)


def needs(parsed: ParsedMessage) -> Needs:
    who = parsed.identity
    if parsed.options.profile_less or who.profile_id or who.email:
        return Needs()
    return Needs(
        client_id=who.client_id,
        contact_id=who.contact_id if not who.user_id else None,
    )


def choose(
    parsed: ParsedMessage, lookups: Lookups, origin: tuple[str, int, int]
) -> Choice | Reason:
    """The profile choice for a message, given what Redis answered for ``needs(parsed)``."""
    who = parsed.identity
    if parsed.options.profile_less:
        return Choice()
    traits = lookups.client_traits or {}
    email = who.email or _text(traits.get("email"))
    user_id = who.user_id or _text(traits.get("userId"))
    links = [(EMAIL, normalise_email(email))] if email else []
    if user_id:
        links.append((USER, user_id))
    if who.anonymous_id:
        links.append((ANONYMOUS, who.anonymous_id))
    if who.profile_id:
        if who.contact_id:
            links.append((CONTACT, who.contact_id))
        return Choice(profile_id=who.profile_id, links=links)
    if links:
        kind, value = links[0]
        if kind == USER and parsed.options.requires_identity and lookups.client_traits is None:
            return _identity_required(parsed)
        return Choice(
            primary=Claim(kind, value, candidate_profile_id(kind, value)), links=links[1:]
        )
    if who.contact_id:
        if lookups.contact_profile is None:
            return Reason(Code.UNKNOWN_CONTACT, _contact_path(parsed), "no contact has this id")
        return Choice(profile_id=lookups.contact_profile)
    if parsed.options.requires_identity:
        return _identity_required(parsed)
    if who.new_profile:
        return Choice(profile_id=ids.derived_id("profile", "message", *origin))
    return Choice()


def _identity_required(parsed: ParsedMessage) -> Reason:
    if parsed.identity.client_id:
        message = (
            "the event requires an identity: no email, and no identify mapping for its clientId"
        )
    else:
        message = "the event requires an identity: it names no profile and no email"
    return Reason(
        Code.IDENTITY_REQUIRED, "traits" if parsed.format == "simon" else "profile", message
    )


def _contact_path(parsed: ParsedMessage) -> str:
    return "contact_id" if parsed.format == "arsel" else "profile.contact_id"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
