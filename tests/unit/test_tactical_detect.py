"""Tactical detection against an independent one-pair-at-a-time oracle, and at the rule's edges."""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconfliction.agreement import Tactical
from deconfliction.tactical import candidates
from deconfliction.tactical.detect import (
    Kinematics,
    candidate_pairs,
    closest_approach,
    decide,
    detect,
    warm_up,
)
from deconfliction.tactical.frame import ecef, ground_velocity

from .tactical_oracle import Track, rule, verdict

GEOD = pyproj.Geod(ellps="WGS84")
MINIMA = Tactical()


def kinematics(tracks: list[Track]) -> Kinematics:
    col = {f: np.array([getattr(t, f) for t in tracks], dtype=float) for f in Track.__annotations__}
    return Kinematics(
        ecef(col["lat"], col["lon"]),
        ground_velocity(col["lat"], col["lon"], col["speed_mps"], col["track_deg"]),
        col["alt_m"],
        col["vs_mps"],
        col["party"].astype(np.int64),
    )


def pairs(found: object) -> set[tuple[int, int]]:
    return set(zip(found.a.tolist(), found.b.tolist(), strict=True))  # type: ignore[attr-defined]


@st.composite
def traffic(draw: st.DrawFn) -> list[Track]:
    """A cluster of tracks anywhere: often across the antimeridian or near a pole."""
    lat0 = draw(st.one_of(st.floats(-89.9, 89.9), st.sampled_from([89.9, -89.95, 0.0, 60.0])))
    lon0 = draw(st.one_of(st.floats(-180, 180), st.sampled_from([180.0, -179.95, 179.9])))
    n = draw(st.integers(2, 12))
    out = []
    for _ in range(n):
        az, dist = draw(st.floats(0, 360)), draw(st.floats(0, 60_000))
        lon, lat, _ = GEOD.fwd(lon0, lat0, az, dist)
        out.append(
            Track(
                lat=lat,
                lon=((lon + 180) % 360) - 180,
                alt_m=draw(st.floats(9_000, 9_800)),
                speed_mps=draw(st.one_of(st.just(0.0), st.floats(0, 320))),
                track_deg=draw(st.floats(0, 360)),
                vs_mps=draw(st.one_of(st.just(0.0), st.floats(-20, 20))),
                party=draw(st.integers(-1, 2)),
            )
        )
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traffic())
def test_detect__matches_the_oracle_anywhere_on_earth(tracks: list[Track]) -> None:
    found = detect(kinematics(tracks), MINIMA)
    got = {
        (a, b): k for k, (a, b) in enumerate(zip(found.a.tolist(), found.b.tolist(), strict=True))
    }
    for i in range(len(tracks)):
        for j in range(i + 1, len(tracks)):
            pi, pj = tracks[i].party, tracks[j].party
            if pi == pj and pi >= 0:
                assert (i, j) not in got
                continue
            v = verdict(tracks[i], tracks[j], MINIMA.horizontal_m, MINIMA.vertical_m, 300.0)
            if v.near_threshold:
                continue
            assert ((i, j) in got) == v.conflict, (i, j, v)
            if v.conflict:
                k = got[i, j]
                assert found.los[k] == v.los
                assert found.tin_s[k] == pytest.approx(v.tin_s, abs=1e-3)
                assert found.dcpa_m[k] == pytest.approx(v.dcpa_m, abs=1e-3)
                if math.isfinite(v.tcpa_s):
                    assert found.tcpa_s[k] == pytest.approx(v.tcpa_s, rel=1e-6, abs=1e-3)


@pytest.mark.parametrize("n, seed", [(400, 1), (1500, 2), (3000, 3)])
def test_candidates__include_every_pair_all_pairs_would_find(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(40, 45, n)
    lon = rng.uniform(-2, 4, n)
    k = Kinematics(
        ecef(lat, lon),
        ground_velocity(lat, lon, rng.uniform(0, 300, n), rng.uniform(0, 360, n)),
        np.where(rng.random(n) < 0.05, np.nan, rng.uniform(6_000, 12_000, n)),
        np.where(rng.random(n) < 0.3, rng.uniform(-15, 15, n), 0.0),
        rng.integers(-1, 3, n),
    )
    i, j = np.triu_indices(n, 1)
    assert pairs(decide(k, i, j, MINIMA)) == pairs(detect(k, MINIMA, across_parties_only=False))
    a, b = candidate_pairs(k, MINIMA)
    assert (
        len(set(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist(), strict=True))) == a.size
    )


