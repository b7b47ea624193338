"""Parties' signing keys: registering them, and checking what a party's client signed.

Once a party has registered a key, everything its officers submit (notices, amendments,
messages, answers) must be signed with one of its keys; the signature and the signed document go
into the ledger entry. A forged, stale or replayed signature is refused as unauthenticated.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from deconfliction import signing
from deconfliction.agreement import Agreement
from deconfliction.errors import Forbidden, InvalidInput, Unauthenticated
from deconfliction.ledger.canonical import canonical
from deconfliction.officers import Officer
from deconfliction.service import audience
from deconfliction.service.ports import PartyKey, UnitOfWork
from deconfliction.service.recorder import OPERATOR, Recorder


def register_key(
    uow: UnitOfWork,
    party: str,
    public: str,
    agreement: Agreement,
    *,
    by: Officer | None,
    now: datetime,
) -> PartyKey:
    """Register ``party``'s Ed25519 public key (base64 of 32 bytes); every party is told, so
    every party can check the party's signatures. Registering a key again changes nothing."""
    if by is not None and (by.party != party or not by.role.manages):
        raise Forbidden("only an admin of the party registers its keys")
    if agreement.party(party) is None:
        raise InvalidInput(f"{party!r} is not a party to the agreement", field="party")
    try:
        signing.load_public(public)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="public_key") from None
    key = PartyKey(signing.key_id(public), party, public.strip())
    with uow:
        head = uow.lock_ledger()
        if uow.keys.register(key, at=now):
            log = Recorder(head, at=now, actor=by.actor if by else OPERATOR)
            body = {"party": party, "key": key.id, "public_key": key.public}
            log.record("key.registered", body, audience=audience.everyone(agreement_ids(agreement)))
            uow.ledger.add(log.entries)
            uow.commit()
    return key


def agreement_ids(agreement: Agreement) -> list[str]:
    return [p.id for p in agreement.parties]


def check_signature(
    uow: UnitOfWork,
    by: Officer,
    *,
    method: str,
    path: str,
    body: Any,
    header: str | None,
    now: datetime,
    keys: list[PartyKey] | None = None,
) -> dict[str, Any] | None:
    """The signature of one submission, ready for its ledger entry, or None for a party that
    has no key. Refused (:class:`Unauthenticated`): a missing signature from a party with a key,
    a key not of the party, a time more than :data:`signing.MAX_SKEW_S` from ``now``, a
    signature that does not verify, a nonce used before. ``keys`` are the party's keys if the
    caller holds them already (the service caches them for a second)."""
    if keys is None:
        keys = keys_of(uow, by.party)
    keys = [k for k in keys if k.revoked_at is None]
    if header is None:
        if keys:
            raise Unauthenticated(
                f"{by.party!r} signs what it submits: the {signing.HEADER} header is missing"
            )
        return None
    try:
        signed = signing.Signed.parse(header)
        at = datetime.fromisoformat(signed.at)
    except ValueError as exc:
        raise Unauthenticated(f"{signing.HEADER}: {exc}") from None
    key = next((k for k in keys if k.id == signed.key), None)
    if key is None:
        raise Unauthenticated(f"{signed.key!r} is not a registered key of {by.party!r}")
    if at.tzinfo is None or abs((now - at).total_seconds()) > signing.MAX_SKEW_S:
        raise Unauthenticated(
            f"signed at {signed.at}, more than {signing.MAX_SKEW_S:.0f} s from the service's clock"
        )
    # a copy: the route may fill in the body afterwards (the party of a notice), not what was signed
    document = signing.document(method, path, copy.deepcopy(body), signed.at, signed.nonce)
    if not signing.valid(key.public, canonical(document), signed.sig):
        raise Unauthenticated("the signature does not verify")
    with uow:
        fresh = uow.keys.use_nonce(key.id, signed.nonce, at=now)
        uow.commit()
    if not fresh:
        raise Unauthenticated("replayed: this signature's nonce was used before")
    return {"key": key.id, "sig": signed.sig, "signed": document}


def keys_of(uow: UnitOfWork, party: str) -> list[PartyKey]:
    with uow.read_only() as tx:
        return tx.keys.of_party(party)
