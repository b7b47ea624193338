"""Bad input, rule by rule: each is refused with an error that names the notice, the volume and
the field (or, for the agreement, the key), and good input next to it is accepted.

Notices are tested as GeoJSON text through :func:`loads_notices` + :func:`prepare_many` (the path
of ``deconfliction check``), and through the Python API (``Volume`` objects straight into
:func:`prepare_many`). The bad volume is always the second volume of its notice, behind a good
one and a good notice, so that a wrong index would show.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.agreement import loads_agreement
from deconfliction.errors import AgreementError, InvalidInput, NoticeError
from deconfliction.geo.volume import FT_M, Circle, Polygon, Volume
from deconfliction.ingest import geojson
from deconfliction.ingest.geojson import loads_notices, parse_notices
from deconfliction.strategic.detect import MAX_VOLUMES_PER_NOTICE, prepare_many
from deconfliction.strategic.notice import Activity, Notice

SQUARE = [[38.0, 35.0], [38.2, 35.0], [38.2, 35.2], [38.0, 35.2], [38.0, 35.0]]


def polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def feature(geometry: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    """A valid feature of notice N-2 (party blue) unless told otherwise; ``None`` drops a key."""
    p: dict[str, Any] = {
        "notice": "N-2",
        "party": "blue",
        "activity": "air",
        "start": "2025-03-01T06:00:00Z",
        "end": "2025-03-01T09:00:00Z",
        "lower_m": 1_000,
        "upper_m": 3_000,
    }
    p.update(props)
    return {
        "type": "Feature",
        "geometry": polygon(SQUARE) if geometry is None else geometry,
        "properties": {k: v for k, v in p.items() if v is not None},
    }


def collection(*bad: dict[str, Any]) -> dict[str, Any]:
    """A good notice N-1, then notice N-2: a good volume 0 and the given ones from volume 1."""
    return {
        "type": "FeatureCollection",
        "features": [feature(notice="N-1", party="red"), feature(), *bad],
    }


def refused(doc: dict[str, Any] | str) -> NoticeError:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    with pytest.raises(NoticeError) as info:
        prepare_many(loads_notices(text))
    return info.value


def assert_names(exc: NoticeError, notice: str | None, volume: int | None, field: str) -> None:
    assert (exc.notice, exc.volume, exc.field) == (notice, volume, field)
    text = str(exc)
    if notice is not None:
        assert f"notice {notice!r}" in text
    if volume is not None:
        assert f"volume {volume}" in text
    assert f"field {field!r}" in text
    assert isinstance(exc, InvalidInput)


def accepted(doc: dict[str, Any]) -> list[Notice]:
    notices = loads_notices(json.dumps(doc))
    prepare_many(notices)
    return notices


# ---- outlines -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ring",
    [
        [[38.0, 35.0], [38.5, 35.0], [38.5, 35.0], [38.0, 35.0]],  # a repeated vertex
        [[38.0, 35.0], [38.5, 35.0], [38.0, 35.0], [38.0, 35.0]],  # back and forth
        [[38.0, 35.0], [38.0, 35.0], [38.0, 35.0], [38.0, 35.0]],  # one point
    ],
    ids=["repeated", "back-and-forth", "one-point"],
)
def test_polygon__fewer_than_3_distinct_vertices(ring: list[list[float]]) -> None:
    exc = refused(collection(feature(polygon(ring))))
    assert_names(exc, "N-2", 1, "geometry.coordinates")
    assert "at least 3 distinct vertices" in exc.reason


def test_polygon__two_vertices_alternating_is_refused() -> None:
    """A, B, A, B: 2 distinct vertices, reported as a ring that crosses itself (it does retrace
    itself), not as too few vertices."""
    ring = [[38.0, 35.0], [38.5, 35.0], [38.0, 35.0], [38.5, 35.0], [38.0, 35.0]]
    assert_names(refused(collection(feature(polygon(ring)))), "N-2", 1, "geometry.coordinates")


def test_polygon__bow_tie_crosses_itself() -> None:
    ring = [[38.0, 35.0], [38.5, 35.5], [38.5, 35.0], [38.0, 35.5], [38.0, 35.0]]
    exc = refused(collection(feature(polygon(ring))))
    assert_names(exc, "N-2", 1, "geometry.coordinates")
    assert "crosses itself" in exc.reason


def test_polygon__zero_area_along_a_meridian_is_refused() -> None:
    """Three vertices on one meridian: the geodesic edges lie on each other."""
    ring = [[38.0, 35.0], [38.0, 35.5], [38.0, 36.0], [38.0, 35.0]]
    assert_names(refused(collection(feature(polygon(ring)))), "N-2", 1, "geometry.coordinates")


@pytest.mark.parametrize(
    ("position", "k", "word"),
    [
        ([38.0, 90.5], 2, "latitude"),
        ([38.0, -91.0], 1, "latitude"),
        ([180.5, 35.0], 2, "longitude"),
        ([-181.0, 35.0], 1, "longitude"),
    ],
)
def test_polygon__position_out_of_range(position: list[float], k: int, word: str) -> None:
    ring = [list(p) for p in SQUARE]
    ring[k] = position
    exc = refused(collection(feature(polygon(ring))))
    assert_names(exc, "N-2", 1, f"geometry.coordinates[0][{k}]")
    assert word in exc.reason


@pytest.mark.parametrize(
    ("lon", "lat", "word"), [(38.0, 95.0, "latitude"), (-190.0, 35.0, "longitude")]
)
def test_circle__position_out_of_range(lon: float, lat: float, word: str) -> None:
    exc = refused(collection(feature(point(lon, lat), radius_m=1_000)))
    assert_names(exc, "N-2", 1, "geometry.coordinates")
    assert word in exc.reason


def test_outline__positions_exactly_at_the_limits_are_accepted() -> None:
    accepted(collection(feature(point(180.0, 35.0), radius_m=1_000)))
    accepted(collection(feature(point(-180.0, -35.0), radius_m=1_000)))
    accepted(collection(feature(point(10.0, 90.0), radius_m=1_000)))
    accepted(collection(feature(point(10.0, -90.0), radius_m=1_000)))


@pytest.mark.parametrize("radius", [0, -5, -0.0])
def test_circle__radius_must_be_positive(radius: float) -> None:
    exc = refused(collection(feature(point(38.0, 35.0), radius_m=radius)))
    assert_names(exc, "N-2", 1, "radius_m")
    assert "greater than 0" in exc.reason


def test_circle__radius_over_500_km_is_refused_and_500_km_accepted() -> None:
    exc = refused(collection(feature(point(38.0, 35.0), radius_m=500_001)))
    assert_names(exc, "N-2", 1, "radius_m")
    assert "500000" in exc.reason
    accepted(collection(feature(point(38.0, 35.0), radius_m=500_000)))


def test_circle__needs_a_radius_and_a_polygon_takes_none() -> None:
    assert_names(refused(collection(feature(point(38.0, 35.0)))), "N-2", 1, "radius_m")
    assert_names(refused(collection(feature(radius_m=1_000))), "N-2", 1, "radius_m")


def test_polygon__oversized_outline_is_refused() -> None:
    """No point of an outline may be more than 500 km from its centre."""
    ring = [[30.0, 30.0], [40.0, 30.0], [40.0, 40.0], [30.0, 40.0], [30.0, 30.0]]
    exc = refused(collection(feature(polygon(ring))))
    assert_names(exc, "N-2", 1, "geometry.coordinates")
    assert "limit is 500000 m" in exc.reason


def test_polygon__unclosed_ring() -> None:
    exc = refused(collection(feature(polygon(SQUARE[:-1]))))
    assert_names(exc, "N-2", 1, "geometry.coordinates")
    assert "not closed" in exc.reason


def test_polygon__too_short_to_close() -> None:
    ring = [[38.0, 35.0], [38.5, 35.0], [38.0, 35.0]]
    assert_names(refused(collection(feature(polygon(ring)))), "N-2", 1, "geometry.coordinates")


def test_polygon__holes_are_not_supported() -> None:
    hole = [[38.05, 35.05], [38.1, 35.05], [38.1, 35.1], [38.05, 35.05]]
    geometry = {"type": "Polygon", "coordinates": [SQUARE, hole]}
    exc = refused(collection(feature(geometry)))
    assert_names(exc, "N-2", 1, "geometry.coordinates")
    assert "holes" in exc.reason


def test_polygon__3d_positions_are_refused() -> None:
    ring = [[*p, 1_000.0] for p in SQUARE]
    exc = refused(collection(feature(polygon(ring))))
    assert_names(exc, "N-2", 1, "geometry.coordinates[0][0]")
    assert "altitudes go in lower/upper" in exc.reason


def test_circle__3d_position_is_refused() -> None:
    geometry = {"type": "Point", "coordinates": [38.0, 35.0, 1_000.0]}
    exc = refused(collection(feature(geometry, radius_m=1_000)))
    assert_names(exc, "N-2", 1, "geometry.coordinates")


def test_polygon__a_position_that_is_not_two_numbers_is_named() -> None:
    ring = [list(p) for p in SQUARE]
    ring[3] = ["38.0", 35.2]
    assert_names(
        refused(collection(feature(polygon(ring)))), "N-2", 1, "geometry.coordinates[0][3]"
    )


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "LineString", "coordinates": SQUARE},
        {"type": "MultiPolygon", "coordinates": [[SQUARE]]},
        None,
    ],
    ids=["line", "multipolygon", "null"],
)
def test_geometry__other_types_are_refused(geometry: dict[str, Any] | None) -> None:
    f = feature()
    f["geometry"] = geometry
    assert_names(refused(collection(f)), "N-2", 1, "geometry.type")


# ---- NaN and infinities -------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_json__nan_and_infinity_are_not_json(token: str) -> None:
    """RFC 8259 has no NaN or Infinity, and the parser refuses them (and numbers that overflow
    to infinity) as invalid JSON before any field is read."""
    text = json.dumps(collection(feature(point(38.0, 35.0), radius_m=1_000))).replace(
        '"radius_m": 1000', f'"radius_m": {token}'
    )
    assert token in text
    exc = refused(text)
    assert "not valid JSON" in exc.reason


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("field", ["radius_m", "lower_m", "upper_m"])
def test_parse__non_finite_numbers_are_refused(field: str, value: float) -> None:
    """Through the Python API (a decoded document that holds floats)."""
    props: dict[str, Any] = {"radius_m": 1_000, field: value}
    doc = collection(feature(point(38.0, 35.0), **props))
    with pytest.raises(NoticeError) as info:
        prepare_many(parse_notices(doc))
    assert_names(info.value, "N-2", 1, field)
    assert "finite" in info.value.reason


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_parse__non_finite_positions_are_refused(value: float) -> None:
    with pytest.raises(NoticeError) as info:
        prepare_many(parse_notices(collection(feature(point(value, 35.0), radius_m=1_000))))
    assert_names(info.value, "N-2", 1, "geometry.coordinates")
    ring = [list(p) for p in SQUARE]
    ring[2] = [38.2, value]
    with pytest.raises(NoticeError) as info:
        prepare_many(parse_notices(collection(feature(polygon(ring)))))
    assert_names(info.value, "N-2", 1, "geometry.coordinates[0][2]")
    assert "finite" in info.value.reason


# ---- the Python API -----------------------------------------------------------------------------

T0 = datetime(2025, 3, 1, 6, tzinfo=UTC)
T1 = T0 + timedelta(hours=3)
GOOD = Volume(Polygon(((38.0, 35.0), (38.2, 35.0), (38.2, 35.2))), 1_000.0, 3_000.0, T0, T1)


def refused_volume(bad: Volume) -> NoticeError:
    notices = [
        Notice("N-1", "red", Activity.AIR, (GOOD,)),
        Notice("N-2", "blue", Activity.AIR, (GOOD, bad, GOOD)),
    ]
    with pytest.raises(NoticeError) as info:
        prepare_many(notices)
    return info.value


NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (Volume(Circle(NAN, 35.0, 1_000.0), 0.0, 1.0, T0, T1), "geometry.coordinates"),
        (Volume(Circle(38.0, INF, 1_000.0), 0.0, 1.0, T0, T1), "geometry.coordinates"),
        (Volume(Circle(38.0, 35.0, NAN), 0.0, 1.0, T0, T1), "radius_m"),
        (Volume(Circle(38.0, 35.0, INF), 0.0, 1.0, T0, T1), "radius_m"),
        (
            Volume(Polygon(((38.0, 35.0), (NAN, 35.0), (38.2, 35.2))), 0.0, 1.0, T0, T1),
            "geometry.coordinates[0][1]",
        ),
        (
            Volume(Polygon(((38.0, 35.0), (38.2, 35.0), (38.2, -INF))), 0.0, 1.0, T0, T1),
            "geometry.coordinates[0][2]",
        ),
        (Volume(GOOD.outline, NAN, 1.0, T0, T1), "lower_m"),
        (Volume(GOOD.outline, 0.0, NAN, T0, T1), "upper_m"),
        (Volume(GOOD.outline, -INF, 1.0, T0, T1), "lower_m"),
        (Volume(GOOD.outline, 0.0, INF, T0, T1), "upper_m"),
    ],
    ids=[
        "circle-lon-nan",
        "circle-lat-inf",
        "radius-nan",
        "radius-inf",
        "vertex-nan",
        "vertex-inf",
        "lower-nan",
        "upper-nan",
        "lower-inf",
        "upper-inf",
    ],
)
def test_api__nan_and_infinity_are_refused(bad: Volume, field: str) -> None:
    assert_names(refused_volume(bad), "N-2", 1, field)


@pytest.mark.parametrize(
    "vertices",
    [((38.0, 35.0), (38.5, 35.0)), ((38.0, 35.0), (38.5, 35.0), (38.0, 35.0)), ()],
    ids=["two", "two-and-back", "none"],
)
def test_api__fewer_than_3_distinct_vertices(vertices: tuple[tuple[float, float], ...]) -> None:
    exc = refused_volume(Volume(Polygon(vertices), 0.0, 1.0, T0, T1))
    assert_names(exc, "N-2", 1, "geometry.coordinates")
    assert "at least 3 distinct vertices" in exc.reason


def test_api__bow_tie() -> None:
    bow_tie = Polygon(((38.0, 35.0), (38.5, 35.5), (38.5, 35.0), (38.0, 35.5)))
    exc = refused_volume(Volume(bow_tie, 0.0, 1.0, T0, T1))
    assert_names(exc, "N-2", 1, "geometry.coordinates")
    assert "crosses itself" in exc.reason


def test_api__times_need_an_offset() -> None:
    naive = T0.replace(tzinfo=None)
    exc = refused_volume(Volume(GOOD.outline, 0.0, 1.0, naive, T1))
    assert_names(exc, "N-2", 1, "start")


def test_api__a_notice_without_volumes() -> None:
    with pytest.raises(NoticeError) as info:
        prepare_many([Notice("N-1", "red", Activity.AIR, ())])
    assert info.value.notice == "N-1"


# ---- bands and windows ------------------------------------------------------------------------


@pytest.mark.parametrize(("lower", "upper"), [(3_000, 3_000), (3_000, 2_999)])
def test_band__lower_must_be_below_upper(lower: float, upper: float) -> None:
    exc = refused(collection(feature(lower_m=lower, upper_m=upper)))
    assert_names(exc, "N-2", 1, "lower_m")
    exc = refused_volume(Volume(GOOD.outline, lower, upper, T0, T1))
    assert_names(exc, "N-2", 1, "lower_m")


@pytest.mark.parametrize(
    ("field", "value"), [("lower_m", -1_001), ("upper_m", 100_001), ("lower_m", "high")]
)
def test_band__out_of_range_or_not_a_number(field: str, value: Any) -> None:
    assert_names(refused(collection(feature(**{field: value}))), "N-2", 1, field)


def test_band__missing_altitude() -> None:
    assert_names(refused(collection(feature(upper_m=None))), "N-2", 1, "upper_m")


@pytest.mark.parametrize(
    "end", ["2025-03-01T06:00:00Z", "2025-03-01T05:59:59Z", "2025-03-01T07:00:00+02:00"]
)
def test_window__end_must_be_after_start(end: str) -> None:
    exc = refused(collection(feature(end=end)))
    assert_names(exc, "N-2", 1, "end")
    assert "must be after start" in exc.reason
    assert_names(
        refused_volume(Volume(GOOD.outline, 0.0, 1.0, T0, T0 - timedelta(seconds=1))),
        "N-2",
        1,
        "end",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start", "2025-03-01T06:00:00"),  # no offset
        ("start", "yesterday"),
        ("end", 1_740_808_800),  # epoch seconds are not RFC 3339
        ("end", None),
    ],
)
def test_window__times_are_rfc3339_with_an_offset(field: str, value: Any) -> None:
    assert_names(refused(collection(feature(**{field: value}))), "N-2", 1, field)


# ---- properties ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["target", "purpose", "lower"])
def test_properties__unknown_ones_are_refused_naming_the_volume(name: str) -> None:
    """Properties outside the format are refused rather than ignored, naming the notice, the
    volume and the property."""
    exc = refused(collection(feature(**{name: "x"})))
    assert_names(exc, "N-2", 1, name)
    assert "unknown property" in exc.reason


def test_properties__unknown_activity() -> None:
    doc = collection()
    doc["features"][1]["properties"]["activity"] = "strike"
    exc = refused(doc)
    assert_names(exc, "N-2", 0, "activity")
    assert "air" in exc.reason


def test_properties__one_activity_per_notice() -> None:
    exc = refused(collection(feature(activity="ground")))
    assert_names(exc, "N-2", 1, "activity")


@pytest.mark.parametrize("party", ["Blue", "blue team", "", 7])
def test_properties__party_id(party: Any) -> None:
    exc = refused(collection(feature(party=party)))
    assert (exc.notice, exc.field) == ("N-2", "party")


@pytest.mark.parametrize("ref", ["", "a b", "x" * 65, 12])
def test_properties__notice_reference(ref: Any) -> None:
    exc = refused(collection(feature(notice=ref)))
    assert exc.field == "features[2].properties.notice"


def test_properties__remarks_too_long() -> None:
    doc = collection()
    doc["features"][1]["properties"]["remarks"] = "x" * 2_001
    exc = refused(doc)
    assert (exc.notice, exc.field) == ("N-2", "remarks")


# ---- feet ---------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    lower_ft=st.integers(-3_000, 300_000) | st.floats(-3_000, 300_000),
    thickness_ft=st.integers(1, 10_000) | st.floats(0.01, 10_000),
)
def test_feet__are_converted_exactly_with_0_3048(lower_ft: float, thickness_ft: float) -> None:
    upper_ft = lower_ft + thickness_ft
    doc = collection(feature(lower_m=None, upper_m=None, lower_ft=lower_ft, upper_ft=upper_ft))
    (_, notice) = loads_notices(json.dumps(doc))
    v = notice.volumes[1]
    assert FT_M == 0.3048
    assert v.lower_m == float(lower_ft) * 0.3048
    assert v.upper_m == float(upper_ft) * 0.3048


def test_feet__a_band_in_feet_is_checked_like_one_in_metres() -> None:
    accepted(collection(feature(lower_m=None, upper_m=None, lower_ft=10_000, upper_ft=25_000)))
    exc = refused(collection(feature(lower_m=None, upper_m=None, lower_ft=9_000, upper_ft=9_000)))
    assert_names(exc, "N-2", 1, "lower_m")


def test_feet__and_metres_together_are_refused() -> None:
    exc = refused(collection(feature(lower_ft=10_000, upper_ft=20_000)))
    assert_names(exc, "N-2", 1, "lower_ft")


def test_feet__half_given_is_refused() -> None:
    exc = refused(collection(feature(lower_m=None, upper_m=None, lower_ft=10_000)))
    assert_names(exc, "N-2", 1, "upper_ft")


# ---- counts -----------------------------------------------------------------------------------


def test_count__too_many_volumes_in_one_notice() -> None:
    assert MAX_VOLUMES_PER_NOTICE == 100
    accepted(collection(*(feature() for _ in range(MAX_VOLUMES_PER_NOTICE - 1))))
    exc = refused(collection(*(feature() for _ in range(MAX_VOLUMES_PER_NOTICE))))
    assert exc.notice == "N-2"
    assert "101 volumes; at most 100" in exc.reason


def test_count__too_many_features(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geojson, "MAX_FEATURES", 2)
    exc = refused(collection(feature()))
    assert exc.field == "features"
    assert "3 features; at most 2" in exc.reason


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"type": "Feature"}, "type"),
        ([], "type"),
        ({"type": "FeatureCollection"}, "features"),
        ({"type": "FeatureCollection", "features": {}}, "features"),
        ({"type": "FeatureCollection", "features": [{"type": "Point"}]}, "features[0]"),
        (
            {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": None}]},
            "features[0].properties",
        ),
    ],
)
def test_document__shape(doc: Any, field: str) -> None:
    assert refused(json.dumps(doc)).field == field


def test_document__not_json() -> None:
    assert "not valid JSON" in refused("{").reason


# ---- the agreement ----------------------------------------------------------------------------

AGREEMENT = """
name = "Memorandum"
[[party]]
id = "red"
name = "Red command"
[[party]]
id = "blue"
name = "Blue command"
"""


def agreement_refused(text: str) -> AgreementError:
    with pytest.raises(AgreementError) as info:
        loads_agreement(text)
    return info.value


def test_agreement__the_base_is_valid() -> None:
    a = loads_agreement(AGREEMENT + "[separation]\nhorizontal_m = 0\n")
    assert [p.id for p in a.parties] == ["red", "blue"]
    assert a.separation.horizontal_m == 0.0


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (AGREEMENT.replace('name = "Memorandum"\n', ""), "name"),
        (AGREEMENT.replace('name = "Memorandum"', 'name = ""'), "name"),
        (AGREEMENT.split('[[party]]\nid = "blue"')[0], "party"),
        (AGREEMENT.replace('id = "blue"', 'id = "red"'), "party.id"),
        (AGREEMENT.replace('id = "blue"', 'id = "Blue Team"'), "party.1.id"),
        (AGREEMENT + 'colour = "red"\n', "party.1.colour"),
        ('colour = "red"\n' + AGREEMENT, "colour"),
        (AGREEMENT + "[separation]\nhorizontal_nm = 10\n", "separation.horizontal_nm"),
        (AGREEMENT + "[separation]\nhorizontal_m = -1\n", "separation.horizontal_m"),
        (AGREEMENT + "[separation]\nvertical_m = -0.5\n", "separation.vertical_m"),
        (AGREEMENT + "[separation]\ntime_s = -900\n", "separation.time_s"),
        (AGREEMENT + "[separation]\nvertical_m = nan\n", "separation.vertical_m"),
        (AGREEMENT + "[tactical]\nhorizontal_m = -5\n", "tactical.horizontal_m"),
        (AGREEMENT + '[precedence]\nURGENT = "PT1M"\n', "precedence.URGENT"),
    ],
    ids=[
        "missing-name",
        "empty-name",
        "one-party",
        "duplicate-party",
        "party-id-format",
        "unknown-party-key",
        "unknown-key",
        "unknown-separation-key",
        "negative-horizontal",
        "negative-vertical",
        "negative-time",
        "nan-vertical",
        "negative-tactical",
        "unknown-precedence",
    ],
)
def test_agreement__error_names_the_key(text: str, key: str) -> None:
    exc = agreement_refused(text)
    assert exc.field == key
    assert f"agreement key {key!r}" in str(exc)


def test_agreement__not_toml() -> None:
    assert "not valid TOML" in str(agreement_refused(AGREEMENT + "[[[\n"))