def test_detect__is_symmetric_in_the_order_of_tracks() -> None:
    rng = np.random.default_rng(5)
    n = 500
    lat, lon = rng.uniform(-1, 1, n), rng.uniform(179, 181, n)
    args = (lat, lon, rng.uniform(100, 250, n), rng.uniform(0, 360, n))
    alt, vs, party = rng.uniform(9_000, 10_000, n), np.zeros(n), rng.integers(0, 2, n)
    k = Kinematics(ecef(lat, lon), ground_velocity(*args), alt, vs, party)
    flip = np.arange(n)[::-1]
    k2 = Kinematics(k.position_m[flip], k.velocity_mps[flip], alt[flip], vs[flip], party[flip])
    back = {tuple(sorted((int(flip[a]), int(flip[b])))) for a, b in pairs(detect(k2))}
    assert back == pairs(detect(k)) and back


def one_pair(a: Track, b: Track, minima: Tactical = MINIMA) -> tuple[float, ...] | None:
    found = detect(kinematics([a, b]), minima, across_parties_only=False)
    if not len(found):
        return None
    return (float(found.tcpa_s[0]), float(found.dcpa_m[0]), float(found.tin_s[0]),
            bool(found.los[0]))  # fmt: skip


def test_head_on_at_the_equator_enters_at_the_expected_time() -> None:
    east = Track(0.0, 0.0, 9_000, 200, 90, 0)
    lon, _, _ = GEOD.fwd(0.0, 0.0, 90, 60_000)
    west = Track(0.0, lon, 9_000, 200, 270, 0)
    tcpa, dcpa, tin, los = one_pair(east, west)  # type: ignore[misc]
    assert (tcpa, dcpa, tin, los) == pytest.approx(
        (150.0, 0, (60_000 - 9_260) / 400, False), abs=0.01
    )


def test_across_the_antimeridian_and_over_the_pole() -> None:
    a = Track(10.0, 179.99, 9_000, 200, 90, 0)
    b = Track(10.0, -179.99, 9_000, 200, 270, 0)
    assert one_pair(a, b) is not None and one_pair(a, b)[3]  # type: ignore[index]
    north = Track(89.97, 0.0, 9_000, 200, 0, 0)  # 3.3 km short of the pole, flying over it
    south = Track(89.97, 180.0, 9_000, 200, 0, 0)  # on the far side, flying over it too
    tcpa, dcpa, _, los = one_pair(north, south)  # type: ignore[misc]
    assert los and tcpa == pytest.approx(16.7, abs=0.1) and dcpa == pytest.approx(0, abs=1)


def test_parallel_same_speed_is_an_encounter_only_when_already_lost() -> None:
    a = Track(45.0, 7.0, 9_000, 230, 0, 0)
    near = Track(45.0, 7.1, 9_000, 230, 0, 0)  # 7.9 km abeam
    far = Track(45.0, 7.2, 9_000, 230, 0, 0)  # 15.7 km abeam
    assert one_pair(a, near) is not None and one_pair(a, near)[3]  # type: ignore[index]
    assert one_pair(a, far) is None


def test_zero_relative_velocity_keeps_the_distance_for_ever() -> None:
    a = Track(45.0, 7.0, 9_000, 0, 0, 0)
    b = Track(45.0, 7.05, 9_100, 0, 0, 0)
    _, _, d = GEOD.inv(7.0, 45.0, 7.05, 45.0)
    assert one_pair(a, b) == pytest.approx((0.0, d, 0.0, True), abs=1e-3)
    assert one_pair(a, Track(45.0, 7.05, 9_400, 0, 0, 0)) is None  # 400 m apart vertically


def test_exactly_at_the_minima_is_separated() -> None:
    r = np.array([[MINIMA.horizontal_m, 0.0], [0.0, 100.0], [0.0, 100.0]])
    w = np.zeros((3, 2))
    dalt = np.array([0.0, MINIMA.vertical_m, MINIMA.vertical_m - 1e-9])
    _, _, _, los, hit = closest_approach(r, w, dalt, np.zeros(3), MINIMA)
    assert hit.tolist() == [False, False, True] and los.tolist() == [False, False, True]


def test_look_ahead_applies_to_the_time_of_entering() -> None:
    # closing at 100 m/s from 9,260 + 30,000 m: enters at exactly 300 s, closest at 392.6 s
    r, w = np.array([[39_260.0, 0.0], [39_260.1, 0.0]]), np.array([[100.0, 0.0], [100.0, 0.0]])
    tcpa, _, tin, _, hit = closest_approach(r, w, np.zeros(2), np.zeros(2), MINIMA)
    assert hit.tolist() == [True, False] and tin[0] == pytest.approx(300.0)
    assert tcpa[0] == pytest.approx(392.6)


