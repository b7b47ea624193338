"""Who may do what through the API: every endpoint × role (admin, officer, observer) × whose data
(the caller's party's, another party's, a third party's conflict between two others), on both
backends, with the exact status codes, and no response that shows a party another party's remarks
or anything it was not shared.

The world every test starts from (each notice a 10 km circle at 35° N, 3,000-6,000 m, the same two
hours, with remarks for its owner's eyes only):

- coalition ``C-CR`` and russia ``R-CR`` overlap at 36° E, shared with everyone: a conflict that
  turkey, the third party, must not see although it sees both notices;
- russia ``R-RT`` and turkey ``T-RT`` overlap at 38° E, each shared only with the other: a
  conflict (and notices) that coalition must not see;
- coalition ``C-CT`` and turkey ``T-CT`` overlap at 40° E, each shared only with the other;
- russia ``R-SECRET`` at 42° E is shared with coalition only;
- turkey ``T-PUB`` at 34° E is shared with everyone.

Each test walks one endpoint through the whole matrix and lists every cell that differs, so one
failure shows the whole pattern.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from support import PARTIES, T0, serving

from deconfliction.ledger import Entry
from deconfliction.officers import Role
from deconfliction.service.views import events_for
from deconfliction.store import SqlUnitOfWork

INITIAL = {"coalition": "C", "russia": "R", "turkey": "T"}
NOBODY = 999_999  # an id that names no notice and no conflict
ACTS = {Role.ADMIN: True, Role.OFFICER: True, Role.OBSERVER: False}  # the rule under test


@dataclass(frozen=True)
class Spec:
    ref: str
    party: str
    lon: float
    shared_with: tuple[str, ...] | None  # None: every party

    def seen_by(self, party: str) -> bool:
        return self.shared_with is None or party == self.party or party in self.shared_with


SPECS = (
    Spec("T-PUB", "turkey", 34.0, None),
    Spec("C-CR", "coalition", 36.0, None),
    Spec("R-CR", "russia", 36.0, None),
    Spec("R-RT", "russia", 38.0, ("turkey",)),
    Spec("T-RT", "turkey", 38.0, ("russia",)),
    Spec("C-CT", "coalition", 40.0, ("turkey",)),
    Spec("T-CT", "turkey", 40.0, ("coalition",)),
    Spec("R-SECRET", "russia", 42.0, ("coalition",)),
)
PAIRS = {
    frozenset(("coalition", "russia")): ("C-CR", "R-CR"),
    frozenset(("russia", "turkey")): ("R-RT", "T-RT"),
    frozenset(("coalition", "turkey")): ("C-CT", "T-CT"),
}


def remarks(party: str, ref: str) -> str:
    return f"for {party} eyes only ({ref})"


def notice_body(
    ref: str, lon: float, *, party: str | None = None, shared_with: list[str] | None = None
) -> dict[str, Any]:
    """One notice as the API takes it; ``party`` is left to the token unless given."""
    props: dict[str, Any] = {
        "notice": ref,
        "activity": "air",
        "radius_m": 10_000,
        "start": T0.isoformat().replace("+00:00", "Z"),
        "end": (T0 + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        "lower_m": 3000,
        "upper_m": 6000,
        "remarks": remarks(party or "?", ref),
    }
    if party is not None:
        props["party"] = party
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, 35.0]},
        "properties": props,
    }
    body: dict[str, Any] = {"type": "FeatureCollection", "features": [feature]}
    if shared_with is not None:
        body["shared_with"] = shared_with
    return body


def own_body(party: str, ref: str, lon: float, **top: Any) -> dict[str, Any]:
    """A notice of ``party`` with its remarks marked as that party's (party left to the token)."""
    body = notice_body(ref, lon, **top)
    body["features"][0]["properties"]["remarks"] = remarks(party, ref)
    return body


