"""Volumes to and from ASTM F3548 ``Volume4D`` (as in the InterUSS UTM API 1.0.0 schema)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.geo.volume import Circle, Polygon, Volume, from_f3548, to_f3548

from .strategies import REGIONS, outlines

instants = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-7))]),
)


@st.composite
def volumes(draw: st.DrawFn) -> Volume:
    outline = draw(st.sampled_from(REGIONS).flatmap(outlines))
    lower = draw(st.floats(-1_000.0, 99_000.0, allow_nan=False))
    upper = draw(st.floats(lower, 100_000.0).filter(lambda u: u > lower))
    start = draw(instants)
    end = start + draw(st.timedeltas(timedelta(microseconds=1), timedelta(days=400)))
    return Volume(outline, lower, upper, start, end)


@settings(max_examples=150, deadline=None)
@given(volumes())
def test_f3548__round_trip(volume: Volume) -> None:
    assert from_f3548(to_f3548(volume)) == volume


@settings(max_examples=60, deadline=None)
@given(volumes())
def test_f3548__round_trip_through_json_text(volume: Volume) -> None:
    """What goes over the wire is JSON; floats and times survive it exactly."""
    back = from_f3548(orjson.loads(orjson.dumps(to_f3548(volume))))
    assert back == volume
    assert back.start.utcoffset() == timedelta(0)


@settings(max_examples=60, deadline=None)
@given(volumes())
def test_f3548__fields_units_and_references(volume: Volume) -> None:
    out = to_f3548(volume)
    assert set(out) == {"volume", "time_start", "time_end"}
    v = out["volume"]
    outline = volume.outline
    if isinstance(outline, Circle):
        assert set(v) == {"outline_circle", "altitude_lower", "altitude_upper"}
        assert v["outline_circle"] == {
            "center": {"lat": outline.lat, "lng": outline.lon},
            "radius": {"value": outline.radius_m, "units": "M"},
        }
    else:
        assert set(v) == {"outline_polygon", "altitude_lower", "altitude_upper"}
        vertices = v["outline_polygon"]["vertices"]
        assert vertices == [{"lat": la, "lng": lo} for lo, la in outline.vertices]
        # F3548: "the final polygon vertex must not be identical to the first vertex"
        assert vertices[-1] != vertices[0]
    assert v["altitude_lower"] == {"value": volume.lower_m, "reference": "W84", "units": "M"}
    assert v["altitude_upper"] == {"value": volume.upper_m, "reference": "W84", "units": "M"}
    for key, t in (("time_start", volume.start), ("time_end", volume.end)):
        assert set(out[key]) == {"value", "format"}
        assert out[key]["format"] == "RFC3339"
        value = out[key]["value"]
        assert value.endswith("Z")  # F3548 Time: "The time zone must be 'Z'"
        assert datetime.fromisoformat(value) == t


def test_f3548__a_circle_as_the_standard_writes_it() -> None:
    v = Volume(
        Circle(37.9, 35.0, 15_000.0),
        3_048.0,
        7_620.0,
        datetime(2015, 10, 21, 8, tzinfo=UTC),
        datetime(2015, 10, 21, 10, 30, 0, 250_000, tzinfo=UTC),
    )
    assert to_f3548(v) == {
        "volume": {
            "outline_circle": {
                "center": {"lat": 35.0, "lng": 37.9},
                "radius": {"value": 15_000.0, "units": "M"},
            },
            "altitude_lower": {"value": 3_048.0, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": 7_620.0, "reference": "W84", "units": "M"},
        },
        "time_start": {"value": "2015-10-21T08:00:00Z", "format": "RFC3339"},
        "time_end": {"value": "2015-10-21T10:30:00.250000Z", "format": "RFC3339"},
    }


def test_f3548__a_polygon_across_the_antimeridian_keeps_its_vertices_in_order() -> None:
    ring = ((179.5, 0.0), (-179.5, 0.0), (-179.5, 1.0), (179.5, 1.0))
    v = Volume(
        Polygon(ring),
        0.0,
        300.0,
        datetime(2025, 1, 1, tzinfo=UTC),
        datetime(2025, 1, 2, tzinfo=UTC),
    )
    out = to_f3548(v)
    assert out["volume"]["outline_polygon"]["vertices"] == [
        {"lat": 0.0, "lng": 179.5},
        {"lat": 0.0, "lng": -179.5},
        {"lat": 1.0, "lng": -179.5},
        {"lat": 1.0, "lng": 179.5},
    ]
    assert from_f3548(out) == v


def test_f3548__times_in_other_offsets_are_written_in_utc() -> None:
    plus3 = timezone(timedelta(hours=3))
    v = Volume(
        Circle(0.0, 0.0, 1.0),
        0.0,
        1.0,
        datetime(2025, 1, 1, 3, 0, tzinfo=plus3),
        datetime(2025, 1, 1, 4, 0, tzinfo=plus3),
    )
    out = to_f3548(v)
    assert out["time_start"]["value"] == "2025-01-01T00:00:00Z"
    assert out["time_end"]["value"] == "2025-01-01T01:00:00Z"
