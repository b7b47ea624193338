"""Candidate pairs for tactical detection: space-time boxes in a grid, then a joint time test.

The look-ahead is cut into ``slices`` of equal length. In each slice, each track's path (ECEF,
rotated so the tracks' mean direction is +z) and its altitude are boxed and widened by half
the minima (plus a bound on what the pair's tangent-plane projection hides, and a margin). Two
tracks can be in conflict only at a time t when both are within those minima, so their boxes of
the slice holding t overlap. Boxes of all slices are registered together in strips (grid cells
over slice, x, y and z) and sorted by strip, then low altitude (one sort key); a sweep from each
registration over the next ones while their low altitude is within its altitude range gives
every pair whose altitude ranges overlap in a strip (sweep and prune: level traffic is thin in
altitude, so this is the most selective axis), and a pair is kept in the strip holding its
overlap's low corner only: each registration has a bit per dimension telling whether the
strip's cell is the box's first in it, and the overlap's low corner is in a shared cell exactly
when, in every dimension, one of the two starts there.

Each such pair then gets the exact joint test in ECEF: the times in [0, look-ahead] when its
straight-line distance is within the horizontal reach, intersected with those when its altitude
difference is within the vertical minimum (always, for an unknown altitude). A pair with no such
time cannot conflict; otherwise it is kept in the one slice holding the first such time, which
makes every pair appear once without sorting. So the pairs returned are exactly those with such
a time, whatever the slices and the grid, which only change how fast they come.

Registration, the sort's permutation, the sweep and the joint test are compiled loops
(:mod:`deconfliction.tactical._kernels`): one pass over the pairs, with no arrays of pairs
beyond the candidates kept, so memory grows with tracks and candidates, not with tracks².
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from deconfliction.agreement import Tactical
from deconfliction.tactical.frame import WGS84_A_M, WGS84_F
from deconfliction.types import FloatArray, IntArray

if TYPE_CHECKING:
    from deconfliction.tactical.detect import Kinematics

_RHO_MIN_M = WGS84_A_M * (1 - WGS84_F * (2 - WGS84_F))  # meridional radius at the equator
_LEVEL_MPS = 1e-6  # BlueSky's threshold: smaller vertical-rate differences count as level
_MARGIN_M = 1.0  # boxes are this much wider than the joint test, which outweighs any rounding
_CELLS_PER_BOX = (0.7, 0.01)


def candidate_pairs(
    tracks: Kinematics,
    minima: Tactical,
    *,
    cells_per_box: tuple[float, float] | None = None,
    slices: int | None = None,
) -> tuple[IntArray, IntArray]:
    """Pairs (a, b), a < b, each once: a superset of all encounters (module docstring).

    ``slices`` cuts the look-ahead (default 2 up to 100,000 tracks, 3 at 300,000, at most 4:
    measured best on ``benchmarks/tactical.py``'s traffic, as is the grid); ``cells_per_box``
    sizes the grid as the median box divided by it, over ECEF x and y and over z (default
    (0.7, 0.01): z, along the tracks' mean vertical, is nearly flat for regional traffic).
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
    from deconfliction.tactical import _kernels  # numba: imported on the first detection

    n = len(tracks)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    k = slices if slices is not None else int(np.clip(round(2 + 2 * np.log10(n / 1e5)), 2, 4))
    per = cells_per_box if cells_per_box is not None else _CELLS_PER_BOX
    look = minima.lookahead_s
    vel = tracks.velocity_mps
    speed = float(np.sqrt(np.einsum("ij,ij->i", vel, vel).max(initial=0.0)))
    reach_m = _horizontal_reach(minima, speed) + _MARGIN_M
    gap_m = minima.vertical_m * (1 + 1e-9) + _MARGIN_M + _LEVEL_MPS * look
    lo, hi = _slice_boxes(tracks, minima, k, reach_m, gap_m)
    alt0 = lo[:, 3] - lo[:, 3].min()
    alt1 = alt0 + (hi[:, 3] - lo[:, 3])
    height = float(alt1.max()) + 1.0  # key: strip · height + alt0, so strips stay apart
    first, last, counts = _cells(lo[:, :3], hi[:, :3], per, k)
    key, end, track, slot, home = _kernels.register(first, last, counts, n, alt0, alt1, height)
    key, end, track, slot, home = _kernels.permute(np.argsort(key), key, end, track, slot, home)
    table = np.empty((n, 8))  # a track's row holds all the joint test reads of it
    table[:, 0:3] = tracks.position_m
    table[:, 3:6] = vel
    table[:, 6] = tracks.altitude_m
    table[:, 7] = tracks.vertical_rate_mps
    party = np.ascontiguousarray(tracks.party, dtype=np.int64)
    return _kernels.sweep(
        key, end, track, slot, home, table, party, across_parties_only, reach_m, gap_m, look, k
    )


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
    lo: FloatArray, hi: FloatArray, cells_per_box: tuple[float, float], slices: int
) -> tuple[IntArray, IntArray, IntArray]:
    """First and last cell (rows, 3) of each box over x, y and z, and the cell counts
    (slice, x, y, z) that make a strip number."""
    per = np.array([cells_per_box[0]] * 2 + [cells_per_box[1]])
    origin = np.array([lo[:, i].min() for i in range(3)])  # by column: 20× faster than axis=0
    extent = np.array([hi[:, i].max() for i in range(3)]) - origin
    step = max(1, lo.shape[0] // 4096)  # the median of a sample sizes the grid well enough
    size = np.maximum(np.median(hi[::step] - lo[::step], axis=0) / per, extent / 30_000)
    first = np.floor((lo - origin) / size).astype(np.int64)
    last = np.floor((hi - origin) / size).astype(np.int64)
    counts = np.r_[slices, [last[:, i].max() + 1 for i in range(3)]].astype(np.int64)
    return first, last, counts
