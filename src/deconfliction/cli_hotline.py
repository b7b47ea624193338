"""Hotline commands: ``send``, ``inbox`` and ``ack`` talk to a running service through
:class:`deconfliction.client.Client`, configured by ``DECONFLICTION_URL``,
``DECONFLICTION_TOKEN`` and, to sign, ``DECONFLICTION_KEY``; ``keys`` makes and registers
signing keys.

Exit codes as everywhere: 0 done, 2 refused (the service's reason and field on stderr), 3 a bug.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import httpx
import orjson
import typer
from rich.console import Console
from rich.table import Table

from deconfliction import signing
from deconfliction.client import ApiError, Client
from deconfliction.hotline import Precedence, Reply

err = Console(stderr=True)
out = Console()
keys_app = typer.Typer(
    help="Ed25519 keys a party signs its submissions with.", no_args_is_help=True
)
COLOURS = {"FLASH": "bold red", "IMMEDIATE": "yellow", "PRIORITY": "cyan", "ROUTINE": "white"}


def _client() -> Client:
    try:
        return Client.from_env()
    except ApiError as exc:
        err.print(f"[bold red]error:[/] {exc.detail}", highlight=False)
        raise typer.Exit(2) from None
    except (OSError, ValueError) as exc:
        err.print(f"[bold red]error:[/] DECONFLICTION_KEY: {exc}", highlight=False)
        raise typer.Exit(2) from None


def _refused(exc: ApiError | httpx.HTTPError) -> typer.Exit:
    if isinstance(exc, ApiError):
        where = f" [{exc.field}]" if exc.field else ""
        err.print(f"[bold red]refused ({exc.status}){where}:[/] {exc.detail}", highlight=False)
    else:
        err.print(f"[bold red]error:[/] cannot reach the service: {exc}", highlight=False)
    return typer.Exit(2)


def send(
    text: Annotated[str, typer.Argument(help="The message, as written.")],
    to: Annotated[str, typer.Option("--to", help="The receiving party.")],
    precedence: Annotated[Precedence, typer.Option(help="Sets the acknowledgement deadline.")],
    channel: Annotated[
        str | None, typer.Option(help="An agreed channel [default: the first one].")
    ] = None,
    translation: Annotated[str | None, typer.Option(help="A translation kept beside it.")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the stored message as JSON.")] = False,
) -> None:
    """Send a message to another party's duty officers."""
    with _client() as client:
        try:
            m = client.send(
                to, text, precedence=precedence.value, channel=channel, translation=translation
            )
        except (ApiError, httpx.HTTPError) as exc:
            raise _refused(exc) from None
    if json:
        print(orjson.dumps(m).decode())
    else:
        err.print(
            f"message {m['id']} sent to {m['to']} on {m['channel']}, deadline {m['deadline']}"
        )


def inbox(
    json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    open_only: Annotated[
        bool, typer.Option("--open", help="Only messages still awaiting an answer.")
    ] = False,
) -> None:
    """Messages to your party (this confirms their receipt to the sender)."""
    with _client() as client:
        try:
            found = client.inbox(open_only=open_only)
        except (ApiError, httpx.HTTPError) as exc:
            raise _refused(exc) from None
    keys = ("id", "from", "to", "channel", "precedence", "status", "deadline", "kind", "text")
    if json:
        for m in found:
            print(orjson.dumps({k: m.get(k) for k in keys}).decode())
        return
    table = Table("id", "from", "channel", "precedence", "status", "deadline", "text")
    for m in found:
        colour = COLOURS.get(m["precedence"], "white")
        table.add_row(
            str(m["id"]),
            m["from"] or "service",
            m["channel"] or "-",
            f"[{colour}]{m['precedence']}[/]",
            m["status"],
            m["deadline"],
            m["text"],
        )
    out.print(table)


def ack(
    message_id: Annotated[int, typer.Argument(help="The message to answer.")],
    reply: Annotated[Reply, typer.Option(help="ROGER understood, WILCO will comply, UNABLE no.")],
    comment: Annotated[str | None, typer.Option(help="Required with UNABLE: why.")] = None,
) -> None:
    """Answer a message addressed to your party."""
    with _client() as client:
        try:
            m = client.ack(message_id, reply.value, comment)
        except (ApiError, httpx.HTTPError) as exc:
            raise _refused(exc) from None
    err.print(f"message {m['id']}: {m['acknowledged']['reply']} at {m['acknowledged']['at']}")


@keys_app.command("generate")
def keys_generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the key files.")],
    name: Annotated[str, typer.Option(help="File name stem.")] = "party",
) -> None:
    """Make an Ed25519 key pair: NAME.key (private, PEM, mode 600) and NAME.pub (base64)."""
    private, public = out_dir / f"{name}.key", out_dir / f"{name}.pub"
    if private.exists():
        err.print(f"[bold red]error:[/] {private} exists; not overwriting a key", highlight=False)
        raise typer.Exit(2)
    out_dir.mkdir(parents=True, exist_ok=True)
    key = signing.generate()
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(signing.private_pem(key))
    public.write_text(signing.public_b64(key) + "\n")
    err.print(f"wrote {private} and {public}; key id {signing.key_id(signing.public_b64(key))}")
