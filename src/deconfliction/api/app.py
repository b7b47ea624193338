"""The HTTP service: FastAPI over the use cases, built by :func:`create_app`, nothing at import.

Routes are thin: authenticate, parse, call one use case, answer. Each request gets its own unit of
work (one connection, one transaction); the cache of rebuilt volumes is shared by the process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Header, Query, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from deconfliction import __version__
from deconfliction.agreement import Agreement
from deconfliction.api import problems
from deconfliction.api.common import (
    MAX_SEQ,
    PROBLEMS,
    Caller,
    ConflictId,
    Json,
    NoticeId,
    signed,
)
from deconfliction.api.feed import Feed
from deconfliction.api.hotline import hotline_routes
from deconfliction.api.keys import key_routes
from deconfliction.api.tracks import track_routes
from deconfliction.console import mount as mount_console
from deconfliction.errors import InvalidInput
from deconfliction.geo.readback import gazetteer, read_backs
from deconfliction.ingest.geojson import parse_notices
from deconfliction.ledger import Entry, to_json
from deconfliction.officers import Officer
from deconfliction.service import stored_agreement
from deconfliction.service.escalator import Escalator
from deconfliction.service.filer import Filer
from deconfliction.service.keys import keys_of
from deconfliction.service.officers import authenticate
from deconfliction.service.ports import PartyKey
from deconfliction.service.tactician import Tactician
from deconfliction.service.use_cases import (
    Filed,
    Filing,
    amend_notice,
    cancel_notice,
    prepare_filing,
)
from deconfliction.service.views import (
    acknowledge_conflict,
    conflicts_for,
    events_for,
    filed_view,
    notice_for,
    notices_for,
    preview,
)
from deconfliction.service.writer import Writer
from deconfliction.settings import Settings
from deconfliction.store import SqlUnitOfWork, create_engine
from deconfliction.store.candidates import PreparedCache
from deconfliction.strategic.notice import Notice

GEOJSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
"""The body of a filing: read raw (for the size limit and exact errors), documented here."""

TOKEN_RECHECK_S = 1.0
"""How long a token, once found valid, is trusted without looking again (revocation delay)."""
MAX_TOKENS = 10_000

MAX_BODY_BYTES = 1_000_000
"""A notice of 100 volumes of 1,000 vertices fits; anything bigger is refused unread."""

IN_LOOP_BYTES = 16_384
"""A filing whose body is at most this big is checked in the event loop and its result awaited
there; a bigger one is checked and waited for in a worker thread, so that it never holds up the
other requests (checking a 1 MB notice takes ~70 ms, one of 16 KB ~1.2 ms, a circle 0.06 ms).
For a filing of a few volumes that costs less than a worker thread per filing, parked until the
filer answers: `benchmarks/api.py` on SQLite, scattered, gave 600–640 filings/s with one
against 680–720 without (2026-12-04, alternating runs)."""

DESCRIPTION = """\
Parties notify the 4D volumes of their planned activity; the service finds every conflict with
other parties' notices, exactly, and keeps a hash-chained ledger each party can verify.

