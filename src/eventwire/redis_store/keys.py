"""Every Redis key eventwire writes, in one place, under EVENTWIRE_REDIS_PREFIX.

Keys of one profile share the Redis Cluster hash tag ``{<profile id>}``, so a script may
touch all of them at once. Identity keys are single-key operations and carry no tag.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = "ew:"

    def identity(self, kind: str, value: str) -> str:
        """email / user / contact → profile id (string)."""
        return f"{self.prefix}id:{kind}:{value}"

    def dead_letter(self, effect_id: str) -> str:
        """A dead letter → the ``timers`` message that first handed it on (with a TTL)."""
        return f"{self.prefix}dead:{effect_id}"

    def producer_id(self, source_id: str, event_id: str) -> str:
        """A producer's event id from one source → where it was first accepted (with a TTL).
        The source id's length keeps ids with a ``:`` apart."""
        return f"{self.prefix}pid:{len(source_id)}:{source_id}:{event_id}"

    def client(self, client_id: str) -> str:
        """Simon identify: client id → traits (JSON string, with a TTL)."""
        return f"{self.prefix}client:{client_id}"

    def profile(self, profile_id: str) -> str:
        """The profile's hash (id, first_seen, last_seen, identities, ...)."""
        return self.owned(profile_id, "profile")

    def profile_pattern(self) -> str:
        return f"{self.prefix}{{*}}:profile"

    def owned(self, owner: str, name: str) -> str:
        """A key of one owner (a profile id, or ``s:<session id>`` for profile-less state)."""
        return f"{self.prefix}{{{owner}}}:{name}"

    def session(self, owner: str, session_id: str) -> str:
        return self.owned(owner, f"session:{session_id}")

    def history(self, owner: str, type_: str) -> str:
        """This owner's events of one type: a sorted set of event ids by time, capped."""
        return self.owned(owner, f"history:{type_}")

    def absences(self, owner: str, awaited_type: str) -> str:
        """Open absence windows awaiting one event type: window key -> window (JSON)."""
        return self.owned(owner, f"absences:{awaited_type}")

    def session_index(self, session_id: str) -> str:
        """session id → owner, so a session can be found by its id alone."""
        return f"{self.prefix}session:{session_id}"

    def webhook(self, effect_id: str) -> str:
        """One webhook job: effect, status, first attempt time, attempts."""
        return f"{self.prefix}webhook:{effect_id}"

    def webhooks_due(self) -> str:
        return f"{self.prefix}{{webhooks}}:due"

    def webhooks_inflight(self) -> str:
        return f"{self.prefix}{{webhooks}}:inflight"

    def config(self, part: str) -> str:
        """Configuration, all under one hash tag: version, sources, definitions, triggers."""
        return f"{self.prefix}{{config}}:{part}"

    def stats(self, part: str) -> str:
        """Accepted events by type, rejected messages by reason: shared by every replica."""
        return f"{self.prefix}stats:{part}"

    def budget(self, trigger_id: str, window: int) -> str:
        """A global budget's counter and the units each step holds: one key, its own tag."""
        return f"{self.prefix}{{budget:{trigger_id}:{window}}}"

    def timers_due(self) -> str:
        return f"{self.prefix}{{timers}}:due"

    def timers_inflight(self) -> str:
        return f"{self.prefix}{{timers}}:inflight"
