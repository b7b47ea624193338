"""Fixtures for the store: an engine on each backend and an initialised unit of work."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from support import AGREEMENT_TOML, NOW

from deconfliction.agreement import Agreement, loads_agreement
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
