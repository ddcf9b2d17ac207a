"""SqliteStore only: the in-place upgrade of a schema-1 file to the conversation state of
issue 3. What the store does with that state is the contract suite's
(tests/backends/test_store_contract.py), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from opentim.protocol import ConvType
from opentim.server.store.schema import MIGRATIONS
from opentim.server.store.sqlite import SqliteStore


async def test_a_schema_1_file_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for sql in MIGRATIONS[0]:
        conn.execute(sql)
    conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    conn.execute("INSERT INTO channels VALUES ('c:1:a:b', 3, 3, 3, 7)")
    conn.execute(
        "INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, deleted, "
        "deleted_up_to, changed) VALUES ('a', 1, 'b', 'c:1:a:b', 1, 2, 5)"
    )
    conn.commit()
    conn.close()
    store = SqliteStore(path)
    await store.open()
    try:
        (conv,) = await store.convs.get_conversations("a", [(ConvType.C2C, "b")])
        assert conv.pos == 7, "the channel's change position starts at its activity"
        assert conv.marks == 0
        assert conv.groups == []
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT cleared_up_to FROM conversations").fetchone() == (2,)
    assert conn.execute("SELECT version FROM schema_version").fetchone() == (len(MIGRATIONS),)
    conn.close()
