"""Use cases for officers: add one (and its token), revoke a token, authenticate a request.

``by=None`` is the operator of the service at the command line (it holds the database itself);
otherwise ``by`` must be an admin of the same party. Each change is a ledger entry that only the
officer's party may read.
"""

from __future__ import annotations

from datetime import datetime

from deconfliction.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from deconfliction.officers import Officer, Role, new_token, token_hash
from deconfliction.service.ports import UnitOfWork
from deconfliction.service.recorder import OPERATOR, Recorder

MAX_LEVEL = 9


def add_officer(
    uow: UnitOfWork,
    *,
    party: str,
    name: str,
    role: Role,
    level: int = 1,
    by: Officer | None,
    now: datetime,
) -> tuple[Officer, str]:
    """A new officer of ``party`` and its token (shown this once; the store keeps its hash)."""
    _may_manage(by, party)
    name = name.strip()
    if not 0 < len(name) <= 200 or "\x00" in name:
        raise InvalidInput("needs 1 to 200 characters, none of them NUL", field="name")
    if not 1 <= level <= MAX_LEVEL:
        raise InvalidInput(f"must be 1 to {MAX_LEVEL}", field="level")
    token = new_token()
    with uow:
        head = uow.lock_ledger()
        if party not in uow.agreements.parties():
            raise InvalidInput(f"{party!r} is not a party to the agreement", field="party")
        officer = uow.officers.add(
            party=party, name=name, role=role, level=level, token_hash=token_hash(token), at=now
        )
        log = Recorder(head, at=now, actor=by.actor if by else OPERATOR)
        log.record("officer.added", {"officer": officer.to_json()}, audience=(party,))
        uow.ledger.add(log.entries)
        uow.commit()
    return officer, token


def revoke_officer(uow: UnitOfWork, officer_id: int, *, by: Officer | None, now: datetime) -> None:
    """Make an officer's token useless from now on (revoking twice changes nothing)."""
    with uow:
        head = uow.lock_ledger()
        target = uow.officers.get(officer_id)
        if target is None or (by is not None and by.party != target.party):
            raise NotFound(f"no officer {officer_id}", field="officer")
        _may_manage(by, target.party)
        if target.revoked_at is not None:
            return
        uow.officers.revoke(officer_id, at=now)
        log = Recorder(head, at=now, actor=by.actor if by else OPERATOR)
        log.record("token.revoked", {"officer": officer_id}, audience=(target.party,))
        uow.ledger.add(log.entries)
        uow.commit()


def list_officers(uow: UnitOfWork, party: str) -> list[Officer]:
    with uow.read_only() as tx:
        return tx.officers.of_party(party)


def authenticate(uow: UnitOfWork, token: str | None) -> Officer:
    """The officer a bearer token belongs to; a missing, unknown or revoked token is refused
    with the same words, so a caller learns nothing about which tokens exist."""
    if not token:
        raise Unauthenticated("a bearer token is required")
    with uow.read_only() as tx:
        officer = tx.officers.by_token_hash(token_hash(token))
    if officer is None or officer.revoked_at is not None:
        raise Unauthenticated("the token is not valid")
    return officer


def _may_manage(by: Officer | None, party: str) -> None:
    if by is None:
        return
    if by.party != party or not by.role.manages:
        raise Forbidden("only an admin of the party manages its officers")