def test_vertical_crossing_counts_only_within_the_look_ahead() -> None:
    r, w = np.array([[0.0, 0.0], [0.0, 0.0]]), np.zeros((2, 2))
    dalt = np.array([2_000.0, 4_000.0])  # a above b, descending at 10 m/s onto it
    _, _, tin, los, hit = closest_approach(r, w, dalt, np.array([-10.0, -10.0]), MINIMA)
    assert hit.tolist() == [True, False] and not los.any()
    assert tin[0] == pytest.approx((2_000 - 304.8) / 10)


def test_unknown_altitude_is_never_cleared_vertically() -> None:
    a = Track(45.0, 7.0, math.nan, 0, 0, 0)
    b = Track(45.0, 7.05, 3_000, 0, 0, 0)
    assert one_pair(a, b) is not None


def test_same_party_is_not_paired_and_unattributed_is_paired_with_all() -> None:
    base = [Track(45.0, 7.0, 9_000, 0, 0, 0, p) for p in (0, 0, -1)]
    base[1] = Track(45.0, 7.01, 9_000, 0, 0, 0, 0)
    base[2] = Track(45.0, 7.02, 9_000, 0, 0, 0, -1)
    assert pairs(detect(kinematics(base))) == {(0, 2), (1, 2)}


def test_empty_and_single_track_give_empty_results() -> None:
    for tracks in ([], [Track(0, 0, 0, 0, 0, 0)]):
        k = kinematics(tracks) if tracks else Kinematics(
            np.empty((0, 3)), np.empty((0, 3)), np.empty(0), np.empty(0), np.empty(0, np.int64)
        )  # fmt: skip
        assert len(detect(k)) == 0


@given(
    st.floats(-50_000, 50_000), st.floats(-50_000, 50_000), st.floats(-600, 600),
    st.floats(-600, 600), st.floats(-3_000, 3_000), st.floats(-30, 30),
)  # fmt: skip
def test_closest_approach__agrees_with_the_oracle_in_the_plane(
    dx: float, dy: float, du: float, dv: float, dalt: float, dvs: float
) -> None:
    want = rule(dx, dy, du, dv, dalt, dvs, 9_260.0, 304.8, 300.0)
    got = closest_approach(
        np.array([[dx, dy]]), np.array([[du, dv]]), np.array([dalt]), np.array([dvs]), MINIMA
    )
    if not want.near_threshold:
        assert bool(got[4][0]) == want.conflict
        if want.conflict:
            assert float(got[2][0]) == pytest.approx(want.tin_s, abs=1e-6)


@st.composite
def dense_traffic(draw: st.DrawFn) -> Kinematics:
    """A dense random cluster with the rule's edge cases mixed in: unknown altitudes, vertical
    rates within BlueSky's level threshold, equal velocities, and tracks standing still."""
    seed, n = draw(st.integers(0, 2**32 - 1)), draw(st.integers(2, 300))
    lat0, lon0 = draw(st.sampled_from([(0.0, 30.0), (89.8, 0.0), (-10.0, 179.9), (55.0, -3.0)]))
    rng = np.random.default_rng(seed)
    lat = np.clip(lat0 + rng.uniform(-0.6, 0.6, n), -90, 90)
    lon = lon0 + rng.uniform(-0.6, 0.6, n)
    speed = np.where(rng.random(n) < 0.1, 0.0, rng.uniform(0, 320, n))
    track = np.where(rng.random(n) < 0.2, 90.0, rng.uniform(0, 360, n))
    alt = np.where(rng.random(n) < 0.05, np.nan, rng.uniform(9_000, 10_500, n))
    vs = rng.choice([0.0, 5e-7, -1e-6, 2e-6, 10.0, -15.0], n)
    return Kinematics(ecef(lat, lon), ground_velocity(lat, lon, speed, track), alt, vs,
                      rng.integers(-1, 3, n))  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dense_traffic(), st.sampled_from([1, 2, 3, 7]), st.sampled_from([(1.0, 0.01), (3.0, 1.0)]))
