"""The command line: thin commands that parse, call one use case and map errors to exit codes.

Exit codes: 0 success (and no conflict, for ``check``), 1 conflicts found, 2 bad input or a store
that cannot do what was asked (the message, on stderr, names the field and the reason), 3 an
internal error (a bug, or the machine ran out of memory): never mistaken for "conflicts found".
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from deconfliction.agreement import Separation, load_agreement
from deconfliction.errors import DeconflictionError, InvalidInput, NoticeError
from deconfliction.ingest.geojson import conflicts_geojson, loads_notices
from deconfliction.runtime import paused_gc
from deconfliction.service import (
    check_parties,
    file_notices,
    init_store,
    list_conflicts,
    stored_agreement,
)
from deconfliction.settings import Settings
from deconfliction.store import SqlUnitOfWork, create_engine
from deconfliction.strategic.detect import Conflict, find_conflicts, prepare_many
from deconfliction.strategic.notice import Notice

app = typer.Typer(
    help="Keep independent forces from clashing: 4D notices, exact conflict detection.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Keep independent forces from clashing: 4D notices, exact conflict detection."""


class Format(StrEnum):
    jsonl = "jsonl"
    table = "table"
    geojson = "geojson"


def fail(exc: DeconflictionError) -> typer.Exit:
    """Report an expected error on stderr; the caller raises the returned exit (code 2)."""
    err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def read_notices(path: Path) -> list[Notice]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NoticeError(f"cannot read {path}: {exc.strerror}", field="FILE") from None
    return loads_notices(data)


def print_conflicts(conflicts: list[Conflict], fmt: Format, notices: list[Notice]) -> None:
    out = sys.stdout.buffer
    if fmt is Format.jsonl:
        out.writelines(
            orjson.dumps(c.to_json(), option=orjson.OPT_APPEND_NEWLINE) for c in conflicts
        )
    elif fmt is Format.geojson:
        out.write(
            orjson.dumps(conflicts_geojson(conflicts, notices), option=orjson.OPT_APPEND_NEWLINE)
        )
    else:
        Console().print(conflict_table(conflicts))


def conflict_table(conflicts: list[Conflict]) -> Table:
    table = Table(title=f"{len(conflicts)} conflicts", title_justify="left")
    for name in ("a", "b", "window UTC"):
        table.add_column(name)
    for name in ("horiz. m", "vert. m", "gap s"):
        table.add_column(name, justify="right")
    for c in conflicts:
        table.add_row(
            f"{c.a.party}\n{c.a.notice}/{c.a.volume}",
            f"{c.b.party}\n{c.b.notice}/{c.b.volume}",
            f"{c.start:%Y-%m-%d %H:%M}\n– {c.end:%Y-%m-%d %H:%M}",
            f"{c.horizontal_m:,.1f}",
            f"{c.vertical_m:,.1f}",
            f"{c.time_gap_s:,.0f}",
        )
    return table


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection of volumes.")],
    agreement: Annotated[
        Path | None, typer.Option(help="Agreement TOML: its parties and separation minima.")
    ] = None,
    horizontal_m: Annotated[
        float | None, typer.Option(help="Horizontal minimum, metres [default 18520 = 10 NM].")
    ] = None,
    vertical_m: Annotated[
        float | None, typer.Option(help="Vertical minimum, metres [default 609.6 = 2000 ft].")
    ] = None,
    time_s: Annotated[
        float | None, typer.Option(help="Time minimum, seconds [default 900 = 15 min].")
    ] = None,
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.jsonl,
) -> None:
    """Print every conflict between the notices of FILE; exit 1 if there is any.

    Minima come from the flags, else the agreement, else the defaults shown. Without an agreement,
    any party id is accepted.
    """
    with paused_gc():
        _check(file, agreement, minima_flags=(horizontal_m, vertical_m, time_s), fmt=format)


def _check(
    file: Path,
    agreement: Path | None,
    minima_flags: tuple[float | None, float | None, float | None],
    fmt: Format,
) -> None:
    try:
        notices = read_notices(file)
        sep = Separation()
        if agreement is not None:
            pact = load_agreement(agreement)
            check_parties(notices, pact)
            sep = pact.separation
        sep = minima(sep, *minima_flags)
        items = prepare_many(notices)
    except DeconflictionError as exc:
        raise fail(exc) from None
    with err.status(f"checking {len(items):,} volumes", spinner="dots"):
        conflicts = find_conflicts(items, sep)
    print_conflicts(conflicts, fmt, notices)
    raise typer.Exit(1 if conflicts else 0)


