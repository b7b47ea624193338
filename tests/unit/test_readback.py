"""The read-back of a volume against references that share no code with it.

MGRS digits are checked against UTM/UPS coordinates from PROJ (pyproj ``Transformer``), the
letters against pygeodesy (an independent, pure-Python MGRS), and both against published
references; the nearest place against a brute-force ``Geod.inv`` over the whole gazetteer;
distances and bearings against ``pyproj.Geod``; the polygon centre against symmetry.
"""

from __future__ import annotations

import functools
import json
import math
import re
import socket
from datetime import UTC, datetime, timedelta

import mgrs
import numpy as np
import pygeodesy
import pyproj
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deconfliction.errors import InvalidInput
from deconfliction.geo import readback
from deconfliction.geo.readback import (
    FromPlace,
    Place,
    format_lat,
    format_lon,
    gazetteer,
    mgrs_reference,
    nearest_place,
    nearest_places,
    read_back,
    read_backs,
)
from deconfliction.geo.volume import FT_M, Circle, Outline, Polygon, Volume

from .oracle import point_at, regular, star
from .strategies import centres, outlines, radii_m

GEOD = pyproj.Geod(ellps="WGS84")  # a Geod of the test's own
START = datetime(2016, 9, 17, 14, tzinfo=UTC)
DEIR_EZ_ZOR = (40.14084, 35.33588)  # GeoNames 170794
MGRS_RE = re.compile(r"(\d{0,2})([A-Z])([A-Z]{2})(\d*)")

lons = st.floats(-180.0, 180.0)
lats = st.floats(-90.0, 90.0)


def volume(outline: Outline, lower_m: float = 3048.0, upper_m: float = 7620.0) -> Volume:
    return Volume(outline, lower_m, upper_m, START, START + timedelta(hours=1, minutes=30))


# ---- MGRS ---------------------------------------------------------------------------------------


@functools.cache
def to_grid(epsg: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)


def grid_epsg(zone: str, band: str) -> int:
    """The UTM or UPS CRS of an MGRS grid zone designator."""
    if not zone:
        return 32661 if band in "YZ" else 32761  # UPS North / UPS South
    return (32600 if band >= "N" else 32700) + int(zone)


def grid_xy(lon: float, lat: float, zone: str, band: str) -> tuple[float, float]:
    e, n = to_grid(grid_epsg(zone, band)).transform(lon, lat)
    return float(e), float(n)


def pygeodesy_mgrs(lon: float, lat: float, precision_m: int) -> str:
    drop = round(math.log10(precision_m))
    ref = str(pygeodesy.toUtmUps8(lat, lon).toMgrs().toStr(prec=-drop))
    return ref[1:] if ref.startswith("0") else ref  # it writes zone 1 as 01, like GEOTRANS


def near_an_edge(lon: float, lat: float) -> bool:
    """Within 1e-6° (~10 cm) of a zone meridian or band parallel, where a point may be referenced
    in either zone: GEOTRANS moves points within ~1e-7° of an edge across it, GeographicLib does
    not. (Multiples of 3° hold the Norway and Svalbard exceptions; 84°N ends the UTM bands.)"""
    return (
        abs(lon / 3.0 - round(lon / 3.0)) * 3.0 < 1e-6
        or abs(lat / 8.0 - round(lat / 8.0)) * 8.0 < 1e-6
        or abs(lat - 84.0) < 1e-6
    )


def near_a_line(value_m: float, precision_m: int) -> bool:
    """Within 1 mm of a grid line of that spacing (where GEOTRANS's 0.5 mm nudge may tell)."""
    return abs(value_m - round(value_m / precision_m) * precision_m) < 1e-3


@pytest.mark.parametrize(
    ("lon", "lat", "precision_m", "want"),
    [
        # published by a third implementation (Palantir Foundry's expression docs)
        (-157.91608117421092, 21.409796671597924, 100, "4QFJ123678"),
        (0.9996456505181999, 88.99999659707431, 100, "ZAF019889"),
    ],
)
def test_mgrs__matches_published_references(
    lon: float, lat: float, precision_m: int, want: str
) -> None:
    assert mgrs_reference(lon, lat, precision_m=precision_m) == want


