"""Parties' signing keys over HTTP: an admin registers its party's public key; anyone reads them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from deconfliction.api.common import PROBLEMS, Caller
from deconfliction.service.keys import keys_of, register_key

if TYPE_CHECKING:
    from deconfliction.api.app import Service


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_key: Annotated[
        str,
        Field(
            max_length=100,
            description="Base64 of the 32 raw bytes of an Ed25519 public key, as "
            "`deconfliction keys generate` writes it.",
        ),
    ]


def key_routes(service: Service) -> APIRouter:
    router = APIRouter(responses=PROBLEMS, tags=["keys"])

    @router.post(
        "/keys",
        status_code=201,
        summary="Register a public key of the caller's party (admins); from then on the party "
        "signs what it submits.",
    )
    def post_key(body: KeyIn, caller: Caller) -> dict[str, Any]:
        key = register_key(
            service.uow(),
            caller.party,
            body.public_key,
            service.agreement,
            by=caller,
            now=service.clock(),
        )
        service.forget_keys(caller.party)
        service.feed.wake()
        return {"key": key.id, "party": key.party, "public_key": key.public}

    @router.get("/keys", summary="Every party's registered public keys (they are public).")
    def get_keys(caller: Caller) -> list[dict[str, Any]]:
        return [
            {"key": k.id, "party": k.party, "public_key": k.public, "revoked": bool(k.revoked_at)}
            for p in service.agreement.parties
            for k in keys_of(service.uow(), p.id)
        ]

    return router
