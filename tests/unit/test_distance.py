"""Horizontal distance between footprints against the independent geodesic oracle.

The package measures polygons in local azimuthal-equidistant frames with shapely; the oracle
(:mod:`.oracle`) searches the two boundaries with nothing but ``pyproj.Geod``. They share no code,
so agreement within :func:`.oracle.tolerance_m` is evidence that both are right.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.geo.distance import horizontal_distance_m, pair_distances_m
from deconfliction.geo.footprint import MAX_RADIUS_M, footprint
from deconfliction.geo.volume import Circle, Outline, Polygon

from .oracle import (
    dist_m,
    point_at,
    reference_distance_m,
    regular,
    star,
    tolerance_m,
)
from .strategies import REGIONS, Region, centres, far_pairs, outlines_at, pairs, radii_m


def package_m(a: Outline, b: Outline) -> float:
    return horizontal_distance_m(footprint(a), footprint(b))


def assert_close(a: Outline, b: Outline) -> None:
    want = reference_distance_m(a, b)
    got = package_m(a, b)
    assert abs(got - want) <= tolerance_m(want), (got, want, a, b)


# ---- against the oracle, region by region ----------------------------------------------------


@pytest.mark.parametrize("region", REGIONS)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_distance__matches_the_oracle_in_every_region(region: Region, data: st.DataObject) -> None:
    a, b = data.draw(pairs(region))
    assert_close(a, b)


@settings(max_examples=50, deadline=None)
@given(pairs("antimeridian", extra_m=400_000.0))
def test_distance__matches_the_oracle_for_pairs_up_to_hundreds_of_km_apart(
    pair: tuple[Outline, Outline],
) -> None:
    assert_close(*pair)


@settings(max_examples=50, deadline=None)
@given(far_pairs())
def test_distance__matches_the_oracle_for_pairs_thousands_of_km_apart(
    pair: tuple[Outline, Outline],
) -> None:
    assert_close(*pair)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(REGIONS).flatmap(pairs))
def test_distance__is_symmetric(pair: tuple[Outline, Outline]) -> None:
    """d(a, b) == d(b, a). Polygon pairs are measured in a frame centred between the two, and
    the midpoint of a→b and of b→a can differ in the last bits, so equal to a micrometre."""
    a, b = (footprint(o) for o in pair)
    assert horizontal_distance_m(a, b) == pytest.approx(horizontal_distance_m(b, a), abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(REGIONS).flatmap(pairs), min_size=1, max_size=6))
def test_pair_distances__is_the_distance_of_each_pair(
    many: list[tuple[Outline, Outline]],
) -> None:
    """The batch form gives, element by element, what one pair at a time gives."""
    fa = [footprint(a) for a, _ in many]
    fb = [footprint(b) for _, b in many]
    batch = pair_distances_m(fa, fb)
    one = [horizontal_distance_m(x, y) for x, y in zip(fa, fb, strict=True)]
    np.testing.assert_allclose(batch, one, rtol=0, atol=1e-6)


def test_pair_distances__of_nothing_is_empty() -> None:
    assert pair_distances_m([], []).shape == (0,)


# ---- zero when touching, crossing or nested --------------------------------------------------


@st.composite
def same_centre(draw: st.DrawFn, least: float, most: float) -> tuple[Outline, Outline]:
    """Two outlines round one centre, the second ``least`` to ``most`` × the first's radius."""
    region = draw(st.sampled_from(REGIONS))
    r = draw(radii_m)
    centre = draw(centres(region, r))
    outer = draw(outlines_at(centre, r))
    inner = draw(outlines_at(centre, min(300_000.0, r * draw(st.floats(least, most)))))
    return (outer, inner) if draw(st.booleans()) else (inner, outer)


@settings(max_examples=50, deadline=None)
@given(same_centre(0.002, 0.03))
def test_distance__is_zero_for_nested_outlines(pair: tuple[Outline, Outline]) -> None:
    """The star polygons of the strategies keep 0.4 × cos 85° = 0.035 × their radius round their
    centre, so an outline within 0.03 × that radius of it is nested."""
    a, b = pair
    assert package_m(a, b) == 0.0
    assert package_m(b, a) == 0.0
    assert reference_distance_m(a, b) == 0.0


