"""The conflict rule, applied exactly to whole arrays of candidate pairs.

Volumes a and b conflict when their parties differ and the horizontal distance, the vertical gap and
the time gap between them are each strictly below the agreed minimum (a pair exactly at a minimum is
separated). Gaps are compared at millimetre and microsecond resolution, so that a band given in feet
that sits exactly 2,000 ft above another is exactly 609.6 m above it, not 609.5999999.

Pairs are decided cheapest first: time and altitude, then the triangle inequality on centres and
radii (which settles every circle pair exactly), then the exact distance for what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from deconfliction.agreement import Separation
from deconfliction.errors import InvalidInput, NoticeError
from deconfliction.geo.distance import pair_distances_m
from deconfliction.geo.footprint import Footprint, footprints
from deconfliction.geo.frame import distance_m
from deconfliction.geo.volume import Volume
from deconfliction.strategic import cells
from deconfliction.strategic.notice import Notice
from deconfliction.types import BoolArray, FloatArray, IntArray
from deconfliction.utc import rfc3339

EARLIEST, LATEST = "1970-01-01T00:00:00Z", "2200-01-01T00:00:00Z"
EARLIEST_S, LATEST_S = 0.0, 7_258_118_400.0
MAX_WINDOW_S = 366 * 86_400.0
"""A window of a year at most: the index's cost grows with a window's length (a key per 4 h at
the finest time level), so a century-long window would cost gigabytes to check."""
MAX_VOLUMES_PER_NOTICE = 100
MIN_ALTITUDE_M = -1_000.0  # below the Dead Sea shore, above the deepest mine
MAX_ALTITUDE_M = 100_000.0  # the Kármán line


@dataclass(frozen=True, slots=True)
class VolumeRef:
    """Which volume: the notice's reference, the volume's index in it, and the owning party."""

    notice: str
    volume: int
    party: str


@dataclass(slots=True, eq=False)  # not frozen: frozen __init__ costs ~1 µs a field
class Prepared:
    """A validated volume with its footprint, ready for detection (times in epoch seconds)."""

    ref: VolumeRef
    footprint: Footprint
    lower_m: float
    upper_m: float
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two volumes of different parties closer than the minima in all three dimensions."""

    a: VolumeRef
    b: VolumeRef
    start: datetime
    end: datetime
    horizontal_m: float
    vertical_m: float
    time_gap_s: float

    def to_json(self) -> dict[str, object]:
        """The DESIGN.md conflict line."""
        return _line(
            _side(self.a),
            _side(self.b),
            rfc3339(self.start),
            rfc3339(self.end),
            self.horizontal_m,
            self.vertical_m,
            self.time_gap_s,
        )


def _side(r: VolumeRef) -> dict[str, object]:
    return {"notice": r.notice, "volume": r.volume, "party": r.party}


def _line(
    a: dict[str, object],
    b: dict[str, object],
    start: str,
    end: str,
    horizontal_m: float,
    vertical_m: float,
    time_gap_s: float,
    conflict_id: int | None = None,
) -> dict[str, object]:
    line: dict[str, object] = {
        "id": conflict_id,  # first when there is one, as the API lists it
        "a": a,
        "b": b,
        "start": start,
        "end": end,
        "horizontal_m": horizontal_m,
        "vertical_m": vertical_m,
        "time_gap_s": time_gap_s,
    }
    if conflict_id is None:
        del line["id"]
    return line


@dataclass(frozen=True, slots=True, eq=False)
class Conflicts:
    """Conflicts column by column: what :func:`decide` finds before it makes a
    :class:`Conflict` of each. The filing path works on the columns: a busy cell's filing brings
    hundreds of conflicts, and making, sorting and taking apart an object per conflict cost a
    fifth of the filing."""

    a: list[VolumeRef]
    b: list[VolumeRef]
    start: list[datetime]
    end: list[datetime]
    horizontal_m: list[float]
    vertical_m: list[float]
    time_gap_s: list[float]

    def __len__(self) -> int:
        return len(self.a)

    @classmethod
    def none(cls) -> Conflicts:
        return cls([], [], [], [], [], [], [])

    @classmethod
    def concat(cls, parts: Sequence[Conflicts]) -> Conflicts:
        return cls(*([x for p in parts for x in getattr(p, f)] for f in cls.__slots__))

    def to_list(self) -> list[Conflict]:
        return [Conflict(*row) for row in zip(*self._columns(), strict=True)]

    def take(self, order: Sequence[int]) -> Conflicts:
        """The conflicts at positions ``order``, in that order."""
        return Conflicts(*([column[k] for k in order] for column in self._columns()))

    def _columns(self) -> tuple[list[Any], ...]:
        return tuple(getattr(self, f) for f in self.__slots__)

    def lines(self, ids: Sequence[int]) -> list[dict[str, object]]:
        """Each conflict's DESIGN.md line, as :meth:`Conflict.to_json` writes it, led by its
        ``id``. The sides and times of conflicts that share a volume or an instant are written
        once and shared: the lines are to be read, not changed."""
        # keyed by identity: the refs of one volume are one object, and a VolumeRef hashes
        # by value in Python, slowly
        sides: dict[int, dict[str, object]] = {}
        for r in (*self.a, *self.b):
            if id(r) not in sides:
                sides[id(r)] = _side(r)
        times = {t: rfc3339(t) for t in {*self.start, *self.end}}
        return [
            _line(sides[id(a)], sides[id(b)], times[s0], times[e0], d, v, g, conflict_id)
            for conflict_id, a, b, s0, e0, d, v, g in zip(ids, *self._columns(), strict=True)
        ]


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def prepare(notice: Notice) -> list[Prepared]:
    """Validate every volume of a notice; the error names the notice, the volume and the field."""
    return prepare_many([notice])


