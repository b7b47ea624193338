"""Live tracks over HTTP: a party's feed posts reports; encounters come back on the feed.

A batch is never refused for one bad report: each bad one is skipped with its index, field and
reason, the rest are stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, TypeAdapter, ValidationError

from deconfliction.api.common import PROBLEMS, Caller
from deconfliction.service.tactical import report_tracks
from deconfliction.service.views import encounters_for
from deconfliction.tactical import TrackReport

if TYPE_CHECKING:
    from deconfliction.api.app import Service

MAX_REPORTS = 10_000
FUTURE_S = 60.0
"""A report timed further than this ahead of the service's clock is skipped."""


class ReportIn(BaseModel):
    """One report about one track; a field left out keeps the track's previous value."""

    model_config = ConfigDict(extra="forbid")

    track: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
    time: Annotated[datetime, Field(description="When it was true: RFC 3339, or epoch seconds.")]
    lat: Annotated[float | None, Field(ge=-90, le=90, allow_inf_nan=False)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180, allow_inf_nan=False)] = None
    altitude_m: Annotated[float | None, Field(ge=-1000, le=50_000, allow_inf_nan=False)] = None
    speed_mps: Annotated[float | None, Field(ge=0, le=3000, allow_inf_nan=False)] = None
    track_deg: Annotated[float | None, Field(ge=0, le=360, allow_inf_nan=False)] = None
    vertical_rate_mps: Annotated[float | None, Field(ge=-300, le=300, allow_inf_nan=False)] = None
    on_ground: StrictBool | None = None


class TracksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    own: Annotated[
        StrictBool,
        Field(
            description="The caller's party's own assets (true) or tracks it observes "
            "(false: unattributed, checked against everyone)."
        ),
    ] = True
    reports: Annotated[list[dict[str, Any]], Field(max_length=MAX_REPORTS)]


_REPORT = TypeAdapter(ReportIn)


def track_routes(service: Service) -> APIRouter:
    router = APIRouter(responses=PROBLEMS, tags=["tracks"])

    @router.post(
        "/tracks",
        summary="Report live tracks: the caller's party's assets, or tracks it observes.",
        description="Each bad report is skipped with its index, field and reason; the others "
        "are stored. Detection runs once a second; encounters reach both parties on the feed.",
    )
    def post_tracks(body: TracksIn, caller: Caller) -> dict[str, Any]:
        now_s = service.clock().timestamp()
        good: list[TrackReport] = []
        skipped: list[dict[str, Any]] = []
        for index, raw in enumerate(body.reports):
            try:
                r = _REPORT.validate_python(raw)
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(p) for p in first["loc"]) or None
                skipped.append({"index": index, "field": field, "reason": first["msg"]})
                continue
            t = r.time.timestamp()
            if t > now_s + FUTURE_S:
                skipped.append({"index": index, "field": "time", "reason": "in the future"})
                continue
            good.append(
                TrackReport(
                    r.track,
                    t,
                    r.lat,
                    r.lon,
                    r.altitude_m,
                    r.speed_mps,
                    r.track_deg,
                    r.vertical_rate_mps,
                    r.on_ground,
                )
            )
        stored = report_tracks(service.uow(), good, by=caller, own=body.own) if good else 0
        return {"stored": stored, "skipped": skipped}

    @router.get("/encounters", summary="Encounters of live tracks that involve the caller's party.")
    def get_encounters(caller: Caller) -> list[dict[str, Any]]:
        return encounters_for(service.uow(), caller.party)

    return router
