"""Signatures through the API on SQLite and PostgreSQL: a party registers its key, signs what it
submits, forgeries and replays are refused, and the ledger proves who said what: the service
countersigns every entry, the parties' signatures travel in the entries, and any change fails
verification."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from support import AGREEMENT_TOML, NOW, Clock, serving

from deconfliction import signing
from deconfliction.ledger import Entry, Stub, dumps_lines, entry_hash, loads_lines, verify
from deconfliction.officers import Role
from deconfliction.service.views import events_for
from deconfliction.store import SqlUnitOfWork

CHANNEL = '\n[[channel]]\nname = "air"\nparties = ["coalition", "russia"]\n'


@dataclass
class Signer:
    client: TestClient
    tokens: dict[tuple[str, Role], str]
    uow: SqlUnitOfWork
    clock: Clock
    key: Ed25519PrivateKey

    def as_(self, party: str, role: Role = Role.OFFICER) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(party, role)]}"}

    def post(
        self,
        path: str,
        body: dict[str, Any],
        *,
        party: str = "coalition",
        key: Ed25519PrivateKey | None = None,
        signed_body: dict[str, Any] | None = None,
        at_offset_s: float = 0.0,
        header: str | None = None,
    ) -> Any:
        """POST ``body``, signed over ``signed_body`` (default: the body itself)."""
        headers = self.as_(party)
        if header is None:
            at = self.clock.now + timedelta(seconds=at_offset_s)
            signed = signing.sign_request(key or self.key, "POST", path, signed_body or body, at=at)
            header = signed.header()
        headers[signing.HEADER] = header
        return self.client.post(path, content=orjson.dumps(body), headers=_json(headers))


MESSAGE = {"to": "russia", "text": "Two aircraft entering the area at FL250", "precedence": "FLASH"}


@pytest.fixture
def signer(database_url: str, tmp_path: Path) -> Iterator[Signer]:
    clock = Clock()
    with serving(database_url, tmp_path, clock=clock, agreement=AGREEMENT_TOML + CHANNEL) as (
        client,
        tokens,
        uow,
    ):
        key = signing.generate()
        answer = client.post(
            "/v1/keys",
            json={"public_key": signing.public_b64(key)},
            headers={"Authorization": f"Bearer {tokens[('coalition', Role.ADMIN)]}"},
        )
        assert answer.status_code == 201, answer.text
        yield Signer(client, tokens, uow, clock, key)


def export(uow: SqlUnitOfWork) -> bytes:
    return dumps_lines(events_for(uow, None, 0))


def test_a_signed_message_is_accepted_and_its_signature_verifies_in_the_export(
    signer: Signer,
) -> None:
    sent = signer.post("/v1/messages", MESSAGE)
    assert sent.status_code == 201, sent.text
    assert sent.json()["signed"] is True
    acked = signer.client.post(
        f"/v1/messages/{sent.json()['id']}/ack",
        json={"reply": "WILCO"},
        headers=signer.as_("russia"),
    )
    assert acked.status_code == 200  # russia has no key: it need not sign
    verdict = verify(loads_lines(export(signer.uow)))
    assert verdict.ok, verdict.reason
    assert verdict.signatures == 1
    assert verdict.countersigned == verdict.entries  # every entry, from the service key on


def test_every_party_sees_the_registered_key(signer: Signer) -> None:
    for party in ("russia", "turkey"):
        keys = signer.client.get("/v1/keys", headers=signer.as_(party)).json()
        assert [k["party"] for k in keys] == ["coalition"]
        assert keys[0]["public_key"] == signing.public_b64(signer.key)


def test_signed_notices_verify_too(signer: Signer) -> None:
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [38.5, 35.0]},
                "properties": {
                    "notice": "C-1",
                    "activity": "air",
                    "radius_m": 10000,
                    "start": "2015-10-21T06:00:00Z",
                    "end": "2015-10-21T08:00:00Z",
                    "lower_m": 3000,
                    "upper_m": 6000,
                },
            }
        ],
    }
    filed = signer.post("/v1/notices", collection)
    assert filed.status_code == 201, filed.text
    verdict = verify(loads_lines(export(signer.uow)))
    assert verdict.ok and verdict.signatures == 1


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("unsigned", "header is missing"),
        ("unknown key", "not a registered key"),
        ("changed body", "does not verify"),
        ("stale", "from the service's clock"),
        ("future", "from the service's clock"),
        ("malformed", "Deconfliction-Signature"),
        ("other party's key", "not a registered key"),
    ],
)
def test_forgeries_are_refused_and_change_nothing(signer: Signer, case: str, reason: str) -> None:
    before = export(signer.uow)
    headers = signer.as_("coalition")
    if case == "unsigned":
        answer = signer.client.post("/v1/messages", json=MESSAGE, headers=headers)
    elif case == "unknown key":
        answer = signer.post("/v1/messages", MESSAGE, key=signing.generate())
    elif case == "changed body":
        answer = signer.post("/v1/messages", MESSAGE, signed_body={**MESSAGE, "text": "other"})
    elif case == "stale":
        answer = signer.post("/v1/messages", MESSAGE, at_offset_s=-301)
    elif case == "future":
        answer = signer.post("/v1/messages", MESSAGE, at_offset_s=301)
    elif case == "malformed":
        answer = signer.post("/v1/messages", MESSAGE, header="key=x, sig=y")
    else:  # russia's officer presents coalition's signature
        russian = {**MESSAGE, "to": "coalition"}
        answer = signer.post("/v1/messages", russian, party="russia")
    assert answer.status_code == 401, answer.text
    assert reason in answer.json()["detail"]
    assert export(signer.uow) == before


def test_a_replayed_request_is_refused(signer: Signer) -> None:
    signed = signing.sign_request(signer.key, "POST", "/v1/messages", MESSAGE, at=NOW)
    headers = _json({**signer.as_("coalition"), signing.HEADER: signed.header()})
    first = signer.client.post("/v1/messages", content=orjson.dumps(MESSAGE), headers=headers)
    assert first.status_code == 201
    again = signer.client.post("/v1/messages", content=orjson.dumps(MESSAGE), headers=headers)
    assert again.status_code == 401 and "replayed" in again.json()["detail"]
    assert len(signer.client.get("/v1/messages", headers=signer.as_("russia")).json()) == 1


def test_a_signature_cannot_be_moved_to_another_path(signer: Signer) -> None:
    sent = signer.post("/v1/messages", MESSAGE).json()
    signed = signing.sign_request(signer.key, "POST", "/v1/messages", {"reply": "ROGER"}, at=NOW)
    headers = {**signer.as_("russia"), signing.HEADER: signed.header()}
    answer = signer.client.post(
        f"/v1/messages/{sent['id']}/ack", json={"reply": "ROGER"}, headers=headers
    )
    assert answer.status_code == 401


def test_only_an_admin_of_the_party_registers_its_keys(signer: Signer) -> None:
    public = signing.public_b64(signing.generate())
    officer = signer.client.post(
        "/v1/keys", json={"public_key": public}, headers=signer.as_("russia")
    )
    assert officer.status_code == 403
    bad = signer.client.post(
        "/v1/keys", json={"public_key": "not a key"}, headers=signer.as_("russia", Role.ADMIN)
    )
    assert bad.status_code == 422 and bad.json()["field"] == "public_key"


# ---- what verification catches ----------------------------------------------------------------


def _rechain(items: list[Entry | Stub], seq: int, **payload: Any) -> list[Entry | Stub]:
    """The ledger with entry ``seq``'s payload changed and every hash after it recomputed, as
    someone with write access to the database but not the service's key could do."""
    out: list[Entry | Stub] = []
    for item in items:
        assert isinstance(item, Entry)
        if out:
            item = dataclasses.replace(item, prev=out[-1].hash)
        if item.seq == seq:
            item = dataclasses.replace(item, payload={**item.payload, **payload})
        out.append(dataclasses.replace(item, hash=entry_hash(item)))
    return out


