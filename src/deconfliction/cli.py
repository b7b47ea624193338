"""The command line: thin commands that parse, call one use case and map errors to exit codes.

Exit codes: 0 success (and no conflict, for ``check``), 1 conflicts found, 2 bad input or a store
that cannot do what was asked (the message, on stderr, names the field and the reason), 3 an
internal error (a bug, or the machine ran out of memory): never mistaken for "conflicts found".
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from deconfliction import cli_hotline
from deconfliction.agreement import Separation, load_agreement
from deconfliction.cli_hotline import keys_app
from deconfliction.errors import DeconflictionError, InvalidInput, NoticeError
from deconfliction.geo.readback import read_backs
from deconfliction.ingest.geojson import conflicts_geojson, loads_notices
from deconfliction.ledger import dumps_lines, loads_lines, verify
from deconfliction.officers import Role
from deconfliction.runtime import freeze_heap, paused_gc
from deconfliction.service import (
    check_parties,
    file_notices,
    init_store,
    list_conflicts,
    stored_agreement,
)
from deconfliction.service.keys import register_key
from deconfliction.service.officers import add_officer, list_officers, revoke_officer
from deconfliction.service.views import events_for
from deconfliction.settings import Settings
from deconfliction.store import SqlUnitOfWork, create_engine
from deconfliction.strategic.detect import Conflict, find_conflicts, prepare_many
from deconfliction.strategic.notice import Notice
from deconfliction.tactical.cli import tracks_app

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


@app.command("readback")
def readback_command(
    file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection of notices.")],
    json: Annotated[bool, typer.Option("--json", help="JSON lines instead of text.")] = False,
) -> None:
    """Say back where each volume of FILE is (MGRS, degrees-minutes, distance and bearing from
    the nearest named place, band, window), to catch a misplotted coordinate before filing."""
    try:
        notices = read_notices(file)
        found = [read_backs(n.volumes) for n in notices]
    except DeconflictionError as exc:
        raise fail(exc) from None
    for n, backs in zip(notices, found, strict=True):
        for k, rb in enumerate(backs):
            if json:
                doc = {"notice": n.ref, "party": n.party, "volume": k, **rb.as_dict()}
                print(orjson.dumps(doc).decode())
            else:
                print(f"{n.ref} ({n.party}) volume {k}\n{rb.text}\n")


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
            found = file_notices(
                uow, notices, pact, now=datetime.now(UTC), progress=progress
            ).conflicts
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


officer_app = typer.Typer(help="Officers and their API tokens.", no_args_is_help=True)
ledger_app = typer.Typer(help="The hash-chained record: export and verify.", no_args_is_help=True)
app.add_typer(officer_app, name="officer")
app.add_typer(ledger_app, name="ledger")
app.add_typer(tracks_app, name="tracks")
app.add_typer(keys_app, name="keys")
app.command("send")(cli_hotline.send)
app.command("inbox")(cli_hotline.inbox)
app.command("ack")(cli_hotline.ack)


@keys_app.command("register")
def keys_register(
    public: Annotated[Path, typer.Argument(help="A NAME.pub file of `keys generate`.")],
    party: Annotated[str, typer.Option(help="The party whose key it is.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Register a party's public key (the operator, on the store; admins can POST /v1/keys).
    From then on the party's submissions must be signed."""
    try:
        text = public.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(InvalidInput(f"cannot read {public}: {exc.strerror}", field="PUBLIC")) from None
    try:
        with open_store(database_url) as uow:
            agreement = stored_agreement(uow)
            key = register_key(uow, party, text, agreement, by=None, now=datetime.now(UTC))
    except DeconflictionError as exc:
        raise fail(exc) from None
    err.print(f"key {key.id} registered for {key.party}")


