"""SqliteStore: the embedded default. One file, WAL, ``synchronous=FULL``, one writer.

Writes go through a group-commit queue (DESIGN §5a): whatever arrived while the previous
transaction was on disk is run as one transaction on the writer thread, then every caller is
answered. A single failing write is rolled back to its savepoint without failing the others.
Reads run on their own connection and thread; WAL lets them proceed while the writer commits.

The writer alone assigns ``seq`` and the clock, so it keeps channel heads in memory: no read
before a write on the hot path. Anything the event loop may read (group members) is updated only
after the commit, through ``after`` callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from opentim.protocol import (
    AT_ALL,
    AtInfo,
    AtType,
    Conversation,
    ConvType,
    GroupInfo,
    Mark,
    Message,
    Profile,
    SyncToken,
    channel_of,
    group_channel,
)
from opentim.protocol.cursors import FRESH, FULL, INCREMENTAL
from opentim.protocol.limits import MAX_AT_INFO

from ..private import make_private_dir, private_database
from . import identity
from .base import (
    Appended,
    ConvChange,
    DuplicateConvGroupError,
    DuplicateGroupError,
    GroupRow,
    Key,
    NewMessage,
    Revoked,
    StoreError,
)
from .rows import (
    CONV_EXTRA,
    CONV_SELECT,
    FLAG_EXCLUDED_LAST,
    FLAG_EXCLUDED_UNREAD,
    FLAG_TIPS,
    MENTION_ALL,
    MSG_COLS,
    conversation_row,
    from_db_u64,
    joined_group,
    message_row,
    stored_message,
    strs_decoder,
    to_db_u64,
)
from .schema import MIGRATIONS

T = TypeVar("T")

_json = msgspec.json.Encoder()
_profile_decoder = msgspec.json.Decoder(Profile)
_POS = "max(c.changed, CASE WHEN c.end_seq IS NULL THEN h.changed ELSE c.end_activity END)"
_NOT_DELETED = (
    "NOT EXISTS (SELECT 1 FROM msg_deletions d WHERE d.user_id = ? "
    "AND d.channel_id = m.channel_id AND d.seq = m.seq)"
)


class _Head:
    """A channel head, as the writer knows it."""

    __slots__ = ("activity", "changed", "count", "in_db", "last_seq", "max_seq", "owners")

    def __init__(
        self, max_seq: int, count: int, last_seq: int, activity: int, changed: int, in_db: bool
    ):
        self.max_seq = max_seq
        self.count = count
        self.last_seq = last_seq
        self.activity = activity
        self.changed = changed
        self.in_db = in_db
        self.owners: set[str] = set()


class _Tx:
    """What a write function sees: the connection, the clock, and post-commit actions."""

    def __init__(self, store: SqliteStore, conn: sqlite3.Connection) -> None:
        self.store = store
        self.conn = conn
        self.after: list[Callable[[], None]] = []

    def tick(self) -> int:
        self.store._clock += 1
        self.store._clock_dirty = True
        return self.store._clock

    def head(self, channel_id: str) -> _Head:
        heads = self.store._heads
        head = heads.get(channel_id)
        if head is None:
            row = self.conn.execute(
                "SELECT max_seq, count, last_seq, activity, changed FROM channels "
                "WHERE channel_id = ?",
                (channel_id,),
            ).fetchone()
            head = (
                _Head(row[0], row[1], row[2], row[3], row[4], True)
                if row
                else _Head(0, 0, 0, 0, 0, False)
            )
            if row and channel_id.startswith("c:"):
                owners = self.conn.execute(
                    "SELECT user_id FROM conversations WHERE channel_id = ?", (channel_id,)
                )
                head.owners.update(u for (u,) in owners)
            heads[channel_id] = head
        return head

    def save_head(self, channel_id: str, head: _Head) -> None:
        """Mark the head changed; the batch writes each changed head once, before it commits."""
        self.store._dirty[channel_id] = head


class SqliteStore:
    """The Store on one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._heads: dict[str, _Head] = {}
        self._dirty: dict[str, _Head] = {}
        self._members: dict[str, dict[str, int]] = {}
        self._clock = 0
        self._clock_dirty = False
        self.db_id = 0
        """This database's identity (store/identity.py), read at ``open``."""
        self._queue: list[tuple[Callable[[_Tx], Any], asyncio.Future[Any]]] = []
        self._wake = asyncio.Event()
        self._writer_task: asyncio.Task[None] | None = None
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
        self._writer_task = asyncio.create_task(self._writer(), name="opentim-sqlite-writer")

    async def clock_now(self) -> int:
        """The clock: no committed change has a later position."""
        return self._clock

    async def rotate_database_id(self) -> int:
        """Give the database a new identity (after restoring a backup); returns it."""
        db_id = identity.new_database_id()

        def write(tx: _Tx) -> None:
            tx.conn.execute("UPDATE meta SET value = ? WHERE key = ?", (db_id, identity.KEY))

        await self._write(write)
        self.db_id = db_id
        return db_id

    async def close(self) -> None:
        """Finish queued writes, then close both connections."""
        if self._writer_task is not None:
            await self._write(lambda tx: None)  # everything queued before it commits with it
            self._writer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer_task
            self._writer_task = None
        loop = asyncio.get_running_loop()
        if self._wconn is not None:
            await loop.run_in_executor(self._wexec, self._wconn.close)
            self._wconn = None
        if self._rconn is not None:
            await loop.run_in_executor(self._rexec, self._rconn.close)
            self._rconn = None
        self._wexec.shutdown(wait=True)
        self._rexec.shutdown(wait=True)

    # --- the two paths ----------------------------------------------------------------------
    def _submit(self, fn: Callable[[_Tx], T]) -> asyncio.Future[T]:
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((fn, fut))
        self._wake.set()
        return fut

    async def _write(self, fn: Callable[[_Tx], T]) -> T:
        return await self._submit(fn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._rconn
        assert conn is not None, "store is not open"
        return await asyncio.get_running_loop().run_in_executor(self._rexec, fn, conn)

    async def _writer(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            if not batch:
                continue
            outcomes, after = await loop.run_in_executor(self._wexec, self._run_batch, batch)
            for action in after:
                action()
            for (_, fut), (ok, value) in zip(batch, outcomes, strict=True):
                if fut.done():
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)

    def _run_batch(
        self, batch: list[tuple[Callable[[_Tx], Any], asyncio.Future[Any]]]
    ) -> tuple[list[tuple[bool, Any]], list[Callable[[], None]]]:
        conn = self._wconn
        assert conn is not None
        outcomes: list[tuple[bool, Any]] = []
        after: list[Callable[[], None]] = []
        clock_before = self._clock
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, _ in batch:
                tx = _Tx(self, conn)
                conn.execute("SAVEPOINT item")
                try:
                    value = fn(tx)
                except Exception as exc:
                    conn.execute("ROLLBACK TO item")
                    conn.execute("RELEASE item")
                    outcomes.append((False, exc))
                else:
                    conn.execute("RELEASE item")
                    outcomes.append((True, value))
                    after.extend(tx.after)
            self._write_heads(conn)
            if self._clock_dirty:
                conn.execute("UPDATE meta SET value = ? WHERE key = 'clock'", (self._clock,))
                self._clock_dirty = False
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._heads.clear()
            self._dirty.clear()
            self._members.clear()
            self._clock = clock_before
            self._clock_dirty = False
            failure = StoreError(f"commit failed: {exc}")
            return [(False, failure)] * len(batch), []
        return outcomes, after

    def _write_heads(self, conn: sqlite3.Connection) -> None:
        dirty, self._dirty = self._dirty, {}
        new = [(cid, h) for cid, h in dirty.items() if not h.in_db]
        conn.executemany(
            "UPDATE channels SET max_seq = ?, count = ?, last_seq = ?, activity = ?, changed = ? "
            "WHERE channel_id = ?",
            [
                (h.max_seq, h.count, h.last_seq, h.activity, h.changed, cid)
                for cid, h in dirty.items()
                if h.in_db
            ],
        )
        conn.executemany(
            "INSERT INTO channels (channel_id, max_seq, count, last_seq, activity, changed) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(cid, h.max_seq, h.count, h.last_seq, h.activity, h.changed) for cid, h in new],
        )
        for _, head in new:
            head.in_db = True

    # --- users ------------------------------------------------------------------------------
    async def ensure_user(self, user_id: str, create: bool) -> Profile | None:
        """The user's profile; with ``create``, a new account for an unknown id."""

        def read(conn: sqlite3.Connection) -> Profile | None:
            row = conn.execute("SELECT profile FROM users WHERE user_id = ?", (user_id,)).fetchone()
            return _profile_decoder.decode(row[0]) if row else None

        profile = await self._read(read)
        if profile is not None or not create:
            return profile

        def write(tx: _Tx) -> Profile:
            fresh = Profile(user_id=user_id)
            tx.conn.execute(
                "INSERT OR IGNORE INTO users (user_id, profile, created) VALUES (?, ?, ?)",
                (user_id, _json.encode(fresh), 0),
            )
            return fresh

        await self._write(write)
        return await self._read(read)

    async def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        def read(conn: sqlite3.Connection) -> dict[str, Profile]:
            marks = ",".join("?" * len(user_ids))
            rows = conn.execute(
                f"SELECT user_id, profile FROM users WHERE user_id IN ({marks})", user_ids
            )
            return {u: _profile_decoder.decode(p) for u, p in rows}

        return await self._read(read) if user_ids else {}

    async def update_profile(self, user_id: str, changes: dict[str, Any]) -> Profile:
        def write(tx: _Tx) -> Profile:
            row = tx.conn.execute(
                "SELECT profile FROM users WHERE user_id = ?", (user_id,)
            ).fetchone()
            if row is None:
                raise StoreError(f"no user {user_id!r}")
            profile = msgspec.structs.replace(_profile_decoder.decode(row[0]), **changes)
            tx.conn.execute(
                "UPDATE users SET profile = ? WHERE user_id = ?", (_json.encode(profile), user_id)
            )
            return profile

        return await self._write(write)

    # --- messages ---------------------------------------------------------------------------
    def _append(self, tx: _Tx, m: NewMessage, server_time: int) -> Appended:
        conn = tx.conn
        head = tx.head(m.channel_id)
        countable = not (m.excluded_from_unread or m.is_tips)
        seq = head.max_seq + 1
        count = head.count + (1 if countable else 0)
        activity = tx.tick()
        flags = (
            (FLAG_EXCLUDED_UNREAD if m.excluded_from_unread else 0)
            | (FLAG_EXCLUDED_LAST if m.excluded_from_last else 0)
            | (FLAG_TIPS if m.is_tips else 0)
        )
        try:
            conn.execute(
                "INSERT INTO messages (channel_id, seq, msg_id, conv_type, sender, receiver, "
                "count, activity, server_time, client_time, random, priority, platform, flags, "
                "elems, cloud_custom_data, at_users) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    m.channel_id,
                    seq,
                    m.msg_id,
                    m.conv_type,
                    m.sender,
                    m.receiver,
                    count,
                    activity,
                    server_time,
                    to_db_u64(m.client_time),
                    to_db_u64(m.random),
                    m.priority,
                    m.platform,
                    flags,
                    _json.encode(m.elems),
                    m.cloud_custom_data,
                    _json.encode(m.at_users),
                ),
            )
        except sqlite3.IntegrityError:
            row = conn.execute(
                f"SELECT {MSG_COLS} FROM messages m LEFT JOIN users u ON u.user_id = m.sender "
                "WHERE m.sender = ? AND m.msg_id = ?",
                (m.sender, m.msg_id),
            ).fetchone()
            if row is None:
                raise
            return Appended(message_row(row), True)
        if m.at_users and m.conv_type == ConvType.GROUP:
            mentioned = {MENTION_ALL if u == AT_ALL else u for u in m.at_users} - {m.sender}
            conn.executemany(
                "INSERT OR IGNORE INTO mentions (channel_id, user_id, seq) VALUES (?, ?, ?)",
                [(m.channel_id, u, seq) for u in mentioned],
            )
        new_owners = [o for o in m.owners if o[0] not in head.owners]
        for user_id, conv_type, conv_id in new_owners:
            conn.execute(
                "INSERT OR IGNORE INTO conversations (user_id, conv_type, conv_id, channel_id, "
                "changed) VALUES (?, ?, ?, ?, ?)",
                (user_id, conv_type, conv_id, m.channel_id, activity),
            )
        conn.execute(
            "UPDATE conversations SET read_seq = ?, read_count = ? "
            "WHERE user_id = ? AND conv_type = ? AND conv_id = ?",
            (seq, count, m.sender, m.conv_type, m.receiver),
        )
        # The cache changes only once every statement has succeeded: a failed item leaves no gap.
        head.owners.update(o[0] for o in new_owners)
        head.max_seq, head.count, head.activity, head.changed = seq, count, activity, activity
        if not m.excluded_from_last:
            head.last_seq = seq
        tx.save_head(m.channel_id, head)
        msg = stored_message(m, seq, count, activity, server_time)
        return Appended(msg, False)

    def append(self, msg: NewMessage, server_time: int) -> asyncio.Future[Appended]:
        """Queue a message (idempotent on ``(sender, msg_id)``); the future resolves once durable.

        Queued synchronously, so messages get their seqs in the order ``append`` was called.
        """
        return self._submit(lambda tx: self._append(tx, msg, server_time))

    async def history(
        self, user_id: str, conv_type: int, conv_id: str, before_seq: int, count: int
    ) -> list[Message]:
        high = before_seq - 1 if before_seq > 0 else (1 << 62)
        return await self._read(
            lambda conn: self._messages(conn, user_id, conv_type, conv_id, 0, high, count, "DESC")
        )

    async def messages_after(
        self, user_id: str, conv_type: int, conv_id: str, after_seq: int, count: int
    ) -> list[Message]:
        return await self._read(
            lambda conn: self._messages(
                conn, user_id, conv_type, conv_id, after_seq, 1 << 62, count, "ASC"
            )
        )

    @staticmethod
    def _messages(
        conn: sqlite3.Connection,
        user_id: str,
        conv_type: int,
        conv_id: str,
        low: int,
        high: int,
        count: int,
        order: str,
    ) -> list[Message]:
        """Messages with ``low < seq <= high`` that the user may see: after their deletion
        or cleared history, not past the point they left the group, not deleted by them."""
        row = conn.execute(
            "SELECT cleared_up_to, end_seq FROM conversations "
            "WHERE user_id = ? AND conv_type = ? AND conv_id = ?",
            (user_id, conv_type, conv_id),
        ).fetchone()
        if row is None:
            return []
        low = max(low, row[0])
        if row[1] is not None:
            high = min(high, row[1])
        rows = conn.execute(
            f"SELECT {MSG_COLS} FROM messages m LEFT JOIN users u ON u.user_id = m.sender "
            f"WHERE m.channel_id = ? AND m.seq > ? AND m.seq <= ? AND {_NOT_DELETED} "
            f"ORDER BY m.seq {order} LIMIT ?",
            (channel_of(user_id, conv_type, conv_id), low, high, user_id, count),
        )
        return [message_row(r) for r in rows]

    async def get_message(self, channel_id: str, seq: int) -> Message | None:
        def read(conn: sqlite3.Connection) -> Message | None:
            row = conn.execute(
                f"SELECT {MSG_COLS} FROM messages m LEFT JOIN users u ON u.user_id = m.sender "
                "WHERE m.channel_id = ? AND m.seq = ?",
                (channel_id, seq),
            ).fetchone()
            return message_row(row) if row else None

        return await self._read(read)

    async def revoke_message(
        self, channel_id: str, seq: int, revoker: str, reason: str
    ) -> Revoked | None:
        """Empty the message's elements and record who revoked it. The channel's change
        position moves (so every member's snapshot is new), its order key does not."""

        def write(tx: _Tx) -> int | None:
            cur = tx.conn.execute(
                "UPDATE messages SET elems = '[]', revoker = ?, revoke_reason = ? "
                "WHERE channel_id = ? AND seq = ? AND revoker = ''",
                (revoker, reason, channel_id, seq),
            )
            if cur.rowcount == 0:
                return None
            head = tx.head(channel_id)
            head.changed = tx.tick()
            tx.save_head(channel_id, head)
            return head.changed

        pos = await self._write(write)
        if pos is None:
            return None
        msg = await self.get_message(channel_id, seq)
        return None if msg is None else Revoked(msg, pos)

    async def delete_messages(
        self, user_id: str, conv_type: int, conv_id: str, seqs: list[int]
    ) -> Conversation | None:
        channel_id = channel_of(user_id, conv_type, conv_id)

        def write(tx: _Tx) -> bool:
            row = tx.conn.execute(
                "SELECT 1 FROM conversations WHERE user_id = ? AND conv_type = ? AND conv_id = ?",
                (user_id, conv_type, conv_id),
            ).fetchone()
            if row is None:
                return False
            tx.conn.executemany(
                "INSERT OR IGNORE INTO msg_deletions (user_id, channel_id, seq) VALUES (?, ?, ?)",
                [(user_id, channel_id, seq) for seq in seqs],
            )
            tx.conn.execute(
                "UPDATE conversations SET changed = ? "
                "WHERE user_id = ? AND conv_type = ? AND conv_id = ?",
                (tx.tick(), user_id, conv_type, conv_id),
            )
            return True

        if not await self._write(write):
            return None
        found = await self.get_conversations(user_id, [(conv_type, conv_id)])
        return found[0] if found else None

    async def messages_between(self, channel_id: str, after_seq: int, to_seq: int) -> list[Message]:
        def read(conn: sqlite3.Connection) -> list[Message]:
            rows = conn.execute(
                f"SELECT {MSG_COLS} FROM messages m LEFT JOIN users u ON u.user_id = m.sender "
                "WHERE m.channel_id = ? AND m.seq > ? AND m.seq <= ? ORDER BY m.seq",
                (channel_id, after_seq, to_seq),
            )
            return [message_row(r) for r in rows]

        return await self._read(read)

    # --- conversations ----------------------------------------------------------------------
    async def get_conversations(
        self, user_id: str, keys: list[tuple[int, str]]
    ) -> list[Conversation]:
        """The user's conversations among ``keys``, in the order asked; unknown ones omitted."""

        def read(conn: sqlite3.Connection) -> list[Conversation]:
            return self._snapshots(conn, user_id, keys)

        return await self._read(read) if keys else []

    @staticmethod
    def _snapshots(
        conn: sqlite3.Connection, user_id: str, keys: list[tuple[int, str]]
    ) -> list[Conversation]:
        found: list[Conversation] = []
        for conv_type, conv_id in keys:
            row = conn.execute(
                CONV_SELECT + " WHERE c.user_id = ? AND c.conv_type = ? AND c.conv_id = ?",
                (user_id, conv_type, conv_id),
            ).fetchone()
            if row is None:
                continue
            conv = conversation_row(row)
            channel_id, cleared = row[CONV_EXTRA + 7], row[CONV_EXTRA + 5]
            if row[CONV_EXTRA + 6] is not None:
                # The last message was deleted for this user: the one before it follows.
                conv.last_msg = SqliteStore._last_kept(conn, user_id, channel_id, row[21], cleared)
            if conv_type == ConvType.GROUP and not conv.deleted and conv.max_seq > conv.read_seq:
                conv.at_info = SqliteStore._at_info(
                    conn, user_id, channel_id, max(conv.read_seq, cleared), conv.max_seq
                )
            found.append(conv)
        return found

    @staticmethod
    def _last_kept(
        conn: sqlite3.Connection, user_id: str, channel_id: str, below: int, cleared: int
    ) -> Message | None:
        row = conn.execute(
            f"SELECT {MSG_COLS} FROM messages m LEFT JOIN users u ON u.user_id = m.sender "
            f"WHERE m.channel_id = ? AND m.seq < ? AND m.seq > ? AND m.flags & ? = 0 "
            f"AND {_NOT_DELETED} ORDER BY m.seq DESC LIMIT 1",
            (channel_id, below, cleared, FLAG_EXCLUDED_LAST, user_id),
        ).fetchone()
        return message_row(row) if row else None

    @staticmethod
    def _at_info(
        conn: sqlite3.Connection, user_id: str, channel_id: str, after: int, upto: int
    ) -> list[AtInfo]:
        """Pending mentions of ``user_id`` (or @all) with ``after < seq <= upto``: the mentions
        index is written at send time, for the mentioned users only (cost per mention, not per
        member), and read only for group conversations with something unread."""
        rows = conn.execute(
            "SELECT seq, user_id FROM mentions WHERE channel_id = ? AND user_id IN (?, ?) "
            "AND seq > ? AND seq <= ? ORDER BY seq",
            (channel_id, user_id, MENTION_ALL, after, upto),
        ).fetchall()
        by_seq: dict[int, int] = {}
        for seq, who in rows:
            bit = AtType.AT_ALL if who == MENTION_ALL else AtType.AT_ME
            by_seq[seq] = by_seq.get(seq, 0) | bit
        return [AtInfo(seq=seq, at_type=at_type) for seq, at_type in by_seq.items()][-MAX_AT_INFO:]

    async def sync_conversations(
        self, user_id: str, token: SyncToken, limit: int
    ) -> tuple[list[Conversation], SyncToken, bool]:
        """A page of the user's conversations after ``token``.

        A full pass pages by key (each page costs the same, however many conversations the
        user has), then hands over to incremental sync from the clock at the pass's start; an
        incremental page holds the conversations changed after ``token.pos``, oldest change
        first. Each page is read in one transaction, so the clock and the rows agree.
        """

        def read(conn: sqlite3.Connection) -> tuple[list[Conversation], SyncToken, bool]:
            conn.execute("BEGIN")
            try:
                if token.phase != INCREMENTAL:
                    return self._full_page(conn, user_id, token, limit)
                return self._changes_page(conn, user_id, token, limit)
            finally:
                conn.execute("COMMIT")

        return await self._read(read)

    def _full_page(
        self, conn: sqlite3.Connection, user_id: str, token: SyncToken, limit: int
    ) -> tuple[list[Conversation], SyncToken, bool]:
        horizon = token.horizon
        if token.phase == FRESH:
            horizon = conn.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()[0]
        keys = conn.execute(
            "SELECT conv_type, conv_id FROM conversations WHERE user_id = ? "
            "AND (conv_type, conv_id) > (?, ?) ORDER BY conv_type, conv_id LIMIT ?",
            (user_id, token.after_type, token.after_id, limit + 1),
        ).fetchall()
        page = [(t, i) for t, i in keys[:limit]]
        convs = self._snapshots(conn, user_id, page)
        if len(keys) > limit:
            last_type, last_id = page[-1]
            after = SyncToken(phase=FULL, horizon=horizon, after_type=last_type, after_id=last_id)
        else:
            # The pass is complete as of the horizon: what changed since comes incrementally.
            after = SyncToken(phase=INCREMENTAL, pos=horizon)
        return convs, after, True

    def _changes_page(
        self, conn: sqlite3.Connection, user_id: str, token: SyncToken, limit: int
    ) -> tuple[list[Conversation], SyncToken, bool]:
        # Find the page by position first, then build only those snapshots.
        keys = conn.execute(
            f"SELECT c.conv_type, c.conv_id, {_POS} FROM conversations c "
            "JOIN channels h ON h.channel_id = c.channel_id "
            f"WHERE c.user_id = ? AND {_POS} > ? ORDER BY {_POS} LIMIT ?",
            (user_id, token.pos, limit + 1),
        ).fetchall()
        more = len(keys) > limit
        keys = keys[:limit]
        convs = self._snapshots(conn, user_id, [(t, i) for t, i, _ in keys])
        return convs, SyncToken(phase=INCREMENTAL, pos=keys[-1][2]) if keys else token, more

    def _change(
        self, tx: _Tx, user_id: str, conv_type: int, conv_id: str, change: ConvChange
    ) -> bool:
        conn = tx.conn
        where = (user_id, conv_type, conv_id)
        select = (
            "SELECT channel_id, end_seq, deleted, deleted_up_to, marks, hide_seq, draft_time "
            "FROM conversations WHERE user_id = ? AND conv_type = ? AND conv_id = ?"
        )
        row = conn.execute(select, where).fetchone()
        channel_id = channel_of(user_id, conv_type, conv_id)
        if row is None:
            if not (change.create or change.ensure):
                return False
            head = tx.head(channel_id)
            if not head.in_db:
                tx.save_head(channel_id, head)
            clock = tx.tick()
            if change.create:
                conn.execute(
                    "INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, "
                    "read_seq, read_count, bump, changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (*where, channel_id, head.max_seq, head.count, clock, clock),
                )
                head.owners.add(user_id)
                return True
            # Hidden until a message comes: the row only carries settings (a receive option).
            conn.execute(
                "INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, read_seq, "
                "read_count, changed, deleted, deleted_up_to, cleared_up_to) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (*where, channel_id, head.max_seq, head.count, clock, head.max_seq, head.max_seq),
            )
            head.owners.add(user_id)
            row = conn.execute(select, where).fetchone()
        # A deleted conversation with nothing new since is gone: only creating it brings it back.
        tombstone = bool(row[2]) and tx.head(channel_id).max_seq <= row[3]
        if tombstone and not (change.create or change.ensure):
            return False
        sets: list[str] = []
        args: list[Any] = []
        clock = tx.tick()
        if change.create:
            # Re-creating a deleted conversation shows it again (empty) and bumps it.
            if not tombstone:
                return True
            sets += ["deleted = 0", "bump = ?"]
            args.append(clock)
        if change.pinned is not None:
            sets.append("pinned = ?")
            args.append(int(change.pinned))
            if change.pinned:
                sets.append("bump = ?")
                args.append(clock)
        drafting = change.draft is not None or change.clear_draft
        if drafting and change.draft_time < row[6]:
            drafting = False  # a later edit is already stored: this one lost
            if change == ConvChange(
                draft=change.draft, clear_draft=change.clear_draft, draft_time=change.draft_time
            ):
                return True
        if drafting and change.draft is not None:
            sets += ["draft = ?", "bump = ?", "draft_time = ?"]
            args += [_json.encode(change.draft), clock, change.draft_time]
        elif drafting:
            sets += ["draft = NULL", "draft_time = ?"]
            args.append(change.draft_time)
        if change.custom_data is not None:
            sets.append("custom_data = ?")
            args.append(change.custom_data)
        if change.recv_opt is not None:
            sets.append("recv_opt = ?")
            args.append(change.recv_opt)
        end_seq = row[1]
        top = tx.head(channel_id).max_seq if end_seq is None else end_seq
        if change.mark_set or change.mark_clear:
            marks, hide_seq = from_db_u64(row[4]), row[5]
            if marks & Mark.HIDE and top > hide_seq:
                marks &= ~Mark.HIDE  # a message since hiding already showed it again
            marks = (marks | change.mark_set) & ~change.mark_clear
            if change.mark_set & Mark.HIDE:
                hide_seq = top
            sets += ["marks = ?", "hide_seq = ?"]
            args += [to_db_u64(marks), hide_seq]
        if change.read_up_to is not None or change.delete or change.clear_history:
            seq = top if not change.read_up_to else min(change.read_up_to, top)
            count_row = conn.execute(
                "SELECT count FROM messages WHERE channel_id = ? AND seq = ?", (channel_id, seq)
            ).fetchone()
            count = count_row[0] if count_row else 0
            sets += ["read_seq = max(read_seq, ?)", "read_count = max(read_count, ?)"]
            args += [seq, count]
            if change.delete:
                sets += ["deleted = 1", "deleted_up_to = ?", "draft = NULL", "pinned = 0"]
                args.append(seq)
                sets += ["cgroups = '[]'"]
                conn.execute(
                    "DELETE FROM conv_group_items WHERE user_id = ? AND conv_type = ? "
                    "AND conv_id = ?",
                    where,
                )
            if (change.delete and not change.keep_history) or change.clear_history:
                sets.append("cleared_up_to = max(cleared_up_to, ?)")
                args.append(seq)
        sets.append("changed = ?")
        args.append(clock)
        conn.execute(
            f"UPDATE conversations SET {', '.join(sets)} "
            "WHERE user_id = ? AND conv_type = ? AND conv_id = ?",
            (*args, *where),
        )
        return True

    async def change_conversation(
        self, user_id: str, conv_type: int, conv_id: str, change: ConvChange
    ) -> Conversation | None:
        """Apply ``change``; the conversation after it, or None when the user has none."""
        return (await self.change_conversations(user_id, [(conv_type, conv_id)], change))[0]

    async def change_conversations(
        self, user_id: str, keys: list[Key], change: ConvChange
    ) -> list[Conversation | None]:
        """Apply ``change`` to each of ``keys`` in one transaction; snapshots after it."""

        def write(tx: _Tx) -> list[bool]:
            return [self._change(tx, user_id, t, i, change) for t, i in keys]

        found = await self._write(write)
        hit = [key for key, ok in zip(keys, found, strict=True) if ok]
        convs = {(c.conv_type, c.conv_id): c for c in await self.get_conversations(user_id, hit)}
        return [convs.get(key) for key in keys]

    async def count_conversations(
        self, user_id: str, *, marked: bool = False, custom_data: bool = False
    ) -> int:
        cond = "marks != 0" if marked else "custom_data != ''" if custom_data else "1 = 1"

        def read(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                f"SELECT count(*) FROM conversations WHERE user_id = ? AND {cond}", (user_id,)
            ).fetchone()
            return int(row[0])

        return await self._read(read)

    async def recv_opts(self, user_id: str, conv_type: int, conv_ids: list[str]) -> dict[str, int]:
        def read(conn: sqlite3.Connection) -> dict[str, int]:
            marks = ",".join("?" * len(conv_ids))
            rows = conn.execute(
                "SELECT conv_id, recv_opt FROM conversations WHERE user_id = ? AND conv_type = ? "
                f"AND conv_id IN ({marks})",
                (user_id, conv_type, *conv_ids),
            )
            return dict(rows.fetchall())

        return await self._read(read) if conv_ids else {}

    # --- conversation groups ----------------------------------------------------------------
    async def conv_groups(self, user_id: str) -> list[str]:
        def read(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "SELECT name FROM conv_groups WHERE user_id = ? ORDER BY created, name", (user_id,)
            )
            return [name for (name,) in rows]

        return await self._read(read)

    @staticmethod
    def _set_cgroups(tx: _Tx, user_id: str, key: Key, edit: Callable[[list[str]], None]) -> None:
        """Edit one conversation's list of group names, and move its change position."""
        row = tx.conn.execute(
            "SELECT cgroups FROM conversations WHERE user_id = ? AND conv_type = ? AND conv_id = ?",
            (user_id, *key),
        ).fetchone()
        names = strs_decoder.decode(row[0])
        edit(names)
        tx.conn.execute(
            "UPDATE conversations SET cgroups = ?, changed = ? "
            "WHERE user_id = ? AND conv_type = ? AND conv_id = ?",
            (_json.encode(names), tx.tick(), user_id, *key),
        )

    @staticmethod
    def _group_exists(tx: _Tx, user_id: str, name: str) -> bool:
        row = tx.conn.execute(
            "SELECT 1 FROM conv_groups WHERE user_id = ? AND name = ?", (user_id, name)
        ).fetchone()
        return row is not None

    @staticmethod
    def _group_keys(tx: _Tx, user_id: str, name: str) -> list[Key]:
        rows = tx.conn.execute(
            "SELECT conv_type, conv_id FROM conv_group_items WHERE user_id = ? AND name = ? "
            "ORDER BY added",
            (user_id, name),
        )
        return [(t, i) for t, i in rows]

    @staticmethod
    def _live_keys(tx: _Tx, user_id: str, keys: list[Key]) -> list[Key]:
        """Those of ``keys`` the user has a visible conversation for."""
        live: list[Key] = []
        for key in dict.fromkeys(keys):
            row = tx.conn.execute(
                "SELECT channel_id, deleted, deleted_up_to FROM conversations "
                "WHERE user_id = ? AND conv_type = ? AND conv_id = ?",
                (user_id, *key),
            ).fetchone()
            if row is not None and not (row[1] and tx.head(row[0]).max_seq <= row[2]):
                live.append(key)
        return live

    def _add_items(
        self, tx: _Tx, user_id: str, name: str, keys: list[Key], max_items: int
    ) -> tuple[list[Key], list[Key]]:
        present = set(self._group_keys(tx, user_id, name))
        added = [key for key in self._live_keys(tx, user_id, keys) if key not in present]
        for key in added:
            tx.conn.execute(
                "INSERT INTO conv_group_items (user_id, name, conv_type, conv_id, added) "
                "VALUES (?, ?, ?, ?, ?)",
                (user_id, name, *key, tx.tick()),
            )
            self._set_cgroups(tx, user_id, key, lambda names: names.append(name))
        evicted: list[Key] = []
        over = len(present) + len(added) - max_items
        if over > 0:
            evicted = self._group_keys(tx, user_id, name)[:over]
            self._remove_items(tx, user_id, name, evicted)
        return added, evicted

    def _remove_items(self, tx: _Tx, user_id: str, name: str, keys: list[Key]) -> list[Key]:
        removed: list[Key] = []
        for key in dict.fromkeys(keys):
            cur = tx.conn.execute(
                "DELETE FROM conv_group_items WHERE user_id = ? AND name = ? AND conv_type = ? "
                "AND conv_id = ?",
                (user_id, name, *key),
            )
            if cur.rowcount:
                removed.append(key)
                self._set_cgroups(
                    tx, user_id, key, lambda names: names.remove(name) if name in names else None
                )
        return removed

    async def _group_write(
        self, user_id: str, fn: Callable[[_Tx], list[Key] | None]
    ) -> list[Conversation] | None:
        keys = await self._write(fn)
        return None if keys is None else await self.get_conversations(user_id, keys)

    async def create_conv_group(
        self, user_id: str, name: str, keys: list[Key], now: int
    ) -> list[Conversation]:
        def write(tx: _Tx) -> list[Key]:
            if self._group_exists(tx, user_id, name):
                raise DuplicateConvGroupError(name)
            tx.conn.execute(
                "INSERT INTO conv_groups (user_id, name, created) VALUES (?, ?, ?)",
                (user_id, name, tx.tick()),
            )
            return self._add_items(tx, user_id, name, keys, len(keys))[0]

        return await self._group_write(user_id, write) or []

    async def delete_conv_group(self, user_id: str, name: str) -> list[Conversation] | None:
        def write(tx: _Tx) -> list[Key] | None:
            if not self._group_exists(tx, user_id, name):
                return None
            keys = self._remove_items(tx, user_id, name, self._group_keys(tx, user_id, name))
            tx.conn.execute(
                "DELETE FROM conv_groups WHERE user_id = ? AND name = ?", (user_id, name)
            )
            return keys

        return await self._group_write(user_id, write)

    async def rename_conv_group(
        self, user_id: str, name: str, new_name: str
    ) -> list[Conversation] | None:
        def write(tx: _Tx) -> list[Key] | None:
            if not self._group_exists(tx, user_id, name):
                return None
            if self._group_exists(tx, user_id, new_name):
                raise DuplicateConvGroupError(new_name)
            keys = self._group_keys(tx, user_id, name)
            tx.conn.execute(
                "UPDATE conv_groups SET name = ? WHERE user_id = ? AND name = ?",
                (new_name, user_id, name),
            )
            tx.conn.execute(
                "UPDATE conv_group_items SET name = ? WHERE user_id = ? AND name = ?",
                (new_name, user_id, name),
            )

            def rename(names: list[str]) -> None:
                names[names.index(name)] = new_name

            for key in keys:
                self._set_cgroups(tx, user_id, key, rename)
            return keys

        return await self._group_write(user_id, write)

    async def add_to_conv_group(
        self, user_id: str, name: str, keys: list[Key], max_items: int
    ) -> tuple[list[Conversation], list[Conversation]] | None:
        def write(tx: _Tx) -> tuple[list[Key], list[Key]] | None:
            if not self._group_exists(tx, user_id, name):
                return None
            return self._add_items(tx, user_id, name, keys, max_items)

        found = await self._write(write)
        if found is None:
            return None
        added, evicted = found
        return (
            await self.get_conversations(user_id, [k for k in added if k not in evicted]),
            await self.get_conversations(user_id, evicted),
        )

    async def remove_from_conv_group(
        self, user_id: str, name: str, keys: list[Key]
    ) -> list[Conversation] | None:
        def write(tx: _Tx) -> list[Key] | None:
            if not self._group_exists(tx, user_id, name):
                return None
            return self._remove_items(tx, user_id, name, keys)

        return await self._group_write(user_id, write)

    # --- groups -----------------------------------------------------------------------------
    async def get_group(self, group_id: str) -> GroupRow | None:
        def read(conn: sqlite3.Connection) -> GroupRow | None:
            row = conn.execute(
                "SELECT group_id, name, group_type, owner, add_option, face_url, introduction, "
                "notification, create_time FROM groups WHERE group_id = ? AND dismissed = 0",
                (group_id,),
            ).fetchone()
            return GroupRow(*row) if row else None

        return await self._read(read)

    async def get_members(self, group_id: str) -> dict[str, int]:
        """Members and roles; cached, and updated only after each membership commit."""
        cached = self._members.get(group_id)
        if cached is not None:
            return cached

        def read(conn: sqlite3.Connection) -> dict[str, int]:
            rows = conn.execute("SELECT user_id, role FROM members WHERE group_id = ?", (group_id,))
            return dict(rows.fetchall())

        members = await self._read(read)
        return self._members.setdefault(group_id, members)

    async def member_role(self, group_id: str, user_id: str) -> int | None:
        return (await self.get_members(group_id)).get(user_id)

    def _set_members(self, tx: _Tx, group_id: str, members: dict[str, int] | None) -> None:
        def apply() -> None:
            if members is None:
                self._members.pop(group_id, None)
            else:
                self._members[group_id] = members

        tx.after.append(apply)

    def _load_members(self, tx: _Tx, group_id: str) -> dict[str, int]:
        rows = tx.conn.execute("SELECT user_id, role FROM members WHERE group_id = ?", (group_id,))
        return dict(rows.fetchall())

    def _join(self, tx: _Tx, group_id: str, members: dict[str, int], now: int) -> None:
        channel_id = group_channel(group_id)
        head = tx.head(channel_id)
        clock = tx.tick()
        for user_id, role in members.items():
            tx.conn.execute(
                "INSERT INTO members (group_id, user_id, role, join_time) VALUES (?, ?, ?, ?)",
                (group_id, user_id, role, now),
            )
            tx.conn.execute(
                "INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, read_seq, "
                "read_count, changed) VALUES (?, 2, ?, ?, ?, ?, ?) "
                "ON CONFLICT (user_id, conv_type, conv_id) DO UPDATE SET end_seq = NULL, "
                "end_count = NULL, end_activity = NULL, read_seq = excluded.read_seq, "
                "read_count = excluded.read_count, changed = excluded.changed, deleted = 0, "
                "deleted_up_to = excluded.read_seq, cleared_up_to = excluded.read_seq",
                (user_id, group_id, channel_id, head.max_seq, head.count, clock),
            )

    def _end(self, tx: _Tx, group_id: str, user_ids: list[str], tip: Message) -> None:
        clock = tx.tick()
        for user_id in user_ids:
            tx.conn.execute(
                "DELETE FROM members WHERE group_id = ? AND user_id = ?", (group_id, user_id)
            )
            tx.conn.execute(
                "UPDATE conversations SET end_seq = ?, end_count = ?, end_activity = ?, "
                "changed = ? WHERE user_id = ? AND conv_type = 2 AND conv_id = ?",
                (tip.seq, tip.count, tip.activity, clock, user_id, group_id),
            )

    async def create_group(
        self, group: GroupRow, members: dict[str, int], tip: NewMessage, server_time: int
    ) -> Message:
        """Create the group with its members; each gets the conversation, the tip already read."""

        def write(tx: _Tx) -> Message:
            taken = tx.conn.execute(
                "SELECT 1 FROM groups WHERE group_id = ?", (group.group_id,)
            ).fetchone()
            if taken:
                raise DuplicateGroupError(group.group_id)
            tx.conn.execute(
                "INSERT INTO groups (group_id, name, group_type, owner, add_option, face_url, "
                "introduction, notification, create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    group.group_id,
                    group.name,
                    group.group_type,
                    group.owner,
                    group.add_option,
                    group.face_url,
                    group.introduction,
                    group.notification,
                    group.create_time,
                ),
            )
            msg = self._append(tx, tip, server_time).msg
            self._join(tx, group.group_id, members, server_time)
            self._set_members(tx, group.group_id, dict(members))
            return msg

        return await self._write(write)

    async def add_members(
        self, group_id: str, members: dict[str, int], tip: NewMessage, server_time: int
    ) -> Message:
        def write(tx: _Tx) -> Message:
            msg = self._append(tx, tip, server_time).msg
            self._join(tx, group_id, members, server_time)
            self._set_members(tx, group_id, self._load_members(tx, group_id))
            return msg

        return await self._write(write)

    async def remove_members(
        self, group_id: str, user_ids: list[str], tip: NewMessage, server_time: int
    ) -> Message:
        def write(tx: _Tx) -> Message:
            msg = self._append(tx, tip, server_time).msg
            self._end(tx, group_id, user_ids, msg)
            self._set_members(tx, group_id, self._load_members(tx, group_id))
            return msg

        return await self._write(write)

    async def dismiss_group(self, group_id: str, tip: NewMessage, server_time: int) -> Message:
        def write(tx: _Tx) -> Message:
            msg = self._append(tx, tip, server_time).msg
            self._end(tx, group_id, list(self._load_members(tx, group_id)), msg)
            tx.conn.execute("UPDATE groups SET dismissed = 1 WHERE group_id = ?", (group_id,))
            self._set_members(tx, group_id, None)
            return msg

        return await self._write(write)

    async def joined_groups(self, user_id: str) -> list[GroupInfo]:
        def read(conn: sqlite3.Connection) -> list[GroupInfo]:
            rows = conn.execute(
                "SELECT g.group_id, g.name, g.group_type, g.owner, g.add_option, g.face_url, "
                "g.introduction, g.notification, g.create_time, m.role, m.join_time, "
                "h.max_seq, h.count, c.read_seq, c.read_count, "
                "(SELECT count(*) FROM members x WHERE x.group_id = g.group_id) "
                "FROM members m JOIN groups g ON g.group_id = m.group_id "
                "JOIN channels h ON h.channel_id = 'g:' || g.group_id "
                "LEFT JOIN conversations c ON c.user_id = m.user_id AND c.conv_type = 2 "
                "AND c.conv_id = g.group_id "
                "WHERE m.user_id = ? AND g.dismissed = 0 ORDER BY m.join_time, g.group_id",
                (user_id,),
            )
            return [joined_group(r) for r in rows]

        return await self._read(read)
