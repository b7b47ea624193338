"""Positions and velocities as earth-centred vectors, so detection works the same everywhere.

A track's horizontal position is the point of the WGS84 ellipsoid under it, in earth-centred,
earth-fixed (ECEF) metres, and its ground velocity is the tangent vector
``gs · (sin(track)·east + cos(track)·north)`` at that point. Nothing here has a seam: no
longitude wraps at the antimeridian and no east/north axis is needed between two tracks, so a
pair across 180° or on either side of a pole is as easy as any other. Only a track exactly at a
pole has no north; there, track angles are read as if the pole were approached along the
prime meridian.
"""

from __future__ import annotations

import numpy as np

from deconfliction.types import FloatArray

WGS84_A_M = 6_378_137.0
WGS84_F = 1 / 298.257223563
SPHERE_M = 6_371_000.0
"""Mean earth radius, as BlueSky's flat-earth formulas use; for comparisons with it only."""


def ecef(
    lat_deg: FloatArray, lon_deg: FloatArray, *, a_m: float = WGS84_A_M, f: float = WGS84_F
) -> FloatArray:
    """ECEF metres, shape (n, 3), of points on the ellipsoid (height 0) at the given degrees.

    >>> np.round(ecef(np.array([0.0, 90.0]), np.array([0.0, 0.0])))
    array([[6378137.,       0.,       0.],
           [      0.,       0., 6356752.]])
    """
    phi, lam = np.radians(lat_deg), np.radians(lon_deg)
    e2 = f * (2 - f)
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    n = a_m / np.sqrt(1 - e2 * sin_phi * sin_phi)
    out = np.empty((phi.size, 3))
    out[:, 0] = n * cos_phi * np.cos(lam)
    out[:, 1] = n * cos_phi * np.sin(lam)
    out[:, 2] = n * (1 - e2) * sin_phi
    return out


def ground_velocity(
    lat_deg: FloatArray, lon_deg: FloatArray, speed_mps: FloatArray, track_deg: FloatArray
) -> FloatArray:
    """ECEF velocity vectors, shape (n, 3), m/s, of ground speed along a true track angle.

    East is (−sin λ, cos λ, 0) and north (−sin φ cos λ, −sin φ sin λ, cos φ) at geodetic
    latitude φ and longitude λ; both are tangent to the ellipsoid.

    >>> v = ground_velocity(np.array([0.0]), np.array([0.0]), np.array([100.0]), np.array([0.0]))
    >>> v + 0.0  # due north at (0°, 0°) is +z
    array([[  0.,   0., 100.]])
    """
    phi, lam, trk = np.radians(lat_deg), np.radians(lon_deg), np.radians(track_deg)
    ve, vn = speed_mps * np.sin(trk), speed_mps * np.cos(trk)
    sin_phi, cos_phi, sin_lam, cos_lam = np.sin(phi), np.cos(phi), np.sin(lam), np.cos(lam)
    out = np.empty((phi.size, 3))
    out[:, 0] = -ve * sin_lam - vn * sin_phi * cos_lam
    out[:, 1] = ve * cos_lam - vn * sin_phi * sin_lam
    out[:, 2] = vn * cos_phi
    return out
