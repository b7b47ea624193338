"""Hypothesis strategies for outlines and pairs of outlines, with the hard places forced.

Shapes are 1 to 300 km in radius: circles, and star-shaped simple polygons (3 to 10 vertices at
increasing azimuths round a centre, each at 0.4 to 1 × the radius, laid out with ``Geod.fwd``).
Regions: anywhere, the antimeridian (centres within 2° of ±180), the polar caps (|lat| > 75°) and
the poles themselves (shapes that contain a pole).
"""

from __future__ import annotations

import math
from typing import Literal

from hypothesis import strategies as st

from deconfliction.geo.volume import Circle, Outline

from .oracle import point_at, star

Region = Literal["anywhere", "antimeridian", "polar", "pole"]
REGIONS: tuple[Region, ...] = ("anywhere", "antimeridian", "polar", "pole")

radii_m = st.floats(math.log(1_000.0), math.log(300_000.0)).map(math.exp)


def _wrap(lon: float) -> float:
    return (lon + 180.0) % 360.0 - 180.0


@st.composite
def centres(draw: st.DrawFn, region: Region, radius_m: float) -> tuple[float, float]:
    """A centre for a shape of ``radius_m`` in the region."""
    if region == "anywhere":
        return draw(st.floats(-180.0, 180.0)), draw(st.floats(-89.0, 89.0))
    if region == "antimeridian":
        lon = draw(st.floats(178.0, 180.0))
        return lon if draw(st.booleans()) else -lon, draw(st.floats(-70.0, 70.0))
    if region == "polar":
        lat = draw(st.floats(75.0, 89.9))
        return draw(st.floats(-180.0, 180.0)), lat if draw(st.booleans()) else -lat
    pole = (0.0, 90.0 if draw(st.booleans()) else -90.0)
    # close enough to the pole that the shape contains it (star polygons keep at least
    # 0.4 × radius × cos(85°) round their centre)
    offset = draw(st.floats(0.0, 0.03)) * radius_m
    return point_at(pole, draw(st.floats(0.0, 360.0)), offset)


@st.composite
def stars(draw: st.DrawFn, centre: tuple[float, float], radius_m: float) -> Outline:
    """A star-shaped polygon round ``centre``: sectors under 170°, so the centre is inside."""
    n = draw(st.integers(3, 10))
    weights = draw(st.lists(st.floats(1.0, 1.8), min_size=n, max_size=n))
    turn = draw(st.floats(0.0, 360.0))
    azimuths, acc = [], 0.0
    for w in weights:
        azimuths.append(turn + acc)
        acc += 360.0 * w / sum(weights)
    fractions = draw(st.lists(st.floats(0.4, 1.0), min_size=n, max_size=n))
    return star(centre, radius_m, azimuths, fractions)


@st.composite
def outlines_at(draw: st.DrawFn, centre: tuple[float, float], radius_m: float) -> Outline:
    if draw(st.booleans()):
        return Circle(centre[0], centre[1], radius_m)
    return draw(stars(centre, radius_m))


@st.composite
def outlines(draw: st.DrawFn, region: Region = "anywhere") -> Outline:
    radius = draw(radii_m)
    return draw(outlines_at(draw(centres(region, radius)), radius))


@st.composite
def pairs(
    draw: st.DrawFn, region: Region = "anywhere", *, extra_m: float = 40_000.0
) -> tuple[Outline, Outline]:
    """Two outlines whose centres are at most r1 + r2 + ``extra_m`` apart: nested, crossing,
    touching-close and apart all occur."""
    r1, r2 = draw(radii_m), draw(radii_m)
    c1 = draw(centres(region, r1))
    gap = draw(st.floats(0.0, r1 + r2 + extra_m))
    c2 = point_at(c1, draw(st.floats(0.0, 360.0)), gap)
    return draw(outlines_at(c1, r1)), draw(outlines_at(c2, r2))


@st.composite
def far_pairs(draw: st.DrawFn) -> tuple[Outline, Outline]:
    """Two outlines anywhere, their centres 1,000 to 19,000 km apart."""
    r1, r2 = draw(radii_m), draw(radii_m)
    c1 = draw(centres("anywhere", r1))
    c2 = point_at(c1, draw(st.floats(0.0, 360.0)), draw(st.floats(1_000e3, 19_000e3)))
    return draw(outlines_at(c1, r1)), draw(outlines_at(c2, r2))
