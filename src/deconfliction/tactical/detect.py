"""State-based conflict detection between tracks: BlueSky's rule, over arrays, without tracks².

The rule is BlueSky's state-based detection (``bluesky/traffic/asas/cstatebased``), pair by pair:

* horizontally, straight-line motion from the current states; with r the relative position,
  w the relative velocity and R the horizontal minimum: ``tcpa = r·w/|w|²``,
  ``dcpa² = |r|² − (r·w)·tcpa``, and the pair is inside R between ``tin = tcpa − Δ`` and
  ``tout = tcpa + Δ``, ``Δ = √(max(R² − dcpa², 0)/|w|²)``. A pair that is separated and diverging
  (``r·w < 0``) has no horizontal conflict; otherwise one exists when it is inside now (d < R) or
  ``tin ≤ lookahead``;
* vertically, with dalt the altitude difference, dvs the vertical-rate difference and H the
  vertical minimum: for ``|dvs| > 1e-6`` the pair is inside between the two crossing times of
  ±H, ``tin = max(0, earlier)``, ``tout = later``, and it counts when ``tin ≤ lookahead`` and
  ``tout > 0``; for level pairs only ``|dalt| < H`` counts (``tin = 0``, ``tout = ∞``);
* combined: ``tin = max(tin_h, tin_v)``, ``tout = min(tout_h, tout_v)``, a conflict when
  ``tin ≤ lookahead``, ``tin < tout`` and ``tout > 0``. ``los`` is ``d < R and |dalt| < H`` now.

Where BlueSky is undefined we take the limit: with exactly zero relative horizontal velocity
its compiled detector divides 0 by 0 and drops the pair even in loss of separation; here such a
pair keeps its distance for ever (``tcpa = 0``), as BlueSky's Python detector effectively does.
A track without altitude is treated as level with everyone (it cannot be cleared vertically).

Geometry: see :mod:`deconfliction.tactical.frame`. A pair's relative position (the ECEF chord
between the two ground points) and relative velocity are projected on the plane normal to the
ellipsoid at the pair's midpoint, which is BlueSky's flat-earth frame made local to each pair:
exact distance now to within d³/24ρ² (under 1 mm at 9,260 m), no seam at the antimeridian or the
poles, and straight-line motion in that plane for the look-ahead.

Candidates: each track's path over the look-ahead, in ECEF and altitude, is boxed and widened by
half the minima (plus a bound on what the projection hides); two tracks can conflict only if
their boxes meet. Boxes go into a uniform grid of ECEF × altitude cells, pairs are drawn within
cells, and each pair is kept in one cell only (the one holding the low corner of the two boxes'
overlap), so memory grows with tracks and candidate pairs, never with tracks².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deconfliction.agreement import Tactical
from deconfliction.tactical.frame import WGS84_A_M, WGS84_F
from deconfliction.types import BoolArray, FloatArray, IntArray

_B2_OVER_A2 = (1 - WGS84_F) ** 2
_RHO_MIN_M = WGS84_A_M * (1 - WGS84_F * (2 - WGS84_F))  # meridional radius at the equator
_ALL_HOME = 0b111
_LEVEL_MPS = 1e-6  # BlueSky's threshold: smaller vertical-rate differences count as level
_UNKNOWN_ALT_M = np.inf


@dataclass(frozen=True, slots=True)
class Kinematics:
    """Tracks as arrays, one row each: what detection needs and nothing else.

    ``position_m`` and ``velocity_mps`` are ECEF, shape (n, 3) (see
    :mod:`deconfliction.tactical.frame`); ``altitude_m`` may be NaN (unknown); ``party`` is a
    small integer code per track, −1 for unattributed.
    """

    position_m: FloatArray
    velocity_mps: FloatArray
    altitude_m: FloatArray
    vertical_rate_mps: FloatArray
    party: IntArray

    def __len__(self) -> int:
        return int(self.altitude_m.size)


@dataclass(frozen=True, slots=True)
class Encounters:
    """Pairs predicted to lose separation within the look-ahead, or in loss of separation now.

    Indices ``a < b`` are rows of the :class:`Kinematics` given; ``tcpa_s`` is negative when the
    closest approach is past (a pair still inside, diverging); ``tin_s`` is 0 in loss of
    separation. Sorted by (a, b).
    """

    a: IntArray
    b: IntArray
    tcpa_s: FloatArray
    dcpa_m: FloatArray
    tin_s: FloatArray
    los: BoolArray

    def __len__(self) -> int:
        return int(self.a.size)


def detect(
    tracks: Kinematics, minima: Tactical = Tactical(), *, across_parties_only: bool = True
) -> Encounters:
    """Every encounter among the tracks under BlueSky's state-based rule (module docstring).

    With ``across_parties_only``, tracks of the same party are not paired; unattributed tracks
    (party −1) are paired with everyone. Empty input gives empty arrays.

    >>> from deconfliction.tactical.frame import ecef, ground_velocity
    >>> lat, lon = np.array([0.0, 0.0]), np.array([0.0, 0.5])
    >>> k = Kinematics(ecef(lat, lon), ground_velocity(lat, lon, np.array([200.0, 200.0]),
    ...                np.array([90.0, 270.0])), np.array([9000.0, 9000.0]), np.zeros(2),
    ...                np.array([0, 1]))
    >>> e = detect(k)
    >>> int(e.a[0]), int(e.b[0]), round(float(e.tcpa_s[0]), 1), round(float(e.tin_s[0]), 1)
    (0, 1, 139.2, 116.0)
    """
    a, b = candidate_pairs(tracks, minima)
    if across_parties_only:
        pa, pb = tracks.party[a], tracks.party[b]
        keep = (pa != pb) | (pa < 0)
        a, b = a[keep], b[keep]
    return decide(tracks, a, b, minima)


def decide(tracks: Kinematics, a: IntArray, b: IntArray, minima: Tactical) -> Encounters:
    """Apply the rule to candidate pairs (a, b) and keep those in conflict, sorted by (a, b)."""
    r, w = _relative(tracks, a, b)
    tcpa, dcpa, tin, los, hit = closest_approach(
        r,
        w,
        tracks.altitude_m[a] - tracks.altitude_m[b],
        tracks.vertical_rate_mps[a] - tracks.vertical_rate_mps[b],
        minima,
    )
    lo, hi = np.minimum(a, b)[hit], np.maximum(a, b)[hit]
    order = np.lexsort((hi, lo))
    return Encounters(
        lo[order], hi[order], tcpa[hit][order], dcpa[hit][order], tin[hit][order], los[hit][order]
    )


def _relative(tracks: Kinematics, a: IntArray, b: IntArray) -> tuple[FloatArray, FloatArray]:
    """Relative position (b − a) and velocity (a − b) in the tangent plane at each midpoint."""
    pa, pb = tracks.position_m[a], tracks.position_m[b]
    r = pb - pa
    w = tracks.velocity_mps[a] - tracks.velocity_mps[b]
    m = pa + pb
    m[:, 2] *= 1 / _B2_OVER_A2  # the ellipsoid's normal at (x, y, z) ∝ (x/a², y/a², z/b²)
    m /= np.sqrt(np.einsum("ij,ij->i", m, m))[:, None]
    r -= np.einsum("ij,ij->i", r, m)[:, None] * m
    w -= np.einsum("ij,ij->i", w, m)[:, None] * m
    return r, w


def closest_approach(
    r: FloatArray, w: FloatArray, dalt: FloatArray, dvs: FloatArray, minima: Tactical
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray, BoolArray]:
    """BlueSky's rule on relative states: (tcpa_s, dcpa_m, tin_s, los, conflict) per pair.

    ``r`` is the position of b relative to a and ``w`` the velocity of a relative to b, metres
    and m/s, shape (n, k) for any k (2 in a plane); ``dalt = alt_a − alt_b``,
    ``dvs = vs_a − vs_b``.

    >>> r, w = np.array([[10_000.0, 0.0]]), np.array([[100.0, 0.0]])
    >>> closest_approach(r, w, np.array([0.0]), np.array([0.0]), Tactical())
    (array([100.]), array([0.]), array([7.4]), array([False]), array([ True]))
    """
    big_r, big_h, look = minima.horizontal_m, minima.vertical_m, minima.lookahead_s
    d2 = np.einsum("ij,ij->i", r, r)
    rw = np.einsum("ij,ij->i", r, w)
    w2 = np.einsum("ij,ij->i", w, w)
    los_h = d2 < big_r * big_r
    moving = w2 > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tcpa = np.where(moving, rw / w2, 0.0)
        cpa2 = np.maximum(d2 - rw * tcpa, 0.0)
        dt = np.where(moving, np.sqrt(np.maximum(big_r * big_r - cpa2, 0.0) / w2), np.inf)
    tin_h = np.where(moving, tcpa - dt, np.where(los_h, -np.inf, np.inf))
    tout_h = np.where(moving, tcpa + dt, np.where(los_h, np.inf, -np.inf))
    hor = los_h | ((rw >= 0) & (tin_h <= look))
    tin_v, tout_v, los_v = _vertical(dalt, dvs, big_h)
    tin = np.maximum(tin_h, tin_v)
    tout = np.minimum(tout_h, tout_v)
    hit = hor & (tin_v <= look) & (tout_v > 0) & (tin <= look) & (tin < tout) & (tout > 0)
    return tcpa, np.sqrt(cpa2), tin, los_h & los_v, hit


def _vertical(
    dalt: FloatArray, dvs: FloatArray, big_h: float
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Times in and out of the vertical minimum, and loss now; unknown altitude never clears."""
    unknown = np.isnan(dalt)
    los_v = (np.abs(dalt) < big_h) | unknown
    moving = (np.abs(dvs) > _LEVEL_MPS) & ~unknown
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        hi = (dalt + big_h) / -dvs
        lo = (dalt - big_h) / -dvs
    tin = np.where(moving, np.maximum(0.0, np.minimum(lo, hi)), np.where(los_v, 0.0, np.inf))
    tout = np.where(moving, np.maximum(lo, hi), np.where(los_v, np.inf, -np.inf))
    return tin, tout, los_v