@settings(max_examples=50, deadline=None)
@given(same_centre(0.01, 3.0))
def test_distance__is_zero_for_outlines_round_one_centre(pair: tuple[Outline, Outline]) -> None:
    """Both contain the centre, so they overlap, whatever their sizes."""
    a, b = pair
    assert package_m(a, b) == 0.0
    assert package_m(b, a) == 0.0


def test_distance__is_zero_for_two_squares_sharing_an_edge() -> None:
    west = Polygon(((10.0, 10.0), (10.5, 10.0), (10.5, 10.5), (10.0, 10.5)))
    east = Polygon(((10.5, 10.0), (11.0, 10.0), (11.0, 10.5), (10.5, 10.5)))
    assert package_m(west, east) == 0.0
    assert package_m(east, west) == 0.0
    assert reference_distance_m(west, east) == 0.0


def test_distance__is_zero_for_two_squares_sharing_a_corner() -> None:
    a = Polygon(((10.0, 10.0), (10.5, 10.0), (10.5, 10.5), (10.0, 10.5)))
    b = Polygon(((10.5, 10.5), (11.0, 10.5), (11.0, 11.0), (10.5, 11.0)))
    assert package_m(a, b) == 0.0
    assert reference_distance_m(a, b) == 0.0


def test_distance__is_zero_for_squares_sharing_an_edge_across_the_antimeridian() -> None:
    west = Polygon(((179.0, -1.0), (180.0, -1.0), (180.0, 1.0), (179.0, 1.0)))
    east = Polygon(((-180.0, -1.0), (-179.0, -1.0), (-179.0, 1.0), (-180.0, 1.0)))
    assert package_m(west, east) == 0.0
    assert reference_distance_m(west, east) == 0.0


@pytest.mark.parametrize("lat", [0.0, 45.0, 80.0])
def test_distance__of_touching_circles_is_zero_to_a_micrometre(lat: float) -> None:
    """Centres exactly r1 + r2 apart (up to Geod's last bits): the package says 0 (or a few
    nanometres: it computes max(0, d - r1 - r2) in floating point)."""
    c1 = (30.0, lat)
    c2 = point_at(c1, 63.0, 12_000.0 + 7_000.0)
    assert package_m(Circle(*c1, 12_000.0), Circle(*c2, 7_000.0)) == pytest.approx(0.0, abs=1e-6)


# ---- hand-built places --------------------------------------------------------------------------

ACROSS = Polygon(((179.5, 0.0), (-179.5, 0.0), (-179.5, 1.0), (179.5, 1.0)))
"""A square degree across the antimeridian: its edges run from lon 179.5 east to -179.5."""


def test_distance__polygon_across_the_antimeridian_to_a_circle_east_of_it() -> None:
    circle = Circle(-179.0, 0.5, 20_000.0)
    got = package_m(ACROSS, circle)
    # the nearest edge is the meridian -179.5: about half a degree of longitude at the equator
    # minus the radius, not the way round the world
    assert 35_000.0 < got < 36_000.0
    assert got == pytest.approx(reference_distance_m(ACROSS, circle), abs=tolerance_m(got))


def test_distance__polygon_across_the_antimeridian_to_a_circle_west_of_it() -> None:
    circle = Circle(178.8, 0.5, 10_000.0)
    got = package_m(ACROSS, circle)
    assert 67_000.0 < got < 68_000.0
    assert got == pytest.approx(reference_distance_m(ACROSS, circle), abs=tolerance_m(got))


@pytest.mark.parametrize("lon", [180.0, -180.0, 179.9, -179.9])
def test_distance__circle_inside_a_polygon_across_the_antimeridian_is_zero(lon: float) -> None:
    assert package_m(ACROSS, Circle(lon, 0.5, 5_000.0)) == 0.0


