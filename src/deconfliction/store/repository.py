"""The repositories over SQL: domain types in, rows out, and back.

Writes go out through :func:`deconfliction.store.bulk.insert_rows`, as ``executemany`` in bounded
batches, so that filing one notice is a handful of statements and importing a million volumes
stays in memory bounds.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import repeat
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from deconfliction.agreement import Agreement, Separation
from deconfliction.geo.volume import Circle, Outline, Polygon, Volume
from deconfliction.ingest.geojson import volume_feature
from deconfliction.service.ports import (
    AgreementRepository,
    Candidates,
    ConflictRepository,
    Found,
    NoticeRepository,
    Progress,
    StoredAgreement,
    StoredNotice,
)
from deconfliction.store import candidates
from deconfliction.store.bulk import insert_rows
from deconfliction.store.sql import one_of
from deconfliction.store.tables import (
    agreement,
    conflict,
    index_level,
    message,
    notice,
    party,
    volume,
    volume_cell,
)
from deconfliction.strategic import cells
from deconfliction.strategic.detect import Conflict, Prepared, VolumeRef, extents
from deconfliction.strategic.notice import Activity, Notice
from deconfliction.types import IntArray

Row = dict[str, Any]


def outline_json(outline: Outline) -> str:
    """The outline as stored: ``{"circle": [lon, lat, radius_m]}`` or ``{"polygon": [[lon, lat],
    ...]}`` (the closing vertex not repeated), lossless for float64.

    >>> outline_json(Circle(37.9, 35.0, 15000.0))
    '{"circle":[37.9,35.0,15000.0]}'
    >>> outline_from_json(outline_json(Polygon(((0.0, 0.0), (1.0, 0.0), (0.0, 1.0)))))
    Polygon(vertices=((0.0, 0.0), (1.0, 0.0), (0.0, 1.0)))
    """
    if isinstance(outline, Circle):
        doc: dict[str, Any] = {"circle": [outline.lon, outline.lat, outline.radius_m]}
    else:
        doc = {"polygon": [list(v) for v in outline.vertices]}
    return json.dumps(doc, separators=(",", ":"))


def outline_from_json(text: str) -> Outline:
    doc = json.loads(text)
    if "circle" in doc:
        return Circle(*(float(x) for x in doc["circle"]))
    return Polygon(tuple((float(lon), float(lat)) for lon, lat in doc["polygon"]))


STORE_STATE = sa.union_all(
    sa.select(sa.literal("level", sa.Text), index_level.c.space, index_level.c.time),
    *(
        sa.select(
            sa.literal(t.name, sa.Text),
            sa.func.coalesce(sa.func.max(t.c.id), 0),
            sa.literal(0, sa.Integer),
        )
        for t in (notice, volume, conflict, message)
    ),
)


class StoreState:
    """What a write under the ledger lock needs of the store besides its candidates, read in
    one statement (:data:`STORE_STATE`) with the lock (:meth:`SqlUnitOfWork.lock_ledger`), or
    on first use without it: the index levels in use and the last id of each table it adds rows
    to. Ids are handed out from here, so two additions in one transaction follow each other
    even while their rows are held back (:meth:`SqlUnitOfWork.defer_writes`)."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self._levels: set[tuple[int, int]] | None = None
        self._last: dict[str, int] = {}

    @property
    def levels(self) -> set[tuple[int, int]]:
        """The (space, time) level pairs in use (updated by this transaction's additions)."""
        return self._levels if self._levels is not None else self._load()

    def take_ids(self, table: sa.Table, count: int) -> int:
        """The first of ``count`` new ids of ``table`` (ids are allocated under the lock)."""
        if self._levels is None:
            self._load()
        first = self._last[table.name] + 1
        self._last[table.name] += count
        return first

    def _load(self) -> set[tuple[int, int]]:
        return self.load(self._conn.execute(STORE_STATE))

    def load(self, rows: Iterable[Sequence[Any]]) -> set[tuple[int, int]]:
        """Take the rows of :data:`STORE_STATE`, read by the caller (with the ledger lock, say)."""
        self._levels = set()
        for kind, a, b in rows:
            if kind == "level":
                self._levels.add((int(a), int(b)))
            else:
                self._last[kind] = int(a)
        return self._levels


NOTICES_ON_FILE = sa.select(notice.c.party_id, notice.c.ref).where(
    one_of(notice.c.party_id, "parties"),
    one_of(notice.c.ref, "refs"),
)


