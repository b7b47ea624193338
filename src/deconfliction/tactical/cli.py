"""``deconfliction tracks``: the command line over recorded tracks (the shell around tactical/).

Exit codes as for ``check``: 0 no encounter, 1 encounters, 2 bad input (the message names the
field or line). Malformed lines are skipped and counted on stderr, never fatal.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from deconfliction.agreement import Agreement, Tactical, load_agreement
from deconfliction.errors import DeconflictionError, InvalidInput
from deconfliction.ingest.malformed import Malformed
from deconfliction.ingest.opensky import opensky_reports
from deconfliction.ingest.sbs import sbs_reports
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
