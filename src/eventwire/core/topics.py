"""Topic names, all under one configurable prefix (docs/topics.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str = "eventwire."

    @property
    def raw(self) -> str:
        return f"{self.prefix}raw"

    @property
    def events(self) -> str:
        return f"{self.prefix}events"

    @property
    def rejected(self) -> str:
        return f"{self.prefix}rejected"

    @property
    def effects(self) -> str:
        return f"{self.prefix}effects"

    @property
    def automations(self) -> str:
        return f"{self.prefix}automations"

    @property
    def deadletter(self) -> str:
        return f"{self.prefix}deadletter"

    @property
    def timers(self) -> str:
        """Internal: due timers, consumed by the process stage like ``raw``."""
        return f"{self.prefix}timers"

    def all(self) -> list[str]:
        return [
            self.raw,
            self.events,
            self.rejected,
            self.effects,
            self.automations,
            self.deadletter,
            self.timers,
        ]
