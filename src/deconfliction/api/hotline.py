"""The hotline over HTTP: messages, receipts, acknowledgements and channels.

Thin as the other routes: authenticate, parse into the use case's types, call it, wake the feed.
What a party reads is folded from its ledger entries (:mod:`deconfliction.service.views`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from deconfliction.api.common import MAX_ID, PROBLEMS, Caller, signed
from deconfliction.errors import NotFound
from deconfliction.hotline import Kind, Precedence, Reply
from deconfliction.officers import Officer
from deconfliction.service.hotline import (
    Draft,
    answering,
    check_draft,
    receiving,
    sending,
    set_channel,
)
from deconfliction.service.views import (
    channels_for,
    message_for,
    message_view,
    messages_for,
    notice_for,
)

if TYPE_CHECKING:
    from deconfliction.api.app import Service

MessageId = Annotated[int, Path(ge=1, le=MAX_ID)]
Name = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
OFFICER_KINDS = tuple(k for k in Kind if k.by_officer)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Position(_Strict):
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class MessageIn(_Strict):
    """A message to another party's duty officers."""

    to: Annotated[str, Field(max_length=64, description="The receiving party's id.")]
    text: Annotated[str, Field(max_length=4000, description="As written; stored verbatim.")]
    precedence: Precedence = Precedence.ROUTINE
    kind: Annotated[
        Kind,
        Field(
            description="text, objection (names `notice`; always FLASH), distress (gives "
            "`position`; always FLASH) or line_check. conflict and late_notice are the "
            "service's own."
        ),
    ] = Kind.TEXT
    channel: Annotated[
        str | None, Field(max_length=64, description="Default: the first agreed channel.")
    ] = None
    translation: Annotated[str | None, Field(max_length=4000)] = None
    notice: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None
    position: Position | None = None


class ReceiptsIn(_Strict):
    ids: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(min_length=1, max_length=1000)
    ]


class AckIn(_Strict):
    reply: Annotated[
        Reply,
        Field(
            description="ROGER understood, WILCO will comply (for an objection: halt "
            "confirmed), UNABLE cannot comply (for an objection: refused)."
        ),
    ]
    comment: Annotated[
        str | None, Field(max_length=4000, description="Required with UNABLE: the reason.")
    ] = None


def hotline_routes(service: Service) -> APIRouter:
    router = APIRouter(responses=PROBLEMS, tags=["hotline"])

    @router.post(
        "/messages",
        status_code=201,
        summary="Send a message to another party; answers with it and its deadline.",
        description="The deadline for an acknowledgement comes from the agreement's precedence "
        "table; unanswered, the message escalates up the receiving party's roster. A suspended "
        "channel carries only FLASH and distress traffic.",
    )
    async def post_message(body: MessageIn, request: Request, caller: Caller) -> dict[str, Any]:
        signature = await signed(service, request, caller, await request.json())
        return await run_in_threadpool(_send, service, body, caller, signature)

    @router.get("/messages", summary="Messages the caller's party sent or received.")
    def get_messages(
        caller: Caller,
        open_only: Annotated[
            bool, Query(alias="open", description="Only those still awaiting an answer.")
        ] = False,
    ) -> list[dict[str, Any]]:
        found = messages_for(service.uow(), caller.party)
        if open_only:
            found = [m for m in found if m["status"] in ("sent", "received", "escalated")]
        return found

    @router.get("/messages/{message_id}", summary="One message.")
    def get_message(message_id: MessageId, caller: Caller) -> dict[str, Any]:
        return message_for(service.uow(), caller.party, message_id)

    @router.post(
        "/receipts",
        summary="Say that the caller's client has these messages (addressed to its party).",
    )
    def post_receipts(body: ReceiptsIn, caller: Caller) -> dict[str, Any]:
        entries = service.writer.run(receiving(body.ids, by=caller))
        return {"received": [e.payload["id"] for e in entries]}

    @router.post(
        "/messages/{message_id}/ack",
        summary="Answer a message addressed to the caller's party: ROGER, WILCO or UNABLE.",
    )
    async def ack_message(
        message_id: MessageId, body: AckIn, request: Request, caller: Caller
    ) -> dict[str, Any]:
        signature = await signed(service, request, caller, await request.json())
        return await run_in_threadpool(_ack, service, message_id, body, caller, signature)

    @router.get("/channels", summary="The caller's channels and whether each is suspended.")
    def get_channels(caller: Caller) -> list[dict[str, Any]]:
        return channels_for(service.uow(), caller.party, service.agreement)

    for action in ("suspend", "resume"):
        _channel_action(router, service, action)

    return router


def _send(
    service: Service, body: MessageIn, caller: Officer, signature: dict[str, Any] | None
) -> dict[str, Any]:
    draft = Draft(
        to=body.to,
        text=body.text,
        precedence=body.precedence,
        kind=body.kind,
        channel=body.channel,
        translation=body.translation,
        notice=body.notice,
        position=(body.position.lat, body.position.lon) if body.position else None,
    )
    check_draft(draft, service.agreement, caller)  # before looking the notice up
    objected = None
    if body.notice is not None:
        try:
            objected = notice_for(service.uow(), caller.party, body.notice)
        except NotFound:
            raise NotFound(f"no notice {body.notice}", field="notice") from None
    job = sending(draft, service.agreement, by=caller, objected=objected, signature=signature)
    return message_view(service.writer.run(job))


def _ack(
    service: Service,
    message_id: int,
    body: AckIn,
    caller: Officer,
    signature: dict[str, Any] | None,
) -> dict[str, Any]:
    job = answering(message_id, body.reply, comment=body.comment, by=caller, signature=signature)
    service.writer.run(job)
    return message_for(service.uow(), caller.party, message_id)


def _channel_action(router: APIRouter, service: Service, action: str) -> None:
    @router.post(
        f"/channels/{{party}}/{{channel}}/{action}",
        summary=f"{action.capitalize()} a channel to another party.",
        name=f"{action}_channel",
    )
    def change(party: Name, channel: Name, caller: Caller) -> dict[str, Any]:
        entry = set_channel(
            service.uow(),
            party,
            channel,
            suspend=action == "suspend",
            agreement=service.agreement,
            by=caller,
            now=service.clock(),
        )
        if entry is not None:
            service.feed.wake()
        found = channels_for(service.uow(), caller.party, service.agreement)
        return next(c for c in found if c["channel"] == channel and c["with"] == party)
