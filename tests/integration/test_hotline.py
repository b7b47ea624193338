"""The hotline through the API on SQLite and PostgreSQL: sending, receipts, answers, escalation
with an injected clock, channels, objections, the service's own traffic, and who may do what."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import NOW, Clock, serving

from deconfliction.ledger import from_json, verify
from deconfliction.officers import Role
from deconfliction.service.officers import add_officer
from deconfliction.store import SqlUnitOfWork
from deconfliction.utc import rfc3339

CHANNELS = """
[[channel]]
name = "air"
parties = ["coalition", "russia"]

[[channel]]
name = "ground"
parties = ["coalition", "russia"]

[[channel]]
name = "command"
parties = ["russia", "turkey"]
"""


@dataclass
class Line:
    client: TestClient
    tokens: dict[tuple[str, Role], str]
    uow: SqlUnitOfWork
    clock: Clock

    def as_(self, party: str, role: Role = Role.OFFICER) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(party, role)]}"}

    def send(self, by: str = "coalition", **body: Any) -> Any:
        doc = {"to": "russia", "text": "Two aircraft entering the area at FL250", **body}
        return self.client.post("/v1/messages", json=doc, headers=self.as_(by))

    def messages(self, party: str) -> list[dict[str, Any]]:
        answer = self.client.get("/v1/messages", headers=self.as_(party))
        assert answer.status_code == 200, answer.text
        return answer.json()

    def message(self, party: str, message_id: int) -> dict[str, Any]:
        return next(m for m in self.messages(party) if m["id"] == message_id)

    def sweep(self) -> int:
        return self.client.app.state.service.escalator.sweep()  # type: ignore[attr-defined]


@pytest.fixture
def line(database_url: str, tmp_path: Path) -> Iterator[Line]:
    from support import AGREEMENT_TOML

    clock = Clock()
    with serving(database_url, tmp_path, clock=clock, agreement=AGREEMENT_TOML + CHANNELS) as (
        client,
        tokens,
        uow,
    ):
        yield Line(client, tokens, uow, clock)


def deputy(line: Line, party: str = "russia", level: int = 2) -> str:
    return add_officer(
        line.uow,
        party=party,
        name=f"{party} level {level}",
        role=Role.OFFICER,
        level=level,
        by=None,
        now=NOW,
    )[1]


def test_a_flash_arrives_with_its_deadline_and_a_third_party_sees_nothing(line: Line) -> None:
    sent = line.send(precedence="FLASH", channel="air")
    assert sent.status_code == 201, sent.text
    m = sent.json()
    assert (m["from"], m["to"], m["channel"], m["precedence"]) == (
        "coalition",
        "russia",
        "air",
        "FLASH",
    )
    assert m["status"] == "sent"
    assert m["deadline"] == rfc3339(NOW + timedelta(minutes=10))
    assert m["sent_by"] is not None and m["level"] == 1
    assert [x["id"] for x in line.messages("russia")] == [m["id"]]
    assert line.messages("turkey") == []
    events = line.client.get("/v1/events", headers=line.as_("turkey")).json()
    assert events[-1]["stub"] is True
    assert verify([from_json(e) for e in events]).ok


def test_receipt_then_wilco_closes_the_message_for_both_sides(line: Line) -> None:
    m = line.send(precedence="IMMEDIATE").json()
    got = line.client.post("/v1/receipts", json={"ids": [m["id"]]}, headers=line.as_("russia"))
    assert got.json() == {"received": [m["id"]]}
    again = line.client.post("/v1/receipts", json={"ids": [m["id"]]}, headers=line.as_("russia"))
    assert again.json() == {"received": []}  # only the first receipt counts
    assert line.message("coalition", m["id"])["status"] == "received"
    line.clock.advance(minutes=3)
    ack = line.client.post(
        f"/v1/messages/{m['id']}/ack", json={"reply": "WILCO"}, headers=line.as_("russia")
    )
    assert ack.status_code == 200, ack.text
    for party in ("coalition", "russia"):
        seen = line.message(party, m["id"])
        assert seen["status"] == "acknowledged"
        assert seen["acknowledged"]["reply"] == "WILCO"
        assert seen["acknowledged"]["at"] == rfc3339(NOW + timedelta(minutes=3))
        assert seen["received"]["at"] == rfc3339(NOW)
    twice = line.client.post(
        f"/v1/messages/{m['id']}/ack", json={"reply": "ROGER"}, headers=line.as_("russia")
    )
    assert twice.status_code == 422 and twice.json()["field"] == "id"


def test_unable_needs_a_reason(line: Line) -> None:
    m = line.send().json()
    bare = line.client.post(
        f"/v1/messages/{m['id']}/ack", json={"reply": "UNABLE"}, headers=line.as_("russia")
    )
    assert bare.status_code == 422 and bare.json()["field"] == "comment"
    ok = line.client.post(
        f"/v1/messages/{m['id']}/ack",
        json={"reply": "UNABLE", "comment": "aircraft already airborne"},
        headers=line.as_("russia"),
    )
    assert ok.json()["acknowledged"]["comment"] == "aircraft already airborne"


def test_unanswered_it_escalates_up_the_roster_then_expires(line: Line) -> None:
    deputy(line, level=2)
    m = line.send(precedence="FLASH").json()
    line.clock.advance(minutes=9, seconds=59)
    assert line.sweep() == 0
    assert line.message("coalition", m["id"])["status"] == "sent"
    line.clock.advance(seconds=1)  # exactly at the deadline
    assert line.sweep() == 1
    seen = line.message("coalition", m["id"])  # the sender is told
    assert seen["status"] == "escalated" and seen["level"] == 2
    assert seen["deadline"] == rfc3339(line.clock.now + timedelta(minutes=10))
    assert seen["escalations"] == [{"level": 2, "at": rfc3339(line.clock.now)}]
    assert line.sweep() == 0  # nothing twice
    line.clock.advance(minutes=10)
    assert line.sweep() == 1
    assert line.message("russia", m["id"])["status"] == "expired"
    late = line.client.post(
        f"/v1/messages/{m['id']}/ack", json={"reply": "ROGER"}, headers=line.as_("russia")
    )
    assert late.json()["status"] == "acknowledged"
    line.clock.advance(hours=10)
    assert line.sweep() == 0


def test_an_acknowledged_message_never_escalates(line: Line) -> None:
    deputy(line)
    m = line.send(precedence="FLASH").json()
    line.client.post(
        f"/v1/messages/{m['id']}/ack", json={"reply": "ROGER"}, headers=line.as_("russia")
    )
    line.clock.advance(hours=1)
    assert line.sweep() == 0
    assert line.message("coalition", m["id"])["escalations"] == []


def test_deadlines_follow_the_agreement_precedence_table(line: Line) -> None:
    expected = {"FLASH": 10, "IMMEDIATE": 30, "PRIORITY": 180, "ROUTINE": 360}
    for precedence, minutes in expected.items():
        m = line.send(precedence=precedence).json()
        assert m["deadline"] == rfc3339(NOW + timedelta(minutes=minutes))


def test_a_suspended_channel_carries_only_flash_and_distress(line: Line) -> None:
    off = line.client.post("/v1/channels/coalition/air/suspend", headers=line.as_("russia"))
    assert off.json()["suspended_by"] == "russia"
    refused = line.send(channel="air", precedence="IMMEDIATE")
    assert refused.status_code == 422 and refused.json()["field"] == "channel"
    assert "suspended by 'russia'" in refused.json()["detail"]
    flash = line.send(channel="air", precedence="FLASH")
    assert flash.json()["channel_suspended_by"] == "russia"
    distress = line.send(
        channel="air", kind="distress", position={"lat": 35.1, "lon": 38.2}, text="Crew ejected"
    )
    assert distress.json()["precedence"] == "FLASH"
    assert line.send(channel="ground").status_code == 201  # the other channel is open
    channels = line.client.get("/v1/channels", headers=line.as_("coalition")).json()
    assert {(c["channel"], c["with"], c["suspended_by"]) for c in channels} == {
        ("air", "russia", "russia"),
        ("ground", "russia", None),
    }
    line.client.post("/v1/channels/russia/air/resume", headers=line.as_("coalition"))
    assert line.send(channel="air").status_code == 201


def test_channel_rights(line: Line) -> None:
    observer = line.client.post(
        "/v1/channels/coalition/air/suspend", headers=line.as_("russia", Role.OBSERVER)
    )
    assert observer.status_code == 403
    stranger = line.client.post("/v1/channels/coalition/air/suspend", headers=line.as_("turkey"))
    assert stranger.status_code == 404
    nowhere = line.send(by="coalition", to="turkey")  # no channel between them
    assert nowhere.status_code == 422 and nowhere.json()["field"] == "channel"


def test_an_objection_names_a_notice_the_sender_can_see(line: Line) -> None:
    notice = line.client.post(
        "/v1/notices", json=_collection("R-1"), headers=line.as_("russia")
    ).json()["notice"]
    objection = line.send(
        kind="objection",
        notice=notice["id"],
        text="Own forces present - halt",
        precedence="ROUTINE",
    )
    assert objection.status_code == 201, objection.text
    assert (objection.json()["precedence"], objection.json()["notice"]) == ("FLASH", notice["id"])
    wilco = line.client.post(
        f"/v1/messages/{objection.json()['id']}/ack",
        json={"reply": "WILCO", "comment": "halted"},
        headers=line.as_("russia"),
    )
    assert wilco.json()["acknowledged"]["reply"] == "WILCO"
    mine = line.client.post(
        "/v1/notices", json=_collection("C-1", lon=20.0), headers=line.as_("coalition")
    )
    wrong_owner = line.send(kind="objection", notice=mine.json()["notice"]["id"], text="x")
    assert wrong_owner.status_code == 404 and wrong_owner.json()["field"] == "notice"
    hidden = line.client.post(
        "/v1/notices",
        json=_collection("R-2", lon=21.0, shared_with=["russia"]),
        headers=line.as_("russia"),
    ).json()["notice"]
    unseen = line.send(kind="objection", notice=hidden["id"], text="x")
    assert unseen.status_code == 404 and unseen.json()["field"] == "notice"


def test_new_conflicts_and_late_notices_open_service_traffic(line: Line) -> None:
    line.client.post("/v1/notices", json=_collection("C-1"), headers=line.as_("coalition"))
    line.client.post("/v1/notices", json=_collection("R-1"), headers=line.as_("russia"))
    for party, other in (("coalition", "russia"), ("russia", "coalition")):
        (m,) = [x for x in line.messages(party) if x["kind"] == "conflict"]
        assert m["from"] is None and m["to"] == party and m["precedence"] == "IMMEDIATE"
        assert other in m["text"] and len(m["conflicts"]) == 1
    assert [x for x in line.messages("turkey") if x["kind"] == "conflict"] == []
    soon = _collection("T-1", lon=30.0, start=NOW + timedelta(minutes=20))
    assert line.client.post("/v1/notices", json=soon, headers=line.as_("turkey")).status_code == 201
    for party in ("coalition", "russia"):
        (late,) = [x for x in line.messages(party) if x["kind"] == "late_notice"]
        assert late["precedence"] == "FLASH"  # it starts within the hour
        assert "T-1" in late["text"]


def test_who_may_do_what(line: Line) -> None:
    m = line.send().json()
    observer_send = line.client.post(
        "/v1/messages",
        json={"to": "russia", "text": "x"},
        headers=line.as_("coalition", Role.OBSERVER),
    )
    assert observer_send.status_code == 403
    ack = f"/v1/messages/{m['id']}/ack"
    body = {"reply": "ROGER"}
    assert (
        line.client.post(ack, json=body, headers=line.as_("russia", Role.OBSERVER)).status_code
        == 403
    )
    assert line.client.post(ack, json=body, headers=line.as_("coalition")).status_code == 404
    assert line.client.post(ack, json=body, headers=line.as_("turkey")).status_code == 404
    assert line.client.get(f"/v1/messages/{m['id']}", headers=line.as_("turkey")).status_code == 404
    assert (
        line.client.get(
            f"/v1/messages/{m['id']}", headers=line.as_("russia", Role.OBSERVER)
        ).status_code
        == 200
    )
    receipt = line.client.post(
        "/v1/receipts", json={"ids": [m["id"]]}, headers=line.as_("coalition")
    )
    assert receipt.status_code == 404
    assert line.client.get("/v1/messages").status_code == 401
    assert line.client.post(ack, json=body).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "russia", "text": "x", "colour": "red"}, "colour"),
        ({"to": "coalition", "text": "x"}, "to"),
        ({"to": "nobody", "text": "x"}, "to"),
        ({"to": "russia", "text": "   "}, "text"),
        ({"to": "russia", "text": "a\x00b"}, "text"),
        ({"to": "russia", "text": "x", "precedence": "URGENT"}, "precedence"),
        ({"to": "russia", "text": "x", "channel": "sea"}, "channel"),
        ({"to": "russia", "text": "x", "kind": "distress"}, "position"),
        ({"to": "russia", "text": "x", "kind": "objection"}, "notice"),
        ({"to": "russia", "text": "x", "kind": "conflict"}, "kind"),
        ({"to": "russia", "text": "x", "notice": 3}, "notice"),
        (
            {"to": "russia", "text": "x", "kind": "distress", "position": {"lat": 91, "lon": 0}},
            "position.lat",
        ),
        ({"to": "russia", "text": "x" * 4001}, "text"),
    ],
)
def test_bad_messages_are_refused_naming_the_field(
    line: Line, body: dict[str, Any], field: str
) -> None:
    answer = line.client.post("/v1/messages", json=body, headers=line.as_("coalition"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert line.messages("coalition") == []


def _collection(ref: str, lon: float = 38.5, *, start: Any = None, **top: Any) -> dict[str, Any]:
    from support import T0

    begin = start or T0
    props = {
        "notice": ref,
        "activity": "air",
        "radius_m": 10_000,
        "start": rfc3339(begin),
        "end": rfc3339(begin + timedelta(hours=2)),
        "lower_m": 3000,
        "upper_m": 6000,
    }
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, 35.0]},
        "properties": props,
    }
    return {"type": "FeatureCollection", "features": [feature], **top}


def test_on_postgresql_every_ledger_write_notifies_the_other_processes(
    line: Line, database_url: str
) -> None:
    """Other service processes' feeds wake on NOTIFY at commit instead of their 1 s poll."""
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    import psycopg
    from sqlalchemy.engine import make_url

    from deconfliction.api.feed import CHANNEL

    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        assert line.send(precedence="FLASH").status_code == 201
        heard = list(listener.notifies(timeout=10, stop_after=1))
    assert [n.channel for n in heard] == [CHANNEL]
