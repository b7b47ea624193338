"""Cell keys: the candidate index, the same in SQL tables and in memory.

Space and time are cut into cells at several levels. Space level s has square lat/lon cells of
360/1024·2^s degrees (0.35°, 0.7°, 1.4°, … up to one cell for the world at level 10); time level t
has buckets of 4 h·2^t (4 h, 8 h, 16 h, … ~7.5 years, then one bucket for all time). Levels double
rather than quadruple: on the benchmark's 100,000 volumes that gives a fifth fewer index hits.

A volume is *registered* at the finest space level whose cells are at least as large as its box
and the finest time level whose buckets are at least as long as its window, so it sits under at
most 2 × 2 × 2 keys. A *query* for a volume, its box and window expanded by the minima, asks at
every (s, t) level pair in use for every key they overlap. Two volumes that could conflict always
share a key: the index only narrows the candidates, the exact check decides.

A key packs (level pair, time bucket, row, column) into one non-negative 63-bit integer. Everything
here works on whole arrays of extents; one volume is an array of one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from deconfliction.geo.footprint import Box, grow_boxes
from deconfliction.types import BoolArray, FloatArray, IntArray

BASE_CELLS = 1024  # columns round the world at space level 0
SPACE_LEVELS = 11  # level 10 is the whole world in one cell
BASE_BUCKET_S = 4 * 3600
TIME_LEVELS = 16  # the last level is all time in one bucket
_BUCKET_BITS = 35
_BUCKET_OFFSET = 1 << 34
_LEVEL_SHIFT = _BUCKET_BITS + 20
_SIDES = np.array([360.0 / (BASE_CELLS >> s) for s in range(SPACE_LEVELS)])  # degrees
_BUCKETS = np.array([BASE_BUCKET_S * 2.0**t for t in range(TIME_LEVELS - 1)] + [np.inf])  # s


@dataclass(frozen=True, slots=True)
class Extents:
    """Boxes (degrees; ``west > east`` crosses the antimeridian) and windows (epoch seconds)."""

    south: FloatArray
    north: FloatArray
    west: FloatArray
    east: FloatArray
    start_s: FloatArray
    end_s: FloatArray

    @classmethod
    def of(cls, boxes: Sequence[Box], start_s: Sequence[float], end_s: Sequence[float]) -> Extents:
        def arr(values: Sequence[float]) -> FloatArray:
            return np.asarray(values, dtype=np.float64)

        return cls(
            arr([b.south for b in boxes]),
            arr([b.north for b in boxes]),
            arr([b.west for b in boxes]),
            arr([b.east for b in boxes]),
            arr(start_s),
            arr(end_s),
        )

    def __len__(self) -> int:
        return len(self.south)

    @property
    def full_lon(self) -> BoolArray:
        return (self.west == -180.0) & (self.east == 180.0)

    @property
    def lon_span(self) -> FloatArray:
        return np.where(self.full_lon, 360.0, (self.east - self.west) % 360.0)

    def expanded(self, horizontal_m: float, time_s: float) -> Extents:
        """Extents that hold every point within ``horizontal_m`` and ``time_s`` of these."""
        box = grow_boxes(self.south, self.north, self.west, self.east, horizontal_m)
        return Extents(*box, self.start_s - time_s, self.end_s + time_s)


def space_levels(ext: Extents) -> IntArray:
    """Per extent, the finest space level whose cells are at least as large as its box."""
    size = np.maximum(ext.north - ext.south, ext.lon_span)
    return np.searchsorted(_SIDES, size, side="left").astype(np.int64)


def time_levels(ext: Extents) -> IntArray:
    """Per extent, the finest time level whose buckets are at least as long as its window."""
    return np.searchsorted(_BUCKETS, ext.end_s - ext.start_s, side="left").astype(np.int64)


def ragged(counts: IntArray) -> tuple[IntArray, IntArray]:
    """For ragged blocks of ``counts`` items: each item's block and its index within the block."""
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    return owner, np.arange(int(counts.sum())) - first[owner]


