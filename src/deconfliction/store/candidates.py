"""Candidates from the store: the cell index in SQL, joined and filtered again in numpy.

For new volumes, :func:`near` asks :func:`cells.query` for the keys of every cell where a volume
that could conflict is registered, at the (space, time) level pairs in use. A few keys (filing a
notice) are fetched as ``IN`` lists of at most :data:`CHUNK` keys, so only those cells are read;
many keys (an import) are answered by one streamed range scan of ``volume_cell``, since reading
each row once beats looking up each cell many times. Either way the SQL also filters on party, time,
band and latitude with bounds that are conservative (the envelope of the volumes asked about), then
numpy pairs each row with the volumes whose keys it matched and applies each pair's own bounds with
the same slack as :func:`detect.candidate_pairs`. The footprints of the surviving stored volumes are
loaded from their columns and rebuilt without re-validation, ready for :func:`detect.decide`.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

from deconfliction.agreement import Separation
from deconfliction.geo.footprint import Box, Footprint
from deconfliction.service.ports import Candidates, Progress
from deconfliction.store.sql import one_of
from deconfliction.store.tables import notice, volume, volume_cell
from deconfliction.strategic import cells
from deconfliction.strategic.detect import Prepared, VolumeRef, extents
from deconfliction.types import BoolArray, FloatArray, IntArray

CHUNK = 5_000
"""Keys per ``IN`` list (SQLite allows 32,766 parameters, PostgreSQL 65,535)."""
SCAN_KEYS = 20_000
"""From this many distinct keys on, :func:`near` scans instead of looking cells up."""
SCAN_ROWS = 250_000
"""Rows per part of the scan, which bounds the memory of the join."""

TIME_SLACK_S = 1e-6  # as detect.candidate_pairs: gaps are rounded to the microsecond
BAND_SLACK_M = 1e-3  # and to the millimetre
LAT_SLACK_DEG = 1e-9

RING_DTYPE = np.dtype("<f8")

_vc = volume_cell.c
_CELL_COLUMNS = (
    _vc.cell,
    _vc.volume_id,
    _vc.party_id,
    _vc.start_s,
    _vc.end_s,
    _vc.lower_m,
    _vc.upper_m,
    _vc.south,
    _vc.north,
)
_FILTERS = (
    one_of(_vc.cell, "keys"),
    _vc.start_s < sa.bindparam("end_s"),
    _vc.end_s > sa.bindparam("start_s"),
    _vc.lower_m < sa.bindparam("upper_m"),
    _vc.upper_m > sa.bindparam("lower_m"),
    _vc.north >= sa.bindparam("south"),
    _vc.south <= sa.bindparam("north"),
)
CELL_ROWS = sa.select(*_CELL_COLUMNS).where(*_FILTERS)
SCAN_ROWS_QUERY = sa.select(*_CELL_COLUMNS).where(*_FILTERS[1:])
CELL_ROWS_OTHER_PARTY = CELL_ROWS.where(_vc.party_id != sa.bindparam("party"))

FOOTPRINTS = (
    sa.select(
        volume.c.id,
        volume.c.idx,
        notice.c.ref,
        notice.c.party_id,
        volume.c.is_circle,
        volume.c.lon,
        volume.c.lat,
        volume.c.outer_m,
        volume.c.inner_m,
        volume.c.ring,
        volume.c.south,
        volume.c.north,
        volume.c.west,
        volume.c.east,
        notice.c.shared_with,
    )
    .join_from(volume, notice, volume.c.notice_id == notice.c.id)
    .where(one_of(volume.c.id, "ids"))
)


class PreparedCache:
    """Stored volumes already rebuilt from their rows, by volume id, for the life of a process.

    An entry never goes stale: a stored volume never changes (amending a notice stores new
    volumes), and a volume that stops being active loses its ``volume_cell`` rows, so it is never
    a candidate again. Filing one notice against a big store then reads only the cell rows; the
    footprints of its neighbours are usually here already. Oldest entries go first beyond
    ``maxsize``.
    """

    def __init__(self, maxsize: int = 200_000) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[int, Prepared] = OrderedDict()  # O(1) eviction of the oldest
        # the ``shared_with`` of each volume's notice, never changed once stored either
        self._sharing: OrderedDict[int, tuple[str, ...] | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, volume_id: int) -> Prepared | None:
        return self._items.get(volume_id)

    def put(self, volume_id: int, prepared: Prepared) -> None:
        self._put(self._items, volume_id, prepared)

    def sharing(
        self, volume_ids: Iterable[int]
    ) -> tuple[dict[int, tuple[str, ...] | None], list[int]]:
        """The parties each volume's notice is shared with (None: all) where known here, and
        the ids not known."""
        known: dict[int, tuple[str, ...] | None] = {}
        missing: list[int] = []
        for volume_id in volume_ids:
            if volume_id in self._sharing:
                known[volume_id] = self._sharing[volume_id]
            else:
                missing.append(volume_id)
        return known, missing

    def put_sharing(self, volume_id: int, shared: tuple[str, ...] | None) -> None:
        self._put(self._sharing, volume_id, shared)

    def _put(self, items: OrderedDict[int, Any], volume_id: int, value: Any) -> None:
        with self._lock:
            items[volume_id] = value
            while len(items) > self.maxsize:
                items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True, slots=True)
class _Query:
    """The new volumes as arrays: the bounds each stored volume is compared with."""

    party: IntArray  # index into parties
    parties: list[str]
    start_s: FloatArray
    end_s: FloatArray
    lower_m: FloatArray
    upper_m: FloatArray
    south: FloatArray  # of the box grown by the horizontal minimum
    north: FloatArray

    @classmethod
    def of(cls, items: Sequence[Prepared], grown: cells.Extents) -> _Query:
        parties, party = np.unique([p.ref.party for p in items], return_inverse=True)

        def arr(name: str) -> FloatArray:
            return np.array([getattr(p, name) for p in items], dtype=np.float64)

        return cls(
            party.astype(np.int64),
            [str(p) for p in parties],
            arr("start_s"),
            arr("end_s"),
            arr("lower_m"),
            arr("upper_m"),
            grown.south,
            grown.north,
        )


@dataclass(frozen=True, slots=True)
class _Pairs:
    """Candidate pairs: query volume ``owner``, stored volume ``volume_id`` with its window and
    band (which the candidate rows carry, so loading a footprint needs no time parsing)."""

    owner: IntArray
    volume_id: IntArray
    start_s: FloatArray
    end_s: FloatArray
    lower_m: FloatArray
    upper_m: FloatArray

    @classmethod
    def concat(cls, parts: Sequence[_Pairs]) -> _Pairs:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__slots__))

    def take(self, keep: IntArray | BoolArray) -> _Pairs:
        return _Pairs(*(getattr(self, f)[keep] for f in self.__slots__))


def near(
    conn: sa.Connection,
    items: Sequence[Prepared],
    sep: Separation,
    levels: set[tuple[int, int]],
    cache: PreparedCache,
    progress: Progress | None = None,
) -> Candidates:
    """Stored active volumes of other parties that could conflict with ``items`` (see module)."""
    if not items or not levels:
        return Candidates.none()
    ext = extents(items)
    query = _Query.of(items, ext.expanded(sep.horizontal_m, sep.time_s))
    parts = [_empty_pairs()]
    for keys, owner in cells.query_parts(
        ext, levels, horizontal_m=sep.horizontal_m, time_s=sep.time_s
    ):
        if len(np.unique(keys)) >= SCAN_KEYS:
            parts.append(_scan(conn, keys, owner, query, sep, progress))
            continue
        order = np.lexsort((keys, owner))  # by owner: a chunk's bounds then cover few volumes
        keys, owner = keys[order], owner[order]
        for lo in range(0, len(keys), CHUNK):
            parts.append(_fetch(conn, keys[lo : lo + CHUNK], owner[lo : lo + CHUNK], query, sep))
            if progress is not None:
                progress("candidates", min(lo + CHUNK, len(keys)), len(keys))
    return _candidates(conn, _Pairs.concat(parts), cache)


def _empty_pairs() -> _Pairs:
    i, f = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    return _Pairs(i, i, f, f, f, f)


def _bounds(owners: IntArray, q: _Query, sep: Separation) -> dict[str, object]:
    """The SQL filter parameters: the envelope of the ``owners``' bounds, grown by the minima."""
    return {
        "end_s": float(q.end_s[owners].max() + sep.time_s + TIME_SLACK_S),
        "start_s": float(q.start_s[owners].min() - sep.time_s - TIME_SLACK_S),
        "upper_m": float(q.upper_m[owners].max() + sep.vertical_m + BAND_SLACK_M),
        "lower_m": float(q.lower_m[owners].min() - sep.vertical_m - BAND_SLACK_M),
        "south": float(q.south[owners].min() - LAT_SLACK_DEG),
        "north": float(q.north[owners].max() + LAT_SLACK_DEG),
    }


