"""The REST API on SQLite and PostgreSQL: authentication, need-to-know and the ledger, through
HTTP as a client sees them."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import NOW, PARTIES, T0, serving

from deconfliction.api import app as app_module
from deconfliction.ledger import Entry, from_json, verify
from deconfliction.officers import Role
from deconfliction.service.officers import revoke_officer
from deconfliction.service.views import events_for
from deconfliction.store import SqlUnitOfWork


@dataclass
class Api:
    client: TestClient
    tokens: dict[tuple[str, Role], str]
    uow: SqlUnitOfWork

    def as_(self, party: str, role: Role = Role.OFFICER) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(party, role)]}"}


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    with serving(database_url, tmp_path) as (client, tokens, uow):
        yield Api(client, tokens, uow)


def collection(ref: str, lon: float = 38.5, *, hours: float = 0.0, **top: Any) -> dict[str, Any]:
    start, end = T0 + timedelta(hours=hours), T0 + timedelta(hours=hours + 2)
    props = {
        "notice": ref,
        "activity": "air",
        "radius_m": 10_000,
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": end.isoformat().replace("+00:00", "Z"),
        "lower_m": 3000,
        "upper_m": 6000,
        "remarks": f"{ref}: for the owner only",
    }
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, 35.0]},
        "properties": props,
    }
    return {"type": "FeatureCollection", "features": [feature], **top}


def as_polygon(body: dict[str, Any], vertices: int = 1_000) -> dict[str, Any]:
    """``body`` with its point and radius replaced by a polygon of ``vertices`` around the point
    (radius 0.05°): big enough a body to be checked in a worker thread, not the event loop."""
    feature = body["features"][0]
    lon, lat = feature["geometry"]["coordinates"]
    turns = [2 * math.pi * k / vertices for k in range(vertices)]
    ring = [[lon + 0.05 * math.cos(t), lat + 0.05 * math.sin(t)] for t in turns]
    feature["geometry"] = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    del feature["properties"]["radius_m"]
    assert len(json.dumps(body)) > app_module.IN_LOOP_BYTES
    return body


def test_health_needs_no_token(api: Api) -> None:
    assert api.client.get("/health").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/notices"),
        ("get", "/v1/notices"),
        ("get", "/v1/notices/1"),
        ("get", "/v1/conflicts"),
        ("post", "/v1/conflicts/1/ack"),
        ("get", "/v1/events"),
        ("get", "/v1/feed"),
    ],
)
@pytest.mark.parametrize("token", [None, "dcf_not-a-token", "revoked"])
def test_every_endpoint_but_health_needs_a_valid_token(
    api: Api, method: str, path: str, token: str | None
) -> None:
    headers = {}
    if token == "revoked":
        revoke_officer(api.uow, 1, by=None, now=NOW)
        headers = api.as_("coalition", Role.ADMIN)  # officer 1
    elif token is not None:
        headers = {"Authorization": f"Bearer {token}"}
    response = api.client.request(method, path, headers=headers, json=collection("X-1"))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("big", [False, True], ids=["in-the-event-loop", "in-a-worker-thread"])
def test_filing_answers_with_the_notice_and_its_conflicts(api: Api, big: bool) -> None:
    first = api.client.post("/v1/notices", json=collection("R-1"), headers=api.as_("russia"))
    assert first.status_code == 201, first.text
    assert first.json()["conflicts"] == []
    body = as_polygon(collection("C-1")) if big else collection("C-1")
    second = api.client.post("/v1/notices", json=body, headers=api.as_("coalition"))
    assert second.status_code == 201, second.text
    body = second.json()
    assert body["notice"]["ref"] == "C-1" and body["notice"]["party"] == "coalition"
    assert body["notice"]["remarks"] == "C-1: for the owner only"
    (conflict,) = body["conflicts"]
    assert conflict["a"]["notice"] == "R-1" and conflict["b"]["notice"] == "C-1"
    assert conflict["horizontal_m"] == 0.0
    # both notices are shared with both parties: the entry names the volumes, it need not carry them
    assert "a_volume" not in conflict and "b_volume" not in conflict


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OFFICER])
def test_officers_and_admins_file_but_observers_do_not(api: Api, role: Role) -> None:
    ok = api.client.post("/v1/notices", json=collection("C-1"), headers=api.as_("coalition", role))
    assert ok.status_code == 201
    refused = api.client.post(
        "/v1/notices", json=collection("C-2"), headers=api.as_("coalition", Role.OBSERVER)
    )
    assert refused.status_code == 403
    assert [
        n["ref"] for n in api.client.get("/v1/notices", headers=api.as_("coalition")).json()
    ] == ["C-1"]


def test_a_party_files_only_its_own_notices(api: Api) -> None:
    body = collection("C-1")
    body["features"][0]["properties"]["party"] = "russia"
    response = api.client.post("/v1/notices", json=body, headers=api.as_("coalition"))
    assert response.status_code == 403


def test_remarks_are_the_owners_alone_and_sharing_limits_who_sees_a_notice(api: Api) -> None:
    shared = collection("C-1", lon=30.0, shared_with=["russia"])
    assert (
        api.client.post("/v1/notices", json=shared, headers=api.as_("coalition")).status_code == 201
    )
    own = api.client.get("/v1/notices", headers=api.as_("coalition")).json()
    assert own[0]["remarks"] == "C-1: for the owner only"
    seen = api.client.get("/v1/notices", headers=api.as_("russia")).json()
    assert [n["ref"] for n in seen] == ["C-1"] and "remarks" not in seen[0]
    assert api.client.get("/v1/notices", headers=api.as_("turkey")).json() == []
    notice_id = own[0]["id"]
    assert api.client.get(f"/v1/notices/{notice_id}", headers=api.as_("turkey")).status_code == 404


def test_a_party_not_shared_with_still_sees_the_volume_that_conflicts(api: Api) -> None:
    private = collection("C-1", shared_with=[])
    assert (
        api.client.post("/v1/notices", json=private, headers=api.as_("coalition")).status_code
        == 201
    )
    assert api.client.get("/v1/notices", headers=api.as_("russia")).json() == []
    filed = api.client.post("/v1/notices", json=collection("R-1"), headers=api.as_("russia"))
    (conflict,) = filed.json()["conflicts"]
    assert conflict["a_volume"]["properties"]["notice"] == "C-1"
    assert "remarks" not in conflict["a_volume"]["properties"]


def test_a_third_party_never_sees_a_conflict_between_two_others(api: Api) -> None:
    api.client.post("/v1/notices", json=collection("C-1"), headers=api.as_("coalition"))
    api.client.post("/v1/notices", json=collection("R-1"), headers=api.as_("russia"))
    for party in ("coalition", "russia"):
        assert len(api.client.get("/v1/conflicts", headers=api.as_(party)).json()) == 1
    assert api.client.get("/v1/conflicts", headers=api.as_("turkey")).json() == []
    events = api.client.get("/v1/events", headers=api.as_("turkey")).json()
    found = [e for e in events if e.get("kind") == "conflict.found"]
    assert found == [] and any(e.get("stub") for e in events)


def test_each_side_acknowledges_once_and_a_third_party_cannot(api: Api) -> None:
    api.client.post("/v1/notices", json=collection("C-1"), headers=api.as_("coalition"))
    api.client.post("/v1/notices", json=collection("R-1"), headers=api.as_("russia"))
    (conflict,) = api.client.get("/v1/conflicts", headers=api.as_("russia")).json()
    path = f"/v1/conflicts/{conflict['id']}/ack"
    assert api.client.post(path, headers=api.as_("turkey")).status_code == 404
    assert api.client.post(path, headers=api.as_("russia", Role.OBSERVER)).status_code == 403
    acked = api.client.post(path, headers=api.as_("russia")).json()
    assert set(acked["acknowledged"]) == {"russia"}
    again = api.client.post(path, headers=api.as_("russia")).json()
    assert again["acknowledged"] == acked["acknowledged"]
    seen = api.client.get("/v1/conflicts", headers=api.as_("coalition")).json()
    assert set(seen[0]["acknowledged"]) == {"russia"}


def test_a_late_notice_is_stored_marked_and_every_party_is_told(api: Api) -> None:
    soon = collection("C-1", hours=-(T0 - NOW).total_seconds() / 3600 + 0.5)  # starts in 30 min
    body = api.client.post("/v1/notices", json=soon, headers=api.as_("coalition")).json()
    assert body["notice"]["late"] is True
    for party in PARTIES:
        events = api.client.get("/v1/events", headers=api.as_(party)).json()
        assert any(e.get("kind") == "notice.late" for e in events)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "FeatureCollection", "features": []}, None),
        (collection("C-1", shared_with=["nobody"]), "shared_with"),
        (
            {
                **collection("C-1"),
                "features": [*collection("C-1")["features"], *collection("C-2")["features"]],
            },
            "features",
        ),
        (as_polygon(collection("C-1", shared_with=["nobody"])), "shared_with"),
    ],
)
def test_bad_notices_are_problems_naming_the_field_and_change_nothing(
    api: Api, body: dict[str, Any], field: str | None
) -> None:
    before = api.client.get("/v1/events", headers=api.as_("coalition")).json()
    response = api.client.post("/v1/notices", json=body, headers=api.as_("coalition"))
    assert response.status_code in (409, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field:
        assert response.json()["field"] == field
    assert api.client.get("/v1/events", headers=api.as_("coalition")).json() == before


def test_a_body_that_is_not_json_is_a_problem(api: Api) -> None:
    response = api.client.post("/v1/notices", content=b"{not json", headers=api.as_("coalition"))
    assert response.status_code == 422 and response.json()["field"] == "body"


def test_every_partys_view_of_the_ledger_verifies(api: Api) -> None:
    api.client.post("/v1/notices", json=collection("C-1"), headers=api.as_("coalition"))
    api.client.post(
        "/v1/notices", json=collection("R-1", shared_with=[]), headers=api.as_("russia")
    )
    full = events_for(api.uow, None, 0)
    assert verify(full).ok and all(isinstance(e, Entry) for e in full)
    for party in PARTIES:
        view = [from_json(e) for e in api.client.get("/v1/events", headers=api.as_(party)).json()]
        verdict = verify(view)
        assert verdict.ok, verdict.reason
        assert len(view) == len(full)
        assert verdict.stubs > 0


def test_events_resume_after_a_sequence_number(api: Api) -> None:
    api.client.post("/v1/notices", json=collection("C-1"), headers=api.as_("coalition"))
    everything = api.client.get("/v1/events", headers=api.as_("coalition")).json()
    later = api.client.get(
        "/v1/events", params={"after": everything[2]["seq"]}, headers=api.as_("coalition")
    ).json()
    assert later == everything[3:]


def test_the_openapi_schema_describes_the_bearer_scheme(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    assert "/v1/notices" in schema["paths"]
    assert any(
        s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values()
    )


def test_amending_makes_a_new_version_checked_again_and_tells_who_saw_the_old(api: Api) -> None:
    api.client.post("/v1/notices", json=collection("R-1"), headers=api.as_("russia"))
    first = api.client.post("/v1/notices", json=collection("C-1"), headers=api.as_("coalition"))
    old = first.json()["notice"]
    assert len(first.json()["conflicts"]) == 1
    moved = api.client.post(
        f"/v1/notices/{old['id']}/amend",
        json=collection("C-1", lon=30.0),
        headers=api.as_("coalition"),
    )
    assert moved.status_code == 201, moved.text
    new = moved.json()["notice"]
    assert new["id"] != old["id"] and new["version"] == 2 and new["supersedes"] == old["id"]
    assert moved.json()["conflicts"] == []  # moved away: no new conflict
    mine = {
        n["id"]: n["status"]
        for n in api.client.get("/v1/notices", headers=api.as_("coalition")).json()
    }
    assert {k: mine[k] for k in (old["id"], new["id"])} == {
        old["id"]: "superseded",
        new["id"]: "active",
    }
    theirs = {
        n["id"]: n["status"]
        for n in api.client.get("/v1/notices", headers=api.as_("russia")).json()
    }
    assert theirs[old["id"]] == "superseded"
    # the old version is no candidate any more: a new notice where it was conflicts only with R-1
    third = api.client.post("/v1/notices", json=collection("T-1"), headers=api.as_("turkey"))
    assert [c["a"]["notice"] for c in third.json()["conflicts"]] == ["R-1"]


def test_moving_back_into_a_conflict_is_found_again(api: Api) -> None:
    api.client.post("/v1/notices", json=collection("R-1"), headers=api.as_("russia"))
    old = api.client.post(
        "/v1/notices", json=collection("C-1", lon=30.0), headers=api.as_("coalition")
    ).json()["notice"]
    moved = api.client.post(
        f"/v1/notices/{old['id']}/amend", json=collection("C-1"), headers=api.as_("coalition")
    ).json()
    assert [c["a"]["notice"] for c in moved["conflicts"]] == ["R-1"]


def test_cancelling_ends_a_notice_and_only_its_owner_may(api: Api) -> None:
    filed = api.client.post("/v1/notices", json=collection("C-1"), headers=api.as_("coalition"))
    notice_id = filed.json()["notice"]["id"]
    path = f"/v1/notices/{notice_id}/cancel"
    assert api.client.post(path, headers=api.as_("russia")).status_code == 404
    assert api.client.post(path, headers=api.as_("coalition", Role.OBSERVER)).status_code == 403
    done = api.client.post(path, headers=api.as_("coalition"))
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    again = api.client.post(path, headers=api.as_("coalition"))
    assert again.status_code == 422 and again.json()["field"] == "id"
    seen = api.client.get("/v1/notices", headers=api.as_("russia")).json()
    assert seen[0]["status"] == "cancelled"
    later = api.client.post("/v1/notices", json=collection("R-1"), headers=api.as_("russia"))
    assert later.json()["conflicts"] == []  # a cancelled notice is never a candidate


def test_an_amendment_keeps_the_reference(api: Api) -> None:
    old = api.client.post("/v1/notices", json=collection("C-1"), headers=api.as_("coalition"))
    other = api.client.post(
        f"/v1/notices/{old.json()['notice']['id']}/amend",
        json=collection("C-2"),
        headers=api.as_("coalition"),
    )
    assert other.status_code == 422 and other.json()["field"] == "notice"


def test_a_revoked_token_stops_working_within_the_recheck_time(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "TOKEN_RECHECK_S", 0.05)
    headers = api.as_("coalition", Role.ADMIN)  # officer 1
    assert api.client.get("/v1/conflicts", headers=headers).status_code == 200
    revoke_officer(api.uow, 1, by=None, now=NOW)
    time.sleep(0.1)
    assert api.client.get("/v1/conflicts", headers=headers).status_code == 401
