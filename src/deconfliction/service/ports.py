"""The ports the use cases need: small abstract repositories and a unit of work.

The use cases see only these; :mod:`deconfliction.store` implements them over SQL, and tests may
implement them in memory. Repositories speak the domain's types (:class:`Notice`,
:class:`Prepared`, :class:`Conflict`); rows and SQL stay behind them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self

import numpy as np

from deconfliction.agreement import Agreement, Separation
from deconfliction.ledger import Entry, Stub
from deconfliction.officers import Officer, Role
from deconfliction.strategic.detect import Conflict, Conflicts, Prepared
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


@dataclass(frozen=True, slots=True, eq=False)
class Found:
    """New conflicts with the store ids of their volumes (``volume_a`` filed first), column by
    column (a busy cell's filing brings hundreds)."""

    volume_a: list[int]
    volume_b: list[int]
    conflicts: Conflicts

    def __len__(self) -> int:
        return len(self.volume_a)

    def take(self, order: Sequence[int]) -> Found:
        """The conflicts at positions ``order``, in that order."""
        a, b = self.volume_a, self.volume_b
        return Found([a[k] for k in order], [b[k] for k in order], self.conflicts.take(order))


class AgreementRepository(ABC):
    @abstractmethod
    def get(self) -> StoredAgreement | None:
        """The stored agreement, or None before ``init``."""

    @abstractmethod
    def add(self, agreement: Agreement, text: str, *, created_at: datetime) -> None:
        """Store the agreement (its text is kept verbatim) and its parties."""

    @abstractmethod
    def parties(self) -> list[str]:
        """The ids of the agreement's parties."""


@dataclass(frozen=True, slots=True)
class StoredNotice:
    """A stored notice version, without its volumes."""

    id: int
    ref: str
    party: str
    version: int
    status: str  # active | superseded | cancelled
    shared_with: tuple[str, ...] | None


class NoticeRepository(ABC):
    @abstractmethod
    def get(self, notice_id: int) -> StoredNotice | None:
        """One stored notice version, or None."""

    @abstractmethod
    def deactivate(self, notice_id: int, status: str) -> set[str]:
        """Mark an active notice ``status`` and take its volumes out of the index, so they are
        never candidates again; returns the parties of the conflicts its volumes had."""

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
        late: Sequence[bool],
        filed_by: Sequence[int | None] | None = None,
        version: int = 1,
        supersedes: int | None = None,
        progress: Progress | None = None,
    ) -> tuple[IntArray, IntArray]:
        """Store the notices and their prepared volumes (``items``, in notice order) and index
        them; returns the store ids of the notices and of the items, in order of filing."""

    @abstractmethod
    def sharing(self, ids: Collection[int]) -> dict[int, tuple[str, ...] | None]:
        """For stored volumes, the ``shared_with`` of their notice, by volume id."""

    @abstractmethod
    def volume_features(self, ids: Collection[int]) -> dict[int, dict[str, object]]:
        """Stored volumes as GeoJSON features (without remarks), by volume id."""


class ConflictRepository(ABC):
    @abstractmethod
    def add(self, found: Found, *, found_at: datetime) -> IntArray:
        """Record new conflicts; returns their ids."""

    @abstractmethod
    def list(self) -> list[Conflict]:
        """Every recorded conflict, in the order they were found."""

    @abstractmethod
    def parties(self, conflict_id: int) -> tuple[str, str] | None:
        """The parties of conflict ``conflict_id`` (a, b), or None if there is none."""

    @abstractmethod
    def acknowledge(self, conflict_id: int, side: str, *, officer: int, at: datetime) -> bool:
        """Mark side ``"a"`` or ``"b"`` acknowledged; False if it already was."""