def _grid(
    ext: Extents, s: IntArray, t: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Per extent at level pair (s, t): first row, rows, first column, columns, columns round
    the world, first bucket, buckets."""
    size = _SIDES[s]
    n_cols = np.rint(360.0 / size).astype(np.int64)
    top_row = np.maximum(0, np.ceil(180.0 / size).astype(np.int64) - 1)
    row0 = np.clip(np.floor((ext.south + 90.0) / size).astype(np.int64), 0, top_row)
    row1 = np.clip(np.floor((ext.north + 90.0) / size).astype(np.int64), 0, top_row)
    every_col = ext.full_lon | (n_cols == 1)
    col0 = np.where(every_col, 0, np.floor((ext.west + 180.0) / size)).astype(np.int64)
    col1 = np.floor((ext.west + 180.0 + ext.lon_span) / size).astype(np.int64)
    n_c = np.where(every_col, n_cols, np.minimum(col1 - col0 + 1, n_cols))
    all_time = t >= TIME_LEVELS - 1
    length = np.where(all_time, 1.0, _BUCKETS[t])
    b0 = np.where(all_time, 0, np.floor(ext.start_s / length)).astype(np.int64)
    n_b = np.where(all_time, 1, np.floor(ext.end_s / length).astype(np.int64) - b0 + 1)
    return row0, row1 - row0 + 1, col0, n_c, n_cols, b0, n_b


def keys(ext: Extents, s: IntArray, t: IntArray) -> tuple[IntArray, IntArray]:
    """Every key at level pair (s[i], t[i]) that extent i overlaps, with i; one pass for all."""
    row0, n_r, col0, n_c, n_cols, b0, n_b = _grid(ext, s, t)
    # expand bucket by bucket, then row by row, then column by column: three ragged expansions
    # with the key built up on the way, no division over the big arrays
    e1, kb = ragged(n_b)
    high = ((s * TIME_LEVELS + t)[e1] << _BUCKET_BITS | (b0[e1] + kb + _BUCKET_OFFSET)) << 20
    i2, kr = ragged(n_r[e1])
    e2 = e1[i2]
    high = high[i2] | (row0[e2] + kr) << 10
    i3, kc = ragged(n_c[e2])
    e3 = e2[i3]
    col = col0[e3] + kc
    wrap = n_cols[e3]
    col = np.where(col >= wrap, col - wrap, col)
    return high[i3] | col, e3


def register(ext: Extents) -> tuple[IntArray, IntArray]:
    """The keys each extent is stored under (at most 8 each), with the extent's index."""
    return keys(ext, space_levels(ext), time_levels(ext))


MAX_QUERY_KEYS = 4_000_000
"""Keys per part of a query (32 MB each for keys and owners), whatever the minima."""


def query(
    ext: Extents, levels: set[tuple[int, int]], *, horizontal_m: float, time_s: float
) -> tuple[IntArray, IntArray]:
    """The keys under which anything that could conflict with each extent is stored.

    ``levels`` are the (space, time) level pairs in use (:func:`levels_in` the stored keys).
    """
    parts = list(query_parts(ext, levels, horizontal_m=horizontal_m, time_s=time_s))
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return np.concatenate([k for k, _ in parts]), np.concatenate([o for _, o in parts])


def query_parts(
    ext: Extents,
    levels: set[tuple[int, int]],
    *,
    horizontal_m: float,
    time_s: float,
    max_keys: int = MAX_QUERY_KEYS,
) -> Iterator[tuple[IntArray, IntArray]]:
    """:func:`query` for runs of consecutive extents, each run asking at most ``max_keys`` keys
    (one extent alone may ask more), so that large minima cost time, not all the memory."""
    if not levels or not len(ext):
        return
    grown = ext.expanded(horizontal_m, time_s)
    pairs = np.array(sorted(levels), dtype=np.int64)
    n = len(ext)
    rows = np.tile(np.arange(n), len(pairs))  # every extent at every level pair
    s, t = np.repeat(pairs[:, 0], n), np.repeat(pairs[:, 1], n)
    _, n_r, _, n_c, _, _, n_b = _grid(_take(grown, rows), s, t)
    upto = np.cumsum(np.bincount(rows, weights=(n_r * n_c * n_b).astype(np.float64), minlength=n))
    start = 0
    while start < n:
        before = upto[start - 1] if start else 0.0
        stop = max(start + 1, int(np.searchsorted(upto, before + max_keys, side="right")))
        sel = np.flatnonzero((rows >= start) & (rows < stop))
        found, owner = keys(_take(grown, rows[sel]), s[sel], t[sel])
        yield found, rows[sel][owner]
        start = stop


def levels_in(stored: IntArray) -> set[tuple[int, int]]:
    """The (space, time) level pairs that the given keys belong to."""
    found = np.unique(np.asarray(stored, dtype=np.int64) >> _LEVEL_SHIFT)
    return {divmod(int(lv), TIME_LEVELS) for lv in found}


def _take(ext: Extents, idx: IntArray) -> Extents:
    return Extents(*(getattr(ext, f)[idx] for f in Extents.__slots__))