# ---- candidates: swept boxes in a uniform grid ------------------------------------------------


def _boxes(tracks: Kinematics, minima: Tactical) -> tuple[FloatArray, FloatArray]:
    """Per track, low and high corners (n, 4) of its path over the look-ahead in ECEF × altitude,
    widened so that two tracks in conflict have overlapping boxes."""
    look = minima.lookahead_s
    turn = _facing(tracks.position_m)
    p0 = tracks.position_m @ turn.T
    p1 = p0 + (tracks.velocity_mps @ turn.T) * look
    speed = np.sqrt(np.einsum("ij,ij->i", tracks.velocity_mps, tracks.velocity_mps))
    half = 0.5 * _horizontal_reach(minima, float(speed.max()))
    lo = np.empty((len(tracks), 4))
    hi = np.empty((len(tracks), 4))
    np.subtract(np.minimum(p0, p1), half, out=lo[:, :3])
    np.add(np.maximum(p0, p1), half, out=hi[:, :3])
    alt = tracks.altitude_m
    alt1 = alt + tracks.vertical_rate_mps * look
    known = ~np.isnan(alt)
    top = float(np.max(np.maximum(alt, alt1)[known], initial=0.0))
    bottom = float(np.min(np.minimum(alt, alt1)[known], initial=0.0))
    slack = 0.5 * minima.vertical_m * (1 + 1e-9) + 1e-6
    lo[:, 3] = np.where(known, np.minimum(alt, alt1), bottom) - slack
    hi[:, 3] = np.where(known, np.maximum(alt, alt1), top) + slack
    return lo, hi


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


