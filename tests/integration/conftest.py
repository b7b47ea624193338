"""Fixtures for the store: an engine on each backend and an initialised unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import AGREEMENT_TOML, NOW
from typer.testing import CliRunner

from deconfliction.agreement import Agreement, loads_agreement
from deconfliction.cli import app
from deconfliction.service import init_store
from deconfliction.store import SqlUnitOfWork, create_engine


@pytest.fixture
def agreement() -> Agreement:
    return loads_agreement(AGREEMENT_TOML)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def uow(engine: sa.Engine, agreement: Agreement) -> SqlUnitOfWork:
    """A unit of work on a store initialised with the test agreement."""
    uow = SqlUnitOfWork(engine)
    init_store(uow, agreement, AGREEMENT_TOML, now=NOW)
    return uow


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> str:
    """An initialised store's URL."""
    agreement = tmp_path / "agreement.toml"
    agreement.write_text(AGREEMENT_TOML)
    result = CliRunner().invoke(
        app, ["init", "--agreement", str(agreement), "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    assert "coalition, russia, turkey" in result.stderr
    return database_url
