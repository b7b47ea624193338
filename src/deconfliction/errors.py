"""Every error the package raises on purpose, rooted at :class:`DeconflictionError`.

The tree::

    DeconflictionError
    ├── InvalidInput            bad input: names the field and the reason, nothing was changed
    │   ├── AgreementError      a key of the agreement TOML
    │   └── NoticeError         a notice or one of its volumes (notice=, volume=, field=)
    ├── StoreError              the database refused or is not set up
    │   ├── NotInitialised      no schema / no agreement in the store yet
    │   └── DuplicateNotice     the party already has a notice with that reference
    ├── Unauthenticated         no valid bearer token (HTTP 401)
    ├── Forbidden               the officer's role or party may not do this (HTTP 403)
    ├── NotFound                nothing of that id that the caller may see (HTTP 404)
    └── LedgerError             a ledger export or feed that cannot be read (seq= when known)

The API and the CLI map these in one place each (problem+json, exit code 2); anything else that
escapes is a bug.
"""

from __future__ import annotations


class DeconflictionError(Exception):
    """Root of the package's errors."""


class InvalidInput(DeconflictionError):
    """Input that cannot be accepted; ``field`` names where and ``reason`` says why."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(self._text())

    def _where(self) -> list[str]:
        return [self.field] if self.field else []

    def _text(self) -> str:
        where = ", ".join(self._where())
        return f"{where}: {self.reason}" if where else self.reason


class AgreementError(InvalidInput):
    """A key of the agreement is missing, unknown or out of range."""

    def _where(self) -> list[str]:
        return [f"agreement key {self.field!r}"] if self.field else ["agreement"]


class NoticeError(InvalidInput):
    """A notice or one of its volumes is invalid."""

    def __init__(
        self,
        reason: str,
        *,
        notice: str | None = None,
        volume: int | None = None,
        field: str | None = None,
    ) -> None:
        self.notice = notice
        self.volume = volume
        super().__init__(reason, field=field)

    def _where(self) -> list[str]:
        where = []
        if self.notice is not None:
            where.append(f"notice {self.notice!r}")
        if self.volume is not None:
            where.append(f"volume {self.volume}")
        if self.field:
            where.append(f"field {self.field!r}")
        return where


class StoreError(DeconflictionError):
    """The store cannot do what was asked."""


class NotInitialised(StoreError):
    """The database has no schema or no agreement: run ``deconfliction init`` first."""


class DuplicateNotice(StoreError):
    """A party tried to file a second notice under a reference it already used."""

    def __init__(self, party: str, notice: str) -> None:
        self.party = party
        self.notice = notice
        super().__init__(f"party {party!r} already has a notice {notice!r} on file")


class Unauthenticated(DeconflictionError):
    """The request carries no valid token."""


class Forbidden(DeconflictionError):
    """The officer is known but may not do this."""


class NotFound(DeconflictionError):
    """Nothing the caller may see has that id (the same words whether it exists or not)."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(reason)


class LedgerError(DeconflictionError):
    """A ledger line that cannot be read as an entry or a stub."""

    def __init__(self, reason: str, *, seq: int | None = None) -> None:
        self.reason = reason
        self.seq = seq
        super().__init__(f"entry {seq}: {reason}" if seq is not None else reason)