def prepare_many(notices: Sequence[Notice]) -> list[Prepared]:
    """Validate all volumes of all notices at once (outlines as whole arrays), in order.

    The first invalid volume, in notice order, raises :class:`NoticeError`.
    """
    for n in notices:
        if not n.volumes:
            raise NoticeError("a notice needs at least one volume", notice=n.ref)
        if len(n.volumes) > MAX_VOLUMES_PER_NOTICE:
            raise NoticeError(
                f"{len(n.volumes)} volumes; at most {MAX_VOLUMES_PER_NOTICE} per notice",
                notice=n.ref,
            )
    flat = [(n, i, v) for n in notices for i, v in enumerate(n.volumes)]
    shapes = footprints([v.outline for _, _, v in flat])
    lower = np.fromiter((v.lower_m for _, _, v in flat), np.float64, len(flat))
    upper = np.fromiter((v.upper_m for _, _, v in flat), np.float64, len(flat))
    naive = any(v.start.tzinfo is None or v.end.tzinfo is None for _, _, v in flat)
    start = np.fromiter((0.0 if naive else _epoch_s(v.start) for _, _, v in flat), np.float64)
    end = np.fromiter((0.0 if naive else _epoch_s(v.end) for _, _, v in flat), np.float64)
    with np.errstate(invalid="ignore"):
        fine = (lower >= MIN_ALTITUDE_M) & (upper <= MAX_ALTITUDE_M) & (lower < upper)
    fine &= (end > start) & np.array([not isinstance(fp, InvalidInput) for fp in shapes])
    fine &= (start >= EARLIEST_S) & (end <= LATEST_S) & (end - start <= MAX_WINDOW_S)
    if naive or not fine.all():
        _raise_first(flat, shapes, 0 if naive else int(np.flatnonzero(~fine)[0]))
    return [
        Prepared(VolumeRef(n.ref, i, n.party), fp, v.lower_m, v.upper_m, s0, e0)  # type: ignore[arg-type]
        for (n, i, v), fp, s0, e0 in zip(flat, shapes, start.tolist(), end.tolist(), strict=True)
    ]


def _raise_first(
    flat: list[tuple[Notice, int, Volume]], shapes: list[Footprint | InvalidInput], first: int
) -> None:
    """Raise the error of the first invalid volume at or after ``first``, naming it."""
    for (n, i, v), fp in zip(flat[first:], shapes[first:], strict=True):
        try:
            _check_band_and_window(v.lower_m, v.upper_m, v.start, v.end)
            if isinstance(fp, InvalidInput):
                raise fp
        except InvalidInput as exc:
            raise NoticeError(exc.reason, notice=n.ref, volume=i, field=exc.field) from None


def _check_band_and_window(lower: float, upper: float, start: datetime, end: datetime) -> None:
    for name, value in (("lower_m", lower), ("upper_m", upper)):
        if not np.isfinite(value):
            raise InvalidInput("must be a finite number", field=name)
        if not MIN_ALTITUDE_M <= value <= MAX_ALTITUDE_M:
            raise InvalidInput(
                f"{value} m is outside [{MIN_ALTITUDE_M:.0f}, {MAX_ALTITUDE_M:.0f}]", field=name
            )
    if lower >= upper:
        raise InvalidInput(f"lower ({lower} m) must be below upper ({upper} m)", field="lower_m")
    for name, t in (("start", start), ("end", end)):
        if t.tzinfo is None:
            raise InvalidInput(
                "needs a UTC offset (RFC 3339), e.g. 2015-10-21T06:00:00Z", field=name
            )
    for name, t in (("start", start), ("end", end)):
        if not EARLIEST_S <= _epoch_s(t) <= LATEST_S:
            raise InvalidInput(f"must be between {EARLIEST} and {LATEST}", field=name)
    if end <= start:
        raise InvalidInput(
            f"end ({rfc3339(end)}) must be after start ({rfc3339(start)})", field="end"
        )
    if (end - start).total_seconds() > MAX_WINDOW_S:
        raise InvalidInput(
            f"a window lasts at most {MAX_WINDOW_S / 86_400:.0f} days; file a longer activity as "
            "several volumes",
            field="end",
        )