def test_rewriting_what_a_party_said_breaks_the_countersignatures(signer: Signer) -> None:
    seq = signer.post("/v1/messages", MESSAGE).json()["seq"]
    items = loads_lines(export(signer.uow))
    forged = _rechain(items, seq, text="No aircraft")
    verdict = verify(forged)
    assert not verdict.ok and verdict.first_broken == seq
    assert "countersignature does not verify" in verdict.reason


def test_the_operator_cannot_make_a_party_say_what_it_did_not_sign(signer: Signer) -> None:
    """Even holding the service's key, a changed text no longer matches the signed document."""
    seq = signer.post("/v1/messages", MESSAGE).json()["seq"]
    items = loads_lines(export(signer.uow))
    forged = _rechain(items, seq, text="No aircraft")
    service_key = _service_key(signer)
    resigned = [
        dataclasses.replace(i, countersig=signing.sign(service_key, i.hash.encode()))
        for i in forged
    ]
    verdict = verify(resigned)
    assert not verdict.ok and verdict.first_broken == seq
    assert "does not say what coalition signed" in verdict.reason


def test_a_changed_countersignature_is_named(signer: Signer) -> None:
    signer.post("/v1/messages", MESSAGE)
    items = loads_lines(export(signer.uow))
    victim = items[3]
    items[3] = dataclasses.replace(victim, countersig=items[2].countersig)
    verdict = verify(items)
    assert not verdict.ok and verdict.first_broken == victim.seq


def test_each_partys_view_verifies_with_stubs_countersigned(signer: Signer) -> None:
    signer.post("/v1/messages", MESSAGE)
    for party in ("coalition", "russia", "turkey"):
        events = signer.client.get("/v1/events", headers=signer.as_(party)).json()
        lines = b"".join(signing.canonical(e) + b"\n" for e in events)
        verdict = verify(loads_lines(lines))
        assert verdict.ok, (party, verdict.reason)
        assert verdict.countersigned == len(events)


def _service_key(signer: Signer) -> Ed25519PrivateKey:
    import sqlalchemy as sa

    from deconfliction.store.tables import service_key

    with signer.uow.engine.connect() as conn:
        pem = conn.execute(sa.select(service_key.c.private_key)).scalar_one()
    return signing.load_private(bytes(pem))


def _json(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/json"}
