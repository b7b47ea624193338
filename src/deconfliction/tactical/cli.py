"""``deconfliction tracks``: the command line over recorded tracks (the shell around tactical/).

Exit codes as for ``check``: 0 no encounter, 1 encounters, 2 bad input (the message names the
field or line). Malformed lines are skipped and counted on stderr, never fatal.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import time
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
from itertools import groupby
from pathlib import Path
from typing import Annotated

import httpx
import orjson
import typer
from rich.console import Console
from rich.progress import Progress

from deconfliction.agreement import Agreement, Tactical, load_agreement
from deconfliction.client import ApiError, Client
from deconfliction.errors import DeconflictionError, InvalidInput
from deconfliction.ingest.malformed import Malformed
from deconfliction.ingest.opensky import opensky_reports
from deconfliction.ingest.sbs import PORT as SBS_PORT
from deconfliction.ingest.sbs import sbs_reports, sbs_stream
from deconfliction.runtime import paused_gc
from deconfliction.tactical.scan import cycles
from deconfliction.tactical.state import STALE_S, TrackReport
from deconfliction.utc import rfc3339

tracks_app = typer.Typer(help="Live tracks: predicted losses of separation.", no_args_is_help=True)
err = Console(stderr=True)


class TrackFormat(StrEnum):
    auto = "auto"
    opensky = "opensky"
    sbs = "sbs"


@tracks_app.command("scan")
def scan(
    file: Annotated[Path, typer.Argument(help="OpenSky state-vector CSV or SBS-1 text.")],
    horizontal_m: Annotated[
        float | None, typer.Option(help="Horizontal minimum, metres [default 9260 = 5 NM].")
    ] = None,
    vertical_m: Annotated[
        float | None, typer.Option(help="Vertical minimum, metres [default 304.8 = 1000 ft].")
    ] = None,
    lookahead_s: Annotated[
        float | None, typer.Option(help="Look-ahead, seconds [default 300].")
    ] = None,
    agreement: Annotated[
        Path | None, typer.Option(help="Agreement TOML: its tactical minima and parties.")
    ] = None,
    format: Annotated[
        TrackFormat, typer.Option("--format", help="Input format [default: detected].")
    ] = TrackFormat.auto,
    step_s: Annotated[float, typer.Option(help="Seconds between detection cycles.")] = 1.0,
    stale_s: Annotated[float, typer.Option(help="Drop a track silent this long.")] = STALE_S,
) -> None:
    """Print one JSON line per encounter and cycle of FILE; exit 1 if there is any.

    Tracks of the same party (OpenSky column `party`) are not paired; tracks without a party are
    paired with all. Minima come from the flags, else the agreement, else the defaults shown.
    """
    try:
        pact = load_agreement(agreement) if agreement else None
        minima = _minima(
            pact.tactical if pact else Tactical(), horizontal_m, vertical_m, lookahead_s
        )
        _positive(step_s, "--step-s")
        _positive(stale_s, "--stale-s")
        reports, skipped = _read(file, format, pact)
    except DeconflictionError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    found = 0
    with paused_gc():
        for cycle in cycles(reports, minima, step_s=step_s, stale_s=stale_s):
            time = rfc3339(_utc(cycle.snapshot.time_s))
            for line in cycle.lines():
                sys.stdout.buffer.write(orjson.dumps({"time": time, **line}) + b"\n")
                found += 1
    _summary(len(reports), skipped, found)
    raise typer.Exit(1 if found else 0)


def _minima(
    base: Tactical, horizontal_m: float | None, vertical_m: float | None, lookahead_s: float | None
) -> Tactical:
    for name, value in (("--horizontal-m", horizontal_m), ("--vertical-m", vertical_m)):
        if value is not None and not 0 <= value < float("inf"):
            raise InvalidInput(f"must be a finite number ≥ 0, got {value}", field=name)
    if lookahead_s is not None:
        _positive(lookahead_s, "--lookahead-s")
    return replace(
        base,
        horizontal_m=base.horizontal_m if horizontal_m is None else horizontal_m,
        vertical_m=base.vertical_m if vertical_m is None else vertical_m,
        lookahead_s=base.lookahead_s if lookahead_s is None else lookahead_s,
    )


def _positive(value: float, name: str) -> None:
    if not 0 < value <= 86_400:
        raise InvalidInput(f"must be above 0 and at most 86400, got {value}", field=name)


def _read(
    file: Path, fmt: TrackFormat, pact: Agreement | None
) -> tuple[list[TrackReport], list[Malformed]]:
    """Every report of the file in time order (a recording need not be sorted) and the skips."""
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}", field="FILE") from None
    lines = text.splitlines()
    fmt = _detect(lines) if fmt is TrackFormat.auto else fmt
    parsed = list((opensky_reports if fmt is TrackFormat.opensky else sbs_reports)(lines))
    reports = [r for r in parsed if isinstance(r, TrackReport)]
    skipped = [r for r in parsed if isinstance(r, Malformed)]
    if not reports and skipped:
        raise InvalidInput(f"no line could be read; first: {skipped[0]}", field="FILE")
    known = {p.id for p in pact.parties} if pact else None
    stray = next((r for r in reports if known and r.party and r.party not in known), None)
    if stray is not None:
        raise InvalidInput(f"party {stray.party!r} is not in the agreement", field="party")
    reports.sort(key=lambda r: r.time_s)
    return reports, skipped


def _detect(lines: list[str]) -> TrackFormat:
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise InvalidInput("the file is empty", field="FILE")
    if first.split(",", 1)[0].strip() in {"MSG", "SEL", "ID", "AIR", "STA", "CLK"}:
        return TrackFormat.sbs
    if "icao24" in first.lower():
        return TrackFormat.opensky
    raise InvalidInput(
        "line 1: neither an OpenSky CSV header (with icao24) nor an SBS-1 record; "
        "use --format opensky|sbs",
        field="FILE",
    )


def _utc(time_s: float) -> datetime:
    return datetime.fromtimestamp(time_s, UTC)


def _summary(reports: int, skipped: list[Malformed], found: int) -> None:
    say = err.print
    say(f"{reports:,} reports, {found:,} encounter lines", highlight=False)
    if skipped:
        shown = "; ".join(str(s) for s in skipped[:5])
        say(f"skipped {len(skipped):,} malformed lines: {shown}", highlight=False, soft_wrap=True)


@tracks_app.command("replay")
def replay(
    file: Annotated[Path, typer.Argument(help="OpenSky state-vector CSV or SBS-1 text.")],
    speed: Annotated[float, typer.Option(help="Replay speed: 2 plays a minute in 30 s.")] = 1.0,
    as_party: Annotated[
        list[str] | None,
        typer.Option(
            "--as",
            help="PARTY=TOKEN of a party whose feed reports tracks (repeatable). Tracks with a "
            "`party` column go to that party's feed; the others are shared out among the "
            "parties given, by track id. Default: DECONFLICTION_TOKEN as the only feed.",
        ),
    ] = None,
    observed: Annotated[
        bool, typer.Option(help="Report the tracks as observed (unattributed), not own.")
    ] = False,
    format: Annotated[
        TrackFormat, typer.Option("--format", help="Input format [default: detected].")
    ] = TrackFormat.auto,
) -> None:
    """Feed a recording into a running service (DECONFLICTION_URL) as if live: each second of
    the recording is posted, re-timed to now, after 1/SPEED seconds."""
    try:
        _positive(speed, "--speed")
        feeds = _feeds(as_party)
        reports, skipped = _read(file, format, None)
    except DeconflictionError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    url = os.environ.get("DECONFLICTION_URL", "")
    if not url:
        err.print("[bold red]error:[/] set DECONFLICTION_URL", highlight=False)
        raise typer.Exit(2)
    clients = {party: Client(url, token) for party, token in feeds.items()}
    parties = sorted(clients)
    stored = refused = 0
    started, first = time.monotonic(), reports[0].time_s if reports else 0.0
    try:
        with Progress(console=err) as progress:
            task = progress.add_task("replaying", total=len(reports))
            for second, batch in groupby(reports, key=lambda r: math.floor(r.time_s - first)):
                time.sleep(max(0.0, started + second / speed - time.monotonic()))
                now = datetime.now(UTC)
                by_party: dict[str, list[dict[str, object]]] = {}
                for r in batch:
                    party = r.party if r.party in clients else _share(r.track, parties)
                    by_party.setdefault(party, []).append(_wire(r, now))
                for party, wire in by_party.items():
                    answer = clients[party].report_tracks(wire, own=not observed)
                    stored += answer["stored"]
                    refused += len(answer["skipped"])
                    progress.advance(task, len(wire))
    except (ApiError, httpx.HTTPError) as exc:
        err.print(f"[bold red]error:[/] the service refused: {exc}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        for c in clients.values():
            c.close()
    err.print(
        f"{stored:,} reports stored, {refused:,} refused by the service, "
        f"{len(skipped):,} malformed lines skipped",
        highlight=False,
    )


def _feeds(as_party: list[str] | None) -> dict[str, str]:
    if not as_party:
        token = os.environ.get("DECONFLICTION_TOKEN", "")
        if not token:
            raise InvalidInput("give --as PARTY=TOKEN or set DECONFLICTION_TOKEN", field="--as")
        return {"": token}
    feeds: dict[str, str] = {}
    for item in as_party:
        party, sep, token = item.partition("=")
        if not sep or not party or not token:
            raise InvalidInput(f"expected PARTY=TOKEN, got {item[:40]!r}", field="--as")
        feeds[party] = token
    return feeds


def _share(track: str, parties: list[str]) -> str:
    """The feed a track without a party is replayed through: fixed per track id."""
    return parties[zlib.crc32(track.encode()) % len(parties)]


def _wire(r: TrackReport, now: datetime) -> dict[str, object]:
    """A report as ``POST /v1/tracks`` takes it, re-timed to ``now``."""
    doc: dict[str, object] = {"track": r.track, "time": rfc3339(now)}
    for key in ("lat", "lon", "altitude_m", "speed_mps", "track_deg", "vertical_rate_mps"):
        value = getattr(r, key)
        if value is not None:
            doc[key] = value
    if r.on_ground is not None:
        doc["on_ground"] = r.on_ground
    return doc


@tracks_app.command("feed")
def feed(
    source: Annotated[str, typer.Argument(help="HOST or HOST:PORT of an SBS-1 server (dump1090).")],
    observed: Annotated[
        bool, typer.Option(help="Report the tracks as observed (unattributed), not own.")
    ] = False,
    reconnect: Annotated[
        bool, typer.Option(help="Connect again when the source closes, until Ctrl-C.")
    ] = False,
    every_s: Annotated[float, typer.Option(help="Seconds between posts to the service.")] = 1.0,
) -> None:
    """Forward a live SBS-1 feed (BaseStation, as dump1090 serves on port 30003) into a running
    service (DECONFLICTION_URL, DECONFLICTION_TOKEN) as the token's party's feed, re-timed to
    when each line arrived. Malformed lines are counted and skipped."""
    host, _, port_text = source.rpartition(":") if ":" in source else (source, "", "")
    try:
        _positive(every_s, "--every-s")
        port = int(port_text) if port_text else SBS_PORT
        feeds = _feeds(None)
    except ValueError:
        err.print(f"[bold red]error:[/] SOURCE: not a port: {port_text!r}", highlight=False)
        raise typer.Exit(2) from None
    except DeconflictionError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    url = os.environ.get("DECONFLICTION_URL", "")
    if not url:
        err.print("[bold red]error:[/] set DECONFLICTION_URL", highlight=False)
        raise typer.Exit(2)
    with Client(url, feeds[""]) as client:
        try:
            counts = asyncio.run(
                _forward(client, host or "127.0.0.1", port, not observed, every_s, reconnect)
            )
        except KeyboardInterrupt:
            return
        except (ApiError, httpx.HTTPError) as exc:
            err.print(f"[bold red]error:[/] the service refused: {exc}", highlight=False)
            raise typer.Exit(2) from None
        except OSError as exc:
            err.print(f"[bold red]error:[/] cannot read {source}: {exc}", highlight=False)
            raise typer.Exit(2) from None
    err.print(
        f"{counts['stored']:,} reports stored, {counts['refused']:,} refused by the service, "
        f"{counts['malformed']:,} malformed lines skipped",
        highlight=False,
    )


async def _forward(
    client: Client, host: str, port: int, own: bool, every_s: float, reconnect: bool
) -> dict[str, int]:
    """Read the SBS-1 stream and post what arrived every ``every_s``; the posts run in a thread
    so that reading never waits for the service."""
    counts = {"stored": 0, "refused": 0, "malformed": 0}
    pending: list[dict[str, object]] = []

    async def flush() -> None:
        if pending:
            batch = pending[:]
            pending.clear()
            answer = await asyncio.to_thread(client.report_tracks, batch, own=own)
            counts["stored"] += answer["stored"]
            counts["refused"] += len(answer["skipped"])

    while True:
        last = time.monotonic()
        async for item in sbs_stream(host, port):
            if isinstance(item, Malformed):
                counts["malformed"] += 1
            else:
                pending.append(_wire(item, datetime.now(UTC)))
            if time.monotonic() - last >= every_s:
                await flush()
                last = time.monotonic()
        await flush()
        if not reconnect:
            return counts
        await asyncio.sleep(every_s)
