"""Use cases on the store: one function per user action, one transaction each.

Every check that can fail on the input alone (validation, parties, references repeated within the
input) runs before the transaction begins, so bad input is refused without touching the store.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from deconfliction import signing
from deconfliction.agreement import Agreement, Separation, loads_agreement
from deconfliction.errors import (
    DuplicateNotice,
    Forbidden,
    InvalidInput,
    NotFound,
    NoticeError,
    NotInitialised,
    StoreError,
)
from deconfliction.hotline import Kind
from deconfliction.ingest.geojson import volume_feature
from deconfliction.ledger import Entry
from deconfliction.ledger.canonical import NotPlain, Ready, ready, ready_floats
from deconfliction.officers import Officer
from deconfliction.service import audience
from deconfliction.service.hotline import announce
from deconfliction.service.ports import Found, Progress, StoredNotice, UnitOfWork
from deconfliction.service.recorder import OPERATOR, Recorder
from deconfliction.strategic.detect import (
    Conflict,
    Conflicts,
    Prepared,
    VolumeRef,
    decide_columns,
    find_conflict_columns,
    prepare_many,
)
from deconfliction.strategic.notice import Activity, Notice
from deconfliction.types import IntArray
from deconfliction.utc import rfc3339


def init_store(
    uow: UnitOfWork, agreement: Agreement, agreement_text: str, *, now: datetime | None = None
) -> None:
    """Create the schema if needed and store the agreement and its parties.

    The service's countersigning key is made here too (its public half is the ``service.key``
    entry), and by running ``init`` again on a store made before keys existed. Running it again
    otherwise changes nothing; the parties of a store cannot be swapped for another agreement's,
    so a different one is a :class:`StoreError`.
    """
    at = now or datetime.now(UTC)
    parties = [p.id for p in agreement.parties]
    with uow:
        uow.migrate()
        stored = uow.agreements.get()
        if stored is not None and loads_agreement(stored.text) != agreement:
            raise StoreError(
                f"the store already holds another agreement ({stored.name!r}, stored "
                f"{stored.created_at:%Y-%m-%d %H:%M} UTC); use a new database for a new agreement"
            )
        head = uow.lock_ledger()
        log = Recorder(head, at=at, actor=OPERATOR)
        if uow.ledger.service_key() is None:
            key = signing.generate()
            public = signing.public_b64(key)
            uow.ledger.set_service_key(signing.private_pem(key), public, at=at)
            body = {"key": signing.key_id(public), "public_key": public}
            log.record("service.key", body, audience=audience.everyone(parties))
        if stored is None:
            uow.agreements.add(agreement, agreement_text, created_at=at)
            body = {"name": agreement.name, "parties": parties, "text": agreement_text}
            log.record("agreement.recorded", body, audience=audience.everyone(parties))
        uow.ledger.add(log.entries)
        uow.commit()


def stored_agreement(uow: UnitOfWork) -> Agreement:
    """The agreement the store was initialised with."""
    with uow.read_only() as tx:
        stored = tx.agreements.get()
    if stored is None:
        raise NotInitialised("the store holds no agreement: run `deconfliction init` first")
    return loads_agreement(stored.text)


@dataclass(frozen=True, slots=True)
class Filed:
    """What a filing stored: each notice's id and whether it came late, the conflicts it brought
    (with their ids) and the last ledger sequence number it wrote."""

    notice_ids: list[int]
    late: list[bool]
    found: Found
    conflict_ids: list[int]
    entries: list[Entry]
    readback: list[dict[str, Any]] | None = None  # of each volume, when the filer made them

    @property
    def conflicts(self) -> list[Conflict]:
        return self.found.conflicts.to_list()

    @property
    def seq(self) -> int:
        """The last ledger sequence number the filing wrote."""
        return self.entries[-1].seq


@dataclass(frozen=True, slots=True)
class Filing:
    """Notices checked and ready to store, and who files them (None: the operator)."""

    notices: Sequence[Notice]
    items: list[Prepared]
    late: list[bool]
    by: Officer | None
    signature: dict[str, Any] | None = None  # what the party signed, for the ledger


def prepare_filing(
    notices: Sequence[Notice],
    agreement: Agreement,
    *,
    now: datetime,
    by: Officer | None = None,
    signature: dict[str, Any] | None = None,
) -> Filing:
    """Everything that can be checked without the store: parties, rights, references repeated
    within the filing, every volume (errors name notice, volume and field); and lateness."""
    check_parties(notices, agreement)
    if by is not None:
        _may_file(by, notices)
    unique_keys(notices)
    late = [_late(n, agreement, now) for n in notices]
    return Filing(notices, prepare_many(notices), late, by, signature)


def file_notices(
    uow: UnitOfWork,
    notices: Sequence[Notice],
    agreement: Agreement,
    *,
    now: datetime,
    by: Officer | None = None,
    progress: Progress | None = None,
) -> Filed:
    """Store new notices with the conflicts they bring, among themselves and with every active
    stored volume (the earlier filed volume as ``a``), and record it all in the ledger.

    All or nothing: an invalid volume (:class:`NoticeError`), a party not in the agreement
    (``field='party'``) or a reference the party already used (:class:`DuplicateNotice`) stores
    nothing. Writes take turns (:meth:`UnitOfWork.lock_ledger`), so two filings made at the same
    moment still find each other. A notice whose first volume starts sooner than the agreement's
    notice period for its activity is stored, marked late, and every party is told.
    """
    filing = prepare_filing(notices, agreement, now=now, by=by)
    (result,) = _store(uow, [filing], agreement, now=now, alone=True, progress=progress)
    assert isinstance(result, Filed)  # alone: a failure was raised
    return result


More = Callable[[], tuple[Sequence[Filing], datetime]]
"""Called once the ledger lock is held: filings that join the batch, and the time to file it at."""


def file_each(
    uow: UnitOfWork,
    filings: Sequence[Filing],
    agreement: Agreement,
    *,
    now: datetime,
    more: More | None = None,
) -> list[Filed | DuplicateNotice]:
    """Group commit: store many filings in one transaction, each kept or refused on its own (a
    reference already on file, or taken by an earlier filing of the batch, refuses only that
    filing). One lock, one candidate query and one commit serve them all; the result is the same
    as filing them one after the other in the given order. ``more`` lets filings that arrived
    while the lock was awaited join in (their results follow those of ``filings``)."""
    return _store(uow, filings, agreement, now=now, alone=False, more=more)


def _store(
    uow: UnitOfWork,
    filings: Sequence[Filing],
    agreement: Agreement,
    *,
    now: datetime,
    alone: bool,
    progress: Progress | None = None,
    more: More | None = None,
) -> list[Filed | DuplicateNotice]:
    sep = agreement.separation
    with uow:
        head = uow.lock_ledger()
        if more is not None:
            extra, now = more()
            filings = [*filings, *extra]
        # everything below reads only what was committed before the lock (the stored notices,
        # the next free ids, the roster), never what it writes itself: the writes can go to the
        # store together with the commit
        uow.defer_writes()
        outcome = _refuse_taken(uow, filings, raise_first=alone)
        kept = [k for k, f in enumerate(filings) if outcome[k] is None]
        notices = [n for k in kept for n in filings[k].notices]
        items = [p for k in kept for p in filings[k].items]
        late = [x for k in kept for x in filings[k].late]
        filer = [k for k in kept for _ in filings[k].notices]  # the filing of each notice
        by = [filings[k].by for k in filer]
        near = uow.notices.near(items, sep, progress=progress)
        notice_ids, ids = uow.notices.add(
            notices,
            items,
            filed_at=now,
            late=late,
            filed_by=[b.id if b else None for b in by],
            progress=progress,
        )
        found = _found(items, ids, near.stored, near.ids, near.i, near.j, sep)
        conflict_ids = uow.conflicts.add(found, found_at=now).tolist()
        hidden, features = _hidden_volumes(uow, found, notices)
        # each filing's share: its notices, and the conflicts it brought (those of its volumes
        # as volume b), with the messages they call for
        of_volume = [filer[i] for i in _notice_of_items(notices)]
        volume_filing = dict(zip(ids.tolist(), of_volume, strict=True))
        notices_of: dict[int, list[int]] = {k: [] for k in kept}
        for i, owner in enumerate(filer):
            notices_of[owner].append(i)
        conflicts_of: dict[int, list[int]] = {k: [] for k in kept}
        for c, volume_b in enumerate(found.volume_b):
            conflicts_of[volume_filing[volume_b]].append(c)
        shares: dict[int, tuple[Found, list[int], list[_Announcement]]] = {}
        for k in kept:
            ours, ours_ids = found.take(conflicts_of[k]), [conflict_ids[c] for c in conflicts_of[k]]
            late_ones = [
                (filings[k].notices[m], int(notice_ids[i]))
                for m, i in enumerate(notices_of[k])
                if late[i]
            ]
            shares[k] = ours, ours_ids, _announcements(agreement, ours, ours_ids, late_ones)
        for party in {a.to for *_, told in shares.values() for a in told}:
            uow.messages.roster(party)  # the last read: the messages need each roster
        # everything is read: the store takes the notices and conflict rows while the ledger
        # entries and messages are made (under the lock, each millisecond counts twice)
        uow.send_ahead()
        log = Recorder(head, at=now, actor=OPERATOR)
        parties = [p.id for p in agreement.parties]
        for k in kept:
            f, mine = filings[k], notices_of[k]
            ours, ours_ids, told = shares[k]
            start = len(log.entries)
            with log.acting(f.by.actor if f.by else OPERATOR):
                _record_notices(
                    log,
                    f.notices,
                    [int(notice_ids[i]) for i in mine],
                    f.late,
                    parties,
                    signature=f.signature,
                )
                _record_conflicts(log, ours, ours_ids, notices, features, hidden)
            _announce(uow, log, agreement, now, told)
            outcome[k] = Filed(
                [int(notice_ids[i]) for i in mine],
                list(f.late),
                ours,
                ours_ids,
                log.entries[start:],
            )
        uow.ledger.add(log.entries)
        uow.commit()
    return outcome  # type: ignore[return-value]  # every slot is filled


def _refuse_taken(
    uow: UnitOfWork, filings: Sequence[Filing], *, raise_first: bool
) -> list[Filed | DuplicateNotice | None]:
    """Refuse each filing with a reference already on file or taken earlier in the batch."""
    taken = uow.notices.on_file({(n.party, n.ref) for f in filings for n in f.notices})
    outcome: list[Filed | DuplicateNotice | None] = [None] * len(filings)
    for k, f in enumerate(filings):
        keys = {(n.party, n.ref) for n in f.notices}
        clash = keys & taken
        if clash:
            outcome[k] = DuplicateNotice(*min(clash))
            if raise_first:
                raise outcome[k]  # type: ignore[misc]
        taken |= keys
    return outcome


def _notice_of_items(notices: Sequence[Notice]) -> list[int]:
    """For each volume, in order, the index of its notice."""
    return [k for k, n in enumerate(notices) for _ in n.volumes]


def _may_file(by: Officer, notices: Sequence[Notice]) -> None:
    if not by.role.acts:
        raise Forbidden("an observer cannot file notices")
    for n in notices:
        if n.party != by.party:
            raise Forbidden(f"an officer of {by.party!r} files only {by.party!r}'s notices")


def _late(n: Notice, agreement: Agreement, now: datetime) -> bool:
    period = agreement.notice_period.get(n.activity)
    return period is not None and min(v.start for v in n.volumes) - now < period


def _record_notices(
    log: Recorder,
    notices: Sequence[Notice],
    ids: Sequence[int],
    late: Sequence[bool],
    parties: Sequence[str],
    *,
    amends: StoredNotice | None = None,
    watchers: Collection[str] = (),
    signature: dict[str, Any] | None = None,
) -> None:
    """Entries for stored notices: filed (or amended, naming the version it supersedes), their
    remarks for the owner, and that they came late for everyone."""
    for n, notice_id, is_late in zip(notices, ids, late, strict=True):
        head = {"id": notice_id, "ref": n.ref, "party": n.party, "activity": n.activity.value}
        features = [volume_feature(n, v) for v in n.volumes]
        version = (
            {"version": 1}
            if amends is None
            else {
                "version": amends.version + 1,
                "supersedes": amends.id,
            }
        )
        body = {**head, **version, "late": is_late, "features": features}
        if signature is not None:
            body["signature"] = signature
        readers = audience.notice(n, parties)
        if amends is None:
            log.record("notice.filed", body, audience=readers)
        else:
            log.record("notice.amended", body, audience=readers)
            # who saw the old version or had a conflict with it learns that it is gone, and
            # nothing of the new version unless it is shared with them
            before = {*audience.notice(_as_notice(amends), parties), *watchers}
            if before - set(readers):
                gone = {"id": amends.id, "ref": amends.ref, "party": amends.party}
                log.record("notice.superseded", gone, audience=before - set(readers))
        if n.remarks:
            remarks = {"id": notice_id, "remarks": n.remarks}
            log.record("notice.remarks", remarks, audience=audience.owner(n.party))
        if is_late:
            starts = rfc3339(min(v.start for v in n.volumes))
            log.record(
                "notice.late", {**head, "starts": starts}, audience=audience.everyone(parties)
            )


def _as_notice(stored: StoredNotice) -> Notice:
    """Enough of a stored notice for :func:`audience.notice` (owner and sharing)."""
    return Notice(stored.ref, stored.party, Activity.AIR, (), shared_with=stored.shared_with)


def _hidden_volumes(
    uow: UnitOfWork, found: Found, notices: Sequence[Notice]
) -> tuple[set[int], dict[int, dict[str, object]]]:
    """The conflicting volumes that the other party of their conflict may not see otherwise
    (their notice is not shared with it), and the features of those among the stored ones."""
    new = {(n.party, n.ref): n.shared_with for n in notices}
    c = found.conflicts
    # each volume once per other party (a busy cell's conflicts share a few hundred volumes)
    sides = {
        (volume_id, other.party): (volume_id, own, other)
        for pairs in (
            zip(found.volume_a, c.a, c.b, strict=True),
            zip(found.volume_b, c.b, c.a, strict=True),
        )
        for volume_id, own, other in pairs
    }
    stored_ids = {v for v, own, _ in sides.values() if (own.party, own.notice) not in new}
    sharing = uow.notices.sharing(stored_ids) if stored_ids else {}
    hidden: set[int] = set()
    for volume_id, own, other in sides.values():
        key = (own.party, own.notice)
        shared = new[key] if key in new else sharing[volume_id]
        if shared is not None and other.party not in shared:
            hidden.add(volume_id)
    return hidden, uow.notices.volume_features(hidden & stored_ids) if hidden else {}


def _record_conflicts(
    log: Recorder,
    found: Found,
    ids: Sequence[int],
    notices: Sequence[Notice],
    stored: dict[int, dict[str, object]],
    hidden: set[int],
) -> None:
    """One entry per pair of parties, listing the conflicts between them that this filing brought
    (a filing in a busy cell brings hundreds: one entry each would dominate its cost). A volume
    whose notice is not shared with
    the other party travels in the entry (``a_volume``/``b_volume``), so that party still sees
    what conflicts with its own; a shared one it already sees, so the entry only names it."""
    new = {(n.party, n.ref): n for n in notices}

    def feature(volume_id: int, ref: VolumeRef) -> dict[str, object]:
        n = new.get((ref.party, ref.notice))
        return stored[volume_id] if n is None else volume_feature(n, n.volumes[ref.volume])

    groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
    readers_of: dict[tuple[str, str], tuple[str, ...]] = {}
    c, fast = _ready_measures(found.conflicts)
    for line, volume_a, volume_b, a, b in zip(
        c.lines(ids), found.volume_a, found.volume_b, c.a, c.b, strict=True
    ):
        if volume_a in hidden:
            line["a_volume"] = feature(volume_a, a)
        if volume_b in hidden:
            line["b_volume"] = feature(volume_b, b)
        pair = (a.party, b.party)
        readers = readers_of.get(pair)
        if readers is None:
            readers = readers_of[pair] = audience.conflict(*pair)
        groups.setdefault(readers, []).append(line)
    for readers, conflicts in groups.items():
        listed = _ready_conflicts(conflicts) if fast else conflicts
        log.record("conflict.found", {"conflicts": listed}, audience=readers)


def _ready_measures(c: Conflicts) -> tuple[Conflicts, bool]:
    """The conflicts with their three measures made ready for the ledger column by column, and
    True; or as they are, and False, when a measure is one the fast path cannot write (one with
    an exponent), which sends the lines to the general walk."""
    try:
        measures = [ready_floats(m) for m in (c.horizontal_m, c.vertical_m, c.time_gap_s)]
    except NotPlain:
        return c, False
    return replace(
        c, horizontal_m=measures[0], vertical_m=measures[1], time_gap_s=measures[2]
    ), True


def _ready_conflicts(bodies: list[dict[str, object]]) -> Ready | list[dict[str, object]]:
    """Conflict lines, their measures made ready already (:func:`_ready_measures`), made ready
    for the ledger by what they are, not by walking them: the strings and ints of a line are
    plain already (references, parties, indices, ids, times), so only a volume it carries needs
    making ready. Fresh dicts, kept by nobody else (the sides they share are only read)."""
    try:
        for body in bodies:
            for key in ("a_volume", "b_volume"):
                if key in body:
                    body[key] = ready(body[key])
    except NotPlain:
        return bodies
    return Ready(bodies)


@dataclass(frozen=True, slots=True)
class _Announcement:
    """A message the service sends by itself (:func:`announce`), decided before it is sent:
    a filing reads the roster of each party it messages before its writes go ahead."""

    to: str
    kind: Kind
    text: str
    starts: datetime
    about: dict[str, Any]


def _announcements(
    agreement: Agreement,
    found: Found,
    ids: Sequence[int],
    late: Sequence[tuple[Notice, int]],
) -> list[_Announcement]:
    """Automatic hotline traffic: each party of new conflicts gets one message per other party
    (not one per conflict), and every other party one per late notice."""
    out: list[_Announcement] = []
    c = found.conflicts
    groups: dict[tuple[str, str], list[int]] = {}
    for k, (ref_a, ref_b) in enumerate(zip(c.a, c.b, strict=True)):
        groups.setdefault((ref_a.party, ref_b.party), []).append(k)
    for (a, b), ks in groups.items():
        starts = min(c.start[k] for k in ks)
        refs = {a: {c.a[k].notice for k in ks}, b: {c.b[k].notice for k in ks}}
        for own, other in ((a, b), (b, a)):
            mine, theirs = sorted(refs[own]), sorted(refs[other])
            plural = "conflict" if len(ks) == 1 else "conflicts"
            text = (
                f"{len(ks)} new {plural} between your {_refs(mine)} and {other}'s "
                f"{_refs(theirs)}; the first starts {rfc3339(starts)}"
            )
            # store ids: ints well inside the ledger's exact range, ready as they are
            about = {"conflicts": Ready([ids[k] for k in ks])}
            out.append(_Announcement(own, Kind.CONFLICT, text, starts, about))
    for n, notice_id in late:
        starts = min(v.start for v in n.volumes)
        text = (
            f"{n.party} filed {n.ref} ({n.activity.value}) late: it starts {rfc3339(starts)}, "
            "inside the agreed notice period"
        )
        for p in agreement.parties:
            if p.id != n.party:
                out.append(
                    _Announcement(p.id, Kind.LATE_NOTICE, text, starts, {"notice": notice_id})
                )
    return out


def _announce(
    uow: UnitOfWork,
    log: Recorder,
    agreement: Agreement,
    now: datetime,
    announcements: Sequence[_Announcement],
) -> None:
    """Send what :func:`_announcements` decided, in order."""
    for a in announcements:
        announce(
            uow,
            log,
            agreement,
            now=now,
            to=a.to,
            kind=a.kind,
            text=a.text,
            starts=a.starts,
            about=a.about,
        )


def _refs(refs: Sequence[str], shown: int = 5) -> str:
    """References for a person to read: the first few, and how many more (a busy cell's filing
    can conflict with hundreds of notices; the message lists the conflicts' ids in full).

    >>> _refs(["R-1", "R-2"]), _refs([f"R-{k}" for k in range(8)])
    ('R-1, R-2', 'R-0, R-1, R-2, R-3, R-4 and 3 more')
    """
    more = len(refs) - shown
    return ", ".join(refs[:shown]) + (f" and {more} more" if more > 0 else "")


def amend_notice(
    uow: UnitOfWork,
    notice_id: int,
    notice: Notice,
    agreement: Agreement,
    *,
    now: datetime,
    by: Officer | None = None,
    signature: dict[str, Any] | None = None,
) -> Filed:
    """Replace an active notice by a new version (same reference), checked like a new filing.

    The old version stops being a candidate at once; its conflicts stay on record. The parties
    that saw the old version or had conflicts with it are told which version supersedes it.
    """
    check_parties([notice], agreement)
    if by is not None:
        _may_file(by, [notice])
    items = prepare_many([notice])
    late = [_late(notice, agreement, now)]
    sep = agreement.separation
    with uow:
        head = uow.lock_ledger()
        old = _own_active(uow, notice_id, by)
        if notice.ref != old.ref or notice.party != old.party:
            raise InvalidInput(f"an amendment keeps the reference {old.ref!r}", field="notice")
        watchers = uow.notices.deactivate(notice_id, "superseded")
        near = uow.notices.near(items, sep)
        notice_ids, ids = uow.notices.add(
            [notice],
            items,
            filed_at=now,
            late=late,
            filed_by=[by.id if by else None],
            version=old.version + 1,
            supersedes=old.id,
        )
        found = _found(items, ids, near.stored, near.ids, near.i, near.j, sep)
        conflict_ids = uow.conflicts.add(found, found_at=now)
        log = Recorder(head, at=now, actor=by.actor if by else OPERATOR)
        parties = [p.id for p in agreement.parties]
        _record_notices(
            log,
            [notice],
            notice_ids.tolist(),
            late,
            parties,
            amends=old,
            watchers=watchers,
            signature=signature,
        )
        hidden, features = _hidden_volumes(uow, found, [notice])
        _record_conflicts(log, found, conflict_ids.tolist(), [notice], features, hidden)
        late_ones = [(notice, int(notice_ids[0]))] if late[0] else []
        told = _announcements(agreement, found, conflict_ids.tolist(), late_ones)
        _announce(uow, log, agreement, now, told)
        uow.ledger.add(log.entries)
        uow.commit()
    return Filed(notice_ids.tolist(), late, found, conflict_ids.tolist(), log.entries)


def cancel_notice(
    uow: UnitOfWork, notice_id: int, agreement: Agreement, *, now: datetime, by: Officer | None
) -> int:
    """End an active notice: its volumes stop being candidates, its conflicts stay on record,
    and everyone who saw it or had a conflict with it is told. Returns the entry's sequence."""
    if by is not None and not by.role.acts:
        raise Forbidden("an observer cannot cancel notices")
    with uow:
        head = uow.lock_ledger()
        old = _own_active(uow, notice_id, by)
        watchers = uow.notices.deactivate(notice_id, "cancelled")
        log = Recorder(head, at=now, actor=by.actor if by else OPERATOR)
        parties = [p.id for p in agreement.parties]
        readers = {*audience.notice(_as_notice(old), parties), *watchers}
        body = {"id": old.id, "ref": old.ref, "party": old.party, "version": old.version}
        entry = log.record("notice.cancelled", body, audience=readers)
        uow.ledger.add(log.entries)
        uow.commit()
    return entry.seq


def _own_active(uow: UnitOfWork, notice_id: int, by: Officer | None) -> StoredNotice:
    """The active notice ``notice_id`` of ``by``'s party (the operator may touch any)."""
    old = uow.notices.get(notice_id)
    if old is None or (by is not None and old.party != by.party):
        raise NotFound(f"no notice {notice_id} of yours", field="id")
    if old.status != "active":
        raise InvalidInput(f"notice {notice_id} is already {old.status}", field="id")
    return old


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
        stranger = next((p for p in n.shared_with or () if p not in known), None)
        if stranger is not None:
            raise NoticeError(
                f"{stranger!r} is not a party to the agreement", notice=n.ref, field="shared_with"
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
) -> Found:
    """Conflicts with stored volumes (decided with the stored one first) and among the new ones,
    with store ids, ordered by (volume_a, volume_b)."""
    # the pairs (stored[s], new[n]) and (new[p], new[q]) that conflict, with their conflicts
    s, n, with_stored = decide_columns(stored, new, j, i, sep)
    p, q, among_new = find_conflict_columns(new, sep)
    volume_a = np.concatenate([stored_ids[s], new_ids[p]])
    volume_b = np.concatenate([new_ids[n], new_ids[q]])
    order = np.lexsort((volume_b, volume_a)).tolist()
    both = Found(volume_a.tolist(), volume_b.tolist(), Conflicts.concat([with_stored, among_new]))
    return both.take(order)
