"""What a party sees: notices, conflicts and events, read from the ledger entries it may read.

Nothing here decides visibility: each view folds the entries whose audience holds the party
(:mod:`deconfliction.service.audience` decided that when they were written), so an endpoint
cannot show a party more than its entries hold.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deconfliction.agreement import Agreement
from deconfliction.errors import Forbidden, NotFound
from deconfliction.geo.readback import read_backs
from deconfliction.ingest.geojson import parse_notices
from deconfliction.ledger import Entry, Stub
from deconfliction.officers import Officer
from deconfliction.service import audience
from deconfliction.service.ports import UnitOfWork
from deconfliction.service.recorder import Recorder
from deconfliction.strategic.detect import find_conflicts, prepare_many
from deconfliction.strategic.notice import Notice
from deconfliction.utc import rfc3339

NOTICE_KINDS = (
    "notice.filed",
    "notice.amended",
    "notice.superseded",
    "notice.cancelled",
    "notice.remarks",
)
CONFLICT_KINDS = ("conflict.found", "conflict.acknowledged")
MESSAGE_KINDS = (
    "message.sent",
    "message.received",
    "message.acknowledged",
    "message.escalated",
    "message.expired",
)
CHANNEL_KINDS = ("channel.suspended", "channel.resumed")
ENCOUNTER_KINDS = ("encounter.opened", "encounter.updated", "encounter.closed")
MAX_EVENTS = 1000


def notices_for(uow: UnitOfWork, party: str) -> list[dict[str, Any]]:
    """Every notice ``party`` may see: its own with their remarks, others' without."""
    with uow.read_only() as tx:
        entries = tx.ledger.of_kinds(party, NOTICE_KINDS)
    notices: dict[int, dict[str, Any]] = {}
    for e in entries:
        known = notices.get(e.payload["id"])
        if e.kind in ("notice.filed", "notice.amended"):
            notices[e.payload["id"]] = notice_view(e)
            old = notices.get(e.payload.get("supersedes", -1))
            if old is not None:
                old["status"] = "superseded"
        elif known is None:
            continue  # e.g. told of a cancellation by a conflict, never shown the notice
        elif e.kind == "notice.cancelled":
            known["status"] = "cancelled"
        elif e.kind == "notice.superseded":
            known["status"] = "superseded"
        else:
            known["remarks"] = e.payload["remarks"]
    return list(notices.values())


def notice_view(entry: Entry) -> dict[str, Any]:
    """A notice as its ``notice.filed`` or ``notice.amended`` entry tells it."""
    return {**entry.payload, "status": "active", "filed_at": rfc3339(entry.at), "seq": entry.seq}


def conflict_views(entry: Entry) -> list[dict[str, Any]]:
    """The conflicts a ``conflict.found`` entry lists, before any acknowledgement."""
    found_at = rfc3339(entry.at)
    return [{**c, "found_at": found_at, "acknowledged": {}} for c in entry.payload["conflicts"]]


def filed_view(entries: list[Entry], party: str) -> dict[str, Any]:
    """What a filing wrote, as the filing party sees it: the notice (with its remarks) and the
    conflicts it brought, from the entries themselves rather than a fresh read of the ledger."""
    notice = next(notice_view(e) for e in entries if e.kind in ("notice.filed", "notice.amended"))
    for e in entries:
        if e.kind == "notice.remarks" and party in e.audience:
            notice["remarks"] = e.payload["remarks"]
    # a conflict.found entry lists the conflicts of one pair of parties, its audience: which
    # of them the caller sees is decided by that audience, as everywhere, not line by line
    conflicts = [
        c
        for e in entries
        if e.kind == "conflict.found" and party in e.audience
        for c in conflict_views(e)
    ]
    return {"notice": notice, "conflicts": conflicts}


def notice_for(uow: UnitOfWork, party: str, notice_id: int) -> dict[str, Any]:
    found = next((n for n in notices_for(uow, party) if n["id"] == notice_id), None)
    if found is None:
        raise NotFound(f"no notice {notice_id}", field="id")
    return found


def conflicts_for(uow: UnitOfWork, party: str) -> list[dict[str, Any]]:
    """Every conflict that involves ``party``, with each side's acknowledgement."""
    with uow.read_only() as tx:
        entries = tx.ledger.of_kinds(party, CONFLICT_KINDS)
    conflicts: dict[int, dict[str, Any]] = {}
    for e in entries:
        if e.kind == "conflict.found":
            conflicts.update((c["id"], c) for c in conflict_views(e))
        elif e.payload["id"] in conflicts:
            ack = {"officer": e.payload["officer"], "at": rfc3339(e.at)}
            conflicts[e.payload["id"]]["acknowledged"][e.payload["party"]] = ack
    return list(conflicts.values())


def acknowledge_conflict(
    uow: UnitOfWork, conflict_id: int, *, by: Officer, now: datetime
) -> dict[str, Any]:
    """Record that ``by``'s party has seen the conflict (once per side; again changes nothing)."""
    if not by.role.acts:
        raise Forbidden("an observer cannot acknowledge")
    with uow:
        head = uow.lock_ledger()
        parties = uow.conflicts.parties(conflict_id)
        if parties is None or by.party not in parties:
            raise NotFound(f"no conflict {conflict_id}", field="id")
        side = "a" if parties[0] == by.party else "b"
        if uow.conflicts.acknowledge(conflict_id, side, officer=by.id, at=now):
            log = Recorder(head, at=now, actor=by.actor)
            body = {"id": conflict_id, "party": by.party, "officer": by.id}
            log.record("conflict.acknowledged", body, audience=audience.conflict(*parties))
            uow.ledger.add(log.entries)
            uow.commit()
    return next(c for c in conflicts_for(uow, by.party) if c["id"] == conflict_id)


