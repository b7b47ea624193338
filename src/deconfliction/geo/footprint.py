"""Footprints: outlines validated once, with what detection needs derived from them.

A footprint carries a centre, an outer radius (no point of the outline is farther from the centre)
and an inner radius (every point that close to the centre is inside), which decide most pairs
exactly by the triangle inequality; a densified ring for exact polygon distances; and a
conservative lat/lon box for the candidate index. Validation raises :class:`InvalidInput` naming the
field; the caller adds the notice and volume.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from deconfliction.errors import InvalidInput
from deconfliction.geo.frame import GEOD, distance_m, to_frame
from deconfliction.geo.volume import Circle, Outline, Polygon
from deconfliction.types import BoolArray, FloatArray, IntArray

MAX_RADIUS_M = 500_000.0
"""No point of an outline may be farther than this from its centre (a 1,000 km wide outline)."""

DENSIFY_M = 30_000.0
"""Spacing of the points put on polygon edges. A geodesic drawn as chords of this length in a
frame is off by L²ρ/8R²: < 3 m anywhere within 1,000 km of the frame's centre (enough to find
the nearest points), < 10 cm within 50 km of it (where exact distances are measured)."""

MARGIN_M = 100.0
"""Slack added to boxes and outer radii so that they stay conservative between densified points."""

M_PER_DEG_LAT_MIN = 110_574.0  # the shortest degree of latitude (at the equator)
M_PER_DEG_LON_MIN = 111_319.0  # a degree of longitude at the equator is a·π/180, rounded down
R_MIN_M = 6_335_439.0  # the smallest radius of curvature of WGS84 (meridional, at the equator)


@dataclass(frozen=True, slots=True, eq=False)
class Box:
    """A lat/lon box; ``west > east`` crosses the antimeridian; (-180, 180) is all round."""

    south: float
    north: float
    west: float
    east: float

    @property
    def full_lon(self) -> bool:
        return self.west == -180.0 and self.east == 180.0


@dataclass(slots=True, eq=False)  # not frozen: frozen __init__ costs ~1 µs a field
class Footprint:
    """A validated outline and the geometry derived from it (all distances in metres)."""

    is_circle: bool
    lon: float
    lat: float
    outer_m: float
    inner_m: float
    ring: FloatArray  # (n, 2) lon/lat of the densified closed ring; empty for circles
    box: Box


def wrap_lon(lon: FloatArray) -> FloatArray:
    """Longitudes into [-180, 180)."""
    return (lon + 180.0) % 360.0 - 180.0


def grow_boxes(
    south: FloatArray, north: FloatArray, west: FloatArray, east: FloatArray, metres: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Boxes that hold every point within ``metres`` of the given ones (conservative).

    Latitude grows by the metres over the shortest degree of latitude; longitude by the metres over
    the shortest degree of longitude anywhere in the grown latitude range. A box that reaches a
    pole or would close round the Earth becomes all round (-180, 180).
    """
    dlat = metres / M_PER_DEG_LAT_MIN
    s, n = np.maximum(-90.0, south - dlat), np.minimum(90.0, north + dlat)
    coslat = np.cos(np.radians(np.maximum(np.abs(s), np.abs(n))))
    with np.errstate(divide="ignore"):
        dlon = metres / (M_PER_DEG_LON_MIN * coslat)
    all_round = (west == -180.0) & (east == 180.0)
    span = np.where(all_round, 360.0, (east - west) % 360.0)
    full = all_round | (s <= -90.0) | (n >= 90.0) | (span + 2 * dlon >= 360.0)
    w = np.where(full, -180.0, wrap_lon(west - dlon))
    e = np.where(full, 180.0, wrap_lon(east + dlon))
    return s, n, w, e


def _position_error(lon: float, lat: float, field: str) -> InvalidInput | None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return InvalidInput("coordinates must be finite numbers", field=field)
    if not -180.0 <= lon <= 180.0:
        return InvalidInput(f"longitude {lon} is outside [-180, 180]", field=field)
    if not -90.0 <= lat <= 90.0:
        return InvalidInput(f"latitude {lat} is outside [-90, 90]", field=field)
    return None


def _bad_positions(lon: FloatArray, lat: FloatArray) -> BoolArray:
    with np.errstate(invalid="ignore"):
        ok = (np.abs(lon) <= 180.0) & (np.abs(lat) <= 90.0)  # False for NaN
    return ~ok


def footprint(outline: Outline) -> Footprint:
    """Validate an outline and derive its footprint (see :func:`footprints`).

    >>> f = footprint(Circle(179.9, 0.0, 30_000.0))
    >>> f.box.west > f.box.east  # the box crosses the antimeridian
    True
    >>> footprint(Circle(0.0, 0.0, 0.0))
    Traceback (most recent call last):
    ...
    deconfliction.errors.InvalidInput: radius_m: must be greater than 0, got 0.0
    """
    result = footprints([outline])[0]
    if isinstance(result, InvalidInput):
        raise result
    return result