@dataclass
class World:
    client: TestClient
    tokens: dict[tuple[str, Role], str]
    uow: SqlUnitOfWork
    ids: dict[str, int] = field(default_factory=dict)  # ref -> notice id
    conflicts: dict[frozenset[str], int] = field(default_factory=dict)  # pair -> conflict id
    wrong: list[str] = field(default_factory=list)
    places: Iterator[float] = field(default_factory=lambda: itertools.count(60.0, 1.5))

    def call(self, party: str, role: Role, method: str, path: str, **kw: Any) -> httpx.Response:
        """A request as an officer of ``party`` in ``role``; whatever it answers is searched for
        what ``party`` must never read."""
        headers = {"Authorization": f"Bearer {self.tokens[(party, role)]}"}
        response = self.client.request(method, path, headers=headers, **kw)
        self.wrong.extend(leaks(party, response.text, f"{role} of {party}: {method} {path}"))
        return response

    def expect(self, label: str, response: httpx.Response, status: int) -> bool:
        if response.status_code != status:
            self.wrong.append(
                f"{label}: {response.status_code}, expected {status}: {response.text[:160]}"
            )
            return False
        return True

    def check(self, label: str, ok: bool, detail: object = "") -> None:
        if not ok:
            self.wrong.append(f"{label}: {detail}")

    def place(self) -> float:
        """A longitude far from every other notice (no new conflicts)."""
        return next(self.places)

    def report(self) -> str:
        return f"{len(self.wrong)} cells wrong:\n" + "\n".join(self.wrong)


def hidden_refs(party: str) -> list[str]:
    return [s.ref for s in SPECS if not s.seen_by(party)]


def leaks(party: str, text: str, label: str) -> list[str]:
    """What ``text`` shows ``party`` that it must not read: another party's remarks, or the
    reference of a notice that was not shared with it (quoted, as JSON has it)."""
    found = [
        f"{label}: shows {other}'s remarks"
        for other in PARTIES
        if other != party and f"for {other} eyes only" in text
    ]
    found += [f"{label}: shows {ref!r}" for ref in hidden_refs(party) if f'"{ref}"' in text]
    return found


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with serving(database_url, tmp_path) as (client, tokens, uow):
        w = World(client, tokens, uow)
        for spec in SPECS:
            shared = None if spec.shared_with is None else list(spec.shared_with)
            body = own_body(spec.party, spec.ref, spec.lon, shared_with=shared)
            filed = w.call(spec.party, Role.OFFICER, "POST", "/v1/notices", json=body)
            assert filed.status_code == 201, filed.text
            w.ids[spec.ref] = filed.json()["notice"]["id"]
            for conflict in filed.json()["conflicts"]:
                pair = frozenset((conflict["a"]["party"], conflict["b"]["party"]))
                w.conflicts[pair] = conflict["id"]
        assert set(w.conflicts) == set(PAIRS), w.conflicts
        assert w.wrong == [], w.report()
        yield w


def label(party: str, role: Role, what: str) -> str:
    return f"{role} of {party}, {what}"


# --- notices ----------------------------------------------------------------------------------


def test_officers_and_admins_file_their_own_partys_notices_and_observers_file_none(
    world: World,
) -> None:
    refused: list[str] = []
    for party, role in itertools.product(PARTIES, Role):
        other = PARTIES[(PARTIES.index(party) + 1) % len(PARTIES)]
        for whose in ("own", "another party's"):
            ref = f"{INITIAL[party]}-NEW-{role}-{'O' if whose == 'own' else 'X'}"
            body = own_body(party, ref, world.place())
            if whose != "own":
                body["features"][0]["properties"]["party"] = other
            response = world.call(party, role, "POST", "/v1/notices", json=body)
            status = 201 if whose == "own" and ACTS[role] else 403
            what = label(party, role, f"filing as {whose} notice")
            if world.expect(what, response, status) and status == 201:
                notice = response.json()["notice"]
                world.check(what, notice["party"] == party, notice["party"])
                world.check(what, notice.get("remarks") == remarks(party, ref), notice)
                world.check(what, response.json()["conflicts"] == [], response.json())
            elif status != 201:
                refused.append(ref)
    for party in PARTIES:
        listed = {n["ref"] for n in world.call(party, Role.ADMIN, "GET", "/v1/notices").json()}
        world.check(f"{party}'s list", not listed & set(refused), listed & set(refused))
    assert not world.wrong, world.report()