def _epoch_s(t: datetime) -> float:
    """Seconds since 1970 UTC; NaN for an instant outside Python's calendar once in UTC."""
    try:
        return t.timestamp()
    except (OverflowError, ValueError):
        return float("nan")


@dataclass(frozen=True, slots=True, eq=False)
class Batch:
    """Prepared volumes with their numeric fields as arrays, built once for many pairs."""

    items: Sequence[Prepared]
    lower: FloatArray
    upper: FloatArray
    start: FloatArray
    end: FloatArray
    lon: FloatArray
    lat: FloatArray
    outer: FloatArray
    inner: FloatArray
    is_circle: BoolArray
    party: npt.NDArray[np.object_]
    party_code: IntArray  # the party as an index into the sorted parties of this batch

    @classmethod
    def of(cls, items: Sequence[Prepared] | Batch) -> Batch:
        if isinstance(items, Batch):
            return items

        def col(name: str, of_footprint: bool = False) -> FloatArray:
            get = attrgetter(f"footprint.{name}" if of_footprint else name)
            return np.fromiter((get(p) for p in items), np.float64, len(items))

        party = np.array([p.ref.party for p in items], dtype=object)
        code = np.unique(party, return_inverse=True)[1] if len(party) else party
        return cls(
            items,
            col("lower_m"),
            col("upper_m"),
            col("start_s"),
            col("end_s"),
            col("lon", True),
            col("lat", True),
            col("outer_m", True),
            col("inner_m", True),
            col("is_circle", True).astype(bool),
            party,
            np.asarray(code, dtype=np.int64).ravel(),
        )

    def __len__(self) -> int:
        return len(self.items)


def decide(
    xs: Sequence[Prepared] | Batch,
    ys: Sequence[Prepared] | Batch,
    i: IntArray,
    j: IntArray,
    sep: Separation,
) -> list[Conflict]:
    """The conflicts among candidate pairs (xs[i[k]], ys[j[k]]), in the order of the pairs."""
    return decide_columns(xs, ys, i, j, sep)[2].to_list()


def decide_columns(
    xs: Sequence[Prepared] | Batch,
    ys: Sequence[Prepared] | Batch,
    i: IntArray,
    j: IntArray,
    sep: Separation,
) -> tuple[IntArray, IntArray, Conflicts]:
    """:func:`decide` as columns, with the pairs that conflict (their ``i`` and ``j``)."""
    if len(i) == 0:
        return i, j, Conflicts.none()
    cx, cy = Batch.of(xs), Batch.of(ys)
    vgap = np.round(
        np.maximum(
            0.0, np.maximum(cx.lower[i], cy.lower[j]) - np.minimum(cx.upper[i], cy.upper[j])
        ),
        3,
    )
    lo, hi = np.maximum(cx.start[i], cy.start[j]), np.minimum(cx.end[i], cy.end[j])
    tgap = np.round(np.maximum(0.0, lo - hi), 6)
    keep = (vgap < sep.vertical_m) & (tgap < sep.time_s)
    keep &= (cx.party_code[i] != cy.party_code[j]) if cx is cy else (cx.party[i] != cy.party[j])
    i, j, vgap, lo, hi, tgap = i[keep], j[keep], vgap[keep], lo[keep], hi[keep], tgap[keep]
    h = _horizontal(cx, cy, i, j, sep.horizontal_m)
    hit = h < sep.horizontal_m
    i, j, h, vgap, tgap = i[hit], j[hit], h[hit], vgap[hit], tgap[hit]
    xi, yj = cx.items, cy.items
    return (
        i,
        j,
        Conflicts(
            [xi[k].ref for k in i.tolist()],
            [yj[k].ref for k in j.tolist()],
            _utc_many(np.minimum(lo[hit], hi[hit])),
            _utc_many(np.maximum(lo[hit], hi[hit])),
            h.tolist(),
            vgap.tolist(),
            tgap.tolist(),
        ),
    )


def _utc_many(epoch_s: FloatArray) -> list[datetime]:
    """Epoch seconds to aware UTC datetimes, to the microsecond, in one array conversion; each
    distinct instant made once (a busy cell's conflicts share a few)."""
    distinct, back = np.unique(
        np.round(epoch_s * 1e6).astype("datetime64[us]"), return_inverse=True
    )
    made = [t.replace(tzinfo=UTC) for t in distinct.astype(object)]
    return [made[k] for k in back.tolist()]


