"""Event types eventwire itself owns (docs/topics.md)."""

from __future__ import annotations

# Published by eventwire only; a producer event of one of these types is rejected.
BUILTIN_TYPES = frozenset(
    {
        "session_created",
        "session_updated",
        "session_closed",
        "session_cancelled",
        "session_revoked",
        "profile_created",
        "profile_updated",
        "segment_entered",
        "segment_exited",
    }
)

# Sent by producers to act on state; they need no definition.
# ``profile.identify`` is what a Simon identify call becomes.
# ``profile.alias`` is what a Segment alias call becomes (its identities link the profile).
CONTROL_TYPES = frozenset(
    {
        "session.close",
        "session.cancel",
        "session.revoke",
        "profile.update",
        "profile.identify",
        "profile.alias",
    }
)
