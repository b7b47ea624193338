"""Officers, their roles and their API tokens: who may do what on behalf of which party.

A token is shown once, when it is made; the store keeps only its SHA-256, so a copy of the
database does not let anyone act as an officer. Tokens carry 256 bits of randomness, so a plain
hash (no salt, no slow KDF) is enough: there is nothing to guess.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from deconfliction.utc import rfc3339

TOKEN_PREFIX = "dcf_"


class Role(StrEnum):
    """What an officer may do: observers read, officers act, admins also manage their party's
    officers."""

    ADMIN = "admin"
    OFFICER = "officer"
    OBSERVER = "observer"

    @property
    def acts(self) -> bool:
        return self is not Role.OBSERVER

    @property
    def manages(self) -> bool:
        return self is Role.ADMIN


@dataclass(frozen=True, slots=True)
class Officer:
    """A person of a party; ``level`` is the place in the party's roster (1: duty officer)."""

    id: int
    party: str
    name: str
    role: Role
    level: int
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def actor(self) -> str:
        """How the ledger names this officer."""
        return f"officer:{self.id}"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "party": self.party,
            "name": self.name,
            "role": self.role.value,
            "level": self.level,
            "created_at": rfc3339(self.created_at),
            "revoked": self.revoked_at is not None,
        }


def new_token() -> str:
    """A fresh bearer token: the prefix (so a leaked one is easy to spot) and 256 random bits.

    >>> t = new_token(); t.startswith("dcf_") and len(t) == 47
    True
    """
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the store keeps of a token: its SHA-256, hex.

    >>> token_hash("dcf_x")[:16]
    '36a5d25e34966b20'
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
