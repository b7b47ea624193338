"""Candidate pairs for tactical detection: space-time boxes in a grid, then a joint time test.

The look-ahead is cut into ``slices`` of equal length. In each slice, each track's path (ECEF,
rotated so the tracks' mean direction is +z) and its altitude are boxed and widened by half
the minima (plus a bound on what the pair's tangent-plane projection hides, and a margin). Two
tracks can be in conflict only at a time t when both are within those minima, so their boxes of
the slice holding t overlap. Boxes of all slices are registered together in strips (grid cells
over slice, x, y and z); within a strip one sort by low altitude and a ``searchsorted`` give
every pair whose altitude ranges overlap (sweep and prune: level traffic is thin in altitude,
so this is the most selective axis), and a pair is kept in the strip holding its overlap's low
corner only.

Each such pair then gets the exact joint test in ECEF: the times in [0, look-ahead] when its
straight-line distance is within the horizontal reach, intersected with those when its altitude
difference is within the vertical minimum (always, for an unknown altitude). A pair with no such
time cannot conflict; otherwise it is kept in the one slice holding the first such time, which
makes every pair appear once without sorting. Pairs are formed and tested in bounded chunks,
so memory grows with tracks and candidates, not with tracks².
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from deconfliction.agreement import Tactical
from deconfliction.tactical.frame import WGS84_A_M, WGS84_F
from deconfliction.types import FloatArray, IntArray

if TYPE_CHECKING:
    from deconfliction.tactical.detect import Kinematics

UInt8Array = npt.NDArray[np.uint8]
_RHO_MIN_M = WGS84_A_M * (1 - WGS84_F * (2 - WGS84_F))  # meridional radius at the equator
_ALL_HOME = 0b111
_LEVEL_MPS = 1e-6  # BlueSky's threshold: smaller vertical-rate differences count as level
_MARGIN_M = 1.0  # boxes are this much wider than the joint test, which outweighs any rounding
_CHUNK_PAIRS = 1 << 16  # pairs formed at once: bounds memory, and keeps them in cache
_CELLS_PER_BOX = (1.0, 0.01)


def candidate_pairs(
    tracks: Kinematics,
    minima: Tactical,
    *,
    cells_per_box: tuple[float, float] | None = None,
    slices: int | None = None,
) -> tuple[IntArray, IntArray]:
    """Pairs (a, b), a < b, each once: a superset of all encounters (module docstring).

    ``slices`` cuts the look-ahead (default 2 at 10,000 tracks or fewer, up to 4 at 100,000:
    measured best on ``benchmarks/tactical.py``'s traffic, as is the grid); ``cells_per_box``
    sizes the grid as the median box divided by it, over ECEF x and y and over z (default
    (1, 0.01): z, along the tracks' mean vertical, is nearly flat for regional traffic).
    Neither changes the pairs returned, only how fast they come. Empty arrays for fewer than
    two tracks.
    """
    return _candidates(tracks, minima, cells_per_box, slices, across_parties_only=False)


def _candidates(
    tracks: Kinematics,
    minima: Tactical,
    cells_per_box: tuple[float, float] | None,
    slices: int | None,
    *,
    across_parties_only: bool,
) -> tuple[IntArray, IntArray]:
    n = len(tracks)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    k = slices if slices is not None else int(np.clip(round(2 + 2 * np.log10(n / 1e4)), 2, 4))
    per = cells_per_box if cells_per_box is not None else _CELLS_PER_BOX
    test = _JointTest(tracks, minima, k, across_parties_only)
    lo, hi = _slice_boxes(tracks, minima, k, test.reach_m, test.gap_m)
    row, strip, home = _register(*_cells(lo[:, :3], hi[:, :3], per, k, n))
    alt0 = lo[row, 3] - lo[:, 3].min()
    alt1 = alt0 + (hi[row, 3] - lo[row, 3])
    height = float(alt1.max()) + 1.0
    key = strip * height + alt0  # strips apart, then low altitude: one sort does both
    order = np.argsort(key)
    key, row, home = key[order], row[order], home[order]
    stop = np.searchsorted(key, key - alt0[order] + alt1[order], "right")
    found = [test(row, home, *chunk) for chunk in _pairs_until(stop)]
    a = np.concatenate([np.empty(0, np.int64), *(f[0] for f in found)])
    b = np.concatenate([np.empty(0, np.int64), *(f[1] for f in found)])
    return a, b


class _JointTest:
    """Which pairs of registrations are kept: once, across parties if asked, and in the slice
    holding the first time both their distance and altitude difference are within reach."""

    def __init__(self, tracks: Kinematics, minima: Tactical, slices: int, parties: bool) -> None:
        self.n, self.slices, self.parties = len(tracks), slices, parties
        self.look_s = minima.lookahead_s
        pos, vel = tracks.position_m, tracks.velocity_mps
        self.p = [np.ascontiguousarray(pos[:, i]) for i in range(3)]
        self.v = [np.ascontiguousarray(vel[:, i]) for i in range(3)]
        self.alt, self.vs, self.party = tracks.altitude_m, tracks.vertical_rate_mps, tracks.party
        speed = float(np.sqrt(np.einsum("ij,ij->i", vel, vel).max(initial=0.0)))
        self.reach_m = _horizontal_reach(minima, speed) + _MARGIN_M
        self.gap_m = minima.vertical_m * (1 + 1e-9) + _MARGIN_M + _LEVEL_MPS * self.look_s

    def __call__(
        self, row: IntArray, home: UInt8Array, first: int, partners: IntArray, q: IntArray
    ) -> tuple[IntArray, IntArray]:
        """Pairs (p, q) of sorted registrations, p from ``first`` on, each ``partners`` times."""
        keep = (np.repeat(home[first : first + partners.size], partners) | home[q]) == _ALL_HOME
        ra = np.repeat(row[first : first + partners.size], partners)[keep]
        rb = row[q[keep]]
        a, b = ra % self.n, rb % self.n
        if self.parties:
            pa, pb = self.party[a], self.party[b]
            keep = (pa != pb) | (pa < 0)
            ra, a, b = ra[keep], a[keep], b[keep]
        v_lo, v_hi = self._vertical(a, b)
        v_lo, v_hi = np.fmax(v_lo, 0.0), np.fmin(v_hi, self.look_s)  # NaN: unknown, inside
        keep = ~(v_lo > v_hi)
        ra, a, b, v_lo, v_hi = ra[keep], a[keep], b[keep], v_lo[keep], v_hi[keep]
        h_lo, h_hi = self._horizontal(a, b)
        t = np.maximum(h_lo, v_lo)
        t[~(t <= np.minimum(h_hi, v_hi))] = np.nan
        slot = np.minimum(t * (self.slices / self.look_s), self.slices - 1)
        keep = np.floor(slot) == ra // self.n  # NaN (no joint time) is never kept
        a, b = a[keep], b[keep]
        return np.minimum(a, b), np.maximum(a, b)

    def _horizontal(self, a: IntArray, b: IntArray) -> tuple[FloatArray, FloatArray]:
        """Times within the horizontal reach (straight ECEF distance); NaN for never."""
        p, v = self.p, self.v
        r = [p[i][b] - p[i][a] for i in range(3)]
        w = [v[i][a] - v[i][b] for i in range(3)]
        d2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2]
        rw = r[0] * w[0] + r[1] * w[1] + r[2] * w[2]
        w2 = w[0] * w[0] + w[1] * w[1] + w[2] * w[2]
        c = d2 - self.reach_m * self.reach_m
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            s = np.sqrt(rw * rw - w2 * c)  # NaN: never within reach
            lo = (rw - s) / w2
            hi = (rw + s) / w2
        still = w2 == 0
        if still.any():  # keeps its distance: within reach always or never
            lo[still] = np.where(c[still] <= 0, -np.inf, np.nan)
            hi[still] = np.where(c[still] <= 0, np.inf, np.nan)
        return lo, hi

    def _vertical(self, a: IntArray, b: IntArray) -> tuple[FloatArray, FloatArray]:
        """Times within the vertical gap, NaN for an unknown altitude (never cleared).

        BlueSky counts |dvs| ≤ 1e-6 m/s as level (inside for ever when inside now); the gap's
        margin (1 m + 1e-6 m/s × look-ahead) outlasts such a drift over the look-ahead, and an
        exactly level pair divides by zero into (−∞, ∞) inside, or an empty (±∞, ±∞) outside.
        """
        dalt = self.alt[a] - self.alt[b]
        dvs = self.vs[a] - self.vs[b]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t1 = (-dalt - self.gap_m) / dvs
            t2 = (-dalt + self.gap_m) / dvs
        return np.minimum(t1, t2), np.maximum(t1, t2)


def _slice_boxes(
    tracks: Kinematics, minima: Tactical, slices: int, reach_m: float, gap_m: float
) -> tuple[FloatArray, FloatArray]:
    """Low and high corners (slices · n, 4) of each track's path in each slice, ECEF (rotated)
    × altitude, widened so that two tracks within reach at a time of the slice overlap."""
    look = minima.lookahead_s
    t = look * np.arange(slices + 1) / slices
    turn = _facing(tracks.position_m)
    p = (tracks.position_m @ turn.T)[None] + (tracks.velocity_mps @ turn.T)[None] * t[:, None, None]
    alt = tracks.altitude_m[None] + tracks.vertical_rate_mps[None] * t[:, None]
    n = len(tracks)
    lo = np.empty((slices, n, 4))
    hi = np.empty((slices, n, 4))
    half = 0.5 * (reach_m + _MARGIN_M)
    np.subtract(np.minimum(p[:-1], p[1:]), half, out=lo[:, :, :3])
    np.add(np.maximum(p[:-1], p[1:]), half, out=hi[:, :, :3])
    known = ~np.isnan(tracks.altitude_m)
    top = float(np.max(alt[:, known], initial=0.0))
    bottom = float(np.min(alt[:, known], initial=0.0))
    slack = 0.5 * (gap_m + _MARGIN_M) + _LEVEL_MPS * look
    lo[:, :, 3] = np.where(known, np.minimum(alt[:-1], alt[1:]), bottom) - slack
    hi[:, :, 3] = np.where(known, np.maximum(alt[:-1], alt[1:]), top) + slack
    return lo.reshape(-1, 4), hi.reshape(-1, 4)


def _facing(position_m: FloatArray) -> FloatArray:
    """A rotation that turns the tracks' mean direction to +z, so that a regional cloud of
    tracks lies nearly flat in x, y and its boxes are not inflated by the tilt of the ground."""
    z = position_m.mean(axis=0)
    norm = float(np.linalg.norm(z))
    z = z / norm if norm > 0 else np.array([0.0, 0.0, 1.0])
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z])


def _horizontal_reach(minima: Tactical, max_speed_mps: float) -> float:
    """How close in ECEF two tracks must come for the projected distance to be below R.

    The projection hides the component along the midpoint normal: at most the chord's sag
    (|r|²/2ρ) plus the velocities' tilt against that normal over the look-ahead; with
    D = R + 2·v·T bounding |r| for any pair that can conflict, z ≤ (D² + 2vT·D)/2ρ.
    """
    sweep = 2 * max_speed_mps * minima.lookahead_s
    reach = minima.horizontal_m + sweep
    z = 1.1 * (reach * reach + sweep * reach) / (2 * _RHO_MIN_M)
    return float(np.hypot(minima.horizontal_m, z)) * (1 + 1e-9) + 1e-3


def _cells(
    lo: FloatArray, hi: FloatArray, cells_per_box: tuple[float, float], slices: int, n: int
) -> tuple[IntArray, IntArray, IntArray, int]:
    """First and last cell (rows, 3) of each box over x, y and z, and the cell counts
    (slice, x, y, z) that make a strip number."""
    per = np.array([cells_per_box[0]] * 2 + [cells_per_box[1]])
    origin = lo.min(axis=0)
    extent = hi.max(axis=0) - origin
    step = max(1, lo.shape[0] // 4096)  # the median of a sample sizes the grid well enough
    size = np.maximum(np.median(hi[::step] - lo[::step], axis=0) / per, extent / 30_000)
    first = np.floor((lo - origin) / size).astype(np.int64)
    last = np.floor((hi - origin) / size).astype(np.int64)
    counts = np.r_[slices, last.max(axis=0) + 1].astype(np.int64)
    return first, last, counts, n


def _register(
    first: IntArray, last: IntArray, counts: IntArray, n: int
) -> tuple[IntArray, IntArray, UInt8Array]:
    """Every (box row, strip) with the strip's cell inside the box's cells, and a bit per
    dimension telling whether the cell is the box's first in it: a pair's overlap has its low
    corner in a shared cell exactly when, in every dimension, one of the two starts there."""
    span = last - first + 1
    count = np.prod(span, axis=1)
    row = np.repeat(np.arange(first.shape[0]), count)
    k = np.arange(row.size) - np.repeat(np.cumsum(count) - count, count)
    strip = row // n
    home = np.zeros(row.size, np.uint8)
    for dim in range(3):
        s = span[row, dim]
        step = k % s
        strip = strip * counts[dim + 1] + first[row, dim] + step
        home |= (step == 0).astype(np.uint8) << dim
        k //= s
    return row, strip, home


def _pairs_until(stop: IntArray) -> Iterator[tuple[int, IntArray, IntArray]]:
    """Positions (p, q) with p < q < stop[p], in chunks of about ``_CHUNK_PAIRS`` pairs: each
    chunk is its first p, how many q each p from there has, and the q in order."""
    partners = np.maximum(stop - np.arange(stop.size) - 1, 0)
    ends = np.cumsum(partners)
    if ends[-1] == 0:
        return
    cuts = np.searchsorted(ends, np.arange(_CHUNK_PAIRS, int(ends[-1]), _CHUNK_PAIRS), "right")
    for s, e in zip(np.r_[0, cuts], np.r_[cuts, stop.size], strict=True):
        part = partners[s:e]
        total = int(part.sum())
        base = np.arange(s + 1, e + 1) - (np.cumsum(part) - part)
        yield int(s), part, np.arange(total) + np.repeat(base, part)