Every endpoint but `/health` needs `Authorization: Bearer <token>` (`deconfliction officer add`
prints one). Errors are `application/problem+json` and name the field at fault.
"""


class Service:
    """What the routes share: the engine, the cache, the agreement, the feed and the clock."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.engine = create_engine(settings.database_url)
        self.cache = PreparedCache()
        self.feed = Feed(settings.database_url)
        self.clock = clock
        self._agreement: Agreement | None = None
        self.filer = Filer(self.uow, lambda: self.agreement, clock)
        self.escalator = Escalator(self.uow, lambda: self.agreement, clock, self.feed.wake)
        self.tactician = Tactician(self.uow, lambda: self.agreement, clock, self.feed.wake)
        self.writer = Writer(self.uow, clock, on_commit=self._written)
        self._tokens: dict[str, tuple[Officer, float]] = {}
        self._keys: dict[str, tuple[list[PartyKey], float]] = {}

    def _written(self) -> None:
        """After a hotline write: wake the feeds, and the escalation clock (a new deadline)."""
        self.feed.wake()
        self.escalator.poke()

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, cache=self.cache)

    def known_officer(self, token: str | None) -> Officer | None:
        """The token's officer if it was found valid less than :data:`TOKEN_RECHECK_S` ago
        (no I/O: the event loop asks this first and goes to a thread only when it is None)."""
        known = self._tokens.get(token or "")
        if known is not None and time.monotonic() - known[1] < TOKEN_RECHECK_S:
            return known[0]
        return None

    def officer(self, token: str | None) -> Officer:
        """The token's officer, looked up at most once a :data:`TOKEN_RECHECK_S` per token, so
        that a revocation takes effect within that time without a read on every request."""
        known = self.known_officer(token)
        if known is not None:
            return known
        now = time.monotonic()
        officer = authenticate(self.uow(), token)
        if len(self._tokens) > MAX_TOKENS:
            self._tokens.clear()
        self._tokens[token or ""] = (officer, now)
        return officer

    def known_keys(self, party: str) -> list[PartyKey] | None:
        """The party's signing keys if looked up less than :data:`TOKEN_RECHECK_S` ago (no I/O)."""
        known = self._keys.get(party)
        if known is not None and time.monotonic() - known[1] < TOKEN_RECHECK_S:
            return known[0]
        return None

    def party_keys(self, party: str) -> list[PartyKey]:
        """The party's signing keys, looked up at most once a :data:`TOKEN_RECHECK_S` (a new
        key is required, and a revoked one refused, within that time)."""
        known = self.known_keys(party)
        if known is not None:
            return known
        now = time.monotonic()
        keys = keys_of(self.uow(), party)
        self._keys[party] = (keys, now)
        return keys

    def forget_keys(self, party: str) -> None:
        """A key was registered here: require it at once in this process."""
        self._keys.pop(party, None)

    @property
    def agreement(self) -> Agreement:
        if self._agreement is None:
            self._agreement = stored_agreement(self.uow())
        return self._agreement


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    background: bool = True,
) -> FastAPI:
    """The service on ``settings.database_url`` (initialised by ``deconfliction init``).

    ``background=False`` leaves the escalation clock and the tactical cycle stopped (tests drive
    them with their own clock: ``service.escalator.sweep()``, ``service.tactician.cycle()``).
    """
    service = Service(settings or Settings.from_env(), clock or (lambda: datetime.now(UTC)))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.feed.start()
        if background:
            service.escalator.start()
            service.tactician.start()
        await run_in_threadpool(gazetteer)  # load the read-back's places before the first filing
        try:
            yield
        finally:
            service.feed.stop()
            service.escalator.stop()
            service.tactician.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="deconfliction",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "notices", "description": "4D volumes of planned activity."},
            {"name": "conflicts", "description": "Pairs of volumes closer than the minima."},
            {"name": "ledger", "description": "The hash-chained record, as each party sees it."},
            {"name": "officers", "description": "Who is calling."},
            {"name": "hotline", "description": "Precedence messages between duty officers."},
            {"name": "keys", "description": "Ed25519 keys parties sign their submissions with."},
            {"name": "tracks", "description": "Live tracks and their predicted encounters."},
        ],
    )
    app.state.service = service
    problems.install(app)
    app.include_router(_health())
    app.include_router(_v1(service), prefix="/v1")
    app.include_router(hotline_routes(service), prefix="/v1")
    app.include_router(key_routes(service), prefix="/v1")
    app.include_router(track_routes(service), prefix="/v1")
    mount_console(app)  # the web page at / and /assets, no token (the page sends one)
    return app


def _health() -> APIRouter:
    router = APIRouter()

    @router.get("/health", summary="Liveness; needs no token.")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return router


def _cursor(last_event_id: str | None, after: int) -> int:
    """Where a feed resumes: after the ``Last-Event-ID`` it sends back, else after ``after``."""
    if last_event_id and last_event_id.isascii() and last_event_id.isdigit():
        return min(int(last_event_id), MAX_SEQ)
    return after