VOLUMES = (
    sa.select(
        volume.c.id,
        volume.c.outline,
        volume.c.lower_m,
        volume.c.upper_m,
        volume.c.start_at,
        volume.c.end_at,
        notice.c.ref,
        notice.c.party_id,
        notice.c.activity,
    )
    .join_from(volume, notice, volume.c.notice_id == notice.c.id)
    .where(one_of(volume.c.id, "ids"))
)


SHARING = (
    sa.select(volume.c.id, notice.c.shared_with)
    .join_from(volume, notice, volume.c.notice_id == notice.c.id)
    .where(one_of(volume.c.id, "ids"))
)


class SqlAgreementRepository(AgreementRepository):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get(self) -> StoredAgreement | None:
        row = self.conn.execute(
            sa.select(agreement.c.name, agreement.c.text, agreement.c.created_at)
        ).first()
        return None if row is None else StoredAgreement(row.name, row.text, row.created_at)

    def add(self, pact: Agreement, text: str, *, created_at: datetime) -> None:
        self.conn.execute(
            agreement.insert(), {"id": 1, "name": pact.name, "text": text, "created_at": created_at}
        )
        self.conn.execute(party.insert(), [{"id": p.id, "name": p.name} for p in pact.parties])

    def parties(self) -> list[str]:
        return list(self.conn.execute(sa.select(party.c.id).order_by(party.c.id)).scalars())


