"""The hotline end to end against a real service process and the real clock: a signed FLASH sent
from the command line arrives on the other party's live feed, escalates to the deputy when nobody
answers by its (short) deadline, the sender sees that, a WILCO closes it, and the exported ledger
proves it all and fails verification after a one-byte change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from deconfliction.agreement import loads_agreement
from deconfliction.client import Client
from deconfliction.officers import Role
from deconfliction.service import init_store
from deconfliction.service.officers import add_officer
from deconfliction.store import SqlUnitOfWork, create_engine
from service_process import Server

AGREEMENT = """\
name = "e2e hotline"
[[party]]
id = "coalition"
name = "C"
[[party]]
id = "russia"
name = "R"
[[channel]]
name = "air"
parties = ["coalition", "russia"]
[precedence]
FLASH = "PT2S"
"""


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deconfliction.cli", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def wait_for(probe: Any, what: str, timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def watch(url: str, token: str, arrived: list[dict[str, Any]]) -> None:
    """Collect the party's ``message.sent`` entries from its live feed until the service goes."""
    with Client(url, token) as client:
        try:
            arrived.extend(e for e in client.feed() if e.get("kind") == "message.sent")
        except httpx.HTTPError:
            return  # the service was stopped


def test_flash_escalates_on_the_real_clock_then_wilco_and_the_ledger_proves_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_engine(url)
    uow = SqlUnitOfWork(engine)
    now = datetime.now(UTC)
    init_store(uow, loads_agreement(AGREEMENT), AGREEMENT, now=now)
    tokens = {
        (party, level): add_officer(
            uow,
            party=party,
            name=f"{party} {level}",
            role=Role.ADMIN,
            level=level,
            by=None,
            now=now,
        )[1]
        for party, level in (("coalition", 1), ("russia", 1), ("russia", 2))
    }
    engine.dispose()
    assert cli("keys", "generate", "--out", str(tmp_path / "keys")).returncode == 0
    registered = cli(
        "keys",
        "register",
        str(tmp_path / "keys" / "party.pub"),
        "--party",
        "coalition",
        "--database-url",
        url,
    )
    assert registered.returncode == 0, registered.stderr

    server = Server(url, tmp_path)
    feed: threading.Thread | None = None
    stack = ExitStack()
    try:
        arrived: list[dict[str, Any]] = []
        feed = threading.Thread(target=watch, args=(server.url, tokens[("russia", 1)], arrived))
        feed.start()
        coalition = {
            "DECONFLICTION_URL": server.url,
            "DECONFLICTION_TOKEN": tokens[("coalition", 1)],
            "DECONFLICTION_KEY": str(tmp_path / "keys" / "party.key"),
        }
        unsigned = cli(
            "send",
            "--to",
            "russia",
            "--precedence",
            "FLASH",
            "x",
            env={**coalition, "DECONFLICTION_KEY": ""},
        )
        assert unsigned.returncode == 2 and "header is missing" in unsigned.stderr
        sent = cli(
            "send",
            "--to",
            "russia",
            "--precedence",
            "FLASH",
            "--json",
            "Own aircraft descending through FL200 at grid 37S DA 123 456",
            env=coalition,
        )
        assert sent.returncode == 0, sent.stderr
        message_id = int(json.loads(sent.stdout)["id"])
        wait_for(lambda: any(e["payload"]["id"] == message_id for e in list(arrived)), "the feed")

        sender = stack.enter_context(Client(server.url, tokens[("coalition", 1)]))
        escalated = wait_for(
            lambda: [m for m in sender.messages() if m["id"] == message_id and m["escalations"]],
            "the escalation",
        )
        assert escalated[0]["level"] == 2  # to russia's deputy, and the sender sees it

        deputy = {"DECONFLICTION_URL": server.url, "DECONFLICTION_TOKEN": tokens[("russia", 2)]}
        inbox = cli("inbox", "--json", env=deputy)
        assert inbox.returncode == 0 and f'"id":{message_id}' in inbox.stdout
        wilco = cli("ack", str(message_id), "--reply", "WILCO", env=deputy)
        assert wilco.returncode == 0, wilco.stderr
        closed = next(m for m in sender.messages() if m["id"] == message_id)
        assert closed["status"] == "acknowledged" and closed["acknowledged"]["reply"] == "WILCO"
    finally:
        stack.close()
        server.kill()
        if feed is not None:
            feed.join(10)

    export = tmp_path / "ledger.jsonl"
    assert cli("ledger", "export", "--out", str(export), "--database-url", url).returncode == 0
    ok = cli("ledger", "verify", str(export))
    assert ok.returncode == 0, ok.stderr
    assert "1 party signatures verified" in " ".join(ok.stderr.split())
    data = export.read_bytes()
    at = data.index(b"Own aircraft")
    export.write_bytes(data[:at] + b"0" + data[at + 1 :])
    broken = cli("ledger", "verify", str(export))
    assert broken.returncode == 1 and "broken" in broken.stderr