def _fetch(
    conn: sa.Connection, keys: IntArray, owner: IntArray, q: _Query, sep: Separation
) -> _Pairs:
    """Candidate pairs for one chunk of keys; the SQL bounds are the envelope of its owners."""
    owners = np.unique(owner)
    params = {"keys": np.unique(keys).tolist(), **_bounds(owners, q, sep)}
    one_party = len(np.unique(q.party[owners])) == 1
    if one_party:
        params["party"] = q.parties[int(q.party[owners[0]])]
    found = conn.execute(CELL_ROWS_OTHER_PARTY if one_party else CELL_ROWS, params).all()
    if not found:
        return _empty_pairs()
    by_key = np.argsort(keys, kind="stable")
    return _join(keys[by_key], owner[by_key], found, q, sep)


def _scan(
    conn: sa.Connection,
    keys: IntArray,
    owner: IntArray,
    q: _Query,
    sep: Separation,
    progress: Progress | None,
) -> _Pairs:
    """Candidate pairs from one pass over the cell rows within the envelope of all ``items``."""
    by_key = np.argsort(keys, kind="stable")
    keys, owner = keys[by_key], owner[by_key]
    params = _bounds(np.arange(len(q.start_s)), q, sep)
    streamed = SCAN_ROWS_QUERY.execution_options(stream_results=True, yield_per=SCAN_ROWS)
    result = conn.execute(streamed, params)
    parts, seen = [_empty_pairs()], 0
    for rows in result.partitions():
        parts.append(_join(keys, owner, rows, q, sep))
        seen += len(rows)
        if progress is not None:
            progress("candidates (rows scanned)", seen, seen)
    return _Pairs.concat(parts)