@settings(max_examples=300, deadline=None)
@given(lons, lats, st.sampled_from([1, 10, 100, 1000]))
def test_mgrs__digits_are_the_truncated_utm_or_ups_coordinates_from_proj(
    lon: float, lat: float, precision_m: int
) -> None:
    assume(not near_an_edge(lon, lat))  # GEOTRANS snaps to an edge within ~1e-7°
    ref = mgrs_reference(lon, lat, precision_m=precision_m)
    zone, band, _, digits = MGRS_RE.fullmatch(ref).groups()  # type: ignore[union-attr]
    e, n = grid_xy(lon, lat, zone, band)
    assume(not near_a_line(e, precision_m) and not near_a_line(n, precision_m))
    half = len(digits) // 2
    scale = 100_000 // precision_m
    assert int(digits[:half]) == math.floor(e / precision_m) % scale, (ref, e)
    assert int(digits[half:]) == math.floor(n / precision_m) % scale, (ref, n)


@settings(max_examples=300, deadline=None)
@given(lons, lats)
def test_mgrs__matches_pygeodesy_everywhere_including_the_polar_ups_zones(
    lon: float, lat: float
) -> None:
    assume(not near_an_edge(lon, lat))  # e.g. 84°N: UTM zone X in GEOTRANS, UPS in GeographicLib
    ref = mgrs_reference(lon, lat)
    zone, band, _, _ = MGRS_RE.fullmatch(ref).groups()  # type: ignore[union-attr]
    e, n = grid_xy(lon, lat, zone, band)
    assume(not near_a_line(e, 10) and not near_a_line(n, 10))
    assert ref == pygeodesy_mgrs(lon, lat, 10)


@settings(max_examples=200, deadline=None)
@given(lons, lats)
def test_mgrs__decodes_to_the_south_west_corner_of_a_square_that_holds_the_point(
    lon: float, lat: float
) -> None:
    ref = mgrs_reference(lon, lat)
    zone, band, _, _ = MGRS_RE.fullmatch(ref).groups()  # type: ignore[union-attr]
    e, n = grid_xy(lon, lat, zone, band)
    assume(not near_a_line(e, 10) and not near_a_line(n, 10))
    corner = pygeodesy.parseMGRS(ref).toLatLon(LatLon=None)  # the square's SW corner
    own_lat, own_lon = mgrs.MGRS().toLatLon(ref)  # the library that wrote it reads it back
    # a 10 m square of the grid is at most 10 m × 1.0033 (UPS at 80°S) on the ground
    for c_lon, c_lat in ((corner.lon, corner.lat), (own_lon, own_lat)):
        _, _, d = GEOD.inv(lon, lat, c_lon, c_lat)
        assert d <= 10 * math.sqrt(2) * 1.004 + 0.2, (ref, d)  # + the equator's 11 cm snap


@pytest.mark.parametrize("lat", [-1e-9, -5e-8, -1e-7, -9.9e-7])
def test_mgrs__just_south_of_the_equator_reads_back(lat: float) -> None:
    ref = mgrs_reference(0.0, lat)
    assert ref == "31NAA66020000"
    assert mgrs.MGRS().toLatLon(ref) == pytest.approx((0.0, 0.0), abs=1e-3)


@settings(max_examples=100, deadline=None)
@given(lons, lats)
def test_mgrs__a_coarser_reference_is_the_finer_one_cut_short(lon: float, lat: float) -> None:
    fine = MGRS_RE.fullmatch(mgrs_reference(lon, lat, precision_m=1))
    coarse = MGRS_RE.fullmatch(mgrs_reference(lon, lat, precision_m=1000))
    assert fine is not None and coarse is not None
    digits = fine.group(4)
    assert coarse.group(4) == digits[:2] + digits[5:7]
    assert coarse.group(1, 2, 3) == fine.group(1, 2, 3)