@officer_app.command("add")
def officer_add(
    party: Annotated[str, typer.Option(help="The officer's party (an id of the agreement).")],
    name: Annotated[str, typer.Option(help="Name as the other side will see it.")],
    role: Annotated[
        Role, typer.Option(help="admin manages officers, officer acts, observer reads.")
    ],
    level: Annotated[int, typer.Option(help="Roster level: 1 duty officer, 2 deputy, …")] = 1,
    json: Annotated[bool, typer.Option("--json", help="Print {officer, token} as JSON.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Add an officer and print its API token (shown once: the store keeps only its hash)."""
    try:
        with open_store(database_url) as uow:
            officer, token = add_officer(
                uow, party=party, name=name, role=role, level=level, by=None, now=datetime.now(UTC)
            )
    except DeconflictionError as exc:
        raise fail(exc) from None
    if json:
        print(orjson.dumps({"officer": officer.to_json(), "token": token}).decode())
    else:
        err.print(f"officer {officer.id} ({officer.name}, {officer.role}) of {officer.party}")
        print(token)


@officer_app.command("list")
def officer_list(
    party: Annotated[str, typer.Option(help="The party whose officers to list.")],
    database_url: DatabaseUrl = None,
) -> None:
    """List a party's officers as JSON lines (tokens are never shown again)."""
    try:
        with open_store(database_url) as uow:
            found = list_officers(uow, party)
    except DeconflictionError as exc:
        raise fail(exc) from None
    sys.stdout.buffer.writelines(
        orjson.dumps(o.to_json(), option=orjson.OPT_APPEND_NEWLINE) for o in found
    )


@officer_app.command("revoke")
def officer_revoke(
    officer_id: Annotated[int, typer.Argument(help="The officer whose token stops working.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke an officer's token at once."""
    try:
        with open_store(database_url) as uow:
            revoke_officer(uow, officer_id, by=None, now=datetime.now(UTC))
    except DeconflictionError as exc:
        raise fail(exc) from None
    err.print(f"officer {officer_id}: token revoked")


@ledger_app.command("export")
def ledger_export(
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write [default: stdout].")
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Write the whole ledger as JSON lines, oldest first."""
    try:
        with open_store(database_url) as uow:
            target = out.open("wb") if out else sys.stdout.buffer
            try:
                after = 0
                while batch := events_for(uow, None, after):
                    target.write(dumps_lines(batch))
                    after = batch[-1].seq
            finally:
                if out:
                    target.close()
    except DeconflictionError as exc:
        raise fail(exc) from None


@ledger_app.command("verify")
def ledger_verify(
    file: Annotated[Path, typer.Argument(help="A ledger export or a party's downloaded feed.")],
    partial: Annotated[
        bool, typer.Option(help="The file starts after entry 1 (a feed fetched with after=N).")
    ] = False,
) -> None:
    """Check the chain, the service's countersignatures and the parties' signatures: exit 0 when
    all hold, 1 naming the first broken entry."""
    try:
        items = loads_lines(file.read_bytes())
    except OSError as exc:
        raise fail(InvalidInput(f"cannot read {file}: {exc.strerror}", field="FILE")) from None
    except DeconflictionError as exc:
        err.print(f"[bold red]broken:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    verdict = verify(items, partial=partial)
    if not verdict.ok:
        err.print(f"[bold red]broken:[/] {verdict.reason}", highlight=False)
        raise typer.Exit(1)
    err.print(
        f"ok: {verdict.entries} entries and {verdict.stubs} stubs, chain intact; "
        f"{verdict.countersigned} countersigned by the service, "
        f"{verdict.signatures} party signatures verified"
    )


@app.command("serve")
def serve(
    database_url: DatabaseUrl = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the REST API (OpenAPI at /openapi.json, docs at /docs) on an initialised store."""
    settings = Settings.from_env()
    if database_url:
        settings = replace(settings, database_url=database_url)
    try:
        stored_agreement(SqlUnitOfWork(create_engine(settings.database_url)))
    except DeconflictionError as exc:
        raise fail(exc) from None
    _run_server(settings, host, port)


@app.command("demo")
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Keep the demo store here [default: a temporary directory]."),
    ] = None,
) -> None:
    """Start the service on a throwaway store with two parties and sample notices over Syria,
    and print the URL and each party's token."""
    from deconfliction.demo import set_up

    with tempfile.TemporaryDirectory(prefix="deconfliction-demo-") as tmp:
        folder = data_dir or Path(tmp)
        settings = Settings(f"sqlite:///{folder / 'demo.db'}", folder)
        engine = create_engine(settings.database_url)
        try:
            made = set_up(SqlUnitOfWork(engine), now=datetime.now(UTC))
        except DeconflictionError as exc:
            raise fail(exc) from None
        finally:
            engine.dispose()
        url = f"http://{host}:{port}"
        say = partial(err.print, highlight=False, soft_wrap=True)
        say(f"[bold]deconfliction demo[/] at {url}  (the console; API docs: {url}/docs)")
        say(f"{made.notices} notices filed, {made.conflicts} conflicts between the parties")
        for party, (officer, token) in made.officers.items():
            say(f"  {party:10s} officer {officer.id}: {token}")
        say(f"  e.g. curl -H 'Authorization: Bearer <token>' {url}/v1/conflicts")
        _run_server(settings, host, port)


def _run_server(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from deconfliction.api import create_app
    from deconfliction.geo.readback import gazetteer
    from deconfliction.tactical.detect import warm_up

    service = create_app(settings)
    gazetteer()  # what the service would load as it starts (places, compiled loops),
    warm_up()  # loaded now to be frozen with the rest: it stays for the process's life
    freeze_heap()
    uvicorn.run(service, host=host, port=port, log_level="warning")


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