def footprints(outlines: Sequence[Outline]) -> list[Footprint | InvalidInput]:
    """Validate many outlines at once: for each, its footprint or the error that rejects it.

    Every step is one array operation over all outlines (one ``Geod`` call for all polygons'
    edges, …), which is what lets a file of 100,000 volumes be checked in seconds.
    """
    out: list[Footprint | InvalidInput | None] = [None] * len(outlines)
    circles = [k for k, o in enumerate(outlines) if isinstance(o, Circle)]
    polygons = [k for k, o in enumerate(outlines) if not isinstance(o, Circle)]
    if circles:
        for k, result in zip(circles, _circles([outlines[k] for k in circles]), strict=True):
            out[k] = result
    if polygons:
        for k, result in zip(polygons, _polygons([outlines[k] for k in polygons]), strict=True):
            out[k] = result
    return out  # type: ignore[return-value]  # every slot is filled above


def _boxes(south: FloatArray, north: FloatArray, west: FloatArray, east: FloatArray) -> list[Box]:
    cols = (south.tolist(), north.tolist(), west.tolist(), east.tolist())
    return [Box(a, b, c, d) for a, b, c, d in zip(*cols, strict=True)]


def _circles(circles: Sequence[Circle]) -> list[Footprint | InvalidInput]:
    lon = np.array([c.lon for c in circles], dtype=np.float64)
    lat = np.array([c.lat for c in circles], dtype=np.float64)
    radius = np.array([c.radius_m for c in circles], dtype=np.float64)
    bad = _bad_positions(lon, lat) | ~(radius > 0) | ~(radius <= MAX_RADIUS_M)
    boxes = _boxes(
        *_cap_boxes(
            np.where(bad, 0.0, lon), np.where(bad, 0.0, lat), np.where(bad, 1.0, radius) + MARGIN_M
        )
    )
    empty = np.empty((0, 2))
    return [
        _circle_error(c)
        if bad[k]
        else Footprint(True, c.lon, c.lat, c.radius_m, c.radius_m, empty, boxes[k])
        for k, c in enumerate(circles)
    ]


def _circle_error(c: Circle) -> InvalidInput:
    wrong = _position_error(c.lon, c.lat, "geometry.coordinates")
    if wrong is not None:
        return wrong
    if not c.radius_m > 0:
        return InvalidInput(f"must be greater than 0, got {c.radius_m}", field="radius_m")
    return InvalidInput(
        f"{c.radius_m:.0f} m is larger than the limit of {MAX_RADIUS_M:.0f} m", field="radius_m"
    )


