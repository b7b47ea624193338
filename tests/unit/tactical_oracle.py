"""An independent reading of the tactical rule: one pair at a time, in plain Python.

Shares no code with ``deconfliction.tactical``: ECEF positions come from PROJ (EPSG:4979 to
EPSG:4978), the tangent plane at a pair's midpoint from the midpoint's geodetic latitude and
longitude (PROJ again), and the rule is BlueSky's ``detect_hor``/``detect_ver``/combination
from ``cstatebased.hpp`` written out branch by branch, with zero relative velocity taken as the
limit (the pair keeps its distance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyproj

_TO_ECEF = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
_FROM_ECEF = pyproj.Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)


@dataclass(frozen=True)
class Track:
    lat: float
    lon: float
    alt_m: float
    speed_mps: float
    track_deg: float
    vs_mps: float
    party: int = -1


@dataclass(frozen=True)
class Verdict:
    conflict: bool
    tcpa_s: float
    dcpa_m: float
    tin_s: float
    los: bool
    near_threshold: bool  # within a hair of a minimum or the look-ahead: either answer is fair


def _enu(lat: float, lon: float) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    p, l_ = math.radians(lat), math.radians(lon)
    east = (-math.sin(l_), math.cos(l_), 0.0)
    north = (-math.sin(p) * math.cos(l_), -math.sin(p) * math.sin(l_), math.cos(p))
    up = (math.cos(p) * math.cos(l_), math.cos(p) * math.sin(l_), math.sin(p))
    return east, north, up


def _dot(u: tuple[float, ...], v: tuple[float, ...]) -> float:
    return sum(a * b for a, b in zip(u, v, strict=True))


def _plane_states(a: Track, b: Track) -> tuple[float, float, float, float]:
    """(dx, dy) of b from a and (du, dv) of a relative to b, east/north at the midpoint."""
    pa = _TO_ECEF.transform(a.lon, a.lat, 0.0)
    pb = _TO_ECEF.transform(b.lon, b.lat, 0.0)
    mid = tuple((x + y) / 2 for x, y in zip(pa, pb, strict=True))
    lon_m, lat_m, _ = _FROM_ECEF.transform(*mid)
    east, north, _ = _enu(lat_m, lon_m)
    rel = tuple(y - x for x, y in zip(pa, pb, strict=True))

    def velocity(t: Track) -> tuple[float, ...]:
        e, n, _ = _enu(t.lat, t.lon)
        ve = t.speed_mps * math.sin(math.radians(t.track_deg))
        vn = t.speed_mps * math.cos(math.radians(t.track_deg))
        return tuple(ve * x + vn * y for x, y in zip(e, n, strict=True))

    w = tuple(x - y for x, y in zip(velocity(a), velocity(b), strict=True))
    return _dot(rel, east), _dot(rel, north), _dot(w, east), _dot(w, north)


def verdict(a: Track, b: Track, r_m: float, h_m: float, look_s: float) -> Verdict:
    dx, dy, du, dv = _plane_states(a, b)
    return rule(dx, dy, du, dv, a.alt_m - b.alt_m, a.vs_mps - b.vs_mps, r_m, h_m, look_s)


def rule(
    dx: float, dy: float, du: float, dv: float, dalt: float, dvs: float,
    r_m: float, h_m: float, look_s: float,
) -> Verdict:  # fmt: skip
    eps = 1e-6 * max(r_m, 1.0)
    d = math.hypot(dx, dy)
    los_h = d < r_m
    vrel2 = du * du + dv * dv
    rw = du * dx + dv * dy
    near = abs(d - r_m) < eps
    if vrel2 == 0.0:
        tcpa, dcpa = 0.0, d
        tin_h, tout_h = (-math.inf, math.inf) if los_h else (math.inf, -math.inf)
    else:
        tcpa = rw / vrel2
        cpa2 = max(d * d - rw * tcpa, 0.0)
        dcpa = math.sqrt(cpa2)
        dt = math.sqrt(max(r_m * r_m - cpa2, 0.0) / vrel2)
        tin_h, tout_h = tcpa - dt, tcpa + dt
        near |= abs(dcpa - r_m) < eps or abs(tin_h - look_s) < 1e-6 * look_s
    hor = not (rw < 0 and not los_h) and (los_h or tin_h <= look_s)
    los_v = abs(dalt) < h_m
    near |= abs(abs(dalt) - h_m) < 1e-6
    if abs(dvs) > 1e-6:
        hi, lo = (dalt + h_m) / -dvs, (dalt - h_m) / -dvs
        tin_v, tout_v = max(0.0, min(lo, hi)), max(lo, hi)
        ver = tin_v <= look_s and tout_v > 0
        near |= abs(tin_v - look_s) < 1e-6 * look_s or abs(tout_v) < 1e-6
    else:
        tin_v, tout_v, ver = 0.0, math.inf, los_v
    tin, tout = max(tin_h, tin_v), min(tout_h, tout_v)
    near |= abs(tin - look_s) < 1e-6 * look_s or abs(tin - tout) < 1e-6 or abs(tout) < 1e-6
    hit = hor and ver and tin <= look_s and tin < tout and tout > 0
    return Verdict(hit, tcpa, dcpa, tin, los_h and los_v, near)
