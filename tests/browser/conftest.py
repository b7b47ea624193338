"""Fixtures for the console's browser tests: an initialised store with a duty officer per party
(and a russia deputy at roster level 2, for escalation), the service running on it, and Debian's
Chromium driven by Playwright. Without Playwright or a ``chromium`` on the PATH the tests skip,
saying why. A test may give its own agreement text with ``indirect`` parametrization of
``tokens_and_server``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from deconfliction.agreement import loads_agreement
from deconfliction.console import STATIC
from deconfliction.officers import Role
from deconfliction.service import init_store
from deconfliction.service.officers import add_officer
from deconfliction.store import SqlUnitOfWork, create_engine
from service_process import Server

from .browser_support import AGREEMENT, ARTIFACTS, CHROMIUM_ARGS


@pytest.fixture
def tokens_and_server(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[dict[str, str], Server]]:
    """A store with an officer of each party (their tokens) and the service running on it."""
    agreement = getattr(request, "param", AGREEMENT)
    url = f"sqlite:///{tmp_path / 'deconfliction.db'}"
    engine = create_engine(url)
    uow = SqlUnitOfWork(engine)
    init_store(uow, loads_agreement(agreement), agreement)
    now = datetime.now(UTC)
    tokens = {
        party: add_officer(
            uow, party=party, name=f"{party} duty officer", role=Role.OFFICER, by=None, now=now
        )[1]
        for party in ("coalition", "russia")
    }
    tokens["russia-deputy"] = add_officer(
        uow, party="russia", name="russia deputy", role=Role.OFFICER, level=2, by=None, now=now
    )[1]
    engine.dispose()
    server = Server(url, tmp_path)
    try:
        yield tokens, server
    finally:
        server.kill()


@pytest.fixture(scope="module")  # not session: its event loop must stop before other tests
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no chromium on the PATH (apt-get install -y chromium)")
    if not (STATIC / "index.html").is_file():
        pytest.fail("the console is not built: run `npm ci && npm run build` in console/")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
