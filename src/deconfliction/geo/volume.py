"""Outlines and volumes as plain data: what a party notified, before any geometry is derived.

A volume maps 1:1 onto ASTM F3548 ``Volume4D``: an outline (polygon or circle) in WGS84, an altitude
band in metres above the WGS84 ellipsoid and a UTC time window (see :func:`to_f3548`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deconfliction.utc import rfc3339

FT_M = 0.3048  # metres in an international foot


@dataclass(frozen=True, slots=True)
class Circle:
    """Every point within ``radius_m`` (geodesic) of the centre."""

    lon: float
    lat: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class Polygon:
    """A ring of (lon, lat) vertices joined by geodesics; the closing vertex is not repeated."""

    vertices: tuple[tuple[float, float], ...]


Outline = Circle | Polygon


@dataclass(frozen=True, slots=True)
class Volume:
    """A 4D block: outline × altitude band [lower_m, upper_m] × time window [start, end)."""

    outline: Outline
    lower_m: float
    upper_m: float
    start: datetime
    end: datetime


def to_f3548(volume: Volume) -> dict[str, Any]:
    """The volume as an ASTM F3548 ``Volume4D`` (altitudes W84 metres, times RFC 3339).

    >>> from datetime import UTC
    >>> v = Volume(Circle(37.9, 35.0, 15000.0), 3048.0, 7620.0,
    ...            datetime(2015, 10, 21, 8, tzinfo=UTC), datetime(2015, 10, 21, 10, tzinfo=UTC))
    >>> to_f3548(v)["volume"]["outline_circle"]
    {'center': {'lat': 35.0, 'lng': 37.9}, 'radius': {'value': 15000.0, 'units': 'M'}}
    >>> from_f3548(to_f3548(v)) == v
    True
    """
    outline = volume.outline
    if isinstance(outline, Circle):
        shape: dict[str, Any] = {
            "outline_circle": {
                "center": {"lat": outline.lat, "lng": outline.lon},
                "radius": {"value": outline.radius_m, "units": "M"},
            }
        }
    else:
        shape = {
            "outline_polygon": {"vertices": [{"lat": la, "lng": lo} for lo, la in outline.vertices]}
        }
    return {
        "volume": {
            **shape,
            "altitude_lower": {"value": volume.lower_m, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": volume.upper_m, "reference": "W84", "units": "M"},
        },
        "time_start": {"value": rfc3339(volume.start), "format": "RFC3339"},
        "time_end": {"value": rfc3339(volume.end), "format": "RFC3339"},
    }


def from_f3548(data: dict[str, Any]) -> Volume:
    """The inverse of :func:`to_f3548` (W84 metres only; anything else is a caller's conversion)."""
    vol = data["volume"]
    if "outline_circle" in vol:
        c = vol["outline_circle"]
        outline: Outline = Circle(c["center"]["lng"], c["center"]["lat"], c["radius"]["value"])
    else:
        outline = Polygon(tuple((v["lng"], v["lat"]) for v in vol["outline_polygon"]["vertices"]))
    return Volume(
        outline,
        vol["altitude_lower"]["value"],
        vol["altitude_upper"]["value"],
        datetime.fromisoformat(data["time_start"]["value"]),
        datetime.fromisoformat(data["time_end"]["value"]),
    )
