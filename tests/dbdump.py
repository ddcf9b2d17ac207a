"""Whole-database snapshots, to assert that a refused request changed nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

Rows = dict[str, list[tuple[Any, ...]]]


def sqlite_dump(path: Path) -> Callable[[], Rows]:
    """Every row of every table of the SQLite file at ``path`` (read-only, beside the server)."""

    def dump() -> Rows:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return {t: sorted(db.execute(f'SELECT * FROM "{t}"'), key=repr) for t in tables}
        finally:
            db.close()

    return dump


def postgres_dump(url: str) -> Callable[[], Awaitable[Rows]]:
    """Every row of every table of the schema ``url`` names."""

    async def dump() -> Rows:
        db = await asyncpg.connect(url)
        try:
            names = await db.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
            out = {}
            for row in names:
                rows = await db.fetch(f'SELECT * FROM "{row[0]}"')
                out[row[0]] = sorted((tuple(r.values()) for r in rows), key=repr)
            return out
        finally:
            await db.close()

    return dump
