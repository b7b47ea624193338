"""A local azimuthal-equidistant frame on the WGS84 ellipsoid, built on ``pyproj.Geod``.

The point (x, y) of a frame centred on o is the point at geodesic distance hypot(x, y) from o in
azimuth atan2(x, y): GeographicLib's ellipsoidal azimuthal equidistant projection. Distances from
the centre are exact; other distances are off by a relative ~ρ²/6R² (0.1 % at ρ = 500 km), which is
why exact answers re-centre the frame on the place that matters. We build it from ``Geod.inv`` and
``Geod.fwd`` (about 1.5 µs a point) because creating a PROJ transformer per frame costs ~12 ms.
"""

from __future__ import annotations

import numpy as np
import pyproj

from deconfliction.types import FloatArray

GEOD = pyproj.Geod(ellps="WGS84")


def _full(value: float | FloatArray, like: FloatArray) -> FloatArray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), like.shape).copy()


def to_frame(
    lon0: float | FloatArray, lat0: float | FloatArray, lon: FloatArray, lat: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Project degrees to metres in the frame centred on (lon0, lat0); centres broadcast.

    >>> x, y = to_frame(0.0, 0.0, np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    >>> np.round(x), np.round(y)
    (array([     0., 111319.]), array([110574.,      0.]))
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    az, _, dist = GEOD.inv(_full(lon0, lon), _full(lat0, lon), lon, lat)
    rad = np.radians(az)
    return dist * np.sin(rad), dist * np.cos(rad)


def from_frame(
    lon0: float | FloatArray, lat0: float | FloatArray, x: FloatArray, y: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Inverse of :func:`to_frame`: metres in the frame back to (lon, lat) degrees."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    az = np.degrees(np.arctan2(x, y))
    lon, lat, _ = GEOD.fwd(_full(lon0, x), _full(lat0, x), az, np.hypot(x, y))
    return np.asarray(lon), np.asarray(lat)


def distance_m(
    lon1: float | FloatArray,
    lat1: float | FloatArray,
    lon2: float | FloatArray,
    lat2: float | FloatArray,
) -> FloatArray:
    """Geodesic distance in metres, element-wise (arrays broadcast)."""
    a, b, c, d = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (lon1, lat1, lon2, lat2))
    )
    _, _, dist = GEOD.inv(a.copy(), b.copy(), c.copy(), d.copy())
    return np.asarray(dist)


def midpoint(
    lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The point halfway along the geodesic between each pair of points."""
    az, _, dist = GEOD.inv(lon1, lat1, lon2, lat2)
    lon, lat, _ = GEOD.fwd(lon1, lat1, az, np.asarray(dist) / 2)
    return np.asarray(lon), np.asarray(lat)