def _v1(service: Service) -> APIRouter:
    router = APIRouter(responses=PROBLEMS)

    @router.post(
        "/notices",
        status_code=201,
        response_model=dict[str, Any],
        tags=["notices"],
        summary="File one notice; answers with the stored notice, the read-back of its volumes "
        "and the conflicts it made.",
        openapi_extra=GEOJSON_BODY,
        description="The body is a GeoJSON FeatureCollection in the DESIGN.md format, all of "
        "its features one notice of the caller's party (`party` may be left out). An optional "
        "top-level `shared_with` lists the parties that see it (default: all).",
    )
    async def post_notice(request: Request, caller: Caller) -> Json:
        body = await _collection(request)
        signature = await signed(service, request, caller, body)
        if len(await request.body()) > IN_LOOP_BYTES:
            return await run_in_threadpool(_file, service, caller, body, None, signature)
        # a small filing is checked here and awaited from the filer: no worker thread (see
        # IN_LOOP_BYTES)
        filing = _filing(service, caller, body, signature)
        filed = await asyncio.wrap_future(service.filer.submit(filing))
        return _answer(service, caller, filed, filing.notices[0])

    @router.post(
        "/readback",
        tags=["notices"],
        summary="Check a notice without filing it: the read-back of each volume and its "
        "conflicts with the notices the caller already sees.",
        openapi_extra=GEOJSON_BODY,
        description="The body is the notice as for filing. Nothing is stored or recorded. "
        "Conflicts with notices not shared with the caller are found only when it files.",
    )
    async def readback(request: Request, caller: Caller) -> dict[str, Any]:
        body = await _collection(request)
        return await run_in_threadpool(_preview, service, caller, body)

    @router.post(
        "/notices/{notice_id}/amend",
        status_code=201,
        response_model=dict[str, Any],
        tags=["notices"],
        summary="Replace an active notice of the caller's party by a new version.",
        openapi_extra=GEOJSON_BODY,
        description="The body is the whole new version, as for filing, with the same `notice` "
        "reference. Answers with the new version (a new `id`, `supersedes` the old one) and the "
        "conflicts it made; the old version stops being checked against.",
    )
    async def amend(notice_id: NoticeId, request: Request, caller: Caller) -> Json:
        body = await _collection(request)
        signature = await signed(service, request, caller, body)
        return await run_in_threadpool(_file, service, caller, body, notice_id, signature)

    @router.post(
        "/notices/{notice_id}/cancel",
        tags=["notices"],
        summary="End an active notice of the caller's party; its conflicts stay on record.",
    )
    def cancel(notice_id: NoticeId, caller: Caller) -> dict[str, Any]:
        cancel_notice(service.uow(), notice_id, service.agreement, now=service.clock(), by=caller)
        service.feed.wake()
        return notice_for(service.uow(), caller.party, notice_id)

    @router.get("/me", tags=["officers"], summary="The officer the token belongs to.")
    def me(caller: Caller) -> dict[str, object]:
        return caller.to_json()

    @router.get(
        "/notices",
        response_model=list[dict[str, Any]],
        tags=["notices"],
        summary="Every notice the caller's party may see.",
    )
    def get_notices(caller: Caller) -> Json:
        return Json(notices_for(service.uow(), caller.party))

    @router.get("/notices/{notice_id}", tags=["notices"], summary="One notice.")
    def get_notice(notice_id: NoticeId, caller: Caller) -> dict[str, Any]:
        return notice_for(service.uow(), caller.party, notice_id)

    @router.get(
        "/conflicts",
        response_model=list[dict[str, Any]],
        tags=["conflicts"],
        summary="Conflicts that involve the caller's party.",
    )
    def get_conflicts(caller: Caller) -> Json:
        return Json(conflicts_for(service.uow(), caller.party))

    @router.post(
        "/conflicts/{conflict_id}/ack",
        tags=["conflicts"],
        summary="Acknowledge a conflict for the caller's party.",
    )
    def ack_conflict(conflict_id: ConflictId, caller: Caller) -> dict[str, Any]:
        result = acknowledge_conflict(service.uow(), conflict_id, by=caller, now=service.clock())
        service.feed.wake()
        return result

    @router.get(
        "/events",
        response_model=list[dict[str, Any]],
        tags=["ledger"],
        summary="Ledger entries after a sequence number: the caller's in full, others as stubs.",
    )
    def get_events(
        caller: Caller,
        after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    ) -> Json:
        return Json([to_json(e) for e in events_for(service.uow(), caller.party, after, limit)])

    @router.get(
        "/feed",
        tags=["ledger"],
        summary="The same entries live, as server-sent events; resumes after `after` or the "
        "`Last-Event-ID` header.",
        response_class=EventSourceResponse,
    )
    async def feed(
        caller: Caller,
        after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> EventSourceResponse:
        cursor = _cursor(last_event_id, after)
        return EventSourceResponse(_stream(service, caller.party, cursor), ping=15)

    return router


async def _collection(request: Request) -> dict[str, Any]:
    """The request body as a decoded JSON object, refused unread beyond :data:`MAX_BODY_BYTES`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise InvalidInput(f"larger than {MAX_BODY_BYTES} bytes", field="body")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput(f"larger than {MAX_BODY_BYTES} bytes", field="body")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"not valid JSON: {exc}", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("must be a GeoJSON FeatureCollection", field="body")
    return body


def _one_notice(caller: Officer, body: dict[str, Any]) -> Notice:
    """The one notice of a filing's body, its party taken from the token."""
    features = body.get("features")
    for f in features if isinstance(features, list) else ():
        props = f.get("properties") if isinstance(f, dict) else None
        if isinstance(props, dict):
            props.setdefault("party", caller.party)  # the token says whose notice it is
    notices = parse_notices(body)
    if len(notices) != 1:
        raise InvalidInput(f"holds {len(notices)} notices; file one at a time", field="features")
    return notices[0]


def _preview(service: Service, caller: Officer, body: dict[str, Any]) -> dict[str, Any]:
    notice = _one_notice(caller, body)
    prepare_filing([notice], service.agreement, now=service.clock(), by=caller)  # checks only
    return preview(service.uow(), caller.party, notice, service.agreement)


def _file(
    service: Service,
    caller: Officer,
    body: dict[str, Any],
    amends: int | None,
    signature: dict[str, Any] | None,
) -> Json:
    """File (or amend) in a worker thread, waiting for the filer there."""
    if amends is None:
        filing = _filing(service, caller, body, signature)
        return _answer(service, caller, service.filer.file(filing), filing.notices[0])
    notice = _one_notice(caller, body)
    filed = amend_notice(
        service.uow(),
        amends,
        notice,
        service.agreement,
        now=service.clock(),
        by=caller,
        signature=signature,
    )
    return _answer(service, caller, filed, notice)


def _filing(
    service: Service, caller: Officer, body: dict[str, Any], signature: dict[str, Any] | None
) -> Filing:
    notices = [_one_notice(caller, body)]
    return prepare_filing(
        notices, service.agreement, now=service.clock(), by=caller, signature=signature
    )


def _answer(service: Service, caller: Officer, filed: Filed, notice: Notice) -> Json:
    """The 201 of a filing or an amendment, as the caller's party sees it."""
    service.feed.wake()
    view = filed_view(filed.entries, caller.party)
    view["readback"] = (
        filed.readback
        if filed.readback is not None
        else [r.as_dict() for r in read_backs(notice.volumes)]
    )
    return Json(view, status_code=201)


async def _stream(service: Service, party: str, cursor: int) -> AsyncIterator[dict[str, str]]:
    while True:
        seen = service.feed.generation  # before reading: a commit after this wakes the wait
        batch = await run_in_threadpool(events_for, service.uow(), party, cursor)
        for item in batch:
            kind = "entry" if isinstance(item, Entry) else "stub"
            yield {"id": str(item.seq), "event": kind, "data": orjson.dumps(to_json(item)).decode()}
            cursor = item.seq
        if not batch:
            await service.feed.wait(seen)
