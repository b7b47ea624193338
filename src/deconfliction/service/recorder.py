"""The ledger entries of one transaction, chained onto the head it locked.

Use cases record as they change state and hand ``entries`` to the ledger repository before they
commit, so a change and its entry commit together or not at all. The audience of each entry is
decided here and nowhere else: see :mod:`deconfliction.service.audience`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from deconfliction.ledger import Entry, entry_after
from deconfliction.service.ports import Head

OPERATOR = "operator"
"""The actor of changes made at the command line by whoever runs the service."""


class Recorder:
    def __init__(self, head: Head, *, at: datetime, actor: str) -> None:
        self.at = at
        self.actor = actor
        self.entries: list[Entry] = []
        self._seq, self._hash = head.seq, head.hash

    @contextmanager
    def acting(self, actor: str) -> Iterator[None]:
        """Record as ``actor`` within the block (a group commit records for several officers)."""
        before, self.actor = self.actor, actor
        try:
            yield
        finally:
            self.actor = before

    def mark(self) -> tuple[int, int, str]:
        """Where the record stands, to :meth:`rewind` to if what follows is refused."""
        return len(self.entries), self._seq, self._hash

    def rewind(self, mark: tuple[int, int, str]) -> None:
        """Drop the entries recorded since ``mark`` (their change was rolled back)."""
        count, self._seq, self._hash = mark
        del self.entries[count:]

    def record(self, kind: str, payload: dict[str, Any], *, audience: Iterable[str]) -> Entry:
        entry = entry_after(
            self._seq,
            self._hash,
            at=self.at,
            actor=self.actor,
            kind=kind,
            payload=payload,
            audience=tuple(sorted(set(audience))),
        )
        self.entries.append(entry)
        self._seq, self._hash = entry.seq, entry.hash
        return entry
