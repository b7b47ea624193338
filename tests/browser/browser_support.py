"""Helpers for the console's browser tests: the service as a real process (restartable on the
same port, to cut the live feed), the agreement and a notice to file through the API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ARTIFACTS = Path(__file__).parent / "artifacts"
AGREEMENT = """\
name = "browser"
[[party]]
id = "coalition"
name = "Combined Air Operations Center"
[[party]]
id = "russia"
name = "Air group command"
[separation]
horizontal_m = 18520
vertical_m = 609.6
time_s = 900
[notice_period]
air = "PT1H"
"""
START = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
CHROMIUM_ARGS = [  # no calls home: this machine's network is closed
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``deconfliction serve`` in a child process; ``restart`` keeps the port and the store."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.database_url, self.data_dir = database_url, data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        cmd = [sys.executable, "-m", "deconfliction.cli", "serve"]
        self.proc = subprocess.Popen(
            [*cmd, "--database-url", self.database_url, "--port", str(self.port)],
            env={**os.environ, "DECONFLICTION_DATA_DIR": str(self.data_dir)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the service did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def notice(ref: str, *, lon: float, lat: float, radius_m: float = 20_000) -> dict[str, Any]:
    """A circle from :data:`START` for two hours, 3,000 to 6,000 m."""
    props = {
        "notice": ref,
        "activity": "air",
        "radius_m": radius_m,
        "start": START.isoformat().replace("+00:00", "Z"),
        "end": (START + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        "lower_m": 3000,
        "upper_m": 6000,
    }
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": props,
            }
        ],
    }
