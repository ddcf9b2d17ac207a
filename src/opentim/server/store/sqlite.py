"""SqliteStore: the embedded default. One file, WAL, ``synchronous=FULL``, one writer.

Only the mechanics live here; every query and rule is in repos/ and protocol/rules, shared with
PostgresStore. Writes go through a group-commit queue (DESIGN §5a): whatever arrived while the
previous transaction was on disk is run as one transaction on the writer thread, then every
caller is answered. A single failing write is rolled back to its savepoint without failing the
others. Reads run on their own connection and thread; WAL lets them proceed while the writer
commits.

The writer alone assigns ``seq`` and the clock, so it keeps channel heads and the clock in
memory: no read before a write on the hot path. Anything the event loop may read (group
members) is updated only after the commit, through ``after`` callbacks.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from opentim.protocol import Message

from ..private import make_private_dir, private_database
from . import identity, writes
from .base import Appended, NewMessage, StoreError
from .engine import GroupCommit, Outcome, Queued
from .repos import Repositories
from .repos.groups import members_of
from .rows import MSG_COLS, MSG_FROM, message_row
from .schema import MIGRATIONS
from .sql import Op, rows, run_sync, sqlite_text
from .writes import ConvKey, Head, WriteTx

T = TypeVar("T")

_SENT = sqlite_text(f"SELECT {MSG_COLS} {MSG_FROM} WHERE m.sender = ? AND m.msg_id = ?")[0]
_INSERT_MESSAGE = sqlite_text(writes.INSERT_MESSAGE)[0]
_INSERT_OWNER = sqlite_text(writes.INSERT_OWNER)[0]
_SENDER_READ = sqlite_text(writes.SENDER_READ)[0]
_INSERT_MENTION = sqlite_text(writes.INSERT_MENTION)[0]
_UPSERT_HEAD = sqlite_text(writes.UPSERT_HEAD)[0]


class _Tx(WriteTx):
    """A batch's transaction on the writer connection; heads come from the store's memory."""

    def __init__(self, store: SqliteStore, conn: sqlite3.Connection) -> None:
        super().__init__(store._clock, store._known_convs)
        self.store = store
        self.conn = conn

    def load_heads(self, channel_ids: list[str]) -> Op[None]:
        cache = self.store._heads
        missing = []
        for channel_id in dict.fromkeys(channel_ids):
            if channel_id in self.heads:
                continue
            head = cache.get(channel_id)
            if head is None:
                missing.append(channel_id)
            else:
                self.heads[channel_id] = head
        if missing:
            found = yield rows(writes.SELECT_HEADS, missing)
            self.loaded_heads(found, missing)
            for channel_id in missing:
                cache[channel_id] = self.heads[channel_id]

    def cached_head(self, channel_id: str) -> Head:
        """The head, read on the spot when not in memory (the hot path's shortcut)."""
        head = self.heads.get(channel_id)
        if head is None:
            run_sync(self.load_heads([channel_id]), self.conn)
            head = self.heads[channel_id]
        return head

    def forget_head(self, channel_id: str) -> None:
        super().forget_head(channel_id)
        self.store._heads.pop(channel_id, None)

    def append_now(self, m: NewMessage, server_time: int) -> Appended:
        """Write ``m`` at once (idempotent on ``(sender, msg_id)``); the head moves only once
        every statement succeeded, so a failed append leaves no gap."""
        conn = self.conn
        head = self.cached_head(m.channel_id)
        owners = [o for o in m.owners if o not in self.known_convs and o not in self.new_convs]
        planned = writes.plan_append(m, head, self.clock + 1, server_time, owners)
        try:
            conn.execute(_INSERT_MESSAGE, planned.message)
        except sqlite3.IntegrityError:
            row = conn.execute(_SENT, (m.sender, m.msg_id)).fetchone()
            if row is None:
                raise
            return Appended(message_row(row), True)
        self.tick()
        if planned.mentions:
            conn.executemany(_INSERT_MENTION, planned.mentions)
        for owner in planned.owners:
            conn.execute(_INSERT_OWNER, owner)
        conn.execute(_SENDER_READ, planned.read)
        self.new_convs.update(owners)
        writes.move_head(head, planned)
        self.dirty.add(m.channel_id)
        return Appended(planned.msg, False)

    def append(self, m: NewMessage, server_time: int) -> Op[Message]:
        return self.append_now(m, server_time).msg
        yield  # pragma: no cover

    def members_changed(self, group_id: str, dismissed: bool = False) -> Op[None]:
        members = None if dismissed else (yield from members_of(group_id))
        cache = self.store._members

        def apply() -> None:
            if members is None:
                cache.pop(group_id, None)
            else:
                cache[group_id] = members

        self.after.append(apply)


class SqliteStore(Repositories):
    """The Store on one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(self)
        self.path = Path(path)
        self._heads: dict[str, Head] = {}
        self._known_convs: set[ConvKey] = set()
        self._members: dict[str, dict[str, int]] = {}
        self.member_cache: dict[str, dict[str, int]] | None = self._members
        self._clock = 0
        self._commits = GroupCommit(self._run_batch, "opentim-sqlite-writer")
        self._wexec = ThreadPoolExecutor(1, thread_name_prefix="opentim-sqlite-writer")
        self._rexec = ThreadPoolExecutor(1, thread_name_prefix="opentim-sqlite-reader")
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None

    # --- lifecycle ------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA foreign_keys = OFF")
        return conn

    def _open_writer(self) -> None:
        conn = self._wconn = self._connect()
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else 0
        for number, steps in enumerate(MIGRATIONS, start=1):
            if number <= version:
                continue
            conn.execute("BEGIN IMMEDIATE")
            for sql in steps:
                conn.execute(sql)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
            conn.execute("COMMIT")
        self._clock = conn.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()[0]
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (identity.KEY, identity.new_database_id()),
        )
        self.db_id = conn.execute(
            "SELECT value FROM meta WHERE key = ?", (identity.KEY,)
        ).fetchone()[0]

    async def open(self) -> None:
        """Create or upgrade the schema and start the writer."""
        make_private_dir(self.path.parent)
        private_database(self.path)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._wexec, self._open_writer)
        self._rconn = await loop.run_in_executor(self._rexec, self._connect)
        self._commits.start()

    async def clock_now(self) -> int:
        """The clock: no committed change has a later position."""
        return self._clock

    async def close(self) -> None:
        """Finish queued writes, then close both connections."""
        await self._commits.stop()
        loop = asyncio.get_running_loop()
        if self._wconn is not None:
            await loop.run_in_executor(self._wexec, self._wconn.close)
            self._wconn = None
        if self._rconn is not None:
            await loop.run_in_executor(self._rexec, self._rconn.close)
            self._rconn = None
        self._wexec.shutdown(wait=True)
        self._rexec.shutdown(wait=True)

    # --- the engine: reads, writes, appends -------------------------------------------------
    def append(self, msg: NewMessage, server_time: int) -> Awaitable[Appended]:
        return self._commits.append(msg, server_time)

    async def write(self, op: Callable[[WriteTx], Op[T]]) -> T:
        return await self._commits.write(op)

    async def read(self, op: Callable[[], Op[T]], *, snapshot: bool = False) -> T:
        conn = self._rconn
        assert conn is not None, "store is not open"

        def run(conn: sqlite3.Connection) -> T:
            if not snapshot:
                return run_sync(op(), conn)
            conn.execute("BEGIN")
            try:
                return run_sync(op(), conn)
            finally:
                conn.execute("COMMIT")

        return await asyncio.get_running_loop().run_in_executor(self._rexec, run, conn)

    async def _run_batch(
        self, batch: list[Queued]
    ) -> tuple[list[Outcome], list[Callable[[], None]]]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._wexec, self._run_batch_now, batch)

    def _run_batch_now(self, batch: list[Queued]) -> tuple[list[Outcome], list[Callable[[], None]]]:
        """Run the batch as one transaction, each item in a savepoint (on the writer thread)."""
        conn = self._wconn
        assert conn is not None
        outcomes: list[Outcome] = []
        tx = _Tx(self, conn)
        clock_before = self._clock
        try:
            conn.execute("BEGIN IMMEDIATE")
            for item in batch:
                mark = None if item.msg is not None else tx.mark()
                conn.execute("SAVEPOINT item")
                try:
                    if item.msg is not None:
                        answer: Any = tx.append_now(item.msg, item.server_time)
                    else:
                        assert item.op is not None
                        answer = run_sync(item.op(tx), conn)
                except Exception as exc:
                    conn.execute("ROLLBACK TO item")
                    conn.execute("RELEASE item")
                    if mark is not None:
                        tx.undo(mark)
                    outcomes.append((False, exc))
                else:
                    conn.execute("RELEASE item")
                    outcomes.append((True, answer))
            conn.executemany(_UPSERT_HEAD, tx.head_rows())
            if tx.clock != clock_before:
                conn.execute("UPDATE meta SET value = ? WHERE key = 'clock'", (tx.clock,))
            # Before COMMIT: clock_now is never below a position a reader can see.
            self._clock = tx.clock
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._heads.clear()
            self._members.clear()
            self._clock = clock_before
            failure = StoreError(f"commit failed: {exc}")
            return [(False, failure)] * len(batch), []
        return outcomes, [*tx.after, tx.remember_convs()]