def _cap_boxes(
    lon: FloatArray, lat: FloatArray, radius_m: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Boxes round every point within ``radius_m`` of each centre, on a sphere small enough to be
    conservative for the ellipsoid."""
    rho = radius_m / R_MIN_M
    dlat = np.degrees(rho)
    south, north = lat - dlat, lat + dlat
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.sin(rho) / np.cos(np.radians(lat))
    dlon = np.degrees(np.arcsin(np.clip(ratio, 0.0, 1.0)))
    full = (south <= -90.0) | (north >= 90.0) | (ratio >= 1.0) | ~np.isfinite(ratio)
    return (
        np.maximum(south, -90.0),
        np.minimum(north, 90.0),
        np.where(full, -180.0, wrap_lon(lon - dlon)),
        np.where(full, 180.0, wrap_lon(lon + dlon)),
    )


def _centres(vert: FloatArray, first: IntArray) -> tuple[FloatArray, FloatArray]:
    """Per ring, the direction of the mean of its vertices' unit vectors (blind to the
    antimeridian)."""
    la, lo = np.radians(vert[:, 1]), np.radians(vert[:, 0])
    x = np.add.reduceat(np.cos(la) * np.cos(lo), first)
    y = np.add.reduceat(np.cos(la) * np.sin(lo), first)
    z = np.add.reduceat(np.sin(la), first)
    return np.degrees(np.arctan2(y, x)), np.degrees(np.arctan2(z, np.hypot(x, y)))


def _polygons(polys: Sequence[Polygon]) -> list[Footprint | InvalidInput]:
    """Footprints of many polygons: rings cleaned of repeated vertices, then all in arrays."""
    sizes = np.array([len(p.vertices) for p in polys], dtype=np.int64)
    flat = np.array([v for p in polys for v in p.vertices], dtype=np.float64).reshape(-1, 2)
    owner = np.repeat(np.arange(len(polys)), sizes)
    bad = np.zeros(len(polys), dtype=bool)
    bad[owner[_bad_positions(flat[:, 0], flat[:, 1])]] = True
    # a vertex equal to the one before it (or a last vertex equal to the first) adds no edge
    first = np.cumsum(sizes) - sizes
    prev = np.arange(len(flat)) - 1
    keep = np.ones(len(flat), dtype=bool)
    keep[1:] = np.any(flat[1:] != flat[prev[1:]], axis=1)
    keep[first] = True
    last = first + sizes - 1
    keep[last] &= np.any(flat[last] != flat[first], axis=1) | (sizes == 1)
    kept = np.bincount(owner[keep], minlength=len(polys))
    bad |= kept < 3
    good = np.flatnonzero(~bad)
    out: list[Footprint | InvalidInput] = [
        _ring_error(p) if bad[k] else None  # type: ignore[misc]
        for k, p in enumerate(polys)
    ]
    if len(good):
        mask = keep & ~bad[owner]
        found = _ring_footprints(flat[mask], kept[good], [polys[k] for k in good])
        for k, result in zip(good, found, strict=True):
            out[k] = result
    return out


def _ring_error(p: Polygon) -> InvalidInput:
    """Why a ring was refused before any geometry: a bad position, or too few vertices."""
    field = "geometry.coordinates"
    for i, (lon, lat) in enumerate(p.vertices):
        wrong = _position_error(lon, lat, f"{field}[0][{i}]")
        if wrong is not None:
            return wrong
    return InvalidInput("an outline needs at least 3 distinct vertices", field=field)


def _ring_footprints(
    vert: FloatArray, n_vert: IntArray, polys: Sequence[Polygon]
) -> list[Footprint | InvalidInput]:
    """Footprints of clean rings given as one array of vertices and the count in each ring."""
    first = np.cumsum(n_vert) - n_vert
    owner = np.repeat(np.arange(len(n_vert)), n_vert)
    clon, clat = _centres(vert, first)
    outer = np.maximum.reduceat(distance_m(clon[owner], clat[owner], vert[:, 0], vert[:, 1]), first)
    dense, d_first = _densify(vert, n_vert, first)
    d_owner = np.repeat(np.arange(len(n_vert)), np.diff(np.append(d_first, len(dense))))
    x, y = to_frame(clon[d_owner], clat[d_owner], dense[:, 0], dense[:, 1])
    lines = shapely.linearrings(np.column_stack([x, y]), indices=d_owner)
    shapes = shapely.polygons(lines)
    simple = shapely.is_simple(lines)
    valid = shapely.is_valid(shapes) & (shapely.area(shapes) > 0)
    inner = np.where(
        shapely.contains_xy(shapes, 0.0, 0.0),
        np.maximum(0.0, shapely.distance(lines, shapely.Point(0.0, 0.0)) - MARGIN_M),
        0.0,
    )
    boxes = _ring_boxes(dense, d_first)
    parts = np.split(dense, d_first[1:])
    return [
        _ring_verdict(outer[k], simple[k], valid[k], shapes[k], polys[k])
        or Footprint(
            False,
            float(clon[k]),
            float(clat[k]),
            float(outer[k]) + MARGIN_M,
            float(inner[k]),
            parts[k],
            boxes[k],
        )
        for k in range(len(n_vert))
    ]


def _ring_verdict(
    outer_m: float, simple: bool, valid: bool, shape: shapely.Polygon, poly: Polygon
) -> InvalidInput | None:
    """Why a ring is refused, or None."""
    field = "geometry.coordinates"
    if outer_m > MAX_RADIUS_M:
        return InvalidInput(
            f"a vertex is {outer_m:.0f} m from the outline's centre; the limit is "
            f"{MAX_RADIUS_M:.0f} m",
            field=field,
        )
    if len(set(poly.vertices)) < 3:
        return InvalidInput("an outline needs at least 3 distinct vertices", field=field)
    if not simple:
        return InvalidInput("the outline crosses itself", field=field)
    if not valid:
        reason = shapely.is_valid_reason(shape)
        return InvalidInput(f"the outline is not a valid area ({reason})", field=field)
    return None


def _densify(vert: FloatArray, n_vert: IntArray, first: IntArray) -> tuple[FloatArray, IntArray]:
    """All rings closed, with points along each geodesic edge at most DENSIFY_M apart, and the
    index where each ring starts."""
    nxt = np.arange(len(vert)) + 1
    last = first + n_vert - 1
    nxt[last] = first  # each ring's last edge returns to its first vertex
    lon1, lat1, lon2, lat2 = vert[:, 0], vert[:, 1], vert[nxt, 0], vert[nxt, 1]
    az, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    extra = (np.asarray(dist) // DENSIFY_M).astype(np.int64)
    closes = np.zeros(len(vert), dtype=np.int64)
    closes[last] = 1
    per_edge = 1 + extra + closes  # the vertex, the points along the edge, the closing vertex
    edge, k = _ragged(per_edge)
    frac = k / (extra[edge] + 1.0)
    lon, lat, _ = GEOD.fwd(
        lon1[edge], lat1[edge], np.asarray(az)[edge], np.asarray(dist)[edge] * frac
    )
    closing = k == extra[edge] + 1  # the repeated first vertex at the end of a ring
    lon, lat = np.where(closing, lon2[edge], lon), np.where(closing, lat2[edge], lat)
    lon, lat = np.where(k == 0, lon1[edge], lon), np.where(k == 0, lat1[edge], lat)
    ring_sizes = np.add.reduceat(per_edge, first)
    return np.column_stack([lon, lat]), np.cumsum(ring_sizes) - ring_sizes


def _ragged(counts: IntArray) -> tuple[IntArray, IntArray]:
    """For blocks of ``counts`` items: each item's block and its index within the block."""
    owner = np.repeat(np.arange(len(counts)), counts)
    start = np.cumsum(counts) - counts
    return owner, np.arange(int(counts.sum())) - start[owner]


