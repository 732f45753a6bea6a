"""Sources and their secrets (docs/definitions.md): stored hashed, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

HASH_SCHEME = "sha256"
# Verdicts are remembered by a keyed digest of the presented secret (a key of this process
# alone), never by the secret itself; at most this many per source.
_VERDICT_KEY = secrets.token_bytes(16)
_VERDICTS_KEPT = 64


def hash_secret(secret: str, salt: str | None = None) -> str:
    """``sha256$<salt>$<hex>``. Source secrets are random API keys, so a salted SHA-256 is
    enough and costs a microsecond on the hot path, where a password KDF would cost ms."""
    salt = salt or secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()
    return f"{HASH_SCHEME}${salt}${digest}"


def secret_matches(secret: str, stored_hash: str) -> bool:
    scheme, _, rest = stored_hash.partition("$")
    salt, _, digest = rest.partition("$")
    if scheme != HASH_SCHEME or not salt or not digest:
        return False
    candidate = hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()
    return hmac.compare_digest(candidate, digest)


class SourceSpec(BaseModel):
    """A source as written in config/sources or sent to the admin API."""

    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1, max_length=200)
    secret: SecretStr | None = None
    secret_hash: str | None = Field(default=None, pattern=r"^sha256\$[0-9A-Za-z]+\$[0-9a-f]{64}$")
    allow_undeclared: bool = False
    enabled: bool = True

    @model_validator(mode="after")
    def _one_secret(self) -> SourceSpec:
        if self.secret is not None and self.secret_hash is not None:
            raise ValueError("give either secret or secret_hash, not both")
        return self


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    secret_hash: str | None
    allow_undeclared: bool
    enabled: bool
    # keyed digest of a presented secret -> whether it matched: each distinct secret is
    # verified against the stored hash once, not once per message.
    _verdicts: dict[bytes, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_spec(cls, spec: SourceSpec) -> Source:
        stored = spec.secret_hash
        if spec.secret is not None:
            stored = hash_secret(spec.secret.get_secret_value())
        return cls(spec.id, stored, spec.allow_undeclared, spec.enabled)

    def admits(self, secret: str | None) -> bool:
        """Whether an event naming this source with ``secret`` may enter."""
        if not self.enabled:
            return False
        if self.secret_hash is None:
            return True
        if secret is None:
            return False
        digest = hashlib.blake2b(secret.encode(), key=_VERDICT_KEY, digest_size=16).digest()
        verdict = self._verdicts.get(digest)
        if verdict is None:
            verdict = secret_matches(secret, self.secret_hash)
            if len(self._verdicts) >= _VERDICTS_KEPT:
                self._verdicts.clear()  # a flood of wrong secrets costs a hash each, no memory
            self._verdicts[digest] = verdict
        return verdict
