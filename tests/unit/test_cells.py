"""The candidate index never loses a candidate.

:mod:`deconfliction.strategic.cells` only narrows the pairs that the exact check looks at, so its
one duty is completeness: two volumes that conflict must share a key between the keys one is
registered under and the keys a query for the other asks for. The index works on each
footprint's lat/lon box, so the box must hold the whole outline; both are checked here against
the oracle (true distances, points along the true geodesic edges).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from deconfliction.agreement import Separation
from deconfliction.geo.footprint import Box, footprint
from deconfliction.geo.volume import Circle, Outline, Polygon, Volume
from deconfliction.strategic import cells
from deconfliction.strategic.detect import (
    MAX_WINDOW_S,
    Prepared,
    extents,
    find_conflicts,
    prepare_many,
)
from deconfliction.strategic.notice import Activity, Notice

from .oracle import boundary_samples, dense_ring, dist_m, reference_distance_m
from .strategies import REGIONS, outlines, pairs

T0 = datetime(2025, 3, 1, tzinfo=UTC)

# ---- a polar polygon whose box is too small -----------------------------------------------------

BULGE_BOUNDARY = 511 * 0.3515625 - 90.0
"""89.6484375°: the edge between the two top rows of level-0 cells (0.3515625° square)."""


def _half_width(lat: float, length_m: float) -> float:
    """The longitude ±x such that (−x, lat) and (x, lat) are ``length_m`` apart."""
    lo, hi = 0.0, 90.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if dist_m((-mid, lat), (mid, lat)) < length_m else (lo, mid)
    return lo


_TOP = BULGE_BOUNDARY - 0.0195
_X = _half_width(_TOP, 29_990.0)  # under the 30 km densification step: one geodesic edge
BULGING = Polygon(((-_X, _TOP), (_X, _TOP), (_X, _TOP - 0.1), (-_X, _TOP - 0.1)))
"""A thin quadrilateral with its northern vertices at 89.629°N. Its northern edge, a 30 km
geodesic between two vertices at the same latitude, bows 2.8 km towards the pole (to 89.654°N),
across the 89.6484375° cell edge."""
INSIDE_THE_BULGE = Circle(0.0, BULGE_BOUNDARY + 0.0012, 5.0)
"""A 5 m circle inside BULGING, north of that cell edge."""

NEAR_THE_SOUTH_POLE = Polygon(((95.0, -89.7), (-75.0, -89.7), (-60.0, -88.8), (105.0, -88.2)))
"""An edge from (95°, -89.7°) to (-75°, -89.7°) passes 3 km from the south pole, ~8 km beyond
its densified points."""


# ---- boxes ------------------------------------------------------------------------------------


def boundary_points(outline: Outline) -> tuple[np.ndarray, np.ndarray]:
    """Points along the true boundary: 1,440 round a circle, every 100 m along a polygon's
    geodesic edges."""
    if isinstance(outline, Circle):
        return boundary_samples(outline, 1_440)
    ring = dense_ring(outline.vertices, 100.0)
    return ring[:, 0], ring[:, 1]


def beyond_box_deg(box: Box, lon: np.ndarray, lat: np.ndarray) -> float:
    """How far (degrees of latitude or longitude) the farthest point lies outside the box."""
    out = np.maximum(lat - box.north, box.south - lat)
    if not box.full_lon:
        span = (box.east - box.west) % 360.0
        east_of_west = (lon - box.west) % 360.0
        lon_out = np.where(
            east_of_west <= span, 0.0, np.minimum(east_of_west - span, 360.0 - east_of_west)
        )
        out = np.maximum(out, lon_out)
    return float(out.max())


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["anywhere", "antimeridian", "pole"]).flatmap(outlines))
def test_box__holds_the_whole_outline(outline: Outline) -> None:
    box = footprint(outline).box
    assert beyond_box_deg(box, *boundary_points(outline)) <= 0.0, (outline, box)


@settings(max_examples=60, deadline=None)
@given(outlines("polar"))
@example(NEAR_THE_SOUTH_POLE)  # an edge across the pole: once missed (see below)
def test_box__holds_the_whole_outline_in_the_polar_caps(outline: Outline) -> None:
    """Random polar polygons hit the case below about once in 70."""
    box = footprint(outline).box
    assert beyond_box_deg(box, *boundary_points(outline)) <= 0.0, (outline, box)


@pytest.mark.parametrize(
    "outline",
    [BULGING, NEAR_THE_SOUTH_POLE],
    ids=["edge-bowing-poleward-at-89.6N", "edge-passing-the-south-pole"],
)
def test_box__holds_a_polar_geodesic_edge(outline: Polygon) -> None:
    """A geodesic between two ring points ≤ 30 km apart bows poleward by up to L²·tan(lat)/8R
    beyond them: more than the box's 100 m margin above ~80° of latitude (2.8 km at 89.63°,
    ~8 km for an edge that passes near a pole). A box from the ring points alone once missed
    part of the outline; the box must hold the geodesics' vertices too."""
    box = footprint(outline).box
    lon, lat = boundary_points(outline)
    assert beyond_box_deg(box, lon, lat) <= 0.0, (box, float(lat.min()), float(lat.max()))


# ---- the index --------------------------------------------------------------------------------


def prepared(outline: Outline, start: datetime, end: datetime, party: str) -> Prepared:
    notice = Notice(f"{party}-1", party, Activity.AIR, (Volume(outline, 0.0, 100.0, start, end),))
    return prepare_many([notice])[0]


