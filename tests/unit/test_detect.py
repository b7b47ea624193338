"""find_conflicts against a brute-force reading of the conflict rule, and the rule at its edges.

The brute force looks at every pair of volumes and applies DESIGN.md's rule literally: parties
differ, the oracle's geodesic distance is below the horizontal minimum, the vertical gap and the
time gap (each rounded as the rule says: millimetres, microseconds) are below theirs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.agreement import Separation
from deconfliction.geo.volume import FT_M, Circle, Outline, Polygon, Volume
from deconfliction.ingest.geojson import loads_notices
from deconfliction.strategic.detect import Conflict, find_conflicts, prepare_many
from deconfliction.strategic.notice import Activity, Notice

from .oracle import (
    RefVolume,
    centre_radius_m,
    inv,
    point_at,
    reference_distance_m,
    star,
    time_gap_s,
    tolerance_m,
    vertical_gap_m,
    window,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)
THRESHOLD_BAND = 0.01
"""Pairs whose reference distance is within this fraction of the horizontal minimum are left out
of the comparison with the brute force. The package's distance is within
:func:`.oracle.tolerance_m` (≥ 2 m) of the oracle's, not equal to it, so right at the minimum the
two may legitimately fall on different sides of a strict ``<``; 1 % is far wider than that
tolerance (0.02 % at 18.5 km) and still leaves the threshold tested by the exact cases below."""


# ---- random sets of volumes ---------------------------------------------------------------------


def _anchor(rng: np.random.Generator, region: str) -> tuple[float, float]:
    if region == "anywhere":
        return float(rng.uniform(-180, 180)), float(rng.uniform(-60, 60))
    if region == "antimeridian":
        return float(rng.choice([179.9, -179.9])), float(rng.uniform(-60, 60))
    if region == "polar":
        return float(rng.uniform(-180, 180)), float(rng.choice([-1, 1]) * rng.uniform(78, 86))
    return 0.0, float(rng.choice([-90.0, 90.0]))  # a pole: shapes round it contain it


def _outline(rng: np.random.Generator, anchor: tuple[float, float]) -> Outline:
    centre = point_at(anchor, float(rng.uniform(0, 360)), 120_000.0 * math.sqrt(rng.uniform()))
    radius = float(math.exp(rng.uniform(math.log(1_000.0), math.log(40_000.0))))
    if rng.uniform() < 0.4:
        return Circle(centre[0], centre[1], radius)
    n = int(rng.integers(3, 9))
    weights = rng.uniform(1.0, 1.8, n)
    azimuths = rng.uniform(0, 360) + 360.0 * (np.cumsum(weights) - weights) / weights.sum()
    return star(centre, radius, azimuths.tolist(), rng.uniform(0.4, 1.0, n).tolist())


def _band(rng: np.random.Generator) -> tuple[float, float]:
    """Metres on a 100 m grid, or feet on a 1,000 ft grid (so gaps of exactly 600 m or 2,000 ft
    come up, and feet must be converted exactly to compare)."""
    if rng.uniform() < 0.5:
        lower = int(rng.integers(0, 100)) * 100.0
        return lower, lower + int(rng.integers(1, 30)) * 100.0
    lower_ft = int(rng.integers(0, 40)) * 1000
    return lower_ft * FT_M, (lower_ft + int(rng.integers(1, 10)) * 1000) * FT_M


def _window(rng: np.random.Generator) -> tuple[datetime, datetime]:
    """Starts on a 5-minute grid over a day, lengths in quarter hours (gaps of exactly 900 s come
    up); one in five is shifted by whole seconds and a few microseconds."""
    start = T0 + timedelta(minutes=5 * int(rng.integers(0, 288)))
    if rng.uniform() < 0.2:
        start += timedelta(seconds=int(rng.integers(0, 60)), microseconds=int(rng.integers(0, 3)))
    return start, start + timedelta(minutes=15 * int(rng.integers(1, 24)))


def random_notices(seed: int, per_cluster: int = 45) -> list[Notice]:
    """Clusters of volumes round anchors in several regions, from three parties, grouped into
    notices of one to three volumes."""
    rng = np.random.default_rng(seed)
    regions = ["anywhere", "anywhere", "antimeridian", "antimeridian", "polar", "pole"]
    parties = ["red", "blue", "green"]
    open_notice: dict[str, list[Volume]] = {}
    done: list[tuple[str, list[Volume]]] = []
    for region in regions:
        anchor = _anchor(rng, region)
        for _ in range(per_cluster):
            party = parties[int(rng.integers(0, 3))]
            lower, upper = _band(rng)
            start, end = _window(rng)
            vols = open_notice.setdefault(party, [])
            vols.append(Volume(_outline(rng, anchor), lower, upper, start, end))
            if len(vols) == 3 or rng.uniform() < 0.6:
                done.append((party, open_notice.pop(party)))
    done.extend(open_notice.items())
    return [
        Notice(f"{party[0].upper()}-{k}", party, Activity.AIR, tuple(vols))
        for k, (party, vols) in enumerate(done)
    ]


def ref_volumes(notices: list[Notice]) -> list[RefVolume]:
    """The volumes in the order prepare_many puts them (notice by notice, volume by volume)."""
    return [
        RefVolume(n.ref, i, n.party, v.outline, v.lower_m, v.upper_m, v.start, v.end)
        for n in notices
        for i, v in enumerate(n.volumes)
    ]


# ---- the brute force --------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    conflicts: dict[tuple[int, int], float]  # (i, j), i < j -> reference distance
    near_threshold: set[tuple[int, int]]  # left out of the comparison
    measured: int  # pairs the oracle measured


def brute_force(vols: list[RefVolume], sep: Separation) -> Expected:
    n = len(vols)
    lower = np.array([v.lower_m for v in vols])
    upper = np.array([v.upper_m for v in vols])
    start = np.array([v.start.timestamp() for v in vols])
    end = np.array([v.end.timestamp() for v in vols])
    party = np.array([v.party for v in vols])
    i, j = np.triu_indices(n, k=1)
    # a cheap, generous prefilter; every survivor is then judged by the oracle's exact gaps
    maybe = (
        (party[i] != party[j])
        & (np.maximum(lower[i], lower[j]) - np.minimum(upper[i], upper[j]) < sep.vertical_m + 1)
        & (np.maximum(start[i], start[j]) - np.minimum(end[i], end[j]) < sep.time_s + 1)
    )
    i, j = i[maybe], j[maybe]
    keep = [
        k
        for k in range(len(i))
        if vertical_gap_m(vols[i[k]], vols[j[k]]) < sep.vertical_m
        and time_gap_s(vols[i[k]], vols[j[k]]) < sep.time_s
    ]
    i, j = i[keep], j[keep]
    # centres and enclosing radii: pairs certainly beyond the minimum (and its band) need no oracle
    cr = [centre_radius_m(v.outline) for v in vols]
    lon = np.array([c[0][0] for c in cr])
    lat = np.array([c[0][1] for c in cr])
    radius = np.array([c[1] for c in cr])
    apart = inv(lon[i], lat[i], lon[j], lat[j]) - radius[i] - radius[j]
    close = apart < sep.horizontal_m * (1 + THRESHOLD_BAND)
    conflicts: dict[tuple[int, int], float] = {}
    near: set[tuple[int, int]] = set()
    for a, b in zip(i[close].tolist(), j[close].tolist(), strict=True):
        d = reference_distance_m(vols[a].outline, vols[b].outline)
        if abs(d - sep.horizontal_m) <= THRESHOLD_BAND * sep.horizontal_m:
            near.add((a, b))
        elif d < sep.horizontal_m:
            conflicts[(a, b)] = d
    return Expected(conflicts, near, int(close.sum()))


def index_pairs(found: list[Conflict], vols: list[RefVolume]) -> dict[tuple[int, int], Conflict]:
    where = {(v.party, v.notice, v.volume): k for k, v in enumerate(vols)}
    out = {}
    for c in found:
        a = where[(c.a.party, c.a.notice, c.a.volume)]
        b = where[(c.b.party, c.b.notice, c.b.volume)]
        assert a < b, "the volume that comes first is a"
        assert (a, b) not in out, "each pair once"
        out[(a, b)] = c
    return out


def assert_fields(c: Conflict, a: RefVolume, b: RefVolume, distance_m: float) -> None:
    assert (c.a.notice, c.a.volume, c.a.party) == (a.notice, a.volume, a.party)
    assert (c.b.notice, c.b.volume, c.b.party) == (b.notice, b.volume, b.party)
    assert c.a.party != c.b.party
    assert (c.start, c.end) == window(a, b)
    assert c.start.tzinfo is not None and c.start.utcoffset() == timedelta(0)
    assert c.vertical_m == vertical_gap_m(a, b)
    assert c.time_gap_s == time_gap_s(a, b)
    if distance_m == 0.0:
        assert c.horizontal_m <= tolerance_m(0.0)
    else:
        assert abs(c.horizontal_m - distance_m) <= tolerance_m(distance_m)


SEPARATIONS = st.builds(
    Separation,
    horizontal_m=st.sampled_from([5_000.0, 18_520.0, 40_000.0]),
    vertical_m=st.sampled_from([304.8, 600.0, 609.6]),
    time_s=st.sampled_from([300.0, 900.0, 3_600.0]),
)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sep=SEPARATIONS)
def test_find_conflicts__equals_the_brute_force_oracle(seed: int, sep: Separation) -> None:
    notices = random_notices(seed)
    vols = ref_volumes(notices)
    items = prepare_many(notices)
    assert [(p.ref.notice, p.ref.volume) for p in items] == [(v.notice, v.volume) for v in vols]

    found = index_pairs(find_conflicts(items, sep), vols)
    want = brute_force(vols, sep)

    got_pairs = set(found) - want.near_threshold
    assert sorted(got_pairs - set(want.conflicts)) == [], "conflicts the rule does not give"
    assert sorted(set(want.conflicts) - got_pairs) == [], "conflicts the package missed"
    for (a, b), d in want.conflicts.items():
        assert_fields(found[(a, b)], vols[a], vols[b], d)
    for a, b in set(found) & want.near_threshold:  # reported near the minimum: still well formed
        assert abs(found[(a, b)].horizontal_m - sep.horizontal_m) <= 0.02 * sep.horizontal_m


def test_find_conflicts__random_sets_are_not_trivial() -> None:
    """The generator gives sets where the comparison means something: hundreds of volumes and
    many conflicts, across the antimeridian and in the polar caps too."""
    vols = ref_volumes(random_notices(7))
    want = brute_force(vols, Separation())
    assert len(vols) == 270
    assert len(want.conflicts) >= 20
    where = [_position(vols[a].outline) for a, _ in want.conflicts]
    assert any(abs(lon) > 179.0 for lon, _ in where)
    assert any(abs(lat) > 78.0 for _, lat in where)


def _position(o: Outline) -> tuple[float, float]:
    return (o.lon, o.lat) if isinstance(o, Circle) else o.vertices[0]


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_find_conflicts__never_between_volumes_of_one_party(seed: int) -> None:
    notices = [
        Notice(n.ref, "red", n.activity, n.volumes) for n in random_notices(seed, per_cluster=30)
    ]
    big = Separation(horizontal_m=100_000.0, vertical_m=100_000.0, time_s=86_400.0)
    assert find_conflicts(prepare_many(notices), big) == []


# ---- the rule at its edges --------------------------------------------------------------------

SEP = Separation(horizontal_m=18_520.0, vertical_m=609.6, time_s=900.0)
HERE = Circle(38.0, 35.0, 10_000.0)


def vol(
    outline: Outline = HERE,
    lower: float = 0.0,
    upper: float = 1_000.0,
    start: datetime = T0,
    end: datetime = T0 + timedelta(hours=1),
) -> Volume:
    return Volume(outline, lower, upper, start, end)


def conflicts(a: Volume, b: Volume, sep: Separation = SEP) -> list[Conflict]:
    return find_conflicts(
        prepare_many(
            [Notice("A-1", "red", Activity.AIR, (a,)), Notice("B-1", "blue", Activity.AIR, (b,))]
        ),
        sep,
    )


def test_vertical_gap__exactly_the_minimum_is_separated() -> None:
    assert conflicts(vol(upper=1_000.0), vol(lower=1_609.6, upper=3_000.0)) == []


def test_vertical_gap__a_millimetre_below_the_minimum_conflicts() -> None:
    (c,) = conflicts(vol(upper=1_000.0), vol(lower=1_609.599, upper=3_000.0))
    assert c.vertical_m == 609.599


def test_vertical_gap__below_a_millimetre_is_rounded_away() -> None:
    """Gaps are compared at millimetre resolution (detect.py): 0.1 mm short is still the minimum."""
    assert conflicts(vol(upper=1_000.0), vol(lower=1_609.5999, upper=3_000.0)) == []


def test_vertical_gap__2000_ft_in_feet_is_exactly_the_2000_ft_minimum() -> None:
    """12,000 ft and 14,000 ft converted with 0.3048 differ by 609.5999999999995 m in floating
    point; the rule must still see exactly 2,000 ft."""
    low = vol(lower=10_000 * FT_M, upper=12_000 * FT_M)
    high = vol(lower=14_000 * FT_M, upper=20_000 * FT_M)
    assert 14_000 * FT_M - 12_000 * FT_M != 609.6  # the trap is real
    assert conflicts(low, high) == []
    (c,) = conflicts(low, vol(lower=13_999 * FT_M, upper=20_000 * FT_M))
    assert c.vertical_m == round(1_999 * FT_M, 3) == 609.295  # to the millimetre


def test_vertical_gap__2000_ft_in_a_geojson_file_is_separated() -> None:
    def feature(ref: str, party: str, lower_ft: int, upper_ft: int) -> str:
        return (
            '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [38.0, 35.0]},'
            f' "properties": {{"notice": "{ref}", "party": "{party}", "activity": "air",'
            ' "radius_m": 5000, "start": "2025-03-01T00:00:00Z", "end": "2025-03-01T01:00:00Z",'
            f' "lower_ft": {lower_ft}, "upper_ft": {upper_ft}}}}}'
        )

    text = (
        '{"type": "FeatureCollection", "features": ['
        + feature("A-1", "red", 10_000, 12_000)
        + ","
        + feature("B-1", "blue", 14_000, 20_000)
        + "]}"
    )
    assert find_conflicts(prepare_many(loads_notices(text)), SEP) == []


def test_vertical_gap__touching_bands_overlap() -> None:
    (c,) = conflicts(vol(upper=1_000.0), vol(lower=1_000.0, upper=2_000.0))
    assert c.vertical_m == 0.0


def test_time_gap__exactly_the_minimum_is_separated() -> None:
    end = T0 + timedelta(hours=1)
    later = end + timedelta(seconds=900)
    assert conflicts(vol(end=end), vol(start=later, end=later + timedelta(hours=1))) == []


def test_time_gap__a_microsecond_below_the_minimum_conflicts() -> None:
    end = T0 + timedelta(hours=1)
    later = end + timedelta(seconds=900) - timedelta(microseconds=1)
    (c,) = conflicts(vol(end=end), vol(start=later, end=later + timedelta(hours=1)))
    assert c.time_gap_s == 899.999999
    assert (c.start, c.end) == (end, later)  # apart: from the earlier end to the later start


def test_time_gap__back_to_back_windows_overlap() -> None:
    end = T0 + timedelta(hours=1)
    (c,) = conflicts(vol(end=end), vol(start=end, end=end + timedelta(hours=1)))
    assert c.time_gap_s == 0.0
    assert c.start == c.end == end


def test_time_gap__in_other_offsets_is_measured_in_utc() -> None:
    plus2 = datetime(2025, 3, 1, 3, 15, tzinfo=timezone(timedelta(hours=2)))
    end = T0 + timedelta(hours=1)  # 01:00Z; the other starts 01:15Z, written as 03:15+02:00
    assert conflicts(vol(end=end), vol(start=plus2, end=plus2 + timedelta(hours=1))) == []


@pytest.mark.parametrize("lat", [-60.0, 0.0, 35.0, 80.0])
@pytest.mark.parametrize("minimum", [1_000.0, 18_520.0])
def test_horizontal__circles_exactly_the_minimum_apart_on_a_meridian_are_separated(
    lat: float, minimum: float
) -> None:
    r1, r2 = 10_000.0, 4_000.0
    sep = Separation(horizontal_m=minimum, vertical_m=SEP.vertical_m, time_s=SEP.time_s)
    c1 = (38.0, lat)
    at = point_at(c1, 0.0, r1 + r2 + minimum)
    assert at[0] == pytest.approx(38.0, abs=1e-9)  # due north: along the meridian
    assert conflicts(vol(Circle(*c1, r1)), vol(Circle(*at, r2)), sep) == []

    closer = point_at(c1, 0.0, r1 + r2 + minimum - 1.0)
    (c,) = conflicts(vol(Circle(*c1, r1)), vol(Circle(*closer, r2)), sep)
    assert c.horizontal_m == pytest.approx(minimum - 1.0, abs=1e-3)


def test_horizontal__circles_across_the_antimeridian_at_the_minimum() -> None:
    c1 = (179.99, 10.0)
    at = point_at(c1, 90.0, 5_000.0 + 5_000.0 + SEP.horizontal_m)
    assert at[0] < 0  # the second centre is east of the antimeridian
    assert conflicts(vol(Circle(*c1, 5_000.0)), vol(Circle(*at, 5_000.0))) == []
    closer = point_at(c1, 90.0, 5_000.0 + 5_000.0 + SEP.horizontal_m - 1.0)
    assert len(conflicts(vol(Circle(*c1, 5_000.0)), vol(Circle(*closer, 5_000.0)))) == 1


def test_horizontal__overlapping_outlines_are_0_m_apart() -> None:
    square = Polygon(((37.9, 34.9), (38.1, 34.9), (38.1, 35.1), (37.9, 35.1)))
    (c,) = conflicts(vol(square), vol(HERE))
    assert c.horizontal_m == 0.0


def test_conflict__fields_and_json_line() -> None:
    a = vol(upper=3_000.0, end=T0 + timedelta(hours=3))
    b = vol(
        Circle(38.0, 35.3, 5_000.0),
        lower=2_000.0,
        upper=4_000.0,
        start=T0 + timedelta(hours=2),
        end=T0 + timedelta(hours=4),
    )
    (c,) = conflicts(a, b)
    assert c.to_json() == {
        "a": {"notice": "A-1", "volume": 0, "party": "red"},
        "b": {"notice": "B-1", "volume": 0, "party": "blue"},
        "start": "2025-03-01T02:00:00Z",
        "end": "2025-03-01T03:00:00Z",
        "horizontal_m": c.horizontal_m,
        "vertical_m": 0.0,
        "time_gap_s": 0.0,
    }
    want = reference_distance_m(a.outline, b.outline)
    assert 15_000.0 < want < 20_000.0
    assert c.horizontal_m == pytest.approx(want, abs=1e-3)  # two circles: exact


def test_find_conflicts__of_nothing_or_one_volume_is_empty() -> None:
    assert find_conflicts([], SEP) == []
    assert find_conflicts(prepare_many([Notice("A-1", "red", Activity.AIR, (vol(),))]), SEP) == []


def test_find_conflicts__volume_indexes_within_a_notice() -> None:
    far = Circle(10.0, 10.0, 1_000.0)
    red = Notice("A-1", "red", Activity.AIR, (vol(far), vol(far), vol()))
    blue = Notice("B-1", "blue", Activity.AIR, (vol(far, lower=50_000.0, upper=60_000.0), vol()))
    (c,) = find_conflicts(prepare_many([red, blue]), SEP)
    assert (c.a.notice, c.a.volume, c.b.notice, c.b.volume) == ("A-1", 2, "B-1", 1)