def test_each_role_lists_the_notices_shared_with_its_party_with_remarks_only_on_its_own(
    world: World,
) -> None:
    for party, role in itertools.product(PARTIES, Role):
        what = label(party, role, "listing notices")
        response = world.call(party, role, "GET", "/v1/notices")
        if not world.expect(what, response, 200):
            continue
        listed = {n["ref"]: n for n in response.json()}
        expected = {s.ref for s in SPECS if s.seen_by(party)}
        world.check(what, set(listed) == expected, sorted(set(listed) ^ expected))
        for ref, notice in listed.items():
            own = notice["party"] == party
            want = remarks(party, ref) if own else None
            world.check(f"{what}, {ref}", notice.get("remarks") == want, notice.get("remarks"))
    assert not world.wrong, world.report()


def test_each_role_reads_a_notice_shared_with_its_party_and_gets_404_for_any_other(
    world: World,
) -> None:
    for party, role in itertools.product(PARTIES, Role):
        for spec in SPECS:
            whose = "own" if spec.party == party else "shared" if spec.seen_by(party) else "hidden"
            what = label(party, role, f"reading {whose} notice {spec.ref}")
            response = world.call(party, role, "GET", f"/v1/notices/{world.ids[spec.ref]}")
            if world.expect(what, response, 404 if whose == "hidden" else 200):
                body = response.json()
                if whose == "hidden":
                    world.check(what, body.get("field") == "id", body)
                else:
                    want = remarks(party, spec.ref) if whose == "own" else None
                    world.check(what, body.get("remarks") == want, body.get("remarks"))
        absent = world.call(party, role, "GET", f"/v1/notices/{NOBODY}")
        world.expect(label(party, role, "reading a notice that does not exist"), absent, 404)
    assert not world.wrong, world.report()


def test_only_officers_and_admins_amend_and_only_their_own_partys_notices(world: World) -> None:
    for party, role in itertools.product(PARTIES, Role):
        ref = f"{INITIAL[party]}-AM-{role}"
        lon = world.place()
        mine = world.call(
            party, Role.OFFICER, "POST", "/v1/notices", json=own_body(party, ref, lon)
        )
        assert mine.status_code == 201, mine.text
        targets = [("own", ref, mine.json()["notice"]["id"])]
        targets += [
            ("shared" if s.seen_by(party) else "hidden", s.ref, world.ids[s.ref])
            for s in SPECS
            if s.party != party
        ]
        targets.append(("missing", ref, NOBODY))
        for whose, target_ref, notice_id in targets:
            body = own_body(party, target_ref, lon + 0.1)
            response = world.call(party, role, "POST", f"/v1/notices/{notice_id}/amend", json=body)
            status = 403 if not ACTS[role] else 201 if whose == "own" else 404
            what = label(party, role, f"amending {whose} notice {target_ref}")
            if world.expect(what, response, status) and status == 201:
                new = response.json()["notice"]
                world.check(what, (new["supersedes"], new["version"]) == (notice_id, 2), new)
                world.check(what, new.get("remarks") == remarks(party, ref), new)
    assert not world.wrong, world.report()