def test_distance__polygons_on_both_sides_of_the_antimeridian() -> None:
    west = Polygon(((179.0, 10.0), (179.8, 10.0), (179.8, 10.6), (179.0, 10.6)))
    east = Polygon(((-179.7, 10.2), (-179.0, 10.2), (-179.0, 11.0), (-179.7, 11.0)))
    want = reference_distance_m(west, east)
    assert 50_000.0 < want < 60_000.0
    assert package_m(west, east) == pytest.approx(want, abs=tolerance_m(want))


POLAR_CAP = Circle(0.0, 89.9, 30_000.0)
"""A circle that contains the north pole (its centre is ~11 km from it)."""


def test_distance__circle_round_the_pole_contains_it() -> None:
    assert dist_m((POLAR_CAP.lon, POLAR_CAP.lat), (0.0, 90.0)) < POLAR_CAP.radius_m


@pytest.mark.parametrize(
    "polygon",
    [
        # beyond the pole from the circle's centre, straddling the antimeridian
        Polygon(((170.0, 89.3), (-170.0, 89.3), (-170.0, 89.5), (170.0, 89.5))),
        # on the near side
        Polygon(((-5.0, 89.0), (5.0, 89.0), (5.0, 89.3), (-5.0, 89.3))),
        # sideways
        Polygon(((85.0, 89.2), (95.0, 89.2), (95.0, 89.5), (85.0, 89.5))),
    ],
    ids=["beyond-the-pole", "near-side", "sideways"],
)
def test_distance__circle_round_the_north_pole_to_a_polygon_near_it(polygon: Polygon) -> None:
    want = reference_distance_m(POLAR_CAP, polygon)
    assert want > 1_000.0
    assert package_m(POLAR_CAP, polygon) == pytest.approx(want, abs=tolerance_m(want))
    assert package_m(polygon, POLAR_CAP) == pytest.approx(want, abs=tolerance_m(want))


def test_distance__polygon_round_the_south_pole_to_a_circle_beyond_it() -> None:
    around = regular((0.0, -90.0), 100_000.0, 7)
    circle = Circle(135.0, -88.0, 20_000.0)
    want = reference_distance_m(around, circle)
    assert want > 10_000.0
    assert package_m(around, circle) == pytest.approx(want, abs=tolerance_m(want))
    assert package_m(around, Circle(40.0, -89.5, 1_000.0)) == 0.0  # inside, near the pole


@pytest.mark.parametrize("lat", [0.0, 60.0, 85.0])
def test_distance__circles_of_500_km(lat: float) -> None:
    assert MAX_RADIUS_M == 500_000.0
    c1 = (20.0, lat)
    c2 = point_at(c1, 90.0, 1_100_000.0)
    a, b = Circle(*c1, 500_000.0), Circle(*c2, 500_000.0)
    assert package_m(a, b) == pytest.approx(100_000.0, abs=1e-3)
    assert reference_distance_m(a, b) == pytest.approx(100_000.0, abs=tolerance_m(100_000.0))
    assert package_m(a, Circle(*point_at(c1, 90.0, 999_000.0), 500_000.0)) == 0.0


def test_distance__circle_of_500_km_to_a_polygon_of_500_km() -> None:
    circle = Circle(-179.0, 70.0, 500_000.0)
    polygon = star((-160.0, 60.0), 500_000.0, [0.0, 80.0, 170.0, 260.0], [1.0, 0.9, 1.0, 0.8])
    want = reference_distance_m(circle, polygon)
    assert package_m(circle, polygon) == pytest.approx(want, abs=tolerance_m(want))


def test_distance__of_antipodal_circles_is_half_way_round_less_the_radii() -> None:
    a, b = Circle(0.0, 0.0, 1_000.0), Circle(180.0, 0.0, 2_000.0)
    half_way = dist_m((0.0, 0.0), (180.0, 0.0))  # over a pole: 20,003,931 m
    assert half_way == pytest.approx(20_003_931.5, abs=1.0)
    assert package_m(a, b) == pytest.approx(half_way - 3_000.0, abs=1e-3)
