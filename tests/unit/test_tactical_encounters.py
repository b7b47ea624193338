"""The encounter tracker: one encounter per pair, updated each cycle, closed once clear."""

from __future__ import annotations

import numpy as np

from deconfliction.tactical.detect import Encounters
from deconfliction.tactical.encounters import EncounterTracker


def found(*pairs: tuple[int, int], tin: float = 50.0) -> Encounters:
    a = np.array([p[0] for p in pairs], np.int64)
    b = np.array([p[1] for p in pairs], np.int64)
    k = len(pairs)
    return Encounters(a, b, np.full(k, 60.0), np.full(k, 100.0), np.full(k, tin), np.zeros(k, bool))


IDS = ["x", "y", "z"]


def test_an_encounter_opens_once_updates_and_closes_after_the_hold() -> None:
    tracker = EncounterTracker(hold_s=10)
    first = tracker.cycle(0.0, IDS, found((0, 1)))
    assert [(e.a, e.b, e.id) for e in first.opened] == [("x", "y", 1)] and not first.updated
    second = tracker.cycle(1.0, IDS, found((0, 1), tin=49.0))
    assert not second.opened and [(e.id, e.tin_s, e.opened_s) for e in second.updated] == [
        (1, 49.0, 0.0)
    ]
    assert tracker.cycle(5.0, IDS, found()).closed == []  # clear, but not for long enough
    closed = tracker.cycle(11.0, IDS, found()).closed
    assert [(e.id, e.closed_s, e.seen_s) for e in closed] == [(1, 11.0, 1.0)] and not tracker.open


def test_a_pair_back_within_the_hold_keeps_its_encounter() -> None:
    tracker = EncounterTracker(hold_s=10)
    tracker.cycle(0.0, IDS, found((0, 1)))
    tracker.cycle(3.0, IDS, found())
    again = tracker.cycle(4.0, IDS, found((0, 1)))
    assert not again.opened and [e.id for e in again.updated] == [1]


def test_an_encounter_closes_at_once_when_a_track_is_gone() -> None:
    tracker = EncounterTracker(hold_s=10)
    tracker.cycle(0.0, IDS, found((0, 1)))
    assert [e.id for e in tracker.cycle(1.0, ["x", "z"], found()).closed] == [1]


def test_pairs_are_keyed_by_ids_not_by_row() -> None:
    tracker = EncounterTracker()
    tracker.cycle(0.0, ["x", "y"], found((0, 1)))
    moved = tracker.cycle(1.0, ["q", "y", "x"], found((1, 2)))
    assert not moved.opened and [(e.a, e.b) for e in moved.updated] == [("x", "y")]
    fresh = tracker.cycle(2.0, ["q", "y", "x"], found((1, 2), (0, 2)))
    assert [(e.a, e.b, e.id) for e in fresh.opened] == [("q", "x", 2)]
