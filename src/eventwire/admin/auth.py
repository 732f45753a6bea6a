"""Bearer-token check for /v1/ (docs/admin-api.md): constant time, closed when no token is set."""

from __future__ import annotations

import hmac

from pydantic import SecretStr


def authorized(header: str | None, token: SecretStr | None) -> bool:
    """Whether ``Authorization: Bearer <token>`` carries the admin token."""
    if token is None or not token.get_secret_value() or not header:
        return False
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.get_secret_value().encode())