def _horizontal(
    cx: Batch,
    cy: Batch,
    i: IntArray,
    j: IntArray,
    horizontal_m: float,
) -> FloatArray:
    """Horizontal distance for each pair, exact wherever it matters against ``horizontal_m``.

    Pairs the triangle inequality proves apart keep that lower bound (it is at or above the
    minimum); pairs whose inner discs overlap are 0; the rest are measured exactly.
    """
    dc = distance_m(cx.lon[i], cx.lat[i], cy.lon[j], cy.lat[j])
    lower = np.maximum(0.0, dc - cx.outer[i] - cy.outer[j])
    out = np.round(lower, 3)
    overlap: BoolArray = dc < cx.inner[i] + cy.inner[j]
    out[overlap] = 0.0
    circles = cx.is_circle[i] & cy.is_circle[j]
    todo = np.flatnonzero(~circles & ~overlap & (lower < horizontal_m))
    if len(todo):
        exact = pair_distances_m(
            [cx.items[i[k]].footprint for k in todo],
            [cy.items[j[k]].footprint for k in todo],
            refine_below_m=horizontal_m * 1.01 + 10.0,
        )
        out[todo] = np.round(exact, 3)
    return out


def find_conflicts(items: Sequence[Prepared], sep: Separation) -> list[Conflict]:
    """Every conflict among ``items`` (volumes of one party never conflict with each other).

    Each pair appears once, the volume that comes first in ``items`` as ``a``.
    """
    return find_conflict_columns(items, sep)[2].to_list()


def find_conflict_columns(
    items: Sequence[Prepared], sep: Separation
) -> tuple[IntArray, IntArray, Conflicts]:
    """:func:`find_conflicts` as columns, with the pairs that conflict (indices into ``items``)."""
    batch = Batch.of(items)
    i, j = candidate_pairs(batch, sep)
    return decide_columns(batch, batch, i, j, sep)


def extents(items: Sequence[Prepared]) -> cells.Extents:
    """The index's view of the items: boxes and windows."""
    return cells.Extents.of(
        [p.footprint.box for p in items], [p.start_s for p in items], [p.end_s for p in items]
    )


def candidate_pairs(
    items: Sequence[Prepared] | Batch, sep: Separation
) -> tuple[IntArray, IntArray]:
    """Pairs (i < j) of different parties that share a cell key and are within the time and
    vertical minima: a superset of the conflicting pairs."""
    empty = np.empty(0, dtype=np.int64)
    if len(items) < 2:
        return empty, empty
    cols = Batch.of(items)
    ext = extents(cols.items)
    reg_keys, reg_owner = cells.register(ext)
    order = np.argsort(reg_keys, kind="stable")
    reg_keys, reg_owner = reg_keys[order], reg_owner[order]
    levels = cells.levels_in(reg_keys)
    found = [
        _near_pairs(cols, reg_keys, reg_owner, q_keys, q_owner, sep)
        for q_keys, q_owner in cells.query_parts(
            ext, levels, horizontal_m=sep.horizontal_m, time_s=sep.time_s
        )
    ]
    pair = np.concatenate(found) if found else empty  # parts hold ascending runs of a: sorted
    return pair // len(items), pair % len(items)


def _near_pairs(
    cols: Batch,
    reg_keys: IntArray,
    reg_owner: IntArray,
    q_keys: IntArray,
    q_owner: IntArray,
    sep: Separation,
) -> IntArray:
    """Candidate pairs (as ``a * n + b``, sorted, unique) of one part of the query."""
    lo = np.searchsorted(reg_keys, q_keys, side="left")
    counts = np.searchsorted(reg_keys, q_keys, side="right") - lo
    block, k = cells.ragged(counts)
    a, b = q_owner[block], reg_owner[lo[block] + k]
    # filter in stages, cheapest and most selective first: each stage gathers fewer columns
    keep = np.flatnonzero(a < b)
    a, b = a[keep], b[keep]
    keep = np.flatnonzero(
        (cols.start[b] - cols.end[a] < sep.time_s + 1e-6)
        & (cols.start[a] - cols.end[b] < sep.time_s + 1e-6)
    )
    a, b = a[keep], b[keep]
    near = (
        (cols.lower[b] - cols.upper[a] < sep.vertical_m + 1e-3)
        & (cols.lower[a] - cols.upper[b] < sep.vertical_m + 1e-3)
        & (cols.party_code[a] != cols.party_code[b])
    )
    pair = np.sort(a[near] * len(cols) + b[near])
    if len(pair):
        pair = pair[np.concatenate([[True], pair[1:] != pair[:-1]])]
    return pair
