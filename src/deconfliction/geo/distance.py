"""Exact geodesic distance between footprints (0 when they touch or overlap).

Circles need no approximation: for a circle C of centre c and radius r and any set X,
d(C, X) = max(0, d(c, X) - r) on the ellipsoid (the triangle inequality, met along the geodesic
from c to the nearest point of X). So circle-circle is one ``Geod.inv``; circle-polygon is
point-polygon.

Polygons are measured in a local azimuthal-equidistant frame (:mod:`deconfliction.geo.frame`). The
first frame, centred between the two shapes, finds the nearest points to within ~0.4 %; the frame is
then re-centred on them, where the projection is exact to well under a millimetre, and the answer is
the geodesic distance between the two nearest points found there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from deconfliction.geo.footprint import Footprint
from deconfliction.geo.frame import distance_m, from_frame, midpoint, to_frame
from deconfliction.types import BoolArray, FloatArray, IntArray

REFINE_ROUNDS = 1


def horizontal_distance_m(a: Footprint, b: Footprint) -> float:
    """Geodesic distance in metres between two footprints; 0 when they touch or overlap.

    >>> from deconfliction.geo.footprint import footprint
    >>> from deconfliction.geo.volume import Circle
    >>> a = footprint(Circle(179.9, 0.0, 1_000.0))
    >>> b = footprint(Circle(-179.9, 0.0, 1_000.0))  # across the antimeridian
    >>> round(horizontal_distance_m(a, b))
    20264
    """
    return float(pair_distances_m([a], [b])[0])


def pair_distances_m(
    fa: Sequence[Footprint], fb: Sequence[Footprint], *, refine_below_m: float = np.inf
) -> FloatArray:
    """Element-wise distances between ``fa[i]`` and ``fb[i]``, in metres.

    Polygon pairs whose first estimate is at or above ``refine_below_m`` keep that estimate
    (good to ~0.4 %) instead of being refined: callers that only compare against a minimum pass
    a little more than the minimum. Empty input gives an empty array.
    """
    n = len(fa)
    out = np.zeros(n)
    if n == 0:
        return out
    circ_a = np.array([f.is_circle for f in fa])
    circ_b = np.array([f.is_circle for f in fb])
    both = circ_a & circ_b
    if both.any():
        idx = np.flatnonzero(both)
        dc = distance_m(*_centres(fa, idx), *_centres(fb, idx))
        radii = np.array([fa[i].outer_m + fb[i].outer_m for i in idx])
        out[idx] = np.maximum(0.0, dc - radii)
    for circles, polygons, mask in ((fa, fb, circ_a & ~circ_b), (fb, fa, circ_b & ~circ_a)):
        idx = np.flatnonzero(mask)
        if len(idx):
            lon, lat = _centres(circles, idx)
            d = point_polygon_m(lon, lat, [polygons[i].ring for i in idx])
            out[idx] = np.maximum(0.0, d - np.array([circles[i].outer_m for i in idx]))
    idx = np.flatnonzero(~circ_a & ~circ_b)
    if len(idx):
        out[idx] = polygon_polygon_m(
            [fa[i] for i in idx], [fb[i] for i in idx], refine_below_m=refine_below_m
        )
    return out


def _centres(fs: Sequence[Footprint], idx: IntArray) -> tuple[FloatArray, FloatArray]:
    return np.array([fs[i].lon for i in idx]), np.array([fs[i].lat for i in idx])


def _polygons_in_frames(
    lon0: FloatArray, lat0: FloatArray, rings: Sequence[FloatArray]
) -> np.ndarray:
    """Each ring projected into its own frame (centre i for ring i), as shapely polygons."""
    sizes = np.array([len(r) for r in rings])
    flat = np.concatenate(rings)
    owner = np.repeat(np.arange(len(rings)), sizes)
    x, y = to_frame(lon0[owner], lat0[owner], flat[:, 0], flat[:, 1])
    lines = shapely.linearrings(np.column_stack([x, y]), indices=owner)
    return shapely.polygons(lines)


def point_polygon_m(lon: FloatArray, lat: FloatArray, rings: Sequence[FloatArray]) -> FloatArray:
    """Distance from each point to the polygon of the same index (0 inside), in metres.

    The frame is centred on the point, where AEQD distances are exact; the answer is the geodesic
    distance to the nearest ring point found there.
    """
    polys = _polygons_in_frames(lon, lat, rings)
    origin = shapely.points(np.zeros((len(rings), 2)))
    d = shapely.distance(origin, polys)
    out = np.zeros(len(rings))
    outside = d > 0
    if outside.any():
        near = shapely.get_coordinates(shapely.shortest_line(origin[outside], polys[outside]))
        near = near[1::2]  # each line runs from the point to the polygon
        nlon, nlat = from_frame(lon[outside], lat[outside], near[:, 0], near[:, 1])
        out[outside] = distance_m(lon[outside], lat[outside], nlon, nlat)
    return out


def polygon_polygon_m(
    fa: Sequence[Footprint], fb: Sequence[Footprint], *, refine_below_m: float = np.inf
) -> FloatArray:
    """Distance between polygon footprints, element-wise, in metres (0 when they intersect)."""
    lon0, lat0 = midpoint(
        *(np.array([getattr(f, k) for f in fs]) for fs in (fa, fb) for k in ("lon", "lat"))
    )
    d, ends = _frame_distance(lon0, lat0, fa, fb)
    todo = (d > 0) & (d < refine_below_m)
    for _ in range(REFINE_ROUNDS):
        if not todo.any():
            break
        idx = np.flatnonzero(todo)
        lon0[idx], lat0[idx] = midpoint(*ends[:, idx])
        sub_a, sub_b = [fa[i] for i in idx], [fb[i] for i in idx]
        d_idx, ends_idx = _frame_distance(lon0[idx], lat0[idx], sub_a, sub_b)
        d[idx], ends[:, idx] = d_idx, ends_idx
        todo[idx] = d_idx > 0
    refined = (d > 0) & (d < refine_below_m)
    d[refined] = distance_m(*ends[:, refined])
    return d


def _frame_distance(
    lon0: FloatArray, lat0: FloatArray, fa: Sequence[Footprint], fb: Sequence[Footprint]
) -> tuple[FloatArray, FloatArray]:
    """Distance in the given frames and the nearest points as (lon_a, lat_a, lon_b, lat_b) rows."""
    pa = _polygons_in_frames(lon0, lat0, [f.ring for f in fa])
    pb = _polygons_in_frames(lon0, lat0, [f.ring for f in fb])
    d = shapely.distance(pa, pb)
    ends = np.full((4, len(fa)), np.nan)
    apart: BoolArray = d > 0
    if apart.any():
        xy = shapely.get_coordinates(shapely.shortest_line(pa[apart], pb[apart]))
        alon, alat = from_frame(lon0[apart], lat0[apart], xy[0::2, 0], xy[0::2, 1])
        blon, blat = from_frame(lon0[apart], lat0[apart], xy[1::2, 0], xy[1::2, 1])
        ends[:, apart] = np.vstack([alon, alat, blon, blat])
    return d, ends