def test_mgrs__drops_the_leading_zero_of_the_zone_and_spaces_its_parts() -> None:
    rb = read_back(volume(Circle(-157.9161, 21.4098, 1_000.0)))
    assert rb.mgrs == pygeodesy_mgrs(-157.9161, 21.4098, 10) == "4QFJ12346789"
    assert rb.mgrs_spaced == "4Q FJ 1234 6789"


def test_mgrs__rejects_a_precision_that_is_not_a_power_of_ten() -> None:
    with pytest.raises(InvalidInput, match=r"precision_m: must be one of 1, 10, 100"):
        mgrs_reference(40.0, 35.0, precision_m=5)


# ---- degrees and minutes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "want"),
    [
        (35 + 20.1 / 60, "35°20.1'N"),
        (35 + 59.95 / 60, "36°00.0'N"),  # rounds half up, carrying into the degree
        (35 + 59.949 / 60, "35°59.9'N"),
        (-(35 + 59.96 / 60), "36°00.0'S"),
        (-33.5, "33°30.0'S"),
        (0.0, "00°00.0'N"),
        (-1e-9, "00°00.0'N"),  # nothing left of the sign: no southern zero
        (-0.001, "00°00.1'S"),
        (90.0, "90°00.0'N"),
        (-90.0, "90°00.0'S"),
    ],
)
def test_format_lat(lat: float, want: str) -> None:
    assert format_lat(lat) == want


@pytest.mark.parametrize(
    ("lon", "want"),
    [
        (40 + 8.7 / 60, "040°08.7'E"),
        (-(40 + 8.7 / 60), "040°08.7'W"),
        (-0.25, "000°15.0'W"),
        (7 + 59.95 / 60, "008°00.0'E"),
        (179.99, "179°59.4'E"),
        (-179.99999, "180°00.0'W"),
        (180.0, "180°00.0'E"),
        (-180.0, "180°00.0'W"),
        (0.0, "000°00.0'E"),
    ],
)
def test_format_lon(lon: float, want: str) -> None:
    assert format_lon(lon) == want


def parse_dm(text: str) -> float:
    m = re.fullmatch(r"(\d{2,3})°(\d{2})\.(\d)'([NSEW])", text)
    assert m is not None, text
    value = int(m[1]) + (int(m[2]) + int(m[3]) / 10) / 60
    assert int(m[2]) < 60
    return -value if m[4] in "SW" else value


@given(lats, lons)
def test_degrees_minutes__read_back_within_a_twentieth_of_a_minute(lat: float, lon: float) -> None:
    assert abs(parse_dm(format_lat(lat)) - lat) <= 0.05 / 60 + 1e-12
    assert abs(parse_dm(format_lon(lon)) - lon) <= 0.05 / 60 + 1e-12
    assert len(format_lat(lat)) == 9 and len(format_lon(lon)) == 10


# ---- the nearest place --------------------------------------------------------------------------


def brute_force(lon: float, lat: float) -> tuple[float, int]:
    """The geodesic distance to the nearest place and its index, over the whole gazetteer."""
    g = gazetteer()
    n = len(g)
    _, _, d = GEOD.inv(g.lon, g.lat, np.full(n, lon), np.full(n, lat))
    k = int(np.argmin(d))
    return float(d[k]), k


@st.composite
def points_near_places(draw: st.DrawFn) -> tuple[float, float]:
    """A point up to 60 km from a random place: where neighbours are nearly equidistant."""
    g = gazetteer()
    k = draw(st.integers(0, len(g) - 1))
    return point_at(
        (float(g.lon[k]), float(g.lat[k])), draw(st.floats(0, 360)), draw(st.floats(0, 6e4))
    )


