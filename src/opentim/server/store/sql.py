"""Queries written once for both engines, and the two drivers that run them.

A repository operation is a generator: it yields ``Query`` objects and receives each one's
result, and returns its answer (``Op``). It never touches a connection, so the same code runs on
SQLite (``run_sync``, on the writer or reader thread) and on PostgreSQL (``run_async``, asyncpg).

The SQL text uses ``?`` placeholders and the few words where the dialects differ are written
the PostgreSQL way, which the SQLite driver translates once per statement text (cached):

- ``GREATEST(`` becomes SQLite's scalar ``max(``; `` FOR UPDATE`` is dropped (SQLite has one
  writer: what it reads stays as read until its COMMIT).
- ``= ANY(?)`` takes a list: PostgreSQL binds an array; SQLite reads it from ``json_each``.
- ``(a, b) IN KEYS(?, ?)`` takes two lists, conversation types and ids, the pairs ``(conv_type,
  conv_id)``: PostgreSQL unnests the two arrays; SQLite tests each column against its list
  first (so the primary key drives the lookup, as it does for one key), then the exact pairs.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, TypeVar

import msgspec

T = TypeVar("T")

Fetch = Literal["all", "one", "val", "exec", "many"]


@dataclass(frozen=True, slots=True)
class Query:
    """One statement and what to bring back: all rows, one row (or None), the first column of
    one row (or None), nothing (``exec``), or nothing for each of many argument rows (``many``,
    whose ``args`` is the list of rows)."""

    sql: str
    args: Sequence[Any] = ()
    fetch: Fetch = "exec"


Op = Generator[Query, Any, T]
"""A repository operation: yields queries, receives their results, returns its answer."""


def rows(sql: str, *args: Any) -> Query:
    return Query(sql, args, "all")


def row(sql: str, *args: Any) -> Query:
    return Query(sql, args, "one")


def value(sql: str, *args: Any) -> Query:
    return Query(sql, args, "val")


def execute(sql: str, *args: Any) -> Query:
    return Query(sql, args, "exec")


def many(sql: str, arg_rows: Sequence[Sequence[Any]]) -> Query:
    return Query(sql, arg_rows, "many")


def done(answer: T) -> Op[T]:
    """An operation that needs no query (a generator all the same)."""
    return answer
    yield  # pragma: no cover


def key_lists(keys: Sequence[tuple[int, str]]) -> tuple[list[int], list[str]]:
    """The two arguments of ``IN KEYS(?, ?)``."""
    return [k[0] for k in keys], [k[1] for k in keys]


# --- SQLite -------------------------------------------------------------------------------
_TOKENS = re.compile(r"\(([\w.]+), ([\w.]+)\) IN KEYS\(\?, \?\)|= ANY\(\?\)|\?")
_json = msgspec.json.Encoder()
Param = tuple[int, bool]
"""Where a SQLite parameter comes from: the index of the query's argument, and whether it is a
list (read through ``json_each``)."""


def _keys_sqlite(a: str, b: str) -> str:
    # Each column's IN list lets the primary key drive the lookup; the last test keeps the
    # exact pairs (a type and an id asked for in different pairs would match the first two).
    return (
        f"{a} IN (SELECT value FROM json_each(?)) AND {b} IN (SELECT value FROM json_each(?)) "
        f"AND ({a}, {b}) IN (SELECT t.value, i.value FROM json_each(?) t "
        "JOIN json_each(?) i ON i.key = t.key)"
    )


@lru_cache(maxsize=1024)
def sqlite_text(sql: str) -> tuple[str, tuple[Param, ...] | None]:
    """The statement in SQLite's words, and where its parameters come from (None: the
    arguments as they are)."""
    params: list[Param] = []
    parts: list[str] = []
    n = 0
    last = 0
    for m in _TOKENS.finditer(sql):
        parts.append(sql[last : m.start()])
        last = m.end()
        token = m.group()
        if token == "?":
            parts.append("?")
            params.append((n, False))
            n += 1
        elif token == "= ANY(?)":
            parts.append("IN (SELECT value FROM json_each(?))")
            params.append((n, True))
            n += 1
        else:
            parts.append(_keys_sqlite(m.group(1), m.group(2)))
            params += [(n, True), (n + 1, True), (n, True), (n + 1, True)]
            n += 2
    parts.append(sql[last:])
    text = "".join(parts).replace("GREATEST(", "max(").replace(" FOR UPDATE", "")
    plain = all(i == k and not is_list for k, (i, is_list) in enumerate(params))
    return text, None if plain else tuple(params)


def _sqlite_args(args: Sequence[Any], params: tuple[Param, ...] | None) -> Sequence[Any]:
    if params is None:
        return args
    return [_json.encode(args[i]).decode() if is_list else args[i] for i, is_list in params]


def sqlite_query(conn: sqlite3.Connection, q: Query) -> Any:
    """Run one query on a sqlite3 connection; its result as ``Query.fetch`` asks."""
    text, params = sqlite_text(q.sql)
    if q.fetch == "many":
        conn.executemany(text, [_sqlite_args(a, params) for a in q.args])
        return None
    cur = conn.execute(text, _sqlite_args(q.args, params))
    if q.fetch == "all":
        return cur.fetchall()
    if q.fetch == "one":
        return cur.fetchone()
    if q.fetch == "val":
        found = cur.fetchone()
        return None if found is None else found[0]
    return None


def run_sync(op: Op[T], conn: sqlite3.Connection) -> T:
    """Drive ``op`` on a sqlite3 connection (on the thread that owns it)."""
    try:
        q = next(op)
        while True:
            q = op.send(sqlite_query(conn, q))
    except StopIteration as stop:
        answer: T = stop.value
        return answer


# --- PostgreSQL ---------------------------------------------------------------------------
_KEYS_PG = "IN (SELECT * FROM unnest(?::int[], ?::text[]))"


@lru_cache(maxsize=1024)
def postgres_text(sql: str) -> str:
    """The statement with PostgreSQL's numbered placeholders."""
    text = sql.replace("IN KEYS(?, ?)", _KEYS_PG)
    parts = text.split("?")
    out = [parts[0]]
    for i, part in enumerate(parts[1:], start=1):
        out.append(f"${i}{part}")
    return "".join(out)


async def postgres_query(conn: Any, q: Query) -> Any:
    """Run one query on an asyncpg connection; its result as ``Query.fetch`` asks."""
    text = postgres_text(q.sql)
    if q.fetch == "many":
        await conn.executemany(text, q.args)
        return None
    if q.fetch == "all":
        return await conn.fetch(text, *q.args)
    if q.fetch == "one":
        return await conn.fetchrow(text, *q.args)
    if q.fetch == "val":
        return await conn.fetchval(text, *q.args)
    await conn.execute(text, *q.args)
    return None


async def run_async(op: Op[T], conn: Any) -> T:
    """Drive ``op`` on an asyncpg connection."""
    try:
        q = next(op)
        while True:
            q = op.send(await postgres_query(conn, q))
    except StopIteration as stop:
        answer: T = stop.value
        return answer
