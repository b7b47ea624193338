"""An independent reference for the geometry and the conflict rule: slow, simple, and sure.

Nothing here imports the package's geometry (no ``frame``, ``footprint``, ``distance``, shapely):
only ``pyproj.Geod`` and numpy, so that a test compares two computations that share no code.

Distance between outlines
-------------------------
Each boundary is a chain of pieces, each parametrised by u in [0, 1]: a polygon edge is the
geodesic from one vertex to the next (``Geod.fwd`` along the edge's initial azimuth by u × length),
a circle is the points at ``radius_m`` from the centre in azimuth 360° × u. The minimum distance
between the two boundaries is found coarse to fine: both boundaries are first cut into ~64
segments and every segment end is measured against every segment end with ``Geod.inv``; then each
segment pair that may hold the minimum is cut in 8 × 8 and measured again, and so on until the
answer is settled to ``TOL_M``. A segment pair may hold the minimum when one of its corner
distances is within a slack of the best distance found: near a minimum at distance d the distance
grows at most like (δa + δb)² / 2d + κa δa² / 2 + κb δb² / 2 with the offsets δ along the two
boundaries and κ their curvatures (see ``_slack``), and never faster than δa + δb (the triangle
inequality), and the nearest sample is at most half a segment from any point. Polygon vertices are
always samples. The answer is the distance between two actual boundary points, so it is never
below the true one.

Overlap is decided first: if a point common to both outlines is found among a few candidates
(vertices, edge midpoints and 16 points round a circle of each, tested against the other, and an
inner point of each tested against both), the distance is 0. Containment is a geodesic distance
for circles, and for polygons a winding number on the unit sphere (the ring densified to 1 km
along its geodesics, so that the great-circle chords between the dense points differ from the
geodesics by far less than a millimetre). This settles crossing and nested pairs without the
boundary search, which would need a great many segment pairs where boundaries nearly coincide.
Otherwise, if the boundaries come within ``TOUCH_M`` (1 cm) of each other the outlines touch
(distance 0); if not, they are apart (nesting would have put a boundary point of one inside the
other) and the boundary distance is the answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pyproj

from deconfliction.geo.volume import Circle, Outline, Polygon

Floats = npt.NDArray[np.float64]

GEOD = pyproj.Geod(ellps="WGS84")
FT_M = 0.3048
TOL_M = 0.001
"""The reference boundary distance is within about this of the true one (and never below it)."""
TOUCH_M = 0.01
"""Boundaries this close are taken as touching (distance 0)."""
INITIAL_SEGMENTS = 64
SPLIT = 8
MAX_PAIRS = 200_000
CURVATURE_EARTH = 1 / 6_335_000.0


def fwd(lon: Floats, lat: Floats, az: Floats, dist: Floats) -> tuple[Floats, Floats]:
    """``Geod.fwd`` on arrays of any (common) shape."""
    lon, lat, az, dist = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (lon, lat, az, dist))
    )
    shape = lon.shape
    x, y, _ = GEOD.fwd(lon.ravel(), lat.ravel(), az.ravel(), dist.ravel())
    return np.asarray(x).reshape(shape), np.asarray(y).reshape(shape)


def inv(lon1: Floats, lat1: Floats, lon2: Floats, lat2: Floats) -> Floats:
    """Geodesic distances, ``Geod.inv`` on arrays that broadcast."""
    a, b, c, d = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (lon1, lat1, lon2, lat2))
    )
    shape = a.shape
    _, _, dist = GEOD.inv(a.ravel(), b.ravel(), c.ravel(), d.ravel())
    return np.asarray(dist).reshape(shape)


def dist_m(p: tuple[float, float], q: tuple[float, float]) -> float:
    """Geodesic distance between two (lon, lat) points."""
    return float(GEOD.inv(p[0], p[1], q[0], q[1])[2])


def point_at(p: tuple[float, float], az: float, d: float) -> tuple[float, float]:
    """The point ``d`` metres from ``p`` in azimuth ``az``."""
    lon, lat, _ = GEOD.fwd(p[0], p[1], az, d)
    return float(lon), float(lat)


def azimuth(p: tuple[float, float], q: tuple[float, float]) -> float:
    """Initial azimuth of the geodesic from ``p`` to ``q``."""
    return float(GEOD.inv(p[0], p[1], q[0], q[1])[0])


# ---- boundaries as parametrised pieces -------------------------------------------------------


@dataclass(frozen=True)
class Boundary:
    """A closed boundary: pieces k = 0..n-1, each a function of u in [0, 1]."""

    circle: bool
    lon: Floats  # start vertex of each edge, or the centre (one piece) of a circle
    lat: Floats
    az: Floats  # initial azimuth of each edge (unused for a circle)
    length: Floats  # geodesic length of each edge, or the radius of a circle

    @classmethod
    def of(cls, outline: Outline) -> Boundary:
        if isinstance(outline, Circle):
            one = np.ones(1)
            r = one * outline.radius_m
            return cls(True, one * outline.lon, one * outline.lat, one * 0.0, r)
        v = np.array(outline.vertices, dtype=np.float64)
        w = np.roll(v, -1, axis=0)
        az, _, length = GEOD.inv(v[:, 0], v[:, 1], w[:, 0], w[:, 1])
        return cls(False, v[:, 0], v[:, 1], np.asarray(az), np.asarray(length))

    def points(self, piece: npt.NDArray[np.int64], u: Floats) -> tuple[Floats, Floats]:
        """Points at parameter ``u`` of ``piece`` (arrays that broadcast)."""
        piece, u = np.broadcast_arrays(piece, u)
        if self.circle:
            return fwd(self.lon[0], self.lat[0], 360.0 * u, self.length[0])
        return fwd(self.lon[piece], self.lat[piece], self.az[piece], self.length[piece] * u)

    def scale(self, piece: npt.NDArray[np.int64]) -> Floats:
        """Metres per unit of u: a segment [u0, u1] is at most (u1 - u0) × scale long."""
        return (2.0 * math.pi if self.circle else 1.0) * self.length[piece]

    def segments(self, n: int) -> tuple[npt.NDArray[np.int64], Floats, Floats]:
        """About ``n`` consecutive segments in order round the ring: (piece, u0, u1)."""
        per_unit = self.scale(np.arange(len(self.length)))
        step = per_unit.sum() / n
        counts = np.maximum(1, np.ceil(per_unit / step)).astype(np.int64)
        piece = np.repeat(np.arange(len(counts)), counts)
        first = np.cumsum(counts) - counts
        k = np.arange(counts.sum()) - first[piece]
        return piece, k / counts[piece], (k + 1) / counts[piece]


def boundary_distance_m(a: Outline, b: Outline, *, tol_m: float = TOL_M) -> float:
    """Minimum geodesic distance between the boundaries of two outlines (see module docstring)."""
    ba, bb = Boundary.of(a), Boundary.of(b)
    pa, a0, a1 = ba.segments(INITIAL_SEGMENTS)
    pb, b0, b1 = bb.segments(INITIAL_SEGMENTS)
    # round 0: every segment end against every segment end (segment i ends where i + 1 starts)
    xa, ya = ba.points(pa, a0)
    xb, yb = bb.points(pb, b0)
    d = inv(xa[:, None], ya[:, None], xb[None, :], yb[None, :])
    best = float(d.min())
    if best <= TOUCH_M:
        return best
    d_next_a = np.roll(d, -1, axis=0)
    m4 = np.minimum.reduce([d, d_next_a, np.roll(d, -1, axis=1), np.roll(d_next_a, -1, axis=1)])
    len_a, len_b = (a1 - a0) * ba.scale(pa), (b1 - b0) * bb.scale(pb)
    slack = _slack(len_a[:, None], len_b[None, :], best, ba, bb)
    i, j = np.nonzero(m4 <= best + slack)
    pairs = (pa[i], a0[i], a1[i], pb[j], b0[j], b1[j])
    while len(pairs[0]) and float(slack.max()) > tol_m:
        if len(pairs[0]) > MAX_PAIRS:
            raise RuntimeError(f"oracle: {len(pairs[0])} segment pairs; cannot decide")
        best, pairs, slack = _refine(ba, bb, pairs, best)
        if best <= TOUCH_M:
            return best
    return best


def _slack(len_a: Floats, len_b: Floats, best: float, ba: Boundary, bb: Boundary) -> Floats:
    """How far above the minimum the nearest sample pair can be, for segments of these lengths.

    Near a minimum at distance d, moving δa along one boundary and δb along the other adds at
    most (δa + δb)²/2d (the turn of the line between them; on the ellipsoid cot(d/R)/R < 1/d)
    plus κa δa²/2 + κb δb²/2 (each boundary bending away, κ its geodesic curvature: 1/radius for
    a circle, 0 for a geodesic edge; the Earth's 1/R added to each for margin), and never more
    than δa + δb; the nearest samples are at most half a segment away. Doubled for safety.
    (Keeping each boundary's curvature with its own segment length matters when a small circle
    faces a large outline: the large one's long segments are not charged the small one's
    curvature.)
    """
    len_sum = len_a + len_b
    d_lo = np.maximum(best - len_sum / 2, 1e-6)
    ka, kb = (2 * CURVATURE_EARTH + (1.0 / b.length[0] if b.circle else 0.0) for b in (ba, bb))
    quadratic = (len_sum**2 / d_lo + ka * len_a**2 + kb * len_b**2) / 8
    return 2 * np.minimum(len_sum / 2, quadratic)


def _refine(
    ba: Boundary, bb: Boundary, pairs: tuple[npt.NDArray[np.int64], ...], best: float
) -> tuple[float, tuple[npt.NDArray[np.int64], ...], Floats]:
    """Cut each segment of each surviving pair in SPLIT; keep the child pairs that may hold the
    minimum, with their slack."""
    pa, a0, a1, pb, b0, b1 = pairs
    grid = np.linspace(0.0, 1.0, SPLIT + 1)
    ua = a0[:, None] + (a1 - a0)[:, None] * grid  # (m, SPLIT + 1)
    ub = b0[:, None] + (b1 - b0)[:, None] * grid
    xa, ya = ba.points(pa[:, None], ua)
    xb, yb = bb.points(pb[:, None], ub)
    d = inv(xa[:, :, None], ya[:, :, None], xb[:, None, :], yb[:, None, :])
    best = min(best, float(d.min()))
    m4 = np.minimum.reduce([d[:, :-1, :-1], d[:, 1:, :-1], d[:, :-1, 1:], d[:, 1:, 1:]])
    len_a, len_b = (a1 - a0) * ba.scale(pa) / SPLIT, (b1 - b0) * bb.scale(pb) / SPLIT
    slack = _slack(len_a, len_b, best, ba, bb)
    k, i, j = np.nonzero(m4 <= best + slack[:, None, None])
    return best, (pa[k], ua[k, i], ua[k, i + 1], pb[k], ub[k, j], ub[k, j + 1]), slack[k]


# ---- containment -----------------------------------------------------------------------------


def unit_vectors(lon: Floats, lat: Floats) -> Floats:
    """Points as 3D unit vectors (geodetic latitude used as if on a sphere), shape (..., 3)."""
    lo, la = np.radians(lon), np.radians(lat)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def dense_ring(vertices: Sequence[tuple[float, float]], spacing_m: float = 1_000.0) -> Floats:
    """The closed ring of a polygon with points every ``spacing_m`` or less along its geodesics."""
    b = Boundary.of(Polygon(tuple(vertices)))
    counts = np.maximum(1, np.ceil(b.length / spacing_m)).astype(np.int64)
    piece = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    u = (np.arange(counts.sum()) - first[piece]) / counts[piece]
    lon, lat = b.points(piece, u)
    return np.column_stack([lon, lat])


def polygon_contains(vertices: Sequence[tuple[float, float]], lon: float, lat: float) -> bool:
    """Whether (lon, lat) is inside the (small, < a hemisphere) polygon (see
    :func:`polygon_contains_many`)."""
    return bool(polygon_contains_many(vertices, np.array([lon]), np.array([lat]))[0])


def polygon_contains_many(
    vertices: Sequence[tuple[float, float]], lon: Floats, lat: Floats
) -> npt.NDArray[np.bool_]:
    """For each point, whether it is inside the (small, < a hemisphere) polygon: the winding
    number of the ring about the point, in the gnomonic projection centred on the point."""
    ring = dense_ring(vertices)
    v = unit_vectors(ring[:, 0], ring[:, 1])  # (n, 3)
    p = unit_vectors(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    out = np.zeros(len(p), dtype=bool)
    for k, pk in enumerate(p):
        cos = v @ pk
        if cos.min() <= 0.5:  # a ring point 60° away: a polygon < 1000 km cannot surround p
            continue
        helper = np.array([0.0, 0.0, 1.0]) if abs(pk[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        e1 = np.cross(helper, pk)
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(pk, e1)
        g = v / cos[:, None]
        ang = np.arctan2(g @ e2, g @ e1)
        step = np.diff(np.append(ang, ang[0]))
        step = (step + np.pi) % (2 * np.pi) - np.pi
        out[k] = abs(round(step.sum() / (2 * np.pi))) == 1
    return out


def contains(outline: Outline, lon: float, lat: float) -> bool:
    """Whether the outline contains the point (boundary points excepted, to within metres)."""
    return bool(contains_many(outline, np.array([lon]), np.array([lat]))[0])


def contains_many(outline: Outline, lon: Floats, lat: Floats) -> npt.NDArray[np.bool_]:
    """:func:`contains` for arrays of points."""
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if isinstance(outline, Circle):
        return inv(outline.lon, outline.lat, lon, lat) < outline.radius_m
    return polygon_contains_many(outline.vertices, lon, lat)


def boundary_samples(outline: Outline, n: int = 16) -> tuple[Floats, Floats]:
    """Points on the boundary: ``n`` round a circle; a polygon's vertices and edge midpoints."""
    b = Boundary.of(outline)
    if b.circle:
        return b.points(np.zeros(n, dtype=np.int64), np.arange(n) / n)
    piece = np.repeat(np.arange(len(b.length)), 2)
    return b.points(piece, np.tile([0.0, 0.5], len(b.length)))


def any_boundary_point(outline: Outline) -> tuple[float, float]:
    if isinstance(outline, Circle):
        return point_at((outline.lon, outline.lat), 0.0, outline.radius_m)
    return outline.vertices[0]


def inner_point(outline: Outline) -> tuple[Floats, Floats]:
    """A point that is likely inside the outline: a circle's centre, or the direction of the mean
    of a polygon's vertices (callers test it against both outlines)."""
    if isinstance(outline, Circle):
        return np.array([outline.lon]), np.array([outline.lat])
    v = np.array(outline.vertices, dtype=np.float64)
    x, y, z = unit_vectors(v[:, 0], v[:, 1]).sum(axis=0)
    lon, lat = math.degrees(math.atan2(y, x)), math.degrees(math.atan2(z, math.hypot(x, y)))
    return np.array([lon]), np.array([lat])


def overlap_found(a: Outline, b: Outline) -> bool:
    """Whether a point common to both outlines is found among a few candidates: boundary
    points of each (vertices and edge midpoints, 16 points round a circle) tested against the
    other, and an inner point of each tested against both."""
    if contains_many(a, *boundary_samples(b)).any() or contains_many(b, *boundary_samples(a)).any():
        return True
    for one, other in ((a, b), (b, a)):
        lon, lat = inner_point(one)
        if contains_many(one, lon, lat)[0] and contains_many(other, lon, lat)[0]:
            return True
    return False


def reference_distance_m(a: Outline, b: Outline) -> float:
    """Geodesic distance between two outlines: 0 when they touch, cross or nest.

    A point common to both (:func:`overlap_found`) settles most overlapping pairs at once,
    in particular those whose boundaries nearly or exactly coincide (two equal circles round a
    pole, a shape and a copy shifted by centimetres), where the boundary search would need a
    great many segment pairs to reach 0.
    """
    if overlap_found(a, b):
        return 0.0
    d = boundary_distance_m(a, b)
    return 0.0 if d <= TOUCH_M else d


def tolerance_m(d: float) -> float:
    """How far the package's distance may be from the reference's: max(2 m, 2e-4 × d).

    The reference is within 1 cm of the truth; the package measures polygons on chords of its
    densified rings in azimuthal-equidistant frames (its own estimate: well under 1 m near the
    frame's centre), so 2 m absolute covers it with room, and 2e-4 relative covers the frame
    distortion it accepts for far pairs.
    """
    return max(2.0, 2e-4 * d)


def centre_radius_m(outline: Outline) -> tuple[tuple[float, float], float]:
    """A centre and a radius that encloses the outline (cheap pre-filter for brute force).

    For a polygon: the first vertex and the longest distance from it to another vertex (every
    point of a geodesic edge is no farther from a point than the edge's farther end, for the
    small shapes used here).
    """
    if isinstance(outline, Circle):
        return (outline.lon, outline.lat), outline.radius_m
    v = np.array(outline.vertices)
    r = inv(v[0, 0], v[0, 1], v[:, 0], v[:, 1]).max()
    return (float(v[0, 0]), float(v[0, 1])), float(r) * 1.001 + 1.0


# ---- shape builders ---------------------------------------------------------------------------


def star(
    centre: tuple[float, float],
    radius_m: float,
    azimuths: Sequence[float],
    fractions: Sequence[float],
) -> Polygon:
    """A star-shaped polygon: vertex k at ``fractions[k] × radius_m`` in ``azimuths[k]``."""
    n = len(azimuths)
    lon, lat = fwd(
        np.full(n, centre[0]),
        np.full(n, centre[1]),
        np.asarray(azimuths),
        np.asarray(fractions) * radius_m,
    )
    return Polygon(tuple((float(x), float(y)) for x, y in zip(lon, lat, strict=True)))


def regular(centre: tuple[float, float], radius_m: float, n: int, rotation: float = 0.0) -> Polygon:
    """A regular-ish n-gon (equal azimuth steps, equal distances from the centre)."""
    return star(centre, radius_m, [rotation + 360.0 * k / n for k in range(n)], [1.0] * n)


# ---- the conflict rule, by the book ---------------------------------------------------------


@dataclass(frozen=True)
class RefVolume:
    """A volume as the reference sees it: party, notice, index, outline, band, window."""

    notice: str
    volume: int
    party: str
    outline: Outline
    lower_m: float
    upper_m: float
    start: datetime
    end: datetime


def vertical_gap_m(a: RefVolume, b: RefVolume) -> float:
    """Gap between the bands, rounded to the millimetre (0 when they overlap)."""
    return round(max(0.0, max(a.lower_m, b.lower_m) - min(a.upper_m, b.upper_m)), 3)


def time_gap_s(a: RefVolume, b: RefVolume) -> float:
    """Gap between the windows in whole microseconds, as seconds (0 when they overlap)."""
    gap = max(a.start, b.start) - min(a.end, b.end)
    micro = gap.days * 86_400_000_000 + gap.seconds * 1_000_000 + gap.microseconds
    return max(0, micro) / 1e6


def window(a: RefVolume, b: RefVolume) -> tuple[datetime, datetime]:
    """The overlap of the windows; when apart, from the earlier end to the later start."""
    lo, hi = max(a.start, b.start), min(a.end, b.end)
    return min(lo, hi), max(lo, hi)