def test_only_officers_and_admins_cancel_and_only_their_own_partys_notices(world: World) -> None:
    for party, role in itertools.product(PARTIES, Role):
        ref = f"{INITIAL[party]}-CX-{role}"
        body = own_body(party, ref, world.place())
        mine = world.call(party, Role.OFFICER, "POST", "/v1/notices", json=body)
        assert mine.status_code == 201, mine.text
        targets = [("own", ref, mine.json()["notice"]["id"])]
        targets += [
            ("shared" if s.seen_by(party) else "hidden", s.ref, world.ids[s.ref])
            for s in SPECS
            if s.party != party
        ]
        targets.append(("missing", "-", NOBODY))
        for whose, target_ref, notice_id in targets:
            response = world.call(party, role, "POST", f"/v1/notices/{notice_id}/cancel")
            status = 403 if not ACTS[role] else 200 if whose == "own" else 404
            what = label(party, role, f"cancelling {whose} notice {target_ref}")
            if world.expect(what, response, status) and status == 200:
                world.check(what, response.json()["status"] == "cancelled", response.json())
    for spec in SPECS:  # nobody else's cancelling touched the world's notices
        seen = world.call(spec.party, Role.OBSERVER, "GET", f"/v1/notices/{world.ids[spec.ref]}")
        world.check(f"{spec.ref} afterwards", seen.json().get("status") == "active", seen.text)
    assert not world.wrong, world.report()


# --- conflicts --------------------------------------------------------------------------------


def test_each_role_lists_the_conflicts_of_its_party_and_never_a_third_partys(
    world: World,
) -> None:
    for party, role in itertools.product(PARTIES, Role):
        what = label(party, role, "listing conflicts")
        response = world.call(party, role, "GET", "/v1/conflicts")
        if not world.expect(what, response, 200):
            continue
        got = {c["id"] for c in response.json()}
        expected = {k for pair, k in world.conflicts.items() if party in pair}
        world.check(what, got == expected, f"ids {sorted(got)}, expected {sorted(expected)}")
        for c in response.json():
            world.check(what, party in (c["a"]["party"], c["b"]["party"]), c)
            for side in ("a_volume", "b_volume"):
                if side in c:
                    world.check(what, "remarks" not in c[side]["properties"], c[side])
    assert not world.wrong, world.report()


def test_officers_and_admins_acknowledge_their_partys_conflicts_and_nobody_a_third_partys(
    world: World,
) -> None:
    for party, role in itertools.product(PARTIES, Role):
        cases = [(pair, k) for pair, k in world.conflicts.items()] + [(frozenset(), NOBODY)]
        for pair, conflict_id in cases:
            whose = "own" if party in pair else "missing" if not pair else "third party's"
            response = world.call(party, role, "POST", f"/v1/conflicts/{conflict_id}/ack")
            status = 403 if not ACTS[role] else 200 if whose == "own" else 404
            what = label(party, role, f"acknowledging {whose} conflict {sorted(pair)}")
            if world.expect(what, response, status) and status == 200:
                acked = response.json()["acknowledged"]
                world.check(what, party in acked and set(acked) <= pair, acked)
    for party in PARTIES:  # each side's acknowledgement, and nothing of the third's
        for c in world.call(party, Role.OBSERVER, "GET", "/v1/conflicts").json():
            pair = {c["a"]["party"], c["b"]["party"]}
            world.check(f"{party}'s view", set(c["acknowledged"]) == pair, c["acknowledged"])
    assert not world.wrong, world.report()


# --- the ledger -------------------------------------------------------------------------------


def test_each_role_reads_in_full_only_the_entries_of_its_party_and_stubs_of_the_rest(
    world: World,
) -> None:
    for pair, conflict_id in world.conflicts.items():  # acknowledgements are entries too
        first = sorted(pair)[0]
        acked = world.call(first, Role.OFFICER, "POST", f"/v1/conflicts/{conflict_id}/ack")
        assert acked.status_code == 200, acked.text
    full = events_for(world.uow, None, 0)
    assert all(isinstance(e, Entry) for e in full)
    about = {
        e.seq: frozenset(e.audience)
        for e in full
        if isinstance(e, Entry) and e.kind.startswith("conflict.")
    }
    for party, role in itertools.product(PARTIES, Role):
        what = label(party, role, "reading the ledger")
        response = world.call(party, role, "GET", "/v1/events")
        if not world.expect(what, response, 200):
            continue
        view = {e["seq"]: e for e in response.json()}
        world.check(what, sorted(view) == [e.seq for e in full], "not every entry is there")
        for seq, e in view.items():
            readable = party in full[seq - 1].audience
            world.check(f"{what}, entry {seq}", e.get("stub", False) is not readable, e)
            if seq in about:
                world.check(f"{what}, entry {seq}", ("stub" in e) is (party not in about[seq]), e)
        after = world.call(party, role, "GET", "/v1/events", params={"after": len(full) - 3})
        world.check(what, [e["seq"] for e in after.json()] == [e.seq for e in full[-3:]], after)
    assert not world.wrong, world.report()