def test_candidates__never_lose_a_pair_whatever_the_slices_and_cells(
    k: Kinematics, slices: int, cells: tuple[float, float]
) -> None:
    a, b = candidate_pairs(k, MINIMA, slices=slices, cells_per_box=cells)
    got = set(zip(a.tolist(), b.tolist(), strict=True))
    assert len(got) == a.size and bool(np.all(a < b))  # each pair once, ordered
    i, j = np.triu_indices(len(k), 1)
    assert pairs(decide(k, i, j, MINIMA)) <= got  # the brute force finds nothing more
    a2, b2 = candidate_pairs(k, MINIMA)  # the pruning is exact: settings change speed only
    assert set(zip(a2.tolist(), b2.tolist(), strict=True)) == got


def joint_time_pairs(k: Kinematics, across_parties_only: bool) -> set[tuple[int, int]]:
    """All pairs, by brute force over arrays, with a time in [0, look-ahead] within both the
    horizontal reach and the vertical gap that the candidates use: what they should be exactly."""
    look, vel = MINIMA.lookahead_s, k.velocity_mps
    speed = float(np.sqrt(np.einsum("ij,ij->i", vel, vel).max(initial=0.0)))
    reach = candidates._horizontal_reach(MINIMA, speed) + candidates._MARGIN_M
    gap = MINIMA.vertical_m * (1 + 1e-9) + candidates._MARGIN_M + candidates._LEVEL_MPS * look
    i, j = np.triu_indices(len(k), 1)
    r = [k.position_m[j, x] - k.position_m[i, x] for x in range(3)]
    w = [vel[i, x] - vel[j, x] for x in range(3)]
    d2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2]
    rw = r[0] * w[0] + r[1] * w[1] + r[2] * w[2]
    w2 = w[0] * w[0] + w[1] * w[1] + w[2] * w[2]
    c = d2 - reach * reach
    dalt = k.altitude_m[i] - k.altitude_m[j]
    dvs = k.vertical_rate_mps[i] - k.vertical_rate_mps[j]
    with np.errstate(all="ignore"):
        s = np.sqrt(rw * rw - w2 * c)
        h_lo = np.where(w2 == 0, np.where(c <= 0, -np.inf, np.nan), (rw - s) / w2)
        h_hi = np.where(w2 == 0, np.where(c <= 0, np.inf, np.nan), (rw + s) / w2)
        t1, t2 = (-dalt - gap) / dvs, (-dalt + gap) / dvs
    v_lo, v_hi = np.fmax(np.minimum(t1, t2), 0.0), np.fmin(np.maximum(t1, t2), look)
    joint = np.maximum(h_lo, v_lo) <= np.minimum(h_hi, v_hi)
    if across_parties_only:
        joint &= (k.party[i] != k.party[j]) | (k.party[i] < 0)
    return set(zip(i[joint].tolist(), j[joint].tolist(), strict=True))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dense_traffic(),
    st.sampled_from([1, 2, 3, 7]),
    st.sampled_from([(0.7, 0.01), (3.0, 1.0)]),
    st.booleans(),
)
def test_candidates__are_exactly_the_pairs_with_a_joint_time(
    k: Kinematics, slices: int, cells: tuple[float, float], across_parties_only: bool
) -> None:
    """The compiled sweep against the definition: no pair missing, none extra, each once."""
    a, b = candidates._candidates(k, MINIMA, cells, slices, across_parties_only=across_parties_only)
    got = set(zip(a.tolist(), b.tolist(), strict=True))
    assert len(got) == a.size and bool(np.all(a < b))
    assert got == joint_time_pairs(k, across_parties_only)


def test_detect__a_vertical_rate_difference_too_small_to_divide_by_is_level() -> None:
    """Hypothesis found it: a subnormal climb rate made the vertical crossing times overflow
    (a warning, an error here); they are ±inf, and the pair is decided as a level one."""
    lat, lon = np.array([0.0, 0.0]), np.array([0.0, 0.05])
    k = Kinematics(
        ecef(lat, lon),
        ground_velocity(lat, lon, np.array([200.0, 200.0]), np.array([90.0, 270.0])),
        np.array([9000.0, 9000.0]),
        np.array([5e-324, 0.0]),
        np.array([0, 1]),
    )
    found = detect(k, MINIMA)
    assert (found.a.tolist(), found.b.tolist()) == ([0], [1])


def test_warm_up__compiles_what_a_cycle_runs() -> None:
    """The service calls it at start; afterwards a detection needs no compile."""
    warm_up()
    from deconfliction.tactical import _kernels

    for kernel in (_kernels.register, _kernels.sweep, _kernels.decide):
        assert kernel.signatures, f"{kernel.__name__} is not compiled"
