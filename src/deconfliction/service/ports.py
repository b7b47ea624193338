"""The ports the use cases need: small abstract repositories and a unit of work.

The use cases see only these; :mod:`deconfliction.store` implements them over SQL, and tests may
implement them in memory. Repositories speak the domain's types (:class:`Notice`,
:class:`Prepared`, :class:`Conflict`); rows and SQL stay behind them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self

import numpy as np

from deconfliction.agreement import Agreement, Separation
from deconfliction.strategic.detect import Conflict, Prepared
from deconfliction.strategic.notice import Notice
from deconfliction.types import IntArray

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` during long steps (``"candidates"``, ``"store"``)."""


@dataclass(frozen=True, slots=True)
class StoredAgreement:
    """The agreement as it was stored by ``init``: its TOML text is the record."""

    name: str
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Candidates:
    """Stored volumes that may conflict with some query volumes: a superset of the conflicts.

    Pair k is (query ``i[k]``, ``stored[j[k]]``); ``ids[j]`` is the store's id of ``stored[j]``.
    """

    stored: list[Prepared]
    ids: IntArray
    i: IntArray
    j: IntArray

    @classmethod
    def none(cls) -> Candidates:
        empty = np.empty(0, dtype=np.int64)
        return cls([], empty, empty, empty)


@dataclass(frozen=True, slots=True)
class Found:
    """A new conflict with the store ids of its volumes; ``volume_a`` was filed first."""

    volume_a: int
    volume_b: int
    conflict: Conflict


class AgreementRepository(ABC):
    @abstractmethod
    def get(self) -> StoredAgreement | None:
        """The stored agreement, or None before ``init``."""

    @abstractmethod
    def add(self, agreement: Agreement, text: str, *, created_at: datetime) -> None:
        """Store the agreement (its text is kept verbatim) and its parties."""


class NoticeRepository(ABC):
    @abstractmethod
    def on_file(self, keys: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (party, ref) pairs already name a stored notice."""

    @abstractmethod
    def near(
        self, items: Sequence[Prepared], sep: Separation, *, progress: Progress | None = None
    ) -> Candidates:
        """Active stored volumes of other parties that could be within ``sep`` of ``items``."""

    @abstractmethod
    def add(
        self,
        notices: Sequence[Notice],
        items: Sequence[Prepared],
        *,
        filed_at: datetime,
        progress: Progress | None = None,
    ) -> IntArray:
        """Store the notices and their prepared volumes (``items``, in notice order) and index
        them; returns the store id of each item, in order of filing."""


class ConflictRepository(ABC):
    @abstractmethod
    def add(self, found: Sequence[Found], *, found_at: datetime) -> None:
        """Record new conflicts."""

    @abstractmethod
    def list(self) -> list[Conflict]:
        """Every recorded conflict, in the order they were found."""


class UnitOfWork(ABC):
    """One transaction: ``with uow:`` begins it, ``uow.commit()`` keeps it, leaving rolls back.

    A plain ``with uow:`` is a write transaction; :meth:`read_only` gives one that only reads and
    never waits for writers.
    """

    agreements: AgreementRepository
    notices: NoticeRepository
    conflicts: ConflictRepository

    @abstractmethod
    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def read_only(self) -> UnitOfWork:
        """A unit of work on the same store whose transactions only read."""

    @abstractmethod
    def migrate(self) -> None:
        """Create or upgrade the schema, inside this transaction."""

    @abstractmethod
    def lock_filings(self) -> None:
        """Wait until no other filing is in progress, and hold that until the transaction ends,
        so that concurrent filings each see the volumes of the ones before them."""
