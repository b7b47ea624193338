"""Filing notices into the store, on SQLite and PostgreSQL: the same conflicts as the pure check,
all or nothing, and concurrent filings that still find each other."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import sqlalchemy as sa
from support import AGREEMENT_TOML, NOW, circle, notice, random_notices, row_counts, square, volume

from deconfliction.agreement import Agreement, loads_agreement
from deconfliction.errors import DuplicateNotice, NoticeError, NotInitialised, StoreError
from deconfliction.geo.volume import Circle
from deconfliction.service import file_notices, init_store, list_conflicts, stored_agreement
from deconfliction.store import SqlUnitOfWork, candidates, create_engine
from deconfliction.strategic.detect import Conflict, find_conflicts, prepare_many
from deconfliction.strategic.notice import Notice


def test_init_store__again_with_the_same_agreement_changes_nothing(
    uow: SqlUnitOfWork, engine: sa.Engine, agreement: Agreement
) -> None:
    before = row_counts(engine)
    init_store(uow, agreement, AGREEMENT_TOML)
    assert row_counts(engine) == before
    assert before["party"] == 3 and before["agreement"] == 1
    assert stored_agreement(uow) == agreement


def test_init_store__with_another_agreement_is_refused(
    uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    other_text = AGREEMENT_TOML.replace("time_s = 900", "time_s = 1800")
    with pytest.raises(StoreError, match="another agreement"):
        init_store(uow, loads_agreement(other_text), other_text)
    assert stored_agreement(uow) == agreement


def test_a_store_never_initialised_says_so(engine: sa.Engine, agreement: Agreement) -> None:
    uow = SqlUnitOfWork(engine)
    with pytest.raises(NotInitialised, match="deconfliction init"):
        list_conflicts(uow)
    with pytest.raises(NotInitialised):
        file_notices(uow, [notice("C-1", "coalition", volume(circle()))], agreement, now=NOW)
    with pytest.raises(NotInitialised):
        stored_agreement(uow)


def test_import__finds_the_same_conflicts_as_find_conflicts(
    uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    notices = random_notices(7, 150)
    expected = find_conflicts(prepare_many(notices), agreement.separation)
    found = file_notices(uow, notices, agreement, now=NOW).conflicts
    assert len(expected) > 20
    assert set(found) == set(expected)
    assert list_conflicts(uow) == found


def test_filing_one_by_one__finds_the_same_as_all_at_once(
    uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    notices = random_notices(11, 120)
    expected = find_conflicts(prepare_many(notices), agreement.separation)
    found: list[Conflict] = []
    for n in notices:
        found += file_notices(uow, [n], agreement, now=NOW).conflicts
    assert set(found) == set(expected)
    stored = list_conflicts(uow)
    assert len(stored) == len(expected) and set(stored) == set(expected)


@pytest.mark.parametrize("access", ["lookup", "scan"])
def test_filing_in_batches__finds_the_same_as_all_at_once(
    uow: SqlUnitOfWork, agreement: Agreement, access: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ways the store reads candidates (cell lookups, one range scan) find every conflict."""
    monkeypatch.setattr(candidates, "SCAN_KEYS", 1 if access == "scan" else 10**9)
    monkeypatch.setattr(candidates, "SCAN_ROWS", 50)  # several parts, as a big import has
    notices = random_notices(13, 120)
    expected = find_conflicts(prepare_many(notices), agreement.separation)
    found: list[Conflict] = []
    for lo in range(0, len(notices), 25):
        found += file_notices(uow, notices[lo : lo + 25], agreement, now=NOW).conflicts
    assert set(found) == set(expected)


