"""The engine fixtures every Store contract test runs on: SQLite file, PostgreSQL schema."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from opentim.server.store.base import Store
from opentim.server.store.postgres import PostgresStore
from opentim.server.store.sqlite import SqliteStore

from ..services import temp_schema

Factory = Callable[[], Store]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Factory]:
    """Makes (unopened) stores of one engine on one private database."""
    if request.param == "sqlite":
        path = tmp_path / "t.db"
        yield lambda: SqliteStore(path)
    else:
        async with temp_schema() as url:
            yield lambda: PostgresStore(url)


@pytest.fixture
async def store(factory: Factory) -> AsyncIterator[Store]:
    s = factory()
    await s.open()
    yield s
    await s.close()
