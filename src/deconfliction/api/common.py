"""What every router of the API shares: the caller's identity, id bounds and problem documents."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import Depends, Path, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from deconfliction import signing
from deconfliction.officers import Officer
from deconfliction.service.keys import check_signature

if TYPE_CHECKING:
    from deconfliction.api.app import Service

bearer = HTTPBearer(auto_error=False, description="An officer's API token.")


async def current_officer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Officer:
    """The officer whose bearer token came with the request (401 otherwise). A token found
    valid a moment ago is answered in the event loop; only a lookup goes to a thread (a hop to
    a thread and back on every request cost more than the rest of authenticating)."""
    service: Service = request.app.state.service
    token = credentials.credentials if credentials else None
    known = service.known_officer(token)
    if known is not None:
        return known
    return await run_in_threadpool(service.officer, token)


Caller = Annotated[Officer, Depends(current_officer)]


class Json(Response):
    """A JSON answer written by orjson where it is made (a worker thread, for the endpoints that
    answer with many conflicts or entries; the event loop for a small filing, whose answer of
    250 conflicts orjson writes in 50 µs). FastAPI's own path checks a returned value against
    the response model and writes it in the event loop, where every other request waits: for a
    filing in a busy cell, a hundred conflicts, that was a tenth of the service's busy time
    (py-spy --gil, ``benchmarks/api.py --scenario busy``). Routes that answer with it declare
    their ``response_model`` for the OpenAPI document."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


MAX_ID = 2**31 - 1
"""Ids are 32-bit in the store; a larger one cannot name anything (404 would need a query)."""
MAX_SEQ = 2**62
NoticeId = Annotated[int, Path(ge=1, le=MAX_ID)]
ConflictId = Annotated[int, Path(ge=1, le=MAX_ID)]


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    field: str | None = None


PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": text,
        "model": Problem,
        "content": {"application/problem+json": {"schema": Problem.model_json_schema()}},
    }
    for status, text in (
        (401, "No valid bearer token."),
        (403, "The officer's role or party may not do this."),
        (404, "Nothing of that id that the caller may see."),
        (409, "The party already has a notice with that reference."),
        (422, "Invalid input; `field` names where."),
        (503, "The store is unavailable or not initialised."),
    )
}


async def signed(
    service: Service, request: Request, caller: Officer, body: Any
) -> dict[str, Any] | None:
    """The checked signature of a submission (its ``Deconfliction-Signature`` header over the
    method, path and JSON body), or None for a party without a key. Without a header nothing is
    verified or stored, so that answer (None, or the refusal of a party that signs) comes from
    the event loop; a signature is verified, and its nonce recorded, in a thread."""
    keys = service.known_keys(caller.party)
    if keys is None:
        keys = await run_in_threadpool(service.party_keys, caller.party)
    header = request.headers.get(signing.HEADER)
    check = partial(
        check_signature,
        service.uow(),
        caller,
        method=request.method,
        path=request.url.path,
        body=body,
        header=header,
        now=service.clock(),
        keys=keys,
    )
    return check() if header is None else await run_in_threadpool(check)
