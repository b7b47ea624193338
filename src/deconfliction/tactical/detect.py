"""State-based conflict detection between tracks: BlueSky's rule, over arrays, without tracks².

The rule is BlueSky's state-based detection (``bluesky/traffic/asas/cstatebased``), pair by pair:

* horizontally, straight-line motion from the current states; with r the relative position,
  w the relative velocity and R the horizontal minimum: ``tcpa = r·w/|w|²``,
  ``dcpa² = |r|² − (r·w)·tcpa``, and the pair is inside R between ``tin = tcpa − Δ`` and
  ``tout = tcpa + Δ``, ``Δ = √(max(R² − dcpa², 0)/|w|²)``. A pair that is separated and diverging
  (``r·w < 0``) has no horizontal conflict; otherwise one exists when it is inside now (d < R) or
  ``tin ≤ lookahead``;
* vertically, with dalt the altitude difference, dvs the vertical-rate difference and H the
  vertical minimum: for ``|dvs| > 1e-6`` the pair is inside between the two crossing times of
  ±H, ``tin = max(0, earlier)``, ``tout = later``, and it counts when ``tin ≤ lookahead`` and
  ``tout > 0``; for level pairs only ``|dalt| < H`` counts (``tin = 0``, ``tout = ∞``);
* combined: ``tin = max(tin_h, tin_v)``, ``tout = min(tout_h, tout_v)``, a conflict when
  ``tin ≤ lookahead``, ``tin < tout`` and ``tout > 0``. ``los`` is ``d < R and |dalt| < H`` now.

Where BlueSky is undefined we take the limit: with exactly zero relative horizontal velocity
its compiled detector divides 0 by 0 and drops the pair even in loss of separation; here such a
pair keeps its distance for ever (``tcpa = 0``), as BlueSky's Python detector effectively does.
A track without altitude is treated as level with everyone (it cannot be cleared vertically).

Geometry: see :mod:`deconfliction.tactical.frame`. A pair's relative position (the ECEF chord
between the two ground points) and relative velocity are projected on the plane normal to the
ellipsoid at the pair's midpoint, which is BlueSky's flat-earth frame made local to each pair:
exact distance now to within d³/24ρ² (under 1 mm at 9,260 m), no seam at the antimeridian or the
poles, and straight-line motion in that plane for the look-ahead.

Candidates: see :mod:`deconfliction.tactical.candidates` (space-time boxes in a grid, then a
joint time test); memory grows with tracks and candidate pairs, never with tracks².

The rule is one compiled function of a pair (:mod:`deconfliction.tactical._kernels`), which
:func:`decide` runs after projecting each candidate pair and :func:`closest_approach` runs on
relative states as given: one implementation, a loop rather than a dozen array passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deconfliction.agreement import Tactical
from deconfliction.tactical.candidates import _candidates, candidate_pairs
from deconfliction.tactical.frame import WGS84_F
from deconfliction.types import BoolArray, FloatArray, IntArray

__all__ = [
    "Encounters",
    "Kinematics",
    "candidate_pairs",
    "closest_approach",
    "decide",
    "detect",
    "warm_up",
]

_B2_OVER_A2 = (1 - WGS84_F) ** 2


@dataclass(frozen=True, slots=True)
class Kinematics:
    """Tracks as arrays, one row each: what detection needs and nothing else.

    ``position_m`` and ``velocity_mps`` are ECEF, shape (n, 3) (see
    :mod:`deconfliction.tactical.frame`); ``altitude_m`` may be NaN (unknown); ``party`` is a
    small integer code per track, −1 for unattributed.
    """

    position_m: FloatArray
    velocity_mps: FloatArray
    altitude_m: FloatArray
    vertical_rate_mps: FloatArray
    party: IntArray

    def __len__(self) -> int:
        return int(self.altitude_m.size)


@dataclass(frozen=True, slots=True)
class Encounters:
    """Pairs predicted to lose separation within the look-ahead, or in loss of separation now.

    Indices ``a < b`` are rows of the :class:`Kinematics` given; ``tcpa_s`` is negative when the
    closest approach is past (a pair still inside, diverging); ``tin_s`` is 0 in loss of
    separation. Sorted by (a, b).
    """

    a: IntArray
    b: IntArray
    tcpa_s: FloatArray
    dcpa_m: FloatArray
    tin_s: FloatArray
    los: BoolArray

    def __len__(self) -> int:
        return int(self.a.size)


def detect(
    tracks: Kinematics, minima: Tactical = Tactical(), *, across_parties_only: bool = True
) -> Encounters:
    """Every encounter among the tracks under BlueSky's state-based rule (module docstring).

    With ``across_parties_only``, tracks of the same party are not paired; unattributed tracks
    (party −1) are paired with everyone. Empty input gives empty arrays.

    >>> from deconfliction.tactical.frame import ecef, ground_velocity
    >>> lat, lon = np.array([0.0, 0.0]), np.array([0.0, 0.5])
    >>> k = Kinematics(ecef(lat, lon), ground_velocity(lat, lon, np.array([200.0, 200.0]),
    ...                np.array([90.0, 270.0])), np.array([9000.0, 9000.0]), np.zeros(2),
    ...                np.array([0, 1]))
    >>> e = detect(k)
    >>> int(e.a[0]), int(e.b[0]), round(float(e.tcpa_s[0]), 1), round(float(e.tin_s[0]), 1)
    (0, 1, 139.2, 116.0)
    """
    a, b = _candidates(tracks, minima, None, None, across_parties_only=across_parties_only)
    return decide(tracks, a, b, minima)


def decide(tracks: Kinematics, a: IntArray, b: IntArray, minima: Tactical) -> Encounters:
    """Apply the rule to candidate pairs (a, b) and keep those in conflict, sorted by (a, b).

    Each pair's relative state is projected on the plane normal to the ellipsoid at its midpoint
    (module docstring), then decided by the same compiled rule as :func:`closest_approach`.
    """
    from deconfliction.tactical import _kernels  # numba: imported on the first detection

    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    order = np.argsort(np.minimum(a, b) * len(tracks) + np.maximum(a, b))  # sorted in, sorted out
    return Encounters(
        *_kernels.decide(
            np.ascontiguousarray(tracks.position_m, dtype=np.float64),
            np.ascontiguousarray(tracks.velocity_mps, dtype=np.float64),
            np.ascontiguousarray(tracks.altitude_m, dtype=np.float64),
            np.ascontiguousarray(tracks.vertical_rate_mps, dtype=np.float64),
            a[order],
            b[order],
            1 / _B2_OVER_A2,  # the ellipsoid's normal at (x, y, z) ∝ (x/a², y/a², z/b²)
            minima.horizontal_m,
            minima.vertical_m,
            minima.lookahead_s,
        )
    )


def closest_approach(
    r: FloatArray, w: FloatArray, dalt: FloatArray, dvs: FloatArray, minima: Tactical
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray, BoolArray]:
    """BlueSky's rule on relative states: (tcpa_s, dcpa_m, tin_s, los, conflict) per pair.

    ``r`` is the position of b relative to a and ``w`` the velocity of a relative to b, metres
    and m/s, shape (n, k) for any k (2 in a plane); ``dalt = alt_a − alt_b``,
    ``dvs = vs_a − vs_b``.

    >>> r, w = np.array([[10_000.0, 0.0]]), np.array([[100.0, 0.0]])
    >>> closest_approach(r, w, np.array([0.0]), np.array([0.0]), Tactical())
    (array([100.]), array([0.]), array([7.4]), array([False]), array([ True]))
    """
    from deconfliction.tactical import _kernels  # numba: imported on the first detection

    r, w = np.asarray(r, dtype=np.float64), np.asarray(w, dtype=np.float64)
    d2, rw, w2 = (np.einsum("ij,ij->i", x, y) for x, y in ((r, r), (r, w), (w, w)))
    dalt, dvs = (
        np.ascontiguousarray(np.broadcast_to(x, d2.shape), dtype=np.float64) for x in (dalt, dvs)
    )
    return _kernels.rule_many(
        d2, rw, w2, dalt, dvs, minima.horizontal_m, minima.vertical_m, minima.lookahead_s
    )


def warm_up() -> None:
    """Compile the detection's loops now, or load them from numba's cache: seconds on the first
    run after an install, ~0.1 s after. The service does it at start in a thread of its own
    (which stalls the others for at most ~0.1 s at a time), so that its first cycle with tracks
    is not late by the compile."""
    from deconfliction.tactical.frame import ecef, ground_velocity

    lat, lon = np.array([0.0, 0.0]), np.array([0.0, 0.1])
    speed, track = np.array([200.0, 200.0]), np.array([90.0, 270.0])
    tracks = Kinematics(
        ecef(lat, lon),
        ground_velocity(lat, lon, speed, track),
        np.array([9000.0, 9000.0]),
        np.zeros(2),
        np.array([0, 1]),
    )
    detect(tracks)