@st.composite
def points_between_places(draw: st.DrawFn) -> tuple[float, float]:
    """A point near the geodesic midpoint of a place and its nearest neighbour."""
    g = gazetteer()
    k = draw(st.integers(0, len(g) - 1))
    _, pair = g.tree.query(g.unit[k], k=2)
    j = int(pair[1])
    az, _, d = GEOD.inv(g.lon[k], g.lat[k], g.lon[j], g.lat[j])
    mid = point_at((float(g.lon[k]), float(g.lat[k])), az, d / 2)
    return point_at(mid, draw(st.floats(0, 360)), draw(st.floats(0, 5.0)))


anywhere = st.tuples(lons, lats)
polar = st.tuples(lons, st.floats(75.0, 90.0) | st.floats(-90.0, -75.0))
antimeridian = st.tuples(st.floats(178.0, 180.0) | st.floats(-180.0, -178.0), lats)


@settings(max_examples=150, deadline=None)
@given(anywhere | polar | antimeridian | points_near_places() | points_between_places())
def test_nearest_place__is_the_nearest_of_the_whole_gazetteer(point: tuple[float, float]) -> None:
    lon, lat = point
    want_m, k = brute_force(lon, lat)
    idx, dist, bearing = nearest_places([lon], [lat])
    assert dist[0] == pytest.approx(want_m, abs=1e-6)
    if idx[0] == k:  # equidistant places may be named either way
        az = GEOD.inv(gazetteer().lon[k], gazetteer().lat[k], lon, lat)[0] % 360.0
        assert bearing[0] == pytest.approx(az, abs=1e-9) or abs(bearing[0] - az) == 360.0


@settings(max_examples=50, deadline=None)
@given(st.lists(anywhere | points_near_places(), max_size=20))
def test_nearest_places__for_many_points_match_one_at_a_time(
    points: list[tuple[float, float]],
) -> None:
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    idx, dist, bearing = nearest_places(lon, lat)
    assert idx.shape == dist.shape == bearing.shape == (len(points),)
    for k, p in enumerate(points):
        one = nearest_place(*p)
        assert one.distance_m == pytest.approx(dist[k], abs=1e-9)
        assert np.all((bearing >= 0.0) & (bearing < 360.0))


@settings(max_examples=100, deadline=None)
@given(anywhere | points_near_places())
def test_distance_and_bearing__are_those_of_pyproj_from_the_place(
    point: tuple[float, float],
) -> None:
    near = nearest_place(*point)
    az, _, d = GEOD.inv(near.place.lon, near.place.lat, *point)
    assert near.distance_m == pytest.approx(d, abs=1e-6)
    if d > 1.0:
        assert (near.bearing_deg - az) % 360.0 == pytest.approx(0.0, abs=1e-9) or (
            near.bearing_deg - az
        ) % 360.0 == pytest.approx(360.0, abs=1e-9)


@pytest.mark.parametrize(
    ("bearing_deg", "compass"),
    [(0.0, "N"), (11.2, "N"), (11.25, "NNE"), (22.5, "NNE"), (45.0, "NE"), (90.0, "E"),
     (135.0, "SE"), (180.0, "S"), (202.5, "SSW"), (225.0, "SW"), (270.0, "W"), (315.0, "NW"),
     (337.5, "NNW"), (348.7, "NNW"), (348.75, "N"), (359.99, "N")],
)  # fmt: skip
def test_compass__has_sixteen_points_of_22_5_degrees(bearing_deg: float, compass: str) -> None:
    place = Place("X", "SY", 20_000, 40.0, 35.0)
    assert FromPlace(place, 10_000.0, bearing_deg).compass == compass


@pytest.mark.parametrize(
    ("metres", "phrase"),
    [(10.0, "at X"), (800.0, "800 m NE of X"), (3_240.0, "3.2 km NE of X"),
     (9_960.0, "10 km NE of X"), (14_000.0, "14 km NE of X"), (2_104_400.0, "2,104 km NE of X")],
)  # fmt: skip
def test_phrase__says_the_distance_in_a_unit_a_person_reads(metres: float, phrase: str) -> None:
    assert FromPlace(Place("X", "SY", 20_000, 40.0, 35.0), metres, 45.0).phrase == phrase