# --- amendments and sharing -------------------------------------------------------------------


NEW_PLACE = 46.625  # where an amendment adds a volume: a longitude no other notice uses


def _coordinates_of(text: str) -> bool:
    return re.search(rf"\[\s*{NEW_PLACE}\s*,\s*35(?:\.0)?\s*\]", text) is not None


def test_an_amended_notice_stays_hidden_from_a_party_it_is_not_shared_with(world: World) -> None:
    """A conflict shows russia the one volume of coalition's unshared notice that conflicts;
    amending that notice must not show russia the whole new version."""
    dark = own_body("coalition", "C-DARK", 44.0, shared_with=[])
    filed = world.call("coalition", Role.OFFICER, "POST", "/v1/notices", json=dark)
    mine = own_body("russia", "R-DARK", 44.0, shared_with=[])
    assert world.call("russia", Role.OFFICER, "POST", "/v1/notices", json=mine).status_code == 201
    extra = own_body("coalition", "C-DARK", NEW_PLACE)["features"][0]
    dark["features"].append(extra)
    old = filed.json()["notice"]["id"]
    amended = world.call("coalition", Role.OFFICER, "POST", f"/v1/notices/{old}/amend", json=dark)
    assert amended.status_code == 201, amended.text
    new = amended.json()["notice"]["id"]
    listed = [n["ref"] for n in world.call("russia", Role.OBSERVER, "GET", "/v1/notices").json()]
    assert "C-DARK" not in listed
    read = world.call("russia", Role.OBSERVER, "GET", f"/v1/notices/{new}")
    assert read.status_code == 404, read.text
    events = world.call("russia", Role.OBSERVER, "GET", "/v1/events").text
    assert not _coordinates_of(events), "russia's ledger shows the new version's volumes"
    assert world.wrong == [], world.report()


def test_narrowing_the_sharing_of_a_notice_by_amending_it_hides_the_new_version(
    world: World,
) -> None:
    public = own_body("coalition", "C-NARROW", 48.0)
    filed = world.call("coalition", Role.OFFICER, "POST", "/v1/notices", json=public)
    assert filed.status_code == 201, filed.text
    narrowed = own_body("coalition", "C-NARROW", 48.0, shared_with=["russia"])
    narrowed["features"].append(own_body("coalition", "C-NARROW", NEW_PLACE)["features"][0])
    old = filed.json()["notice"]["id"]
    amended = world.call(
        "coalition", Role.OFFICER, "POST", f"/v1/notices/{old}/amend", json=narrowed
    )
    assert amended.status_code == 201, amended.text
    new = amended.json()["notice"]["id"]
    turkey = world.call("turkey", Role.OBSERVER, "GET", "/v1/notices").json()
    assert [n["id"] for n in turkey if n["ref"] == "C-NARROW"] == [old]
    read = world.call("turkey", Role.OBSERVER, "GET", f"/v1/notices/{new}")
    assert read.status_code == 404, read.text
    events = world.call("turkey", Role.OBSERVER, "GET", "/v1/events").text
    assert not _coordinates_of(events), "turkey's ledger shows the new version's volumes"
    russia = world.call("russia", Role.OBSERVER, "GET", f"/v1/notices/{new}")
    assert russia.status_code == 200 and _coordinates_of(russia.text), russia.text
    assert world.wrong == [], world.report()