class OfficerRepository(ABC):
    @abstractmethod
    def add(
        self, *, party: str, name: str, role: Role, level: int, token_hash: str, at: datetime
    ) -> Officer:
        """Store a new officer with the hash of its token."""

    @abstractmethod
    def by_token_hash(self, token_hash: str) -> Officer | None:
        """The officer holding the token with this hash (revoked or not), or None."""

    @abstractmethod
    def get(self, officer_id: int) -> Officer | None: ...

    @abstractmethod
    def of_party(self, party: str) -> list[Officer]:
        """The party's officers, oldest first."""

    @abstractmethod
    def revoke(self, officer_id: int, *, at: datetime) -> None:
        """Make the officer's token useless from ``at`` on."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """The state of a hotline message that acknowledgement and escalation need."""

    id: int
    channel: str | None
    from_party: str | None  # None: the service
    to_party: str
    precedence: str
    kind: str
    level: int
    status: str
    deadline: datetime | None

    @property
    def parties(self) -> tuple[str, ...]:
        """Who reads what happens to it: sender and receiver (the receiver alone for the
        service's own traffic)."""
        return tuple(sorted({self.to_party, *([self.from_party] if self.from_party else [])}))


class MessageRepository(ABC):
    @abstractmethod
    def add(
        self,
        *,
        channel: str | None,
        from_party: str | None,
        to_party: str,
        precedence: str,
        kind: str,
        sent_by: int | None,
        sent_at: datetime,
        level: int,
        deadline: datetime,
    ) -> int:
        """Store a new message (status ``sent``); returns its id."""

    @abstractmethod
    def get(self, message_id: int) -> StoredMessage | None: ...

    @abstractmethod
    def update(self, message_id: int, **values: object) -> None:
        """Change ``status``, ``level``, ``deadline``, ``received_at`` or ``acked_at``."""

    @abstractmethod
    def due(self, now: datetime, *, limit: int) -> list[StoredMessage]:
        """Open messages whose deadline is not after ``now``, earliest first."""

    @abstractmethod
    def next_deadline(self) -> datetime | None:
        """The earliest deadline of all open messages."""

    @abstractmethod
    def roster(self, party: str) -> list[int]:
        """The levels of the party's officers who can answer (not revoked, not observers)."""

    @abstractmethod
    def suspended_by(self, parties: tuple[str, str], channel: str) -> str | None:
        """The party that suspended the channel, or None when it is open."""

    @abstractmethod
    def set_channel(
        self, parties: tuple[str, str], channel: str, *, suspended_by: str | None, at: datetime
    ) -> None:
        """Suspend the channel (``suspended_by`` a party) or open it again (None)."""


@dataclass(frozen=True, slots=True)
class PartyKey:
    """A party's Ed25519 public key (base64), by its id."""

    id: str
    party: str
    public: str
    revoked_at: datetime | None = None


class KeyRepository(ABC):
    @abstractmethod
    def register(self, key: PartyKey, *, at: datetime) -> bool:
        """Store a party's public key; False when that key is already registered."""

    @abstractmethod
    def get(self, key_id: str) -> PartyKey | None: ...

    @abstractmethod
    def of_party(self, party: str) -> list[PartyKey]:
        """The party's keys, revoked ones included, oldest first."""

    @abstractmethod
    def revoke(self, key_id: str, *, at: datetime) -> None: ...

    @abstractmethod
    def use_nonce(self, key_id: str, nonce: str, *, at: datetime) -> bool:
        """Remember a signed request's nonce; False when it was used before (a replay)."""


@dataclass(frozen=True, slots=True)
class StoredEncounter:
    """An open encounter as the store keeps it between cycles."""

    id: int
    a: str
    b: str
    a_party: str
    b_party: str
    opened_s: float
    seen_s: float
    recorded_s: float
    tcpa_s: float
    dcpa_m: float
    tin_s: float
    los: bool
    urgent: bool


class TrackRepository(ABC):
    @abstractmethod
    def report(self, rows: Sequence[dict[str, object]]) -> None:
        """Merge reports into the latest state of their tracks: a field a report leaves out
        (None) keeps its stored value; position and altitude keep the time they were reported."""

    @abstractmethod
    def live(self, since_s: float) -> list[dict[str, object]]:
        """Every track heard from since ``since_s`` (epoch seconds), as stored."""

    @abstractmethod
    def forget(self, before_s: float) -> None:
        """Drop the tracks not heard from since ``before_s``."""

    @abstractmethod
    def open_encounters(self) -> list[StoredEncounter]: ...

    @abstractmethod
    def add_encounter(self, e: StoredEncounter) -> int:
        """Store a new encounter (its ``id`` is ignored); returns its id."""

    @abstractmethod
    def update_encounter(self, encounter_id: int, **values: object) -> None: ...

    @abstractmethod
    def take_lease(self, holder: str, *, now_s: float, ttl_s: float) -> bool:
        """Hold the detection lease for ``ttl_s`` if it is free, lapsed or already ours."""


@dataclass(frozen=True, slots=True)
class Head:
    """The last entry of the ledger: its sequence number (0 when empty) and hash."""

    seq: int
    hash: str


class LedgerRepository(ABC):
    @abstractmethod
    def add(self, entries: Sequence[Entry]) -> None:
        """Append entries that follow the head locked by :meth:`UnitOfWork.lock_ledger`."""

    @abstractmethod
    def since(self, after: int, *, limit: int) -> list[Entry]:
        """Every entry after sequence number ``after``, in order (the operator's export)."""

    @abstractmethod
    def view(self, party: str, after: int, *, limit: int) -> list[Entry | Stub]:
        """What ``party`` may see after ``after``: its entries in full, the others as stubs."""

    @abstractmethod
    def of_kinds(self, party: str, kinds: Collection[str]) -> list[Entry]:
        """The entries of these kinds that ``party`` may read, in order."""

    @abstractmethod
    def service_key(self) -> str | None:
        """The public half of the key the service countersigns entries with, if it has one."""

    @abstractmethod
    def set_service_key(self, private_pem: bytes, public: str, *, at: datetime) -> None:
        """Keep the service's key pair; entries added from now on are countersigned."""


class UnitOfWork(ABC):
    """One transaction: ``with uow:`` begins it, ``uow.commit()`` keeps it, leaving rolls back.

    A plain ``with uow:`` is a write transaction; :meth:`read_only` gives one that only reads and
    never waits for writers.
    """

    agreements: AgreementRepository
    notices: NoticeRepository
    conflicts: ConflictRepository
    officers: OfficerRepository
    ledger: LedgerRepository
    messages: MessageRepository
    keys: KeyRepository
    tracks: TrackRepository

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
    def defer_writes(self) -> None:
        """From here to the commit the store may hold writes back and send them together with
        the commit; what the transaction reads meanwhile must not depend on them, and no
        savepoint may follow."""

    @abstractmethod
    def send_ahead(self) -> None:
        """After :meth:`defer_writes`: the store may start storing what was held back so far
        while the caller computes the rest; nothing may be read from here to the commit."""

    @abstractmethod
    def savepoint(self) -> AbstractContextManager[None]:
        """A nested transaction: an exception inside undoes only what was done inside."""

    @abstractmethod
    def read_only(self) -> UnitOfWork:
        """A unit of work on the same store whose transactions only read."""

    @abstractmethod
    def migrate(self) -> None:
        """Create or upgrade the schema, inside this transaction."""

    @abstractmethod
    def lock_ledger(self) -> Head:
        """Wait until no other write is in progress and hold that until the transaction ends, so
        that concurrent filings each see the volumes of the ones before them and the ledger never
        forks; returns the head the new entries follow."""