def test_empty_input__gives_empty_arrays_and_lists() -> None:
    idx, dist, bearing = nearest_places(np.empty(0), np.empty(0))
    assert idx.shape == dist.shape == bearing.shape == (0,)
    assert read_backs([]) == []


def test_gazetteer__names_the_places_of_the_region() -> None:
    names = set(gazetteer().names)
    assert {"Deir ez-Zor", "Ar Raqqah", "Latakia", "Al Mayādīn", "Tadmur"} <= names
    assert gazetteer() is gazetteer()  # loaded once
    assert len(gazetteer()) > 30_000
    assert np.count_nonzero(gazetteer().population < 15_000) < 100  # only some small capitals


def test_gazetteer__loads_without_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the gazetteer tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    fresh = readback._load.__wrapped__(15_000)  # past the cache: really read the files
    assert len(fresh) == len(gazetteer())


def test_gazetteer__rejects_a_threshold_it_does_not_ship() -> None:
    with pytest.raises(InvalidInput, match=r"min_population: must be one of 15000, 5000"):
        gazetteer(10_000)


# ---- known places ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "az", "metres", "phrase"),
    [
        (DEIR_EZ_ZOR, 45.0, 14_000.0, "14 km NE of Deir ez-Zor"),
        (DEIR_EZ_ZOR, 270.0, 9_000.0, "9.0 km W of Deir ez-Zor"),  # "a location 9 km off"
        ((39.00788, 35.95283), 180.0, 20_000.0, "20 km S of Ar Raqqah"),
        ((35.79088, 35.53125), 90.0, 5_000.0, "5.0 km E of Latakia"),
    ],
)
def test_read_back__names_the_place_a_duty_officer_knows(
    origin: tuple[float, float], az: float, metres: float, phrase: str
) -> None:
    lon, lat = point_at(origin, az, metres)
    rb = read_back(volume(Circle(lon, lat, 5_000.0)))
    assert rb.near.phrase == phrase
    assert rb.near.place.country == "SY"
    assert rb.near.bearing_deg == pytest.approx(az % 360.0, abs=1e-6)


def test_read_back__of_a_circle_near_deir_ez_zor_reads_in_full() -> None:
    lon, lat = point_at(DEIR_EZ_ZOR, 45.0, 14_000.0)
    rb = read_back(volume(Circle(lon, lat, 15_000.0)))
    assert (rb.lon, rb.lat) == (lon, lat)
    assert rb.mgrs == pygeodesy_mgrs(lon, lat, 10)
    assert rb.text.splitlines() == [
        "outline   circle, radius 15 km",
        "centre    MGRS 37S FV 1346 2089 (10 m)",
        "          35°25.5'N 040°15.0'E",
        "          14 km NE of Deir ez-Zor, SY (bearing 045° true from Deir ez-Zor)",
        "altitude  3,048 to 7,620 m above the WGS84 ellipsoid (10,000 to 25,000 ft)",
        "time      2016-09-17T14:00:00Z to 2016-09-17T15:30:00Z (1 h 30 min)",
    ]


def test_read_back__as_a_dict_is_plain_json_with_both_units() -> None:
    rb = read_back(volume(Circle(38.3, 34.6, 2_000.0), 0.0, 10_000 * FT_M))
    d = json.loads(json.dumps(rb.as_dict()))
    assert d["centre"]["mgrs"] == rb.mgrs and d["centre"]["mgrs_precision_m"] == 10
    assert d["place"]["name"] == "Tadmur" and d["place"]["phrase"] == rb.near.phrase
    assert d["altitude"]["upper_ft"] == pytest.approx(10_000.0)
    assert d["time"] == {
        "start": "2016-09-17T14:00:00Z",
        "end": "2016-09-17T15:30:00Z",
        "duration_s": 5400.0,
    }
    assert d["text"] == rb.text