def _join(
    keys: IntArray, owner: IntArray, found: Sequence[sa.Row[Any]], q: _Query, sep: Separation
) -> _Pairs:
    """Pair each fetched row with every query volume that asked for its cell (``keys`` sorted,
    ``owner`` in the same order); keep the pairs within that volume's own bounds."""
    cell, vol, party, *numbers = zip(*found, strict=True)
    start, end, lower, upper, south, north = (np.array(c, dtype=np.float64) for c in numbers)
    cell_arr = np.array(cell, dtype=np.int64)
    first = np.searchsorted(keys, cell_arr, side="left")
    count = np.searchsorted(keys, cell_arr, side="right") - first
    r, k = cells.ragged(count)
    a = owner[first[r] + k]
    index = {p: n for n, p in enumerate(q.parties)}
    row_party = np.array([index.get(p, -1) for p in party], dtype=np.int64)
    keep = (
        (row_party[r] != q.party[a])
        & (start[r] - q.end_s[a] < sep.time_s + TIME_SLACK_S)
        & (q.start_s[a] - end[r] < sep.time_s + TIME_SLACK_S)
        & (lower[r] - q.upper_m[a] < sep.vertical_m + BAND_SLACK_M)
        & (q.lower_m[a] - upper[r] < sep.vertical_m + BAND_SLACK_M)
        & (north[r] >= q.south[a] - LAT_SLACK_DEG)
        & (south[r] <= q.north[a] + LAT_SLACK_DEG)
    )
    a, r = a[keep], r[keep]
    vol_arr = np.array(vol, dtype=np.int64)
    return _Pairs(a, vol_arr[r], start[r], end[r], lower[r], upper[r])


def _candidates(conn: sa.Connection, pairs: _Pairs, cache: PreparedCache) -> Candidates:
    """Unique (owner, volume) pairs, with the stored volumes rebuilt from their columns."""
    if not len(pairs.owner):
        return Candidates.none()
    ids, first, j = np.unique(pairs.volume_id, return_index=True, return_inverse=True)
    n = len(ids)
    code = np.unique(pairs.owner * n + j.ravel())
    stored = _load(conn, ids, pairs.take(first), cache)
    alive = np.array([s is not None for s in stored], dtype=bool)
    code = code[alive[code % n]]
    remap = np.cumsum(alive) - 1
    return Candidates([s for s in stored if s is not None], ids[alive], code // n, remap[code % n])


def _load(
    conn: sa.Connection, ids: IntArray, window: _Pairs, cache: PreparedCache
) -> list[Prepared | None]:
    """The stored volumes ``ids`` as :class:`Prepared`, from the cache or rebuilt from their
    rows (None for an id without a row); ``window`` holds each one's window and band. The
    sharing of those rebuilt is cached as well (:meth:`PreparedCache.sharing`)."""
    out: list[Prepared | None] = [cache.get(v) for v in ids.tolist()]
    missing = [k for k, p in enumerate(out) if p is None]
    at = {int(ids[k]): k for k in missing}
    for lo in range(0, len(missing), CHUNK):
        chunk = [int(ids[k]) for k in missing[lo : lo + CHUNK]]
        for row in conn.execute(FOOTPRINTS, {"ids": chunk}).all():
            k = at[row.id]
            out[k] = _prepared(row, window, k)
            cache.put(row.id, out[k])
            # its sharing too, which a conflict with it needs (no round trip of its own later)
            cache.put_sharing(row.id, shared_with(row.shared_with))
    return out


def shared_with(column: str) -> tuple[str, ...] | None:
    """A notice's ``shared_with`` column (JSON): the parties it is shared with, None for all."""
    parties = json.loads(column)
    return None if parties is None else tuple(parties)


def _prepared(row: sa.Row[Any], window: _Pairs, k: int) -> Prepared:
    ring = np.frombuffer(row.ring, dtype=RING_DTYPE).reshape(-1, 2)
    box = Box(row.south, row.north, row.west, row.east)
    fp = Footprint(bool(row.is_circle), row.lon, row.lat, row.outer_m, row.inner_m, ring, box)
    return Prepared(
        VolumeRef(row.ref, row.idx, row.party_id),
        fp,
        float(window.lower_m[k]),
        float(window.upper_m[k]),
        float(window.start_s[k]),
        float(window.end_s[k]),
    )
