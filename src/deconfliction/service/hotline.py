"""Use cases of the hotline: send, receive, acknowledge, escalate, suspend and resume a channel.

Every change is a ledger entry in the same transaction (sender and receiver read it), so a party
can prove what was said, when it arrived and who answered. The store keeps only what escalation
needs (:class:`StoredMessage`); the deadlines live there, not in memory, so they survive restarts
and every service process sees the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from deconfliction.agreement import Agreement
from deconfliction.errors import Forbidden, InvalidInput, NotFound
from deconfliction.hotline import (
    Kind,
    Precedence,
    Reply,
    Status,
    carried_when_suspended,
    first_level,
    next_level,
    precedence_of,
)
from deconfliction.ledger import Entry
from deconfliction.officers import Officer
from deconfliction.service.ports import StoredMessage, UnitOfWork
from deconfliction.service.recorder import OPERATOR, Recorder
from deconfliction.service.writer import Job, alone
from deconfliction.utc import rfc3339

MAX_TEXT = 4000
ESCALATE_BATCH = 500
"""Due messages escalated per transaction, so one sweep never holds the write lock for long."""
SERVICE_ACTOR = "service"
"""The actor of what the service does by itself: automatic traffic and escalation."""


@dataclass(frozen=True, slots=True)
class Draft:
    """A message as an officer writes it. ``position`` is (latitude, longitude) in degrees."""

    to: str
    text: str
    precedence: Precedence = Precedence.ROUTINE
    kind: Kind = Kind.TEXT
    channel: str | None = None
    translation: str | None = None
    notice: int | None = None
    position: tuple[float, float] | None = None


def check_draft(draft: Draft, agreement: Agreement, by: Officer) -> tuple[str, Precedence]:
    """Everything about a message that needs no store: rights, addressee, channel, content.
    Returns the channel it travels on and its precedence."""
    if not by.role.acts:
        raise Forbidden("an observer cannot send messages")
    if not draft.kind.by_officer:
        raise InvalidInput(f"{draft.kind.value!r} messages come from the service", field="kind")
    if agreement.party(draft.to) is None:
        raise InvalidInput(f"{draft.to!r} is not a party to the agreement", field="to")
    if draft.to == by.party:
        raise InvalidInput("a message goes to another party", field="to")
    channels = agreement.channels_between(by.party, draft.to)
    if not channels:
        raise InvalidInput(f"the agreement names no channel to {draft.to!r}", field="channel")
    channel = draft.channel or channels[0]
    if channel not in channels:
        raise InvalidInput(
            f"no channel {channel!r} to {draft.to!r}; there is {', '.join(channels)}",
            field="channel",
        )
    _text(draft.text, "text", required=True)
    _text(draft.translation, "translation", required=False)
    if draft.kind is Kind.OBJECTION and draft.notice is None:
        raise InvalidInput("an objection names the notice it objects to", field="notice")
    if draft.kind is not Kind.OBJECTION and draft.notice is not None:
        raise InvalidInput("only an objection names a notice", field="notice")
    if draft.kind is Kind.DISTRESS and draft.position is None:
        raise InvalidInput("a distress message gives a position", field="position")
    if draft.position is not None:
        lat, lon = draft.position
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidInput("latitude within ±90 and longitude within ±180", field="position")
    return channel, precedence_of(draft.kind, draft.precedence)


def _text(value: str | None, field: str, *, required: bool) -> None:
    if value is None:
        if required:
            raise InvalidInput("is required", field=field)
        return
    if not value.strip() and required:
        raise InvalidInput("must not be empty", field=field)
    if len(value) > MAX_TEXT or "\x00" in value:
        raise InvalidInput(f"at most {MAX_TEXT} characters, none of them NUL", field=field)


def send_message(
    uow: UnitOfWork,
    draft: Draft,
    agreement: Agreement,
    *,
    by: Officer,
    now: datetime,
    objected: dict[str, Any] | None = None,
    signature: dict[str, Any] | None = None,
) -> Entry:
    """Send ``draft`` as ``by`` in a transaction of its own; returns the ``message.sent`` entry.
    (The service batches sends with :func:`sending` and its writer.)"""
    job = sending(draft, agreement, by=by, objected=objected, signature=signature)
    return alone(uow, now, job)


def sending(
    draft: Draft,
    agreement: Agreement,
    *,
    by: Officer,
    objected: dict[str, Any] | None = None,
    signature: dict[str, Any] | None = None,
) -> Job[Entry]:
    """Check ``draft`` now and return the job that sends it under the ledger lock.

    For an objection, ``objected`` is the notice as the sender sees it (the caller looked it up
    through the sender's own view, so nobody objects to what they may not see).
    """
    channel, precedence = check_draft(draft, agreement, by)
    if draft.kind is Kind.OBJECTION and (objected is None or objected["party"] != draft.to):
        raise NotFound(f"no notice {draft.notice} of {draft.to!r}", field="notice")
    extra: dict[str, Any] = {}
    if draft.translation is not None:
        extra["translation"] = draft.translation
    if draft.notice is not None:
        extra["notice"] = draft.notice
    if draft.position is not None:
        extra["position"] = {"lat": draft.position[0], "lon": draft.position[1]}
    if signature is not None:
        extra["signature"] = signature

    def job(uow: UnitOfWork, log: Recorder) -> Entry:
        suspended = uow.messages.suspended_by((by.party, draft.to), channel)
        if suspended is not None and not carried_when_suspended(draft.kind, precedence):
            raise InvalidInput(
                f"channel {channel!r} is suspended by {suspended!r}: it carries only FLASH "
                "and distress traffic",
                field="channel",
            )
        said = extra if suspended is None else {**extra, "channel_suspended_by": suspended}
        with log.acting(by.actor):
            return _open(
                uow,
                log,
                agreement,
                now=log.at,
                channel=channel,
                from_party=by.party,
                to=draft.to,
                precedence=precedence,
                kind=draft.kind,
                text=draft.text,
                sent_by=by.id,
                extra=said,
            )

    return job


def _open(
    uow: UnitOfWork,
    log: Recorder,
    agreement: Agreement,
    *,
    now: datetime,
    channel: str | None,
    from_party: str | None,
    to: str,
    precedence: Precedence,
    kind: Kind,
    text: str,
    sent_by: int | None,
    extra: dict[str, Any],
) -> Entry:
    """Store a new message and record it; the caller holds the ledger lock."""
    level = first_level(uow.messages.roster(to))
    deadline = now + agreement.precedence[precedence.value]
    message_id = uow.messages.add(
        channel=channel,
        from_party=from_party,
        to_party=to,
        precedence=precedence.value,
        kind=kind.value,
        sent_by=sent_by,
        sent_at=now,
        level=level,
        deadline=deadline,
    )
    body = {
        "id": message_id,
        "from": from_party,
        "to": to,
        "channel": channel,
        "precedence": precedence.value,
        "kind": kind.value,
        "text": text,
        "officer": sent_by,
        "level": level,
        "deadline": rfc3339(deadline),
        **extra,
    }
    readers = sorted({to, *([from_party] if from_party else [])})
    return log.record("message.sent", body, audience=readers)


def announce(
    uow: UnitOfWork,
    log: Recorder,
    agreement: Agreement,
    *,
    now: datetime,
    to: str,
    kind: Kind,
    text: str,
    starts: datetime,
    about: dict[str, Any],
) -> Entry:
    """The service's own traffic to ``to``: IMMEDIATE, or FLASH when what it is about starts
    within the hour. The caller holds the ledger lock."""
    precedence = Precedence.FLASH if starts - now < timedelta(hours=1) else Precedence.IMMEDIATE
    with log.acting(SERVICE_ACTOR):
        return _open(
            uow,
            log,
            agreement,
            now=now,
            channel=None,
            from_party=None,
            to=to,
            precedence=precedence,
            kind=kind,
            text=text,
            sent_by=None,
            extra=about,
        )


def receive_messages(
    uow: UnitOfWork, message_ids: Sequence[int], *, by: Officer, now: datetime
) -> list[Entry]:
    """Receipts in a transaction of their own (see :func:`receiving`)."""
    return alone(uow, now, receiving(message_ids, by=by))


def receiving(message_ids: Sequence[int], *, by: Officer) -> Job[list[Entry]]:
    """Receipts: ``by``'s client has these messages. Only the first receipt of each counts;
    a message that is not addressed to ``by``'s party is not found."""

    def job(uow: UnitOfWork, log: Recorder) -> list[Entry]:
        written: list[Entry] = []
        with log.acting(by.actor):
            for message_id in dict.fromkeys(message_ids):
                m = _addressed(uow, message_id, by)
                if m.status != Status.SENT:
                    continue
                uow.messages.update(m.id, status=Status.RECEIVED.value, received_at=log.at)
                body = {"id": m.id, "party": by.party, "officer": by.id}
                written.append(log.record("message.received", body, audience=m.parties))
        return written

    return job


def acknowledge_message(
    uow: UnitOfWork,
    message_id: int,
    reply: Reply,
    *,
    comment: str | None,
    by: Officer,
    now: datetime,
    signature: dict[str, Any] | None = None,
) -> Entry:
    """An answer in a transaction of its own (see :func:`answering`)."""
    job = answering(message_id, reply, comment=comment, by=by, signature=signature)
    return alone(uow, now, job)


def answering(
    message_id: int,
    reply: Reply,
    *,
    comment: str | None,
    by: Officer,
    signature: dict[str, Any] | None = None,
) -> Job[Entry]:
    """Answer a message addressed to ``by``'s party: ROGER, WILCO, or UNABLE with a reason.

    An answer closes the message (even after it escalated or expired); a second answer is refused.
    """
    if not by.role.acts:
        raise Forbidden("an observer cannot acknowledge")
    _text(comment, "comment", required=reply is Reply.UNABLE)

    def job(uow: UnitOfWork, log: Recorder) -> Entry:
        m = _addressed(uow, message_id, by)
        if m.status == Status.ACKNOWLEDGED:
            raise InvalidInput(f"message {message_id} is already acknowledged", field="id")
        values: dict[str, object] = {"status": Status.ACKNOWLEDGED.value, "deadline": None}
        values["acked_at"] = log.at
        if m.status == Status.SENT:
            values["received_at"] = log.at
        uow.messages.update(m.id, **values)
        body: dict[str, Any] = {
            "id": m.id,
            "party": by.party,
            "officer": by.id,
            "reply": reply.value,
            "level": m.level,
        }
        if comment is not None:
            body["comment"] = comment
        if signature is not None:
            body["signature"] = signature
        with log.acting(by.actor):
            return log.record("message.acknowledged", body, audience=m.parties)

    return job


def _addressed(uow: UnitOfWork, message_id: int, by: Officer) -> StoredMessage:
    m = uow.messages.get(message_id)
    if m is None or m.to_party != by.party:
        raise NotFound(f"no message {message_id} to {by.party!r}", field="id")
    return m


def escalate_due(
    uow: UnitOfWork, agreement: Agreement, *, now: datetime, limit: int = ESCALATE_BATCH
) -> list[Entry]:
    """Escalate every message whose deadline has passed to the next level of the receiving
    party's roster, with a new deadline; one with no level left expires. Both parties are told.

    Safe to run from several processes at once: the due messages are read under the ledger
    lock, so each is escalated exactly once per deadline. Returns the entries written.
    """
    with uow.read_only() as tx:
        first = tx.messages.next_deadline()
    if first is None or first > now:
        return []
    with uow:
        head = uow.lock_ledger()
        log = Recorder(head, at=now, actor=SERVICE_ACTOR)
        rosters: dict[str, list[int]] = {}
        for m in uow.messages.due(now, limit=limit):
            if m.to_party not in rosters:
                rosters[m.to_party] = uow.messages.roster(m.to_party)
            level = next_level(rosters[m.to_party], m.level)
            if level is None:
                uow.messages.update(m.id, status=Status.EXPIRED.value, deadline=None)
                log.record("message.expired", {"id": m.id, "level": m.level}, audience=m.parties)
                continue
            deadline = now + agreement.precedence[m.precedence]
            uow.messages.update(m.id, status=Status.ESCALATED.value, level=level, deadline=deadline)
            body = {
                "id": m.id,
                "from_level": m.level,
                "level": level,
                "deadline": rfc3339(deadline),
            }
            log.record("message.escalated", body, audience=m.parties)
        uow.ledger.add(log.entries)
        uow.commit()
    return log.entries


def next_deadline(uow: UnitOfWork) -> datetime | None:
    """The earliest deadline of all open messages (one index lookup)."""
    with uow.read_only() as tx:
        return tx.messages.next_deadline()


def set_channel(
    uow: UnitOfWork,
    other: str,
    channel: str,
    *,
    suspend: bool,
    agreement: Agreement,
    by: Officer,
    now: datetime,
) -> Entry | None:
    """Suspend a channel to ``other`` (either side may) or open it again; None when it already
    was so. A suspended channel still carries FLASH and distress traffic."""
    if not by.role.acts:
        raise Forbidden("an observer cannot suspend or resume a channel")
    if channel not in agreement.channels_between(by.party, other) or other == by.party:
        raise NotFound(f"no channel {channel!r} to {other!r}", field="channel")
    parties = (by.party, other)
    with uow:
        head = uow.lock_ledger()
        current = uow.messages.suspended_by(parties, channel)
        if (current is not None) == suspend:
            return None
        uow.messages.set_channel(
            parties, channel, suspended_by=by.party if suspend else None, at=now
        )
        log = Recorder(head, at=now, actor=by.actor if by else OPERATOR)
        kind = "channel.suspended" if suspend else "channel.resumed"
        body = {"channel": channel, "parties": sorted(parties), "party": by.party}
        entry = log.record(kind, body, audience=parties)
        uow.ledger.add(log.entries)
        uow.commit()
    return entry