def test_read_back__refuses_an_invalid_outline_naming_the_field() -> None:
    with pytest.raises(InvalidInput, match="radius_m"):
        read_back(volume(Circle(40.0, 35.0, -1.0)))


# ---- the centre of a polygon --------------------------------------------------------------------


def polygon_centre(outline: Polygon) -> tuple[float, float]:
    rb = read_back(volume(outline))
    return rb.lon, rb.lat


@settings(max_examples=100, deadline=None)
@given(centres("anywhere", 300_000.0), radii_m, st.integers(3, 12), st.floats(0.0, 360.0))
def test_centre__of_a_regular_polygon_is_the_point_it_was_drawn_round(
    centre: tuple[float, float], radius_m: float, n: int, rotation: float
) -> None:
    lon, lat = polygon_centre(regular(centre, radius_m, n, rotation))
    _, _, off = GEOD.inv(centre[0], centre[1], lon, lat)
    assert off <= 1e-3 * radius_m, off


@settings(max_examples=100, deadline=None)
@given(st.data(), st.floats(-40.0, 40.0))
def test_centre__moves_with_the_polygon_across_the_antimeridian(
    data: st.DataObject, shift: float
) -> None:
    poly = data.draw(outlines("antimeridian").filter(lambda o: isinstance(o, Polygon)))
    assert isinstance(poly, Polygon)
    moved = Polygon(tuple((((lo + shift + 180) % 360) - 180, la) for lo, la in poly.vertices))
    lon, lat = polygon_centre(poly)
    mlon, mlat = polygon_centre(moved)
    _, _, d = GEOD.inv(((lon + shift + 180) % 360) - 180, lat, mlon, mlat)
    assert d < 0.05, d  # a turn about the axis maps the ellipsoid onto itself


def test_centre__of_a_polygon_astride_the_antimeridian_is_on_it() -> None:
    rb = read_back(volume(Polygon(((179.5, 10.0), (-179.5, 10.0), (-179.5, 11.0), (179.5, 11.0)))))
    assert abs(abs(rb.lon) - 180.0) < 1e-9
    assert 10.4 < rb.lat < 10.6
    assert rb.lon_dm == "180°00.0'E" if rb.lon > 0 else "180°00.0'W"
    assert rb.mgrs == pygeodesy_mgrs(rb.lon, rb.lat, 10)
    assert rb.kind == "polygon" and rb.vertices == 4


@pytest.mark.parametrize("pole", [90.0, -90.0])
def test_centre__of_a_polygon_round_a_pole_is_the_pole_in_ups(pole: float) -> None:
    ring = regular((0.0, pole), 200_000.0, 6, 10.0)
    rb = read_back(volume(ring))
    assert abs(rb.lat) > 89.99999 and math.copysign(1, rb.lat) == math.copysign(1, pole)
    assert rb.mgrs[0] in ("YZ" if pole > 0 else "AB")  # UPS: no zone number
    assert rb.lat_dm == ("90°00.0'N" if pole > 0 else "90°00.0'S")
    assert rb.radius_m == pytest.approx(200_000.0, rel=1e-3)


@settings(max_examples=50, deadline=None)
@given(centres("polar", 100_000.0), radii_m)
def test_read_back__near_the_poles_matches_pygeodesy_and_pyproj(
    centre: tuple[float, float], radius_m: float
) -> None:
    rb = read_back(volume(star(centre, radius_m, [0.0, 120.0, 240.0], [1.0, 0.8, 0.9])))
    zone, band, _, _ = MGRS_RE.fullmatch(rb.mgrs).groups()  # type: ignore[union-attr]
    e, n = grid_xy(rb.lon, rb.lat, zone, band)
    assume(not near_a_line(e, 10) and not near_a_line(n, 10) and not near_an_edge(rb.lon, rb.lat))
    assert rb.mgrs == pygeodesy_mgrs(rb.lon, rb.lat, 10)
    want_m, _ = brute_force(rb.lon, rb.lat)
    assert rb.near.distance_m == pytest.approx(want_m, abs=1e-6)