POLAR_LAT = 60.0
"""Below this latitude a geodesic of DENSIFY_M bows past its ends by far less than MARGIN_M."""


def _geodesic_vertices(
    lon: FloatArray, lat: FloatArray, d_first: IntArray, south: FloatArray, north: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """South and north extended to the vertices of the geodesics between the ring points.

    A geodesic bows poleward between its ends, by about L²·tan(lat)/8R: up to kilometres near a
    pole, even for the ≤ 30 km steps of a densified ring. Where a step's azimuth turns through
    east or west, its vertex (highest or lowest point) lies on it, at the latitude Clairaut's
    relation gives: cos β_max = |cos β₁ · sin α₁| (β: reduced latitude).
    """
    step = np.arange(len(lat) - 1)
    step = step[~np.isin(step + 1, d_first)]  # no step from one ring into the next
    step = step[np.maximum(np.abs(lat[step]), np.abs(lat[step + 1])) > POLAR_LAT]
    if not len(step):
        return south, north
    az1, back2, _ = GEOD.inv(lon[step], lat[step], lon[step + 1], lat[step + 1])
    start_north, end_north = np.cos(np.radians(az1)), -np.cos(np.radians(back2))
    one_minus_f = 1.0 - GEOD.f
    beta1 = np.arctan(one_minus_f * np.tan(np.radians(lat[step])))
    beta_max = np.arccos(np.clip(np.abs(np.cos(beta1) * np.sin(np.radians(az1))), 0.0, 1.0))
    lat_max = np.degrees(np.arctan2(np.tan(beta_max), one_minus_f))
    ring = np.searchsorted(d_first, step, side="right") - 1
    up = (start_north > 0) & (end_north < 0)  # heading north, then south: a northern vertex
    down = (start_north < 0) & (end_north > 0)
    north, south = north.copy(), south.copy()
    np.maximum.at(north, ring[up], lat_max[up])
    np.minimum.at(south, ring[down], -lat_max[down])
    return south, north


def _ring_boxes(dense: FloatArray, d_first: IntArray) -> list[Box]:
    """Per closed ring, a box with MARGIN_M to spare; a ring that winds round a pole reaches it."""
    lon, lat = dense[:, 0], dense[:, 1]
    steps = np.zeros(len(lon))
    steps[1:] = (np.diff(lon) + 180.0) % 360.0 - 180.0
    steps[d_first] = 0.0  # no step from one ring into the next
    walked = np.cumsum(steps)
    sizes = np.diff(np.append(d_first, len(lon)))
    first_of = np.repeat(d_first, sizes)
    unwrapped = lon[first_of] + walked - walked[first_of]
    west = np.minimum.reduceat(unwrapped, d_first)
    east = np.maximum.reduceat(unwrapped, d_first)
    south = np.minimum.reduceat(lat, d_first)
    north = np.maximum.reduceat(lat, d_first)
    south, north = _geodesic_vertices(lon, lat, d_first, south, north)
    winding = walked[d_first + sizes - 1] - walked[d_first]
    north_half = np.add.reduceat(lat, d_first) > 0
    pole = np.abs(winding) > 180.0  # the ring winds round a pole, which is inside it
    south = np.where(pole & ~north_half, -90.0, south)
    north = np.where(pole & north_half, 90.0, north)
    full = pole | (east - west >= 360.0)
    west = np.where(full, -180.0, wrap_lon(west))
    east = np.where(full, 180.0, wrap_lon(east))
    return _boxes(*grow_boxes(south, north, west, east, MARGIN_M))