class SqlNoticeRepository(NoticeRepository):
    """Notices, their volumes and the candidate index, for one transaction."""

    def __init__(
        self, conn: sa.Connection, cache: candidates.PreparedCache, state: StoreState
    ) -> None:
        self.conn = conn
        self.cache = cache
        self.state = state

    def levels(self) -> set[tuple[int, int]]:
        """The level pairs in use, read once per transaction (filings hold the lock)."""
        return self.state.levels

    def on_file(self, keys: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
        # every party and reference at once (a batch of filings from several parties is one
        # round trip under the lock, not one per party); (party_id, ref) is indexed, and a
        # reference of one party found under another is dropped here
        wanted = set(keys)
        parties = sorted({p for p, _ in wanted})
        refs = sorted({r for _, r in wanted})
        found: set[tuple[str, str]] = set()
        for lo in range(0, len(refs), candidates.CHUNK):
            params = {"parties": parties, "refs": refs[lo : lo + candidates.CHUNK]}
            for party_id, ref in self.conn.execute(NOTICES_ON_FILE, params):
                if (party_id, ref) in wanted:
                    found.add((party_id, ref))
        return found

    def near(
        self, items: Sequence[Prepared], sep: Separation, *, progress: Progress | None = None
    ) -> Candidates:
        return candidates.near(self.conn, items, sep, self.levels(), self.cache, progress)

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
        notice_base = self.state.take_ids(notice, len(notices))
        volume_base = self.state.take_ids(volume, len(items))
        first = {"version": version, "supersedes": supersedes}
        by = list(filed_by) if filed_by is not None else [None] * len(notices)
        ids = volume_base + np.arange(len(items), dtype=np.int64)
        reg_keys, reg_owner = cells.register(extents(items))
        total = len(notices) + len(items) + len(reg_keys)
        done = 0

        def stored(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress("store", done, total)

        for table, rows in (
            (notice, _notice_rows(notices, notice_base, filed_at, late, by, first)),
            (volume, _volume_rows(notices, items, notice_base, volume_base)),
            (volume_cell, _cell_rows(items, ids, reg_keys, reg_owner)),
        ):
            insert_rows(self.conn, table, rows, on_batch=stored)
        self._add_levels(cells.levels_in(reg_keys))
        return notice_base + np.arange(len(notices), dtype=np.int64), ids

    def get(self, notice_id: int) -> StoredNotice | None:
        n = notice.c
        query = sa.select(n.id, n.ref, n.party_id, n.version, n.status, n.shared_with).where(
            n.id == notice_id
        )
        row = self.conn.execute(query).first()
        if row is None:
            return None
        return StoredNotice(
            row.id,
            row.ref,
            row.party_id,
            row.version,
            row.status,
            candidates.shared_with(row.shared_with),
        )

    def deactivate(self, notice_id: int, status: str) -> set[str]:
        self.conn.execute(notice.update().where(notice.c.id == notice_id).values(status=status))
        volumes = sa.select(volume.c.id).where(volume.c.notice_id == notice_id)
        self.conn.execute(volume_cell.delete().where(volume_cell.c.volume_id.in_(volumes)))
        touched = sa.or_(conflict.c.volume_a.in_(volumes), conflict.c.volume_b.in_(volumes))
        others = (
            sa.select(notice.c.party_id)
            .distinct()
            .join_from(volume, notice, volume.c.notice_id == notice.c.id)
            .join(
                conflict,
                sa.or_(conflict.c.volume_a == volume.c.id, conflict.c.volume_b == volume.c.id),
            )
            .where(touched)
        )
        return set(self.conn.execute(others).scalars())

    def sharing(self, ids: Collection[int]) -> dict[int, tuple[str, ...] | None]:
        """For stored volumes, the ``shared_with`` of their notice, by volume id (read once
        per process: a busy cell's filings ask about the same neighbours every time)."""
        out, missing = self.cache.sharing(set(ids))
        missing.sort()
        for lo in range(0, len(missing), candidates.CHUNK):
            params = {"ids": missing[lo : lo + candidates.CHUNK]}
            for volume_id, shared in self.conn.execute(SHARING, params):
                out[volume_id] = candidates.shared_with(shared)
                self.cache.put_sharing(volume_id, out[volume_id])
        return out

    def volume_features(self, ids: Collection[int]) -> dict[int, dict[str, Any]]:
        """Stored volumes as GeoJSON features (without remarks), by volume id."""
        out: dict[int, dict[str, Any]] = {}
        wanted = sorted(set(ids))
        for lo in range(0, len(wanted), candidates.CHUNK):
            params = {"ids": wanted[lo : lo + candidates.CHUNK]}
            for row in self.conn.execute(VOLUMES, params):
                volume_ = Volume(
                    outline_from_json(row.outline),
                    row.lower_m,
                    row.upper_m,
                    row.start_at,
                    row.end_at,
                )
                owner = Notice(row.ref, row.party_id, Activity(row.activity), (volume_,))
                out[row.id] = volume_feature(owner, volume_)
        return out

    def _add_levels(self, levels: set[tuple[int, int]]) -> None:
        """Insert the level pairs not yet in use; a pair already there is left alone."""
        missing = levels - self.levels()
        if missing:
            rows = [{"space": s, "time": t} for s, t in sorted(missing)]
            self.conn.execute(_insert_if_absent(self.conn, index_level), rows)
            self.levels().update(missing)


def _insert_if_absent(conn: sa.Connection, table: sa.Table) -> sa.Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL spell it the same)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def _notice_rows(
    notices: Sequence[Notice],
    base: int,
    filed_at: datetime,
    late: Sequence[bool],
    filed_by: Sequence[int | None],
    version: dict[str, Any],
) -> Iterator[Row]:
    for k, (n, is_late, by) in enumerate(zip(notices, late, filed_by, strict=True)):
        yield {
            "id": base + k,
            "party_id": n.party,
            "ref": n.ref,
            "activity": n.activity.value,
            "remarks": n.remarks,
            "status": "active",
            "filed_at": filed_at,
            "shared_with": json.dumps(None if n.shared_with is None else list(n.shared_with)),
            "late": is_late,
            "filed_by": by,
            **version,
        }


def _volume_rows(
    notices: Sequence[Notice], items: Sequence[Prepared], notice_base: int, volume_base: int
) -> Iterator[Row]:
    volumes = ((k, i, v) for k, n in enumerate(notices) for i, v in enumerate(n.volumes))
    for m, ((k, i, v), p) in enumerate(zip(volumes, items, strict=True)):
        yield _volume_row(volume_base + m, notice_base + k, i, v, p)


def _volume_row(id_: int, notice_id: int, idx: int, v: Volume, p: Prepared) -> Row:
    fp = p.footprint
    return {
        "id": id_,
        "notice_id": notice_id,
        "idx": idx,
        "outline": outline_json(v.outline),
        "lower_m": p.lower_m,
        "upper_m": p.upper_m,
        "start_at": v.start,
        "end_at": v.end,
        "is_circle": fp.is_circle,
        "lon": fp.lon,
        "lat": fp.lat,
        "outer_m": fp.outer_m,
        "inner_m": fp.inner_m,
        "ring": np.ascontiguousarray(fp.ring, dtype=candidates.RING_DTYPE).tobytes(),
        "south": fp.box.south,
        "north": fp.box.north,
        "west": fp.box.west,
        "east": fp.box.east,
    }


def _cell_rows(
    items: Sequence[Prepared], ids: IntArray, keys: IntArray, owner: IntArray
) -> Iterator[Row]:
    for key, k in zip(keys.tolist(), owner.tolist(), strict=True):
        p = items[k]
        yield {
            "cell": key,
            "volume_id": int(ids[k]),
            "party_id": p.ref.party,
            "start_s": p.start_s,
            "end_s": p.end_s,
            "lower_m": p.lower_m,
            "upper_m": p.upper_m,
            "south": p.footprint.box.south,
            "north": p.footprint.box.north,
        }


_va, _vb = volume.alias("va"), volume.alias("vb")
_na, _nb = notice.alias("na"), notice.alias("nb")
CONFLICTS = (
    sa.select(
        _na.c.ref,
        _va.c.idx,
        _na.c.party_id,
        _nb.c.ref,
        _vb.c.idx,
        _nb.c.party_id,
        conflict.c.start_at,
        conflict.c.end_at,
        conflict.c.horizontal_m,
        conflict.c.vertical_m,
        conflict.c.time_gap_s,
    )
    .select_from(conflict)
    .join(_va, _va.c.id == conflict.c.volume_a)
    .join(_na, _na.c.id == _va.c.notice_id)
    .join(_vb, _vb.c.id == conflict.c.volume_b)
    .join(_nb, _nb.c.id == _vb.c.notice_id)
    .order_by(conflict.c.id)
)


CONFLICT_COLUMNS = (
    "id",
    "volume_a",
    "volume_b",
    "start_at",
    "end_at",
    "horizontal_m",
    "vertical_m",
    "time_gap_s",
    "found_at",
)


class SqlConflictRepository(ConflictRepository):
    def __init__(self, conn: sa.Connection, state: StoreState) -> None:
        self.conn = conn
        self.state = state  # conflict ids are allocated under the lock, in the order found

    def add(self, found: Found, *, found_at: datetime) -> IntArray:
        if not len(found):  # most filings bring none: no statement at all
            return np.empty(0, dtype=np.int64)
        first = self.state.take_ids(conflict, len(found))
        c = found.conflicts
        rows = zip(
            range(first, first + len(found)),
            found.volume_a,
            found.volume_b,
            c.start,
            c.end,
            c.horizontal_m,
            c.vertical_m,
            c.time_gap_s,
            repeat(found_at),
        )
        insert_rows(self.conn, conflict, rows, columns=CONFLICT_COLUMNS)
        return first + np.arange(len(found), dtype=np.int64)

    def list(self) -> list[Conflict]:
        return [_conflict(*row) for row in self.conn.execute(CONFLICTS)]

    def parties(self, conflict_id: int) -> tuple[str, str] | None:
        query = (
            sa.select(_na.c.party_id, _nb.c.party_id)
            .select_from(conflict)
            .join(_va, _va.c.id == conflict.c.volume_a)
            .join(_na, _na.c.id == _va.c.notice_id)
            .join(_vb, _vb.c.id == conflict.c.volume_b)
            .join(_nb, _nb.c.id == _vb.c.notice_id)
            .where(conflict.c.id == conflict_id)
        )
        row = self.conn.execute(query).first()
        return None if row is None else (row[0], row[1])

    def acknowledge(self, conflict_id: int, side: str, *, officer: int, at: datetime) -> bool:
        at_col, by_col = conflict.c[f"ack_{side}_at"], conflict.c[f"ack_{side}_by"]
        done = self.conn.execute(
            conflict.update()
            .where(conflict.c.id == conflict_id, at_col.is_(None))
            .values({at_col: at, by_col: officer})
        )
        return done.rowcount == 1


def _conflict(
    a_ref: str,
    a_idx: int,
    a_party: str,
    b_ref: str,
    b_idx: int,
    b_party: str,
    start: datetime,
    end: datetime,
    horizontal_m: float,
    vertical_m: float,
    time_gap_s: float,
) -> Conflict:
    return Conflict(
        VolumeRef(a_ref, a_idx, a_party),
        VolumeRef(b_ref, b_idx, b_party),
        start,
        end,
        horizontal_m,
        vertical_m,
        time_gap_s,
    )
