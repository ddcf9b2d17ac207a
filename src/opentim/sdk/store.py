"""LocalStore: one user's cache on the device (SQLite), so an app starts from it at once.

It holds the conversation snapshots, how far each conversation's messages have been delivered to
the app, recent messages, the sync token, and the outbox of sends not yet acknowledged. The
server stays the source of truth: this is a cache plus a queue, written behind the app's back in
batches (one transaction per batch, on the store's own thread) so the event loop never waits for
the disk. ``flush()`` waits for what was queued.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final, TypeVar

import msgspec

from opentim.protocol import Conversation, Message
from opentim.protocol.ops import OutMessage

T = TypeVar("T")

RECENT_MESSAGES: Final = 50
"""Messages kept per conversation."""

SCHEMA: Final[list[list[str]]] = [
    [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE convs (conv_type INTEGER NOT NULL, conv_id TEXT NOT NULL, "
        "data BLOB NOT NULL, delivered INTEGER NOT NULL, PRIMARY KEY (conv_type, conv_id))",
        "CREATE TABLE messages (conv_type INTEGER NOT NULL, conv_id TEXT NOT NULL, "
        "seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (conv_type, conv_id, seq))",
        "CREATE TABLE outbox (msg_id TEXT PRIMARY KEY, conv_type INTEGER NOT NULL, "
        "conv_id TEXT NOT NULL, data BLOB NOT NULL, queued INTEGER NOT NULL)",
    ],
    [
        # Issue 12: what TIMMsgSetLocalCustomData keeps on this device only.
        "CREATE TABLE local_data (msg_id TEXT PRIMARY KEY, custom_str TEXT NOT NULL, "
        "custom_int INTEGER NOT NULL)",
    ],
]
"""Numbered upgrade steps; ``PRAGMA user_version`` records how many ran."""

_encode = msgspec.msgpack.Encoder().encode
_conv = msgspec.msgpack.Decoder(Conversation)
_msg = msgspec.msgpack.Decoder(Message)
_out = msgspec.msgpack.Decoder(OutMessage)


class LocalData(msgspec.Struct, frozen=True, array_like=True):
    """A message's local custom data (``message_custom_str`` / ``message_custom_int``): kept on
    this device, never sent to the server."""

    custom_str: str = ""
    custom_int: int = 0


class Cached(msgspec.Struct, frozen=True):
    """What a login starts from."""

    token: str
    convs: list[tuple[Conversation, int]]
    """Each snapshot with the seq up to which its messages were delivered to the app."""
    outbox: list[tuple[int, str, OutMessage]]
    local_data: dict[str, LocalData] = msgspec.field(default_factory=dict)
    """What the app attached to messages on this device, by message id."""


class LocalStore:
    """The cache of one user of one app, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._exec = ThreadPoolExecutor(1, thread_name_prefix="opentim-sdk-store")
        self._conn: sqlite3.Connection | None = None
        self._queue: list[Callable[[sqlite3.Connection], None]] = []
        self._idle = asyncio.Event()
        self._idle.set()
        self._writer: asyncio.Task[None] | None = None

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._exec, fn)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for number, steps in enumerate(SCHEMA, start=1):
            if number > version:
                conn.execute("BEGIN")
                for sql in steps:
                    conn.execute(sql)
                conn.execute(f"PRAGMA user_version = {number}")
                conn.execute("COMMIT")
        self._conn = conn

    async def open(self) -> Cached:
        """Open (creating or upgrading the schema) and read what the cache holds."""
        await self._run(self._open)
        return await self._run(self._load)

    def _load(self) -> Cached:
        conn = self._conn
        assert conn is not None
        row = conn.execute("SELECT value FROM meta WHERE key = 'token'").fetchone()
        convs = [(_conv.decode(d), n) for d, n in conn.execute("SELECT data, delivered FROM convs")]
        outbox = [
            (t, i, _out.decode(d))
            for t, i, d in conn.execute(
                "SELECT conv_type, conv_id, data FROM outbox ORDER BY queued"
            )
        ]
        local = {
            i: LocalData(t, n)
            for i, t, n in conn.execute("SELECT msg_id, custom_str, custom_int FROM local_data")
        }
        return Cached(token=row[0] if row else "", convs=convs, outbox=outbox, local_data=local)

    # --- write-behind -----------------------------------------------------------------------
    def _queue_write(self, fn: Callable[[sqlite3.Connection], None]) -> None:
        self._queue.append(fn)
        self._idle.clear()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            await asyncio.get_running_loop().run_in_executor(self._exec, self._write, batch)
        self._idle.set()

    def _write(self, batch: list[Callable[[sqlite3.Connection], None]]) -> None:
        conn = self._conn
        if conn is None:
            return
        conn.execute("BEGIN")
        try:
            for fn in batch:
                fn(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def save_conversations(self, convs: list[tuple[Conversation, int]], token: str | None) -> None:
        """Queue snapshots (with their delivered seq) and, when given, the new sync token."""
        rows = [(c.conv_type, c.conv_id, _encode(c), n) for c, n in convs]

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT OR REPLACE INTO convs (conv_type, conv_id, data, delivered) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )
            if token is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('token', ?)", (token,)
                )

        self._queue_write(write)

    def save_messages(self, key: tuple[int, str], msgs: list[Message]) -> None:
        """Queue messages of one conversation; only the newest RECENT_MESSAGES are kept."""
        rows = [(key[0], key[1], m.seq, _encode(m)) for m in msgs]

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT OR REPLACE INTO messages (conv_type, conv_id, seq, data) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )
            conn.execute(
                "DELETE FROM messages WHERE conv_type = ? AND conv_id = ? AND seq <= ("
                "SELECT max(seq) FROM messages WHERE conv_type = ? AND conv_id = ?) - ?",
                (*key, *key, RECENT_MESSAGES),
            )

        self._queue_write(write)

    def drop_messages(self, keys: list[tuple[int, str]]) -> None:
        """Queue forgetting the cached messages of these conversations (their history on the
        server was replaced)."""

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany("DELETE FROM messages WHERE conv_type = ? AND conv_id = ?", keys)

        self._queue_write(write)

    def add_outbox(self, key: tuple[int, str], msg: OutMessage, queued: int) -> None:
        """Queue a send until the server acknowledges it (it survives an app restart)."""
        row = (msg.msg_id, key[0], key[1], _encode(msg), queued)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO outbox (msg_id, conv_type, conv_id, data, queued) "
                "VALUES (?, ?, ?, ?, ?)",
                row,
            )

        self._queue_write(write)

    def save_local_data(self, msg_id: str, data: LocalData) -> None:
        """Queue a message's local custom data."""
        row = (msg_id, data.custom_str, data.custom_int)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO local_data (msg_id, custom_str, custom_int) "
                "VALUES (?, ?, ?)",
                row,
            )

        self._queue_write(write)

    def remove_outbox(self, msg_id: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM outbox WHERE msg_id = ?", (msg_id,))

        self._queue_write(write)

    async def recent_messages(
        self, key: tuple[int, str], before_seq: int, count: int
    ) -> list[Message]:
        """Cached messages of a conversation, newest first, older than ``before_seq``."""
        await self.flush()
        high = before_seq - 1 if before_seq > 0 else 1 << 62

        def read() -> list[Message]:
            conn = self._conn
            assert conn is not None
            rows = conn.execute(
                "SELECT data FROM messages WHERE conv_type = ? AND conv_id = ? AND seq <= ? "
                "ORDER BY seq DESC LIMIT ?",
                (*key, high, count),
            )
            return [_msg.decode(d) for (d,) in rows]

        return await self._run(read)

    async def flush(self) -> None:
        """Wait until everything queued is on disk."""
        await self._idle.wait()

    async def close(self) -> None:
        await self.flush()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await self._run(conn.close)
        self._exec.shutdown(wait=True)


class Cache:
    """The local cache of the user of the moment, as the managers and the sync write to it:
    ``store`` is None when the client keeps everything in memory (every write is then a no-op).
    Snapshots are kept with the seq up to which their messages were ``delivered``."""

    def __init__(self, delivered: Mapping[tuple[int, str], int]) -> None:
        self.store: LocalStore | None = None
        self._delivered = delivered
        self.local: dict[str, LocalData] = {}
        """Local custom data by message id (in memory; on disk too when there is a store)."""

    def set_local_data(self, msg_id: str, data: LocalData) -> None:
        self.local[msg_id] = data
        if self.store is not None:
            self.store.save_local_data(msg_id, data)

    def save_state(self, convs: list[Conversation], token: str | None) -> None:
        """Queue snapshots (and the sync token) for the local cache."""
        if self.store is not None:
            delivered = self._delivered
            self.store.save_conversations(
                [(c, delivered.get((c.conv_type, c.conv_id), c.max_seq)) for c in convs], token
            )

    def save_messages(self, key: tuple[int, str], msgs: list[Message]) -> None:
        if self.store is not None:
            self.store.save_messages(key, msgs)

    def drop_messages(self, keys: list[tuple[int, str]]) -> None:
        if self.store is not None:
            self.store.drop_messages(keys)

    async def recent_messages(self, key: tuple[int, str]) -> list[Message]:
        """Every cached message of ``key``, newest first (none without a cache)."""
        if self.store is None:
            return []
        return await self.store.recent_messages(key, 0, 1 << 20)


def cache_path(data_dir: Path, sdkappid: int, user_id: str) -> Path:
    """One file per app and user (the user id hex-encoded: any printable ASCII is allowed)."""
    return data_dir / f"opentim-{sdkappid}-{user_id.encode().hex()}.db"


__all__ = ["Cache", "Cached", "LocalData", "LocalStore", "cache_path"]
