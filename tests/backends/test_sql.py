"""The one SQL text both engines run (store/sql.py): the dialect words each driver translates,
and the SQLite driver running an operation with list and key-pair arguments."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from opentim.server.store.sql import (
    Op,
    done,
    execute,
    key_lists,
    many,
    postgres_text,
    row,
    rows,
    run_sync,
    sqlite_text,
    value,
)


def test_postgres_numbers_the_placeholders_and_unnests_key_pairs() -> None:
    assert postgres_text("SELECT a FROM t WHERE b = ? AND c = ANY(?)") == (
        "SELECT a FROM t WHERE b = $1 AND c = ANY($2)"
    )
    assert postgres_text("DELETE FROM t WHERE u = ? AND (x, y) IN KEYS(?, ?)") == (
        "DELETE FROM t WHERE u = $1 AND (x, y) IN (SELECT * FROM unnest($2::int[], $3::text[]))"
    )


def test_sqlite_words_replace_postgresql_ones() -> None:
    text, params = sqlite_text("SELECT GREATEST(a, ?) FROM t WHERE k = ? FOR UPDATE")
    assert text == "SELECT max(a, ?) FROM t WHERE k = ?"
    assert params is None, "plain arguments pass as they are"
    text, params = sqlite_text("SELECT 1 FROM t WHERE a = ? AND b = ANY(?)")
    assert text == "SELECT 1 FROM t WHERE a = ? AND b IN (SELECT value FROM json_each(?))"
    assert params == ((0, False), (1, True))


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    c = sqlite3.connect(":memory:", isolation_level=None)
    c.execute("CREATE TABLE t (u TEXT, x INTEGER, y TEXT, n INTEGER, PRIMARY KEY (u, x, y))")
    yield c
    c.close()


def test_an_operation_runs_on_sqlite_with_lists_and_key_pairs(conn: sqlite3.Connection) -> None:
    def op() -> Op[tuple[int, list[tuple[int, str]], int | None, object]]:
        yield many(
            "INSERT INTO t (u, x, y, n) VALUES (?, ?, ?, ?)",
            [("me", 1, "a", 1), ("me", 2, "a", 2), ("me", 1, "b", 3), ("you", 1, "a", 4)],
        )
        yield execute("UPDATE t SET n = GREATEST(n, ?) WHERE u = ?", 2, "me")
        # (1, "a") and (2, "b") asked: (2, "a") and (1, "b") share a type or an id, not a pair.
        found = yield rows(
            "SELECT x, y FROM t WHERE u = ? AND (x, y) IN KEYS(?, ?) ORDER BY x, y",
            "me",
            *key_lists([(1, "a"), (2, "b")]),
        )
        total = yield value("SELECT sum(n) FROM t WHERE y = ANY(?)", ["a"])
        missing = yield value("SELECT n FROM t WHERE u = ?", "nobody")
        first = yield row("SELECT n FROM t WHERE u = ? AND x = ? AND y = ?", "me", 1, "b")
        assert first == (3,)
        return total, [tuple(r) for r in found], missing, (yield from done("end"))

    total, found, missing, end = run_sync(op(), conn)
    assert found == [(1, "a")]
    assert total == 2 + 2 + 4
    assert missing is None
    assert end == "end"