def shares_a_key(x: Prepared, y: Prepared, horizontal_m: float, time_s: float) -> bool:
    """Whether the query for x asks for a key y is registered under."""
    registered, _ = cells.register(extents([y]))
    asked, _ = cells.query(
        extents([x]), cells.levels_in(registered), horizontal_m=horizontal_m, time_s=time_s
    )
    return bool(np.intersect1d(asked, registered).size)


Window = tuple[datetime, datetime]
durations_s = st.floats(math.log(60.0), math.log(MAX_WINDOW_S)).map(math.exp)  # up to a year


@st.composite
def windows(draw: st.DrawFn, time_s: float) -> tuple[Window, Window]:
    """Two windows (a minute to a year long) whose gap is below ``time_s``, or that overlap."""
    la, lb = draw(durations_s), draw(durations_s)
    a0 = T0 + timedelta(seconds=draw(st.floats(-1e8, 1e8)))
    a1 = a0 + timedelta(seconds=la)
    # b starts anywhere from "b ends just after a starts" to "b starts just under time_s after a"
    offset = draw(st.floats(-(la + lb) + 1e-3, time_s * (1 - 1e-9)))
    b0 = a1 + timedelta(seconds=offset)
    pair = ((a0, a1), (b0, b0 + timedelta(seconds=lb)))
    return pair if draw(st.booleans()) else pair[::-1]


@st.composite
def close_cases(
    draw: st.DrawFn,
) -> tuple[Outline, Outline, float, float, tuple[Window, Window]]:
    """Two outlines (from any region), a horizontal minimum above their true distance — just
    above it (the tightest case) or well above — a time minimum, and two windows closer than
    it."""
    a, b = draw(st.sampled_from(REGIONS).flatmap(lambda r: pairs(r, extra_m=60_000.0)))
    above_m = draw(st.sampled_from([1.0, 50.0, 1_000.0, 18_520.0]))
    time_s = draw(st.sampled_from([1.0, 900.0, 86_400.0]))
    return a, b, above_m, time_s, draw(windows(time_s))


@settings(max_examples=300, deadline=None)
@given(close_cases())
def test_index__never_loses_a_pair_closer_than_the_minima(
    case: tuple[Outline, Outline, float, float, tuple[Window, Window]],
) -> None:
    a, b, above_m, time_s, ((a0, a1), (b0, b1)) = case
    horizontal_m = reference_distance_m(a, b) + above_m
    x, y = prepared(a, a0, a1, "red"), prepared(b, b0, b1, "blue")
    assert shares_a_key(x, y, horizontal_m, time_s), (a, b, horizontal_m)
    assert shares_a_key(y, x, horizontal_m, time_s), (a, b, horizontal_m)


@pytest.mark.parametrize("horizontal_m", [1.0, 1_000.0, 2_000.0, 18_520.0])
def test_index__finds_a_circle_inside_a_polar_polygon(horizontal_m: float) -> None:
    """Through the box (see test_box__holds_a_polar_geodesic_edge): the 5 m circle lies inside
    BULGING, so with any horizontal minimum the query for either asks for a key the other is
    registered under (a box without the bulge once missed it for minima up to ~2 km)."""
    assert reference_distance_m(BULGING, INSIDE_THE_BULGE) == 0.0
    end = T0 + timedelta(hours=1)
    polygon = prepared(BULGING, T0, end, "red")
    circle = prepared(INSIDE_THE_BULGE, T0, end, "blue")
    assert shares_a_key(polygon, circle, horizontal_m, 900.0)
    assert shares_a_key(circle, polygon, horizontal_m, 900.0)


@pytest.mark.parametrize("horizontal_m", [1.0, 2_000.0, 18_520.0])
def test_find_conflicts__finds_a_circle_inside_a_polar_polygon(horizontal_m: float) -> None:
    """The same end to end: two volumes of two parties that overlap in all four dimensions
    conflict, whichever comes first."""
    end = T0 + timedelta(hours=1)
    notices = [
        Notice("P-1", "red", Activity.AIR, (Volume(BULGING, 0.0, 100.0, T0, end),)),
        Notice("C-1", "blue", Activity.AIR, (Volume(INSIDE_THE_BULGE, 0.0, 100.0, T0, end),)),
    ]
    sep = Separation(horizontal_m=horizontal_m, vertical_m=609.6, time_s=900.0)
    assert len(find_conflicts(prepare_many(notices), sep)) == 1
    assert len(find_conflicts(prepare_many(notices[::-1]), sep)) == 1


# ---- keys -------------------------------------------------------------------------------------


def test_keys__are_non_negative_and_at_most_eight_per_volume() -> None:
    """DESIGN of cells.py: registered under at most 2 × 2 × 2 keys, packed in 63 bits."""
    rng = np.random.default_rng(1)
    items = []
    for k in range(200):
        lon, lat = float(rng.uniform(-180, 180)), float(rng.uniform(-89, 89))
        start = T0 + timedelta(seconds=float(rng.uniform(-1e9, 1e9)))
        length = timedelta(seconds=float(math.exp(rng.uniform(0, math.log(MAX_WINDOW_S)))))
        radius = float(math.exp(rng.uniform(math.log(10.0), math.log(500_000.0))))
        items.append(prepared(Circle(lon, lat, radius), start, start + length, f"p{k % 3}"))
    registered, owner = cells.register(extents(items))
    assert (registered >= 0).all()
    assert np.bincount(owner, minlength=len(items)).max() <= 8
    assert set(np.unique(owner)) == set(range(len(items)))