def candidate_pairs(
    tracks: Kinematics, minima: Tactical, *, cells_per_box: tuple[float, float] | None = None
) -> tuple[IntArray, IntArray]:
    """Pairs (a, b), a ≠ b, each once, whose swept boxes overlap: a superset of all encounters.

    Boxes are registered in strips (grid cells over y, z and altitude, sized as the median box
    divided by ``cells_per_box`` horizontally and vertically; by default finer horizontally as
    the tracks grow denser, and a quarter box vertically); within a strip they are sorted by
    their low x and each is paired with those starting before its high x (sweep and prune), so x
    needs no cells. A pair sharing several strips is kept in the one holding its overlap's low
    corner.
    """
    if len(tracks) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    lo, hi = _boxes(tracks, minima)
    if cells_per_box is None:  # measured best on benchmarks/tactical.py's traffic
        cells_per_box = (min(2.0, max(1.0, (len(tracks) / 10_000) ** 0.5)), 0.25)
    first, last = _cells(lo[:, 1:], hi[:, 1:], cells_per_box)
    track, strip, home = _register(first, last)
    x0 = lo[:, 0] - lo[:, 0].min()
    x1 = x0 + (hi[:, 0] - lo[:, 0])
    width = float(x1.max()) + 1.0
    key = strip * width + x0[track]  # strips apart, then low x: one sort does both
    order = np.argsort(key)
    key, track, strip, home = key[order], track[order], strip[order], home[order]
    stop = np.searchsorted(key, strip * width + x1[track], "right")
    p, q = _pairs_until(stop)
    once = (home[p] | home[q]) == _ALL_HOME
    ta, tb = track[p[once]], track[q[once]]
    ta, tb = _near_vertically(tracks, ta, tb, minima)
    return _near_horizontally(tracks, ta, tb, minima)


