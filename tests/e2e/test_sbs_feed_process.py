"""A live SBS-1 feed (as dump1090 serves on port 30003) forwarded into a real service by
``deconfliction tracks feed``: two observed aircraft converge and the reporting party is told of
their encounter; a malformed line is counted, not fatal."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from deconfliction.agreement import loads_agreement
from deconfliction.client import Client
from deconfliction.officers import Role
from deconfliction.service import init_store
from deconfliction.service.officers import add_officer
from deconfliction.store import SqlUnitOfWork, create_engine
from service_process import Server

AGREEMENT = """name = "e2e sbs"
[[party]]
id = "coalition"
name = "C"
[[party]]
id = "russia"
name = "R"
"""


def msg3(hex_: str, lon: float) -> str:
    return f"MSG,3,1,1,{hex_},1,2024/05/01,12:00:00.000,,,,30000,,,35.0,{lon},,,0,0,0,0"


def msg4(hex_: str, trk: int) -> str:
    return f"MSG,4,1,1,{hex_},1,2024/05/01,12:00:00.500,,,,,400,{trk},,,0,,0,0,0,0"


def serve_once(lines: list[str]) -> int:
    """A one-connection SBS-1 server on a free port: sends ``lines``, then closes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def run() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                conn.sendall("".join(f"{line}\r\n" for line in lines).encode())

    threading.Thread(target=run, daemon=True).start()
    return int(listener.getsockname()[1])


def test_a_live_sbs_feed_reaches_the_service_and_its_encounters_the_party(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_engine(url)
    now = datetime.now(UTC)
    init_store(SqlUnitOfWork(engine), loads_agreement(AGREEMENT), AGREEMENT, now=now)
    _, token = add_officer(
        SqlUnitOfWork(engine), party="russia", name="radar", role=Role.OFFICER, by=None, now=now
    )
    engine.dispose()
    port = serve_once(
        [msg3("AAAAAA", 38.0), msg4("AAAAAA", 90), "MSG,3,garbage", msg3("BBBBBB", 38.3),
         msg4("BBBBBB", 270)]
    )  # fmt: skip
    server = Server(url, tmp_path)
    try:
        fed = subprocess.run(
            [sys.executable, "-m", "deconfliction.cli", "tracks", "feed", f"127.0.0.1:{port}",
             "--observed"],
            env={**os.environ, "DECONFLICTION_URL": server.url, "DECONFLICTION_TOKEN": token},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert fed.returncode == 0, fed.stderr
        said = " ".join(fed.stderr.split())
        assert "4 reports stored" in said and "1 malformed lines skipped" in said
        with Client(server.url, token) as client:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not client.encounters():
                time.sleep(0.2)
            (e,) = client.encounters()
        assert {e["a"]["track"], e["b"]["track"]} == {"AAAAAA", "BBBBBB"}
        assert e["a"]["party"] is None and e["b"]["party"] is None  # observed, unattributed
    finally:
        server.kill()
