"""Synthetic but realistic notices for benchmarks: the issue's 1500 × 1500 km region and a week.

Volumes are 1 to 100 km across (log-uniform), half circles and half polygons of 4 to 8 vertices,
windows of 30 minutes to 8 hours, bands 300 m to 3 km thick between the surface and 15 km, filed by
four parties. Seeded, so every run measures the same data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from deconfliction.geo.frame import GEOD
from deconfliction.geo.volume import Circle, Polygon, Volume
from deconfliction.ingest.geojson import notices_geojson
from deconfliction.strategic.notice import Activity, Notice

CENTRE = (38.5, 35.0)  # over Syria
HALF_SIDE_M = 750_000.0
WEEK_S = 7 * 86_400
T0 = datetime(2026, 11, 30, tzinfo=UTC)
PARTIES = ("coalition", "russia", "turkey", "unhas")


def notices(n: int, *, seed: int = 1, start: datetime = T0) -> list[Notice]:
    """``n`` single-volume notices spread over the region and the week."""
    rng = np.random.default_rng(seed)
    # positions: uniform in a square around the centre, laid out with geodesics
    x = rng.uniform(-HALF_SIDE_M, HALF_SIDE_M, n)
    y = rng.uniform(-HALF_SIDE_M, HALF_SIDE_M, n)
    lon, lat, _ = GEOD.fwd(
        np.full(n, CENTRE[0]), np.full(n, CENTRE[1]), np.degrees(np.arctan2(x, y)), np.hypot(x, y)
    )
    radius = np.exp(rng.uniform(np.log(500.0), np.log(50_000.0), n))
    circle = rng.random(n) < 0.5
    n_vert = rng.integers(4, 9, n)
    begin = rng.uniform(0, WEEK_S, n)
    length = np.exp(rng.uniform(np.log(1800.0), np.log(8 * 3600.0), n))
    lower = rng.uniform(0.0, 12_000.0, n)
    thick = rng.uniform(300.0, 3_000.0, n)
    party = rng.integers(0, len(PARTIES), n)
    # polygon vertices: one star-shaped ring per polygon, in one Geod call
    poly = np.flatnonzero(~circle)
    counts = n_vert[poly]
    owner = np.repeat(poly, counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    az = (k + rng.uniform(0.1, 0.9, len(k))) * 360.0 / n_vert[owner]
    dist = radius[owner] * rng.uniform(0.6, 1.0, len(k))
    vlon, vlat, _ = GEOD.fwd(lon[owner], lat[owner], az, dist)
    split = np.cumsum(counts)[:-1]
    rings = dict(
        zip(
            poly.tolist(),
            zip(np.split(vlon, split), np.split(vlat, split), strict=True),
            strict=True,
        )
    )
    out = []
    for i in range(n):
        if circle[i]:
            outline: Circle | Polygon = Circle(float(lon[i]), float(lat[i]), float(radius[i]))
        else:
            rl, ra = rings[i]
            outline = Polygon(tuple(zip(rl.tolist(), ra.tolist(), strict=True)))
        s = start + timedelta(seconds=float(begin[i]))
        volume = Volume(
            outline,
            float(lower[i]),
            float(lower[i] + thick[i]),
            s,
            s + timedelta(seconds=float(length[i])),
        )
        out.append(Notice(f"N{seed}-{i}", PARTIES[party[i]], Activity.AIR, (volume,)))
    return out


def feature_collection(items: list[Notice]) -> dict[str, object]:
    """The notices in the DESIGN.md GeoJSON format."""
    return notices_geojson(items)
