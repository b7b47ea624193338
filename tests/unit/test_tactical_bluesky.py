"""The detector against BlueSky's compiled state-based detector on the same random traffic.

BlueSky (``pip install --no-deps bluesky-simulator``) is loaded as its one compiled extension,
``bluesky/traffic/asas/cstatebased``, without importing the simulator. It measures on a sphere of
6,371 km with flat-earth (equirectangular) formulas, so the comparison uses the same sphere and
an equatorial region, where its formulas and our tangent plane agree to well under a metre: the
encounter sets must then be identical, apart from pairs within 1e-4 of a minimum or the look-ahead.
"""

from __future__ import annotations

import numpy as np
import pytest

from deconfliction.agreement import Tactical
from deconfliction.tactical import bluesky
from deconfliction.tactical.detect import Kinematics, decide, detect
from deconfliction.tactical.frame import SPHERE_M, ecef, ground_velocity

CSTATEBASED = bluesky.load()
pytestmark = pytest.mark.skipif(CSTATEBASED is None, reason="bluesky-simulator not installed")


def bluesky_pairs(t: dict[str, np.ndarray], minima: Tactical) -> set[tuple[int, int]]:
    assert CSTATEBASED is not None
    return bluesky.pairs(CSTATEBASED, t, minima)


def random_traffic(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "lat": rng.uniform(-1.5, 1.5, n),
        "lon": rng.uniform(30.0, 33.0, n),
        "trk": rng.uniform(0, 360, n),
        "gs": rng.uniform(100, 260, n),
        "alt": rng.uniform(6_000, 7_500, n),
        "vs": np.where(rng.random(n) < 0.3, rng.uniform(-15, 15, n), 0.0),
    }


def on_sphere(t: dict[str, np.ndarray]) -> Kinematics:
    n = t["lat"].size
    pos = ecef(t["lat"], t["lon"], a_m=SPHERE_M, f=0.0)
    vel = ground_velocity(t["lat"], t["lon"], t["gs"], t["trk"])
    return Kinematics(pos, vel, t["alt"], t["vs"], np.full(n, -1))


def as_set(a: np.ndarray, b: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(a.tolist(), b.tolist(), strict=True))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_encounters_as_bluesky_apart_from_pairs_at_a_threshold(seed: int) -> None:
    minima = Tactical()
    traffic = random_traffic(1_500, seed)
    k = on_sphere(traffic)
    ours = detect(k, minima)
    ours_set, theirs = as_set(ours.a, ours.b), bluesky_pairs(traffic, minima)
    assert len(theirs) > 50
    eps = 1e-4
    loose = Tactical(*(v * (1 + eps) for v in (minima.horizontal_m, minima.vertical_m, 300.0)))
    tight = Tactical(*(v * (1 - eps) for v in (minima.horizontal_m, minima.vertical_m, 300.0)))
    for pairs, rule, present in (
        (theirs - ours_set, loose, True),
        (ours_set - theirs, tight, False),
    ):
        if pairs:
            a, b = (np.array(x) for x in zip(*sorted(pairs), strict=True))
            assert as_set(*(lambda e: (e.a, e.b))(decide(k, a, b, rule))) == (
                pairs if present else set()
            )
