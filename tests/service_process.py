"""``deconfliction serve`` as a real child process, for the end-to-end and browser tests.

The service is stopped only with SIGKILL: no shutdown, no flush, as when a machine dies, so a test
that restarts it proves what survives. Its stderr goes to a file beside the store (a pipe nobody
reads would block a chatty service), and a service that never answers ``/health`` fails with
what it said there.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

START_S = 30.0
"""How long a service may take to answer ``/health`` (the first start compiles numba's loops)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``deconfliction serve`` on ``database_url``, started at once; ``kill`` then ``start``
    brings it back on the same port and store."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.database_url, self.data_dir = database_url, data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        cmd = [sys.executable, "-m", "deconfliction.cli", "serve"]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*cmd, "--database-url", self.database_url, "--port", str(self.port)],
                env={**os.environ, "DECONFLICTION_DATA_DIR": str(self.data_dir)},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the service did not start: {self.log.read_text(errors='replace')}")

    def kill(self) -> None:
        """SIGKILL, and wait for the process to be gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
