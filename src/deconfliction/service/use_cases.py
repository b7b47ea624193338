"""Use cases on the store: one function per user action, one transaction each.

Every check that can fail on the input alone (validation, parties, references repeated within the
input) runs before the transaction begins, so bad input is refused without touching the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from deconfliction.agreement import Agreement, Separation, loads_agreement
from deconfliction.errors import DuplicateNotice, NoticeError, NotInitialised, StoreError
from deconfliction.service.ports import Found, Progress, UnitOfWork
from deconfliction.strategic.detect import (
    Conflict,
    Prepared,
    VolumeRef,
    decide,
    find_conflicts,
    prepare_many,
)
from deconfliction.strategic.notice import Notice
from deconfliction.types import IntArray


def init_store(
    uow: UnitOfWork, agreement: Agreement, agreement_text: str, *, now: datetime | None = None
) -> None:
    """Create the schema if needed and store the agreement and its parties.

    Running it again with the same agreement changes nothing; the parties of a store cannot be
    swapped for another agreement's, so a different one is a :class:`StoreError`.
    """
    with uow:
        uow.migrate()
        stored = uow.agreements.get()
        if stored is None:
            uow.agreements.add(agreement, agreement_text, created_at=now or datetime.now(UTC))
        elif loads_agreement(stored.text) != agreement:
            raise StoreError(
                f"the store already holds another agreement ({stored.name!r}, stored "
                f"{stored.created_at:%Y-%m-%d %H:%M} UTC); use a new database for a new agreement"
            )
        uow.commit()


def stored_agreement(uow: UnitOfWork) -> Agreement:
    """The agreement the store was initialised with."""
    with uow.read_only() as tx:
        stored = tx.agreements.get()
    if stored is None:
        raise NotInitialised("the store holds no agreement: run `deconfliction init` first")
    return loads_agreement(stored.text)


def file_notices(
    uow: UnitOfWork,
    notices: Sequence[Notice],
    agreement: Agreement,
    *,
    now: datetime,
    progress: Progress | None = None,
) -> list[Conflict]:
    """Store new notices and return the conflicts they bring, among themselves and with every
    active stored volume (the earlier filed volume as ``a``).

    All or nothing: an invalid volume (:class:`NoticeError`), a party not in the agreement
    (``field='party'``) or a reference the party already used (:class:`DuplicateNotice`) stores
    nothing. Filings take turns (:meth:`UnitOfWork.lock_filings`), so two filings made at the same
    moment still find each other.
    """
    check_parties(notices, agreement)
    keys = unique_keys(notices)
    items = prepare_many(notices)
    sep = agreement.separation
    with uow:
        uow.lock_filings()
        taken = uow.notices.on_file(keys)
        if taken:
            party, ref = min(taken)
            raise DuplicateNotice(party, ref)
        near = uow.notices.near(items, sep, progress=progress)
        ids = uow.notices.add(notices, items, filed_at=now, progress=progress)
        found = _found(items, ids, near.stored, near.ids, near.i, near.j, sep)
        uow.conflicts.add(found, found_at=now)
        uow.commit()
    return [f.conflict for f in found]


def list_conflicts(uow: UnitOfWork) -> list[Conflict]:
    """Every stored conflict, in the order found."""
    with uow.read_only() as tx:
        return tx.conflicts.list()


def check_parties(notices: Sequence[Notice], agreement: Agreement) -> None:
    """Every notice must come from a party of the agreement."""
    known = {p.id for p in agreement.parties}
    for n in notices:
        if n.party not in known:
            raise NoticeError(
                f"{n.party!r} is not a party to the agreement ({', '.join(sorted(known))})",
                notice=n.ref,
                field="party",
            )


def unique_keys(notices: Sequence[Notice]) -> set[tuple[str, str]]:
    """The (party, ref) of each notice; a reference given twice is refused here already."""
    keys: set[tuple[str, str]] = set()
    for n in notices:
        if (n.party, n.ref) in keys:
            raise DuplicateNotice(n.party, n.ref)
        keys.add((n.party, n.ref))
    return keys


def _found(
    new: Sequence[Prepared],
    new_ids: IntArray,
    stored: Sequence[Prepared],
    stored_ids: IntArray,
    i: IntArray,
    j: IntArray,
    sep: Separation,
) -> list[Found]:
    """Conflicts with stored volumes (decided with the stored one first) and among the new ones,
    with store ids, ordered by (volume_a, volume_b)."""
    id_of: dict[VolumeRef, int] = {p.ref: int(k) for p, k in zip(stored, stored_ids, strict=True)}
    id_of.update((p.ref, int(k)) for p, k in zip(new, new_ids, strict=True))
    conflicts = decide(stored, new, j, i, sep) + find_conflicts(new, sep)
    found = [Found(id_of[c.a], id_of[c.b], c) for c in conflicts]
    return sorted(found, key=lambda f: (f.volume_a, f.volume_b))