def test_a_conflict_names_the_earlier_filed_volume_first(
    uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    first = notice("R-1", "russia", volume(circle()))
    file_notices(uow, [first], agreement, now=NOW)
    (c,) = file_notices(
        uow, [notice("C-1", "coalition", volume(circle()))], agreement, now=NOW
    ).conflicts
    assert (c.a.notice, c.b.notice) == ("R-1", "C-1")
    assert (c.horizontal_m, c.vertical_m, c.time_gap_s) == (0.0, 0.0, 0.0)


def test_a_reference_already_on_file_is_refused_and_nothing_is_written(
    uow: SqlUnitOfWork, engine: sa.Engine, agreement: Agreement
) -> None:
    file_notices(uow, [notice("C-1", "coalition", volume(circle()))], agreement, now=NOW)
    before = row_counts(engine)
    again = [
        notice("C-2", "coalition", volume(circle(39.0))),
        notice("C-1", "coalition", volume(circle(40.0))),
    ]
    with pytest.raises(DuplicateNotice) as caught:
        file_notices(uow, again, agreement, now=NOW)
    assert (caught.value.party, caught.value.notice) == ("coalition", "C-1")
    assert row_counts(engine) == before


def test_the_same_reference_from_another_party_is_a_different_notice(
    uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    file_notices(uow, [notice("X-1", "coalition", volume(circle()))], agreement, now=NOW)
    (c,) = file_notices(
        uow, [notice("X-1", "russia", volume(circle()))], agreement, now=NOW
    ).conflicts
    assert (c.a.party, c.b.party) == ("coalition", "russia")


def test_a_reference_twice_in_one_filing_is_refused(
    uow: SqlUnitOfWork, engine: sa.Engine, agreement: Agreement
) -> None:
    before = row_counts(engine)
    twice = [notice("C-1", "coalition", volume(circle()))] * 2
    with pytest.raises(DuplicateNotice):
        file_notices(uow, twice, agreement, now=NOW)
    assert row_counts(engine) == before


def test_an_invalid_volume_writes_nothing(
    uow: SqlUnitOfWork, engine: sa.Engine, agreement: Agreement
) -> None:
    file_notices(uow, [notice("R-1", "russia", volume(circle()))], agreement, now=NOW)
    before = row_counts(engine)
    batch = [
        notice("C-1", "coalition", volume(circle())),
        notice("C-2", "coalition", volume(circle()), volume(Circle(38.5, 35.0, -5.0))),
    ]
    with pytest.raises(NoticeError) as caught:
        file_notices(uow, batch, agreement, now=NOW)
    assert (caught.value.notice, caught.value.volume, caught.value.field) == ("C-2", 1, "radius_m")
    assert row_counts(engine) == before


def test_a_party_not_in_the_agreement_is_refused(
    uow: SqlUnitOfWork, engine: sa.Engine, agreement: Agreement
) -> None:
    before = row_counts(engine)
    with pytest.raises(NoticeError) as caught:
        file_notices(uow, [notice("Z-1", "zeta", volume(circle()))], agreement, now=NOW)
    assert caught.value.field == "party" and "zeta" in str(caught.value)
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    "elsewhere",
    [
        pytest.param(volume(circle(lon=10.0, lat=50.0)), id="far away"),
        pytest.param(volume(circle(), start_h=2.5, end_h=4.0), id="later"),
        pytest.param(volume(circle(), start_h=-24.0, end_h=-1.0), id="earlier"),
        pytest.param(volume(circle(), lower_m=7000.0, upper_m=9000.0), id="above"),
        pytest.param(volume(circle(), lower_m=0.0, upper_m=2000.0), id="below"),
    ],
)
def test_a_volume_far_enough_in_one_dimension_gets_no_candidate(
    uow: SqlUnitOfWork, agreement: Agreement, elsewhere: object
) -> None:
    file_notices(uow, [notice("R-1", "russia", volume(circle()))], agreement, now=NOW)
    query = prepare_many([notice("C-1", "coalition", elsewhere)])  # type: ignore[arg-type]
    with uow:
        assert uow.notices.near(query, agreement.separation).stored == []
        close = prepare_many([notice("C-2", "coalition", volume(circle(lon=38.6)))])
        assert len(uow.notices.near(close, agreement.separation).stored) == 1


@pytest.mark.parametrize(("lon", "conflicts"), [(38.9, 1), (38.95, 0)])
def test_the_horizontal_minimum_is_decided_exactly(
    uow: SqlUnitOfWork, agreement: Agreement, lon: float, conflicts: int
) -> None:
    """Centres 0.4° (36.5 km) and 0.45° (41 km) apart, radii 10 km: 16.5 km and 21 km between
    the outlines, against a minimum of 18.52 km."""
    file_notices(uow, [notice("R-1", "russia", volume(circle()))], agreement, now=NOW)
    found = file_notices(
        uow, [notice("C-1", "coalition", volume(circle(lon)))], agreement, now=NOW
    ).conflicts
    assert len(found) == conflicts


def test_a_volume_of_the_same_party_is_no_candidate(
    uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    file_notices(uow, [notice("R-1", "russia", volume(circle()))], agreement, now=NOW)
    with uow:
        same = prepare_many([notice("R-2", "russia", volume(circle()))])
        assert uow.notices.near(same, agreement.separation).stored == []


def test_stored_volumes_come_back_as_they_were_prepared(
    uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    stored = notice("R-1", "russia", volume(square(38.5, 35.0, 0.2)), volume(circle()))
    file_notices(uow, [stored], agreement, now=NOW)
    with uow:
        near = uow.notices.near(
            prepare_many([notice("C-1", "coalition", volume(circle()))]), agreement.separation
        )
    original = {p.ref: p for p in prepare_many([stored])}
    assert len(near.stored) == 2
    for p in near.stored:
        o = original[p.ref]
        for field in ("lower_m", "upper_m", "start_s", "end_s"):
            assert getattr(p, field) == getattr(o, field)
        np.testing.assert_array_equal(p.footprint.ring, o.footprint.ring)
        for field in ("is_circle", "lon", "lat", "outer_m", "inner_m"):
            assert getattr(p.footprint, field) == getattr(o.footprint, field)
        for side in ("south", "north", "west", "east"):
            assert getattr(p.footprint.box, side) == getattr(o.footprint.box, side)


def test_the_store_survives_closing_and_reopening(database_url: str, agreement: Agreement) -> None:
    engine = create_engine(database_url)
    uow = SqlUnitOfWork(engine)
    init_store(uow, agreement, AGREEMENT_TOML, now=NOW)
    found = file_notices(uow, random_notices(3, 60), agreement, now=NOW).conflicts
    engine.dispose()
    engine = create_engine(database_url)
    try:
        assert list_conflicts(SqlUnitOfWork(engine)) == found
        assert stored_agreement(SqlUnitOfWork(engine)) == agreement
    finally:
        engine.dispose()


def test_filings_at_the_same_moment_find_each_other_exactly_once(
    engine: sa.Engine, uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    rounds = 5
    results: list[list[Conflict]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def file(n: Notice) -> None:
        try:
            barrier.wait(timeout=30)
            results.append(file_notices(SqlUnitOfWork(engine), [n], agreement, now=NOW).conflicts)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    for k in range(rounds):
        pair = [
            notice(f"C-{k}", "coalition", volume(circle(lon=36.0 + k))),
            notice(f"R-{k}", "russia", volume(circle(lon=36.0 + k, radius_m=5_000.0))),
        ]
        threads = [threading.Thread(target=file, args=(n,)) for n in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert errors == []
    assert sorted(len(r) for r in results) == [0] * rounds + [1] * rounds
    stored = list_conflicts(uow)
    assert len(stored) == rounds
    assert all(c.a.notice[2:] == c.b.notice[2:] for c in stored)


def test_the_prepared_cache_keeps_the_newest_entries(agreement: Agreement) -> None:
    items = prepare_many(random_notices(3, 3))
    cache = candidates.PreparedCache(maxsize=2)
    for k, p in enumerate(items[:3]):
        cache.put(k, p)
    assert len(cache) == 2
    assert cache.get(0) is None and cache.get(2) is items[2]