def _near_vertically(
    tracks: Kinematics, a: IntArray, b: IntArray, minima: Tactical
) -> tuple[IntArray, IntArray]:
    """Keep pairs whose altitudes come within the vertical minimum during the look-ahead."""
    dalt = tracks.altitude_m[a] - tracks.altitude_m[b]
    dvs = tracks.vertical_rate_mps[a] - tracks.vertical_rate_mps[b]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = np.clip(-dalt / dvs, 0.0, minima.lookahead_s)
    gap = np.abs(dalt + dvs * np.nan_to_num(t))
    keep = ~(gap >= minima.vertical_m * (1 + 1e-9) + 1e-6)  # NaN (unknown altitude) is kept
    return a[keep], b[keep]


def _near_horizontally(
    tracks: Kinematics, a: IntArray, b: IntArray, minima: Tactical
) -> tuple[IntArray, IntArray]:
    """Keep pairs whose straight ECEF paths come within the horizontal reach in the look-ahead."""
    pos, vel = tracks.position_m, tracks.velocity_mps
    r = [pos[b, i] - pos[a, i] for i in range(3)]
    w = [vel[a, i] - vel[b, i] for i in range(3)]
    rw = r[0] * w[0] + r[1] * w[1] + r[2] * w[2]
    w2 = w[0] * w[0] + w[1] * w[1] + w[2] * w[2]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = np.nan_to_num(np.clip(rw / w2, 0.0, minima.lookahead_s))
    d2 = sum((ri - wi * t) ** 2 for ri, wi in zip(r, w, strict=True))
    speed = float(np.sqrt(np.einsum("ij,ij->i", vel, vel).max(initial=0.0)))
    reach = _horizontal_reach(minima, speed)
    keep = d2 <= reach * reach
    return a[keep], b[keep]


def _cells(
    lo: FloatArray, hi: FloatArray, cells_per_box: tuple[float, float]
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """First and last cell of each box over y, z and altitude, int16 each, padded to four so that
    a box's cell packs into one int64."""
    per = np.array([cells_per_box[0]] * 2 + [cells_per_box[1]])
    origin = lo.min(axis=0)
    extent = hi.max(axis=0) - origin
    size = np.maximum(np.median(hi - lo, axis=0) / per, extent / 30_000)
    first = np.zeros((lo.shape[0], 4), np.int16)
    last = np.zeros((lo.shape[0], 4), np.int16)
    first[:, :3] = np.floor((lo - origin) / size)
    last[:, :3] = np.floor((hi - origin) / size)
    return first, last


def _register(
    first: npt.NDArray[np.int16], last: npt.NDArray[np.int16]
) -> tuple[IntArray, IntArray, npt.NDArray[np.uint8]]:
    """Every (track, packed cell) with the cell inside the track's box of cells, and a bit per
    dimension telling whether the cell is the track's first in it: a pair's overlap has its low
    corner in a shared cell exactly when, in every dimension, one of the two starts there."""
    span = (last - first).astype(np.int64) + 1
    count = np.prod(span, axis=1)
    track = np.repeat(np.arange(first.shape[0]), count)
    k = np.arange(track.size) - np.repeat(np.cumsum(count) - count, count)
    idx = np.zeros((track.size, 4), np.int16)
    home = np.zeros(track.size, np.uint8)
    for dim in range(3):
        s = span[track, dim]
        step = k % s
        idx[:, dim] = first[track, dim] + step
        home |= (step == 0).astype(np.uint8) << dim
        k //= s
    return track, idx.view(np.int64).ravel(), home


def _pairs_until(stop: IntArray) -> tuple[IntArray, IntArray]:
    """Positions (p, q) with p < q < stop[p]."""
    partners = np.maximum(stop - np.arange(stop.size) - 1, 0)
    p = np.repeat(np.arange(stop.size), partners)
    offset = np.arange(p.size) - np.repeat(np.cumsum(partners) - partners, partners)
    return p, p + 1 + offset


def _pairs_within_groups(sorted_keys: IntArray) -> tuple[IntArray, IntArray]:
    """Positions (p, q), p < q, of every two entries with the same key in a sorted array."""
    n = sorted_keys.size
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    ends = np.r_[starts[1:], n]
    end_of = np.repeat(ends, ends - starts)
    partners = end_of - np.arange(n) - 1
    p = np.repeat(np.arange(n), partners)
    offset = np.arange(p.size) - np.repeat(np.cumsum(partners) - partners, partners)
    return p, p + 1 + offset