def minima(
    sep: Separation, horizontal_m: float | None, vertical_m: float | None, time_s: float | None
) -> Separation:
    """The separation with any flag given overriding it; a negative minimum is refused."""
    for name, value in (
        ("--horizontal-m", horizontal_m),
        ("--vertical-m", vertical_m),
        ("--time-s", time_s),
    ):
        if value is not None and not 0 <= value < float("inf"):
            raise InvalidInput(f"must be a finite number ≥ 0, got {value}", field=name)
    return replace(
        sep,
        horizontal_m=sep.horizontal_m if horizontal_m is None else horizontal_m,
        vertical_m=sep.vertical_m if vertical_m is None else vertical_m,
        time_s=sep.time_s if time_s is None else time_s,
    )


class ListFormat(StrEnum):
    jsonl = "jsonl"
    table = "table"


DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db "
        "[default: $DECONFLICTION_DATABASE_URL, else a SQLite file in the data directory].",
        show_default=False,
    ),
]


@contextmanager
def open_store(database_url: str | None) -> Iterator[SqlUnitOfWork]:
    """A unit of work on the database given, else the one the settings name; closed after."""
    engine = create_engine(database_url or Settings.from_env().database_url)
    try:
        yield SqlUnitOfWork(engine)
    finally:
        engine.dispose()


@app.command("init")
def init_command(
    agreement: Annotated[Path, typer.Option(help="Agreement TOML: the parties and the minima.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Create the store and record the agreement; running it again with the same one is harmless."""
    try:
        pact = load_agreement(agreement)
        with open_store(database_url) as uow:
            init_store(uow, pact, agreement.read_text(encoding="utf-8"))
    except DeconflictionError as exc:
        raise fail(exc) from None
    parties = ", ".join(p.id for p in pact.parties)
    err.print(f"store ready: {pact.name} (parties: {parties})", highlight=False, soft_wrap=True)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection of volumes.")],
    database_url: DatabaseUrl = None,
    print_new: Annotated[
        bool, typer.Option("--print-conflicts", help="Print the new conflicts as JSON lines.")
    ] = False,
) -> None:
    """File every notice of FILE in the store, checked against each other and everything stored.

    All or nothing: one invalid volume, unknown party or reference already on file stores nothing.
    The summary goes to stderr; stdout carries only the conflicts asked for.
    """
    try:
        with (
            paused_gc(),
            open_store(database_url) as uow,
            err.status("filing", spinner="dots") as status,
        ):
            notices = read_notices(file)

            def progress(stage: str, done: int, total: int) -> None:
                status.update(f"{stage}: {done:,} of {total:,}")

            pact = stored_agreement(uow)
            found = file_notices(uow, notices, pact, now=datetime.now(UTC), progress=progress)
    except DeconflictionError as exc:
        raise fail(exc) from None
    if print_new:
        print_conflicts(found, Format.jsonl, notices)
    volumes = sum(len(n.volumes) for n in notices)
    err.print(
        f"filed {len(notices):,} notices, {volumes:,} volumes: {len(found):,} new conflicts",
        highlight=False,
        soft_wrap=True,
    )


@app.command("conflicts")
def conflicts_command(
    database_url: DatabaseUrl = None,
    format: Annotated[ListFormat, typer.Option("--format", help="Output format.")] = (
        ListFormat.jsonl
    ),
) -> None:
    """Print every conflict in the store, in the order found (JSON lines as `check` prints)."""
    try:
        with open_store(database_url) as uow:
            found = list_conflicts(uow)
    except DeconflictionError as exc:
        raise fail(exc) from None
    print_conflicts(found, Format(format.value), [])


INTERNAL_ERROR = 3


def main() -> None:
    try:
        app(standalone_mode=True)
    except Exception:  # anything not handled as bad input is ours: say so, with the traceback
        err.print_exception()
        err.print("[bold red]internal error[/]: please report it with the traceback above")
        sys.exit(INTERNAL_ERROR)


if __name__ == "__main__":
    main()
