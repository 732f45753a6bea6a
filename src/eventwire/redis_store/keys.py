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

    def client(self, client_id: str) -> str:
        """Simon identify: client id → traits (JSON string, with a TTL)."""
        return f"{self.prefix}client:{client_id}"

    def profile(self, profile_id: str) -> str:
        """The profile's hash (id, first_seen, ...)."""
        return f"{self.prefix}{{{profile_id}}}:profile"

    def profile_pattern(self) -> str:
        return f"{self.prefix}{{*}}:profile"