def events_for(
    uow: UnitOfWork, party: str | None, after: int, limit: int = MAX_EVENTS
) -> list[Entry | Stub]:
    """The ledger after ``after`` as ``party`` may see it (``None``: the whole ledger)."""
    limit = max(1, min(limit, MAX_EVENTS))
    with uow.read_only() as tx:
        if party is None:
            return list(tx.ledger.since(after, limit=limit))
        return tx.ledger.view(party, after, limit=limit)


def messages_for(uow: UnitOfWork, party: str) -> list[dict[str, Any]]:
    """Every hotline message ``party`` sent or received, with its receipt, acknowledgement and
    escalations, oldest first."""
    with uow.read_only() as tx:
        entries = tx.ledger.of_kinds(party, MESSAGE_KINDS)
    messages: dict[int, dict[str, Any]] = {}
    for e in entries:
        if e.kind == "message.sent":
            messages[e.payload["id"]] = message_view(e)
            continue
        m = messages.get(e.payload["id"])
        if m is None:
            continue
        at = rfc3339(e.at)
        if e.kind == "message.received":
            m["received"] = {"officer": e.payload["officer"], "at": at}
            m["status"] = "received" if m["status"] == "sent" else m["status"]
        elif e.kind == "message.acknowledged":
            answer = {k: e.payload[k] for k in ("officer", "reply", "comment") if k in e.payload}
            m["acknowledged"] = {**answer, "at": at}
            m["received"] = m["received"] or {"officer": e.payload["officer"], "at": at}
            m["status"] = "acknowledged"
        elif e.kind == "message.escalated":
            m["escalations"].append({"level": e.payload["level"], "at": at})
            m.update(level=e.payload["level"], deadline=e.payload["deadline"])
            if m["status"] != "acknowledged":
                m["status"] = "escalated"
        elif e.kind == "message.expired" and m["status"] != "acknowledged":
            m["status"] = "expired"
    return list(messages.values())


def message_view(entry: Entry) -> dict[str, Any]:
    p = entry.payload
    view = {k: v for k, v in p.items() if k not in ("officer", "signature")}
    return {
        **view,
        "sent_at": rfc3339(entry.at),
        "sent_by": p["officer"],
        "signed": "signature" in p,
        "status": "sent",
        "received": None,
        "acknowledged": None,
        "escalations": [],
        "seq": entry.seq,
    }


def message_for(uow: UnitOfWork, party: str, message_id: int) -> dict[str, Any]:
    found = next((m for m in messages_for(uow, party) if m["id"] == message_id), None)
    if found is None:
        raise NotFound(f"no message {message_id}", field="id")
    return found


def channels_for(uow: UnitOfWork, party: str, agreement: Agreement) -> list[dict[str, Any]]:
    """The party's channels (from the agreement) and whether each is suspended, and by whom."""
    with uow.read_only() as tx:
        entries = tx.ledger.of_kinds(party, CHANNEL_KINDS)
    channels = {
        (c.name, c.parties): {
            "channel": c.name,
            "with": c.parties[1] if c.parties[0] == party else c.parties[0],
            "suspended_by": None,
            "changed_at": None,
        }
        for c in agreement.channels
        if party in c.parties
    }
    for e in entries:
        key = (e.payload["channel"], tuple(e.payload["parties"]))
        if key in channels:
            suspended = e.kind == "channel.suspended"
            channels[key].update(
                suspended_by=e.payload["party"] if suspended else None, changed_at=rfc3339(e.at)
            )
    return list(channels.values())


def preview(uow: UnitOfWork, party: str, notice: Notice, agreement: Agreement) -> dict[str, Any]:
    """What filing ``notice`` would show ``party`` before it is final: the read-back of each
    volume, and its conflicts with the active notices of others that the party already sees.

    Conflicts with notices not shared with the party appear only when it files (and are then
    recorded): a preview that found them would let anyone probe, without a trace, for what they
    may not see.
    """
    visible = [
        f
        for n in notices_for(uow, party)
        if n["status"] == "active" and n["party"] != party
        for f in n["features"]
    ]
    others = parse_notices({"type": "FeatureCollection", "features": visible}) if visible else []
    items = prepare_many([notice, *others])
    mine = (notice.party, notice.ref)
    conflicts = [
        c.to_json()
        for c in find_conflicts(items, agreement.separation)
        if mine in ((c.a.party, c.a.notice), (c.b.party, c.b.notice))
    ]
    return {"readback": [r.as_dict() for r in read_backs(notice.volumes)], "conflicts": conflicts}


def encounters_for(uow: UnitOfWork, party: str) -> list[dict[str, Any]]:
    """Every encounter of live tracks ``party`` was told of, with its latest prediction."""
    with uow.read_only() as tx:
        entries = tx.ledger.of_kinds(party, ENCOUNTER_KINDS)
    encounters: dict[int, dict[str, Any]] = {}
    for e in entries:
        p = e.payload
        if e.kind == "encounter.opened":
            encounters[p["id"]] = {**p, "opened": p["time"], "closed": None, "updates": 0}
        elif p["id"] in encounters:
            known = encounters[p["id"]]
            if e.kind == "encounter.closed":
                known["closed"] = p["time"]
            else:
                known.update({k: v for k, v in p.items() if k != "id"})
                known["updates"] += 1
    return list(encounters.values())
