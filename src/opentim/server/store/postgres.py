"""PostgresStore: several opentim nodes sharing one PostgreSQL database (DESIGN §5).

**Positions.** Two kinds of number must stay right while several nodes write at once:

- ``seq`` and ``count`` of a channel, gap-free: the head row is read with ``SELECT … FOR
  UPDATE`` and written back in the message's own transaction. No SEQUENCE: a rolled-back
  ``nextval`` would leave a gap.
- The clock behind ``changed``, ``bump`` and ``activity`` (and so a conversation's ``pos``, which
  sync tokens compare). A device that has seen position P must never afterwards be shown a change
  below P, so the transaction holding clock value 5 must not commit after the one holding 6 has
  become visible: the out-of-order commit problem (synapse's "current token").

The choice: the clock is one row (``meta`` ``'clock'``) that **every writing transaction locks
first** (``SELECT … FOR UPDATE``), advances in memory and writes back just before COMMIT.

1. Commits happen in clock order. A transaction reads the clock only once the previous holder has
   committed and become visible (PostgreSQL marks a transaction visible before it releases its
   locks), so a snapshot that shows clock value C shows every change at or below C. A sync page is
   read in one REPEATABLE READ snapshot, together with the clock for a full pass's horizon, and
   can never move a cursor past an uncommitted position: no horizon tracking is needed.
2. Every writer takes its row locks in the same order (the clock, then anything), so writers
   never deadlock, and what is checked under the lock (a resent ``msg_id``, a taken group id, a
   deleted conversation, a channel head) holds until COMMIT.

The price is that writing transactions are serialised across the deployment. Each node batches
them as SqliteStore does (group commit, DESIGN §5a): whatever arrived while its previous
transaction was in flight goes into the next one, with one lock, one round trip per kind of
statement and one COMMIT per batch, and callers are answered only after COMMIT. Under load the
batches grow, so the lock is taken once per batch, not once per message.

**Caches.** Nothing another node may change is kept across transactions: channel heads are read
(locked) in each batch and group members come from the database on every call (the gateway's
relay keeps a per-node member list, invalidated in channel order by membership tips). The one
cache, "this conversation row exists", is safe because conversation rows are never deleted.

**Failures.** A lost connection (PostgreSQL stopped, restarted, unreachable) raises
StoreUnavailableError, which clients see as 7010; the pool opens new connections once the
server is back, so the node recovers by itself. A batch whose COMMIT fails is reported failed to
every caller, never acknowledged; a resend with the same ``msg_id`` is idempotent if it had in
fact committed.

SQL text is shared with SqliteStore where it is the same (the row decoders and column lists);
the migrations are the same numbered list (schema.py), applied under an advisory lock so nodes
starting together migrate once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg
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
    StoreUnavailableError,
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

log = logging.getLogger(__name__)

T = TypeVar("T")
Conn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
Tuple = tuple[Any, ...]

MIGRATION_LOCK = 0x6F70656E74696D  # "opentim": the advisory lock nodes migrate under
KNOWN_CONVS_MAX = 500_000

_json = msgspec.json.Encoder()
_profile_decoder = msgspec.json.Decoder(Profile)
_draft_json = msgspec.json.Encoder()

_POS = "GREATEST(c.changed, CASE WHEN c.end_seq IS NULL THEN h.changed ELSE c.end_activity END)"


def _not_deleted(user_param: str) -> str:
    """The condition that ``m`` is not deleted for the user bound to ``user_param``."""
    return (
        f"NOT EXISTS (SELECT 1 FROM msg_deletions d WHERE d.user_id = {user_param} "
        "AND d.channel_id = m.channel_id AND d.seq = m.seq)"
    )


_MSG_FROM = "FROM messages m LEFT JOIN users u ON u.user_id = m.sender"

_INSERT_MESSAGE = (
    "INSERT INTO messages (channel_id, seq, msg_id, conv_type, sender, receiver, count, "
    "activity, server_time, client_time, random, priority, platform, flags, elems, "
    "cloud_custom_data, at_users) "
    "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)"
)
_INSERT_OWNER = (
    "INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, changed) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
)
_SENDER_READ = (
    "UPDATE conversations SET read_seq = $1, read_count = $2 "
    "WHERE user_id = $3 AND conv_type = $4 AND conv_id = $5"
)
_INSERT_MENTION = (
    "INSERT INTO mentions (channel_id, user_id, seq) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
)
_UPSERT_HEAD = (
    "INSERT INTO channels (channel_id, max_seq, count, last_seq, activity, changed) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id) DO UPDATE SET "
    "max_seq = excluded.max_seq, count = excluded.count, last_seq = excluded.last_seq, "
    "activity = excluded.activity, changed = excluded.changed"
)


def is_connection_loss(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is out of reach (rather than a refused statement)."""
    if isinstance(
        exc,
        OSError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.CannotConnectNowError
        | asyncpg.AdminShutdownError,
    ):
        return True
    return isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class _Head:
    """A channel head as read (locked) in the current transaction."""

    __slots__ = ("activity", "changed", "count", "last_seq", "max_seq")

    def __init__(
        self, max_seq: int, count: int, last_seq: int, activity: int, changed: int
    ) -> None:
        self.max_seq = max_seq
        self.count = count
        self.last_seq = last_seq
        self.activity = activity
        self.changed = changed
        """The channel's change position: its last message, or a later revoke."""

    def values(self) -> tuple[int, int, int, int, int]:
        return self.max_seq, self.count, self.last_seq, self.activity, self.changed


@dataclass(slots=True)
class _Item:
    """One queued write: an append (``msg``) or a function of the transaction (``fn``)."""

    fut: asyncio.Future[Any]
    msg: NewMessage | None = None
    server_time: int = 0
    fn: Callable[[_Tx], Awaitable[Any]] | None = None


class _Tx:
    """What a write sees: the connection, the clock, the locked heads and buffered rows."""

    def __init__(self, store: PostgresStore, conn: Conn, clock: int) -> None:
        self.store = store
        self.conn = conn
        self.clock = clock
        self.heads: dict[str, _Head] = {}
        self.dirty: set[str] = set()
        self.seen: dict[tuple[str, str], Message] = {}
        self.checked: set[tuple[str, str]] = set()
        self.msg_rows: list[Tuple] = []
        self.owner_rows: list[Tuple] = []
        self.read_rows: list[Tuple] = []
        self.mention_rows: list[Tuple] = []
        self.new_convs: set[tuple[str, int, str]] = set()
        self.after: list[Callable[[], None]] = []

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    async def head(self, channel_id: str) -> _Head:
        if channel_id not in self.heads:
            await self.load_heads([channel_id])
        return self.heads[channel_id]

    async def load_heads(self, channel_ids: list[str]) -> None:
        """Read and lock the heads not yet held; a channel with no row starts at zero."""
        missing = [c for c in dict.fromkeys(channel_ids) if c not in self.heads]
        if not missing:
            return
        rows = await self.conn.fetch(
            "SELECT channel_id, max_seq, count, last_seq, activity, changed FROM channels "
            "WHERE channel_id = ANY($1::text[]) FOR UPDATE",
            missing,
        )
        for r in rows:
            self.heads[r[0]] = _Head(r[1], r[2], r[3], r[4], r[5])
        for channel_id in missing:
            self.heads.setdefault(channel_id, _Head(0, 0, 0, 0, 0))

    async def prepare(self, msgs: list[NewMessage]) -> None:
        """Lock the heads of ``msgs`` and find those already stored (resends), in two queries."""
        if not msgs:
            return
        await self.load_heads([m.channel_id for m in msgs])
        keys = [(m.sender, m.msg_id) for m in msgs if (m.sender, m.msg_id) not in self.checked]
        if not keys:
            return
        self.checked.update(keys)
        rows = await self.conn.fetch(
            f"SELECT {MSG_COLS} {_MSG_FROM} WHERE (m.sender, m.msg_id) IN "
            "(SELECT * FROM unnest($1::text[], $2::text[]))",
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
        for r in rows:
            self.seen[(r[3], r[1])] = message_row(tuple(r))

    async def flush(self) -> None:
        """Write the buffered rows and changed heads (each kind in one round trip)."""
        conn = self.conn
        if self.msg_rows:
            await conn.executemany(_INSERT_MESSAGE, self.msg_rows)
            self.msg_rows = []
        if self.owner_rows:
            await conn.executemany(_INSERT_OWNER, self.owner_rows)
            self.owner_rows = []
        if self.read_rows:
            await conn.executemany(_SENDER_READ, self.read_rows)
            self.read_rows = []
        if self.mention_rows:
            await conn.executemany(_INSERT_MENTION, self.mention_rows)
            self.mention_rows = []
        if self.dirty:
            await conn.executemany(
                _UPSERT_HEAD, [(cid, *self.heads[cid].values()) for cid in self.dirty]
            )
            self.dirty = set()

    def mark(self) -> tuple[Any, ...]:
        """What a failed write must undo in memory (its statements roll back to a savepoint)."""
        return (
            {cid: h.values() for cid, h in self.heads.items()},
            set(self.dirty),
            dict(self.seen),
            set(self.checked),
            set(self.new_convs),
            len(self.after),
            self.clock,
        )

    def undo(self, mark: tuple[Any, ...]) -> None:
        heads, dirty, seen, checked, new_convs, n_after, clock = mark
        self.heads = {cid: _Head(*values) for cid, values in heads.items()}
        self.dirty, self.seen, self.checked, self.new_convs = dirty, seen, checked, new_convs
        del self.after[n_after:]
        self.clock = clock
        self.msg_rows, self.owner_rows, self.read_rows, self.mention_rows = [], [], [], []


class PostgresStore:
    """The Store on PostgreSQL (asyncpg pool); any number of nodes may share the database.

    Args:
        url: ``postgresql://user@host:port/database``.
        pool_size: most connections this node opens.
        connect_timeout: seconds to wait for a new connection.
        command_timeout: seconds a statement may take before the request fails.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        connect_timeout: float = 5.0,
        command_timeout: float = 30.0,
    ) -> None:
        self.url = url
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self._pool: asyncpg.Pool | None = None
        self._queue: list[_Item] = []
        self._wake = asyncio.Event()
        self._writer_task: asyncio.Task[None] | None = None
        self._known_convs: set[tuple[str, int, str]] = set()
        self.db_id = 0
        """This database's identity (store/identity.py), read at ``open``."""

    # --- lifecycle --------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect, create or upgrade the schema, start the writer.

        Raises:
            StoreUnavailableError: the database cannot be reached (the message names the URL).
        """
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.pool_size,
                timeout=self.connect_timeout,
                command_timeout=self.command_timeout,
            )
            async with self._pool.acquire() as conn:
                self.db_id = await self._migrate(conn)
        except Exception as exc:
            if self._pool is not None:
                self._pool.terminate()
                self._pool = None
            if isinstance(exc, asyncpg.PostgresError) and not is_connection_loss(exc):
                raise StoreError(f"PostgreSQL at {redact(self.url)}: {exc}") from exc
            raise StoreUnavailableError(
                f"PostgreSQL at {redact(self.url)} is unreachable: {exc}"
            ) from exc
        self._writer_task = asyncio.create_task(self._writer(), name="opentim-postgres-writer")

    @staticmethod
    async def _migrate(conn: Conn) -> int:
        """Upgrade the schema; the database's identity (made on first use)."""
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            version = await conn.fetchval("SELECT version FROM schema_version") or 0
            for number, steps in enumerate(MIGRATIONS, start=1):
                if number <= version:
                    continue
                for sql in steps:
                    await conn.execute(sql)
                await conn.execute("DELETE FROM schema_version")
                await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", number)
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                identity.KEY,
                identity.new_database_id(),
            )
            db_id: int = await conn.fetchval("SELECT value FROM meta WHERE key = $1", identity.KEY)
            return db_id

    async def clock_now(self) -> int:
        """The clock: no committed change has a later position."""

        async def read(conn: Conn) -> int:
            clock: int = await conn.fetchval("SELECT value FROM meta WHERE key = 'clock'")
            return clock

        return await self._read(read)

    async def rotate_database_id(self) -> int:
        """Give the database a new identity (after restoring a backup); returns it."""
        db_id = identity.new_database_id()
        async with self._connection() as conn:
            await conn.execute("UPDATE meta SET value = $1 WHERE key = $2", db_id, identity.KEY)
        self.db_id = db_id
        return db_id

    async def close(self) -> None:
        """Finish queued writes, then close the pool."""
        if self._writer_task is not None:
            with contextlib.suppress(StoreError):
                await self._write(_noop)  # everything queued before it commits with it
            self._writer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer_task
            self._writer_task = None
        if self._pool is not None:
            try:
                async with asyncio.timeout(5):
                    await self._pool.close()
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                self._pool.terminate()
            self._pool = None

    # --- the two paths ----------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Conn]:
        pool = self._pool
        if pool is None:
            raise StoreError("store is not open")
        try:
            async with pool.acquire() as conn:
                yield conn
        except Exception as exc:
            if is_connection_loss(exc):
                raise StoreUnavailableError(f"PostgreSQL is unreachable: {exc}") from exc
            raise

    async def _read(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        """Run a read on a pooled connection; once more on a fresh one if the first was lost
        (after a database restart every pooled connection is dead, and a read is safe to redo)."""
        try:
            async with self._connection() as conn:
                return await fn(conn)
        except StoreUnavailableError:
            async with self._connection() as conn:
                return await fn(conn)

    def _submit(self, item: _Item) -> None:
        self._queue.append(item)
        self._wake.set()

    async def _write(self, fn: Callable[[_Tx], Awaitable[T]]) -> T:
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._submit(_Item(fut, fn=fn))
        return await fut

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            if not batch:
                continue
            outcomes, after = await self._run_batch(batch)
            for action in after:
                action()
            for item, (ok, value) in zip(batch, outcomes, strict=True):
                if item.fut.done():
                    continue
                if ok:
                    item.fut.set_result(value)
                else:
                    item.fut.set_exception(value)

    async def _run_batch(
        self, batch: list[_Item]
    ) -> tuple[list[tuple[bool, Any]], list[Callable[[], None]]]:
        outcomes: list[tuple[bool, Any]] = []
        try:
            async with self._connection() as conn, conn.transaction():
                clock = await conn.fetchval("SELECT value FROM meta WHERE key = 'clock' FOR UPDATE")
                tx = _Tx(self, conn, clock)
                await tx.prepare([it.msg for it in batch if it.msg is not None])
                for item in batch:
                    if item.msg is not None:
                        outcomes.append((True, self._append_row(tx, item.msg, item.server_time)))
                        continue
                    assert item.fn is not None
                    await tx.flush()
                    mark = tx.mark()
                    try:
                        async with conn.transaction():  # a savepoint: a failure undoes only this
                            value = await item.fn(tx)
                            await tx.flush()
                    except Exception as exc:
                        if is_connection_loss(exc):
                            raise
                        tx.undo(mark)
                        outcomes.append((False, _as_store_error(exc)))
                    else:
                        outcomes.append((True, value))
                await tx.flush()
                if tx.clock != clock:
                    await conn.execute("UPDATE meta SET value = $1 WHERE key = 'clock'", tx.clock)
        except Exception as exc:
            if is_connection_loss(exc) or isinstance(exc, StoreUnavailableError):
                failure: StoreError = StoreUnavailableError(f"PostgreSQL is unreachable: {exc}")
            else:
                log.error("write batch failed", exc_info=exc)
                failure = StoreError(f"commit failed: {exc}")
            return [(False, failure)] * len(batch), []
        known = self._known_convs
        new_convs = tx.new_convs

        def remember() -> None:
            if len(known) > KNOWN_CONVS_MAX:
                known.clear()
            known.update(new_convs)

        return outcomes, [*tx.after, remember]

    # --- users ------------------------------------------------------------------------------
    async def ensure_user(self, user_id: str, create: bool) -> Profile | None:
        """The user's profile; with ``create``, a new account for an unknown id."""

        async def read(conn: Conn) -> Profile | None:
            text = await conn.fetchval("SELECT profile FROM users WHERE user_id = $1", user_id)
            return _profile_decoder.decode(text) if text else None

        profile = await self._read(read)
        if profile is not None or not create:
            return profile
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO users (user_id, profile, created) VALUES ($1, $2, 0) "
                "ON CONFLICT DO NOTHING",
                user_id,
                _json.encode(Profile(user_id=user_id)).decode(),
            )
        return await self._read(read)

    async def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        async def read(conn: Conn) -> dict[str, Profile]:
            rows = await conn.fetch(
                "SELECT user_id, profile FROM users WHERE user_id = ANY($1::text[])", user_ids
            )
            return {r[0]: _profile_decoder.decode(r[1]) for r in rows}

        return await self._read(read) if user_ids else {}

    async def update_profile(self, user_id: str, changes: dict[str, Any]) -> Profile:
        async with self._connection() as conn, conn.transaction():
            text = await conn.fetchval(
                "SELECT profile FROM users WHERE user_id = $1 FOR UPDATE", user_id
            )
            if text is None:
                raise StoreError(f"no user {user_id!r}")
            profile = msgspec.structs.replace(_profile_decoder.decode(text), **changes)
            await conn.execute(
                "UPDATE users SET profile = $1 WHERE user_id = $2",
                _json.encode(profile).decode(),
                user_id,
            )
        return profile

    # --- messages ---------------------------------------------------------------------------
    def _append_row(self, tx: _Tx, m: NewMessage, server_time: int) -> Appended:
        """Give ``m`` its seq, count and clock and buffer its rows; the head must be loaded."""
        key = (m.sender, m.msg_id)
        stored = tx.seen.get(key)
        if stored is not None:
            return Appended(stored, True)
        head = tx.heads[m.channel_id]
        countable = not (m.excluded_from_unread or m.is_tips)
        seq = head.max_seq + 1
        count = head.count + (1 if countable else 0)
        activity = tx.tick()
        flags = (
            (FLAG_EXCLUDED_UNREAD if m.excluded_from_unread else 0)
            | (FLAG_EXCLUDED_LAST if m.excluded_from_last else 0)
            | (FLAG_TIPS if m.is_tips else 0)
        )
        tx.msg_rows.append(
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
                _json.encode(m.elems).decode(),
                m.cloud_custom_data,
                _json.encode(m.at_users).decode(),
            )
        )
        for owner in m.owners:
            if owner not in self._known_convs and owner not in tx.new_convs:
                tx.new_convs.add(owner)
                tx.owner_rows.append((*owner, m.channel_id, activity))
        tx.read_rows.append((seq, count, m.sender, m.conv_type, m.receiver))
        if m.at_users and m.conv_type == ConvType.GROUP:
            mentioned = {MENTION_ALL if u == AT_ALL else u for u in m.at_users} - {m.sender}
            tx.mention_rows.extend((m.channel_id, u, seq) for u in sorted(mentioned))
        head.max_seq, head.count, head.activity, head.changed = seq, count, activity, activity
        if not m.excluded_from_last:
            head.last_seq = seq
        tx.dirty.add(m.channel_id)
        msg = stored_message(m, seq, count, activity, server_time)
        tx.seen[key] = msg
        return Appended(msg, False)

    async def _append_now(self, tx: _Tx, m: NewMessage, server_time: int) -> Message:
        """Append inside a write function (a group tip)."""
        await tx.prepare([m])
        appended = self._append_row(tx, m, server_time)
        await tx.flush()
        return appended.msg

    def append(self, msg: NewMessage, server_time: int) -> asyncio.Future[Appended]:
        """Queue a message (idempotent on ``(sender, msg_id)``); the future resolves once durable.

        Queued synchronously, so one node's messages get their seqs in the order ``append`` was
        called.
        """
        fut: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        self._submit(_Item(fut, msg=msg, server_time=server_time))
        return fut

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
    async def _messages(
        conn: Conn,
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
        row = await conn.fetchrow(
            "SELECT cleared_up_to, end_seq FROM conversations "
            "WHERE user_id = $1 AND conv_type = $2 AND conv_id = $3",
            user_id,
            conv_type,
            conv_id,
        )
        if row is None:
            return []
        low = max(low, row[0])
        if row[1] is not None:
            high = min(high, row[1])
        rows = await conn.fetch(
            f"SELECT {MSG_COLS} {_MSG_FROM} WHERE m.channel_id = $1 AND m.seq > $2 "
            f"AND m.seq <= $3 AND {_not_deleted('$4')} ORDER BY m.seq {order} LIMIT $5",
            channel_of(user_id, conv_type, conv_id),
            low,
            high,
            user_id,
            count,
        )
        return [message_row(tuple(r)) for r in rows]

    async def get_message(self, channel_id: str, seq: int) -> Message | None:
        async def read(conn: Conn) -> Message | None:
            row = await conn.fetchrow(
                f"SELECT {MSG_COLS} {_MSG_FROM} WHERE m.channel_id = $1 AND m.seq = $2",
                channel_id,
                seq,
            )
            return message_row(tuple(row)) if row else None

        return await self._read(read)

    async def revoke_message(
        self, channel_id: str, seq: int, revoker: str, reason: str
    ) -> Revoked | None:
        """Empty the message's elements and record who revoked it. The channel's change
        position moves (so every member's snapshot is new), its order key does not."""

        async def write(tx: _Tx) -> Revoked | None:
            done = await tx.conn.fetchval(
                "UPDATE messages SET elems = '[]', revoker = $1, revoke_reason = $2 "
                "WHERE channel_id = $3 AND seq = $4 AND revoker = '' RETURNING seq",
                revoker,
                reason,
                channel_id,
                seq,
            )
            if done is None:
                return None
            head = await tx.head(channel_id)
            head.changed = tx.tick()
            tx.dirty.add(channel_id)
            row = await tx.conn.fetchrow(
                f"SELECT {MSG_COLS} {_MSG_FROM} WHERE m.channel_id = $1 AND m.seq = $2",
                channel_id,
                seq,
            )
            assert row is not None, "updated in this transaction"
            return Revoked(message_row(tuple(row)), head.changed)

        return await self._write(write)

    async def delete_messages(
        self, user_id: str, conv_type: int, conv_id: str, seqs: list[int]
    ) -> Conversation | None:
        channel_id = channel_of(user_id, conv_type, conv_id)

        async def write(tx: _Tx) -> bool:
            found = await tx.conn.fetchval(
                "SELECT 1 FROM conversations WHERE user_id = $1 AND conv_type = $2 "
                "AND conv_id = $3 FOR UPDATE",
                user_id,
                conv_type,
                conv_id,
            )
            if found is None:
                return False
            await tx.conn.execute(
                "INSERT INTO msg_deletions (user_id, channel_id, seq) "
                "SELECT $1, $2, s FROM unnest($3::bigint[]) AS t(s) ON CONFLICT DO NOTHING",
                user_id,
                channel_id,
                seqs,
            )
            await tx.conn.execute(
                "UPDATE conversations SET changed = $1 "
                "WHERE user_id = $2 AND conv_type = $3 AND conv_id = $4",
                tx.tick(),
                user_id,
                conv_type,
                conv_id,
            )
            return True

        if not await self._write(write):
            return None
        found = await self.get_conversations(user_id, [(conv_type, conv_id)])
        return found[0] if found else None

    async def messages_between(self, channel_id: str, after_seq: int, to_seq: int) -> list[Message]:
        async def read(conn: Conn) -> list[Message]:
            rows = await conn.fetch(
                f"SELECT {MSG_COLS} {_MSG_FROM} WHERE m.channel_id = $1 AND m.seq > $2 "
                "AND m.seq <= $3 ORDER BY m.seq",
                channel_id,
                after_seq,
                to_seq,
            )
            return [message_row(tuple(r)) for r in rows]

        return await self._read(read)

    # --- conversations ----------------------------------------------------------------------
    async def get_conversations(
        self, user_id: str, keys: list[tuple[int, str]]
    ) -> list[Conversation]:
        """The user's conversations among ``keys``, in the order asked; unknown ones omitted."""

        async def read(conn: Conn) -> list[Conversation]:
            return await self._snapshots(conn, user_id, keys)

        return await self._read(read) if keys else []

    @staticmethod
    async def _snapshots(
        conn: Conn, user_id: str, keys: list[tuple[int, str]]
    ) -> list[Conversation]:
        """Snapshots of ``keys`` in one query, plus one for the pending mentions of every group
        conversation with something unread, and one per conversation whose last message the
        user deleted (the one before it follows)."""
        if not keys:
            return []
        rows = await conn.fetch(
            CONV_SELECT + " WHERE c.user_id = $1 AND (c.conv_type, c.conv_id) IN "
            "(SELECT * FROM unnest($2::int[], $3::text[]))",
            user_id,
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
        found: dict[Key, Conversation] = {}
        pending: dict[str, Conversation] = {}
        bounds: list[tuple[str, int, int]] = []
        for r in rows:
            conv = found[(r[0], r[1])] = conversation_row(cast(Any, r))
            channel_id, cleared = r[CONV_EXTRA + 7], r[CONV_EXTRA + 5]
            if r[CONV_EXTRA + 6] is not None:
                # The last message was deleted for this user: the one before it follows.
                conv.last_msg = await PostgresStore._last_kept(
                    conn, user_id, channel_id, r[21], cleared
                )
            if (
                conv.conv_type == ConvType.GROUP
                and not conv.deleted
                and conv.max_seq > conv.read_seq
            ):
                pending[channel_id] = conv
                bounds.append((channel_id, max(conv.read_seq, cleared), conv.max_seq))
        if bounds:
            for channel_id, at_info in (
                await PostgresStore._at_info(conn, user_id, bounds)
            ).items():
                pending[channel_id].at_info = at_info
        return [found[k] for k in keys if k in found]

    @staticmethod
    async def _last_kept(
        conn: Conn, user_id: str, channel_id: str, below: int, cleared: int
    ) -> Message | None:
        row = await conn.fetchrow(
            f"SELECT {MSG_COLS} {_MSG_FROM} WHERE m.channel_id = $1 AND m.seq < $2 "
            f"AND m.seq > $3 AND (m.flags & $4) = 0 AND {_not_deleted('$5')} "
            "ORDER BY m.seq DESC LIMIT 1",
            channel_id,
            below,
            cleared,
            FLAG_EXCLUDED_LAST,
            user_id,
        )
        return message_row(tuple(row)) if row else None

    @staticmethod
    async def _at_info(
        conn: Conn, user_id: str, bounds: list[tuple[str, int, int]]
    ) -> dict[str, list[AtInfo]]:
        """Pending mentions of ``user_id`` (or @all) in each ``(channel_id, after, upto)``
        with ``after < seq <= upto``, in one query (as SqliteStore: the mentions index is
        written at send time for the mentioned users only)."""
        rows = await conn.fetch(
            "SELECT x.channel_id, x.seq, x.user_id "
            "FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS t(ch, lo, hi) "
            "JOIN mentions x ON x.channel_id = t.ch AND x.user_id IN ($1, $5) "
            "AND x.seq > t.lo AND x.seq <= t.hi ORDER BY x.channel_id, x.seq",
            user_id,
            [b[0] for b in bounds],
            [b[1] for b in bounds],
            [b[2] for b in bounds],
            MENTION_ALL,
        )
        by_channel: dict[str, dict[int, int]] = {}
        for channel_id, seq, who in rows:
            bit = AtType.AT_ALL if who == MENTION_ALL else AtType.AT_ME
            by_seq = by_channel.setdefault(channel_id, {})
            by_seq[seq] = by_seq.get(seq, 0) | bit
        return {
            channel_id: [AtInfo(seq=seq, at_type=at_type) for seq, at_type in by_seq.items()][
                -MAX_AT_INFO:
            ]
            for channel_id, by_seq in by_channel.items()
        }

    async def sync_conversations(
        self, user_id: str, token: SyncToken, limit: int
    ) -> tuple[list[Conversation], SyncToken, bool]:
        """A page of the user's conversations after ``token`` (as SqliteStore), read in one
        REPEATABLE READ snapshot: the clock and the rows agree, and (commits being in clock
        order) nothing at or below the returned position can still appear later."""

        async def read(conn: Conn) -> tuple[list[Conversation], SyncToken, bool]:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                if token.phase != INCREMENTAL:
                    return await self._full_page(conn, user_id, token, limit)
                return await self._changes_page(conn, user_id, token, limit)

        return await self._read(read)

    async def _full_page(
        self, conn: Conn, user_id: str, token: SyncToken, limit: int
    ) -> tuple[list[Conversation], SyncToken, bool]:
        horizon = token.horizon
        if token.phase == FRESH:
            horizon = await conn.fetchval("SELECT value FROM meta WHERE key = 'clock'")
        keys = await conn.fetch(
            "SELECT conv_type, conv_id FROM conversations WHERE user_id = $1 "
            "AND (conv_type, conv_id) > ($2, $3) ORDER BY conv_type, conv_id LIMIT $4",
            user_id,
            token.after_type,
            token.after_id,
            limit + 1,
        )
        page = [(r[0], r[1]) for r in keys[:limit]]
        convs = await self._snapshots(conn, user_id, page)
        if len(keys) > limit:
            last_type, last_id = page[-1]
            after = SyncToken(phase=FULL, horizon=horizon, after_type=last_type, after_id=last_id)
        else:
            after = SyncToken(phase=INCREMENTAL, pos=horizon)
        return convs, after, True

    async def _changes_page(
        self, conn: Conn, user_id: str, token: SyncToken, limit: int
    ) -> tuple[list[Conversation], SyncToken, bool]:
        keys = await conn.fetch(
            f"SELECT c.conv_type, c.conv_id, {_POS} FROM conversations c "
            "JOIN channels h ON h.channel_id = c.channel_id "
            f"WHERE c.user_id = $1 AND {_POS} > $2 ORDER BY {_POS} LIMIT $3",
            user_id,
            token.pos,
            limit + 1,
        )
        more = len(keys) > limit
        keys = keys[:limit]
        convs = await self._snapshots(conn, user_id, [(r[0], r[1]) for r in keys])
        return convs, SyncToken(phase=INCREMENTAL, pos=keys[-1][2]) if keys else token, more

    async def _change(
        self, tx: _Tx, user_id: str, conv_type: int, conv_id: str, change: ConvChange
    ) -> bool:
        """SqliteStore._change on PostgreSQL: the same rules, statement for statement."""
        conn = tx.conn
        where = (user_id, conv_type, conv_id)
        select = (
            "SELECT channel_id, end_seq, deleted, deleted_up_to, marks, hide_seq, draft_time "
            "FROM conversations WHERE user_id = $1 AND conv_type = $2 AND conv_id = $3 "
            "FOR UPDATE"
        )
        row = await conn.fetchrow(select, *where)
        channel_id = channel_of(user_id, conv_type, conv_id)
        if row is None:
            if not (change.create or change.ensure):
                return False
            head = await tx.head(channel_id)
            tx.dirty.add(channel_id)  # a channel with no message yet gets its head row
            clock = tx.tick()
            tx.new_convs.add(where)
            if change.create:
                await conn.execute(
                    "INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, "
                    "read_seq, read_count, bump, changed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    *where,
                    channel_id,
                    head.max_seq,
                    head.count,
                    clock,
                    clock,
                )
                return True
            # Hidden until a message comes: the row only carries settings (a receive option).
            await conn.execute(
                "INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, read_seq, "
                "read_count, changed, deleted, deleted_up_to, cleared_up_to) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $5, $5)",
                *where,
                channel_id,
                head.max_seq,
                head.count,
                clock,
            )
            row = await conn.fetchrow(select, *where)
            assert row is not None
        # A deleted conversation with nothing new since is gone: only creating it brings it back.
        tombstone = bool(row[2]) and (await tx.head(channel_id)).max_seq <= row[3]
        if tombstone and not (change.create or change.ensure):
            return False
        sets: list[str] = []
        args: list[Any] = []

        def put(template: str, *values: Any) -> None:
            for value in values:
                args.append(value)
                template = template.replace("?", f"${len(args)}", 1)
            sets.append(template)

        clock = tx.tick()
        if change.create:
            # Re-creating a deleted conversation shows it again (empty) and bumps it.
            if not tombstone:
                return True
            put("deleted = 0")
            put("bump = ?", clock)
        if change.pinned is not None:
            put("pinned = ?", int(change.pinned))
            if change.pinned:
                put("bump = ?", clock)
        drafting = change.draft is not None or change.clear_draft
        if drafting and change.draft_time < row[6]:
            drafting = False  # a later edit is already stored: this one lost
            if change == ConvChange(
                draft=change.draft, clear_draft=change.clear_draft, draft_time=change.draft_time
            ):
                return True
        if drafting and change.draft is not None:
            put("draft = ?", _draft_json.encode(change.draft).decode())
            put("bump = ?", clock)
            put("draft_time = ?", change.draft_time)
        elif drafting:
            put("draft = NULL")
            put("draft_time = ?", change.draft_time)
        if change.custom_data is not None:
            put("custom_data = ?", change.custom_data)
        if change.recv_opt is not None:
            put("recv_opt = ?", change.recv_opt)
        end_seq = row[1]
        top = (await tx.head(channel_id)).max_seq if end_seq is None else end_seq
        if change.mark_set or change.mark_clear:
            marks, hide_seq = from_db_u64(row[4]), row[5]
            if marks & Mark.HIDE and top > hide_seq:
                marks &= ~Mark.HIDE  # a message since hiding already showed it again
            marks = (marks | change.mark_set) & ~change.mark_clear
            if change.mark_set & Mark.HIDE:
                hide_seq = top
            put("marks = ?", to_db_u64(marks))
            put("hide_seq = ?", hide_seq)
        if change.read_up_to is not None or change.delete or change.clear_history:
            seq = top if not change.read_up_to else min(change.read_up_to, top)
            count = await conn.fetchval(
                "SELECT count FROM messages WHERE channel_id = $1 AND seq = $2", channel_id, seq
            )
            put("read_seq = GREATEST(read_seq, ?)", seq)
            put("read_count = GREATEST(read_count, ?)", count or 0)
            if change.delete:
                put("deleted = 1")
                put("deleted_up_to = ?", seq)
                put("draft = NULL")
                put("pinned = 0")
                put("cgroups = '[]'")
                await conn.execute(
                    "DELETE FROM conv_group_items WHERE user_id = $1 AND conv_type = $2 "
                    "AND conv_id = $3",
                    *where,
                )
            if (change.delete and not change.keep_history) or change.clear_history:
                put("cleared_up_to = GREATEST(cleared_up_to, ?)", seq)
        put("changed = ?", clock)
        n = len(args)
        await conn.execute(
            f"UPDATE conversations SET {', '.join(sets)} "
            f"WHERE user_id = ${n + 1} AND conv_type = ${n + 2} AND conv_id = ${n + 3}",
            *args,
            *where,
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

        async def write(tx: _Tx) -> list[bool]:
            await tx.load_heads([channel_of(user_id, t, i) for t, i in keys])
            return [await self._change(tx, user_id, t, i, change) for t, i in keys]

        found = await self._write(write)
        hit = [key for key, ok in zip(keys, found, strict=True) if ok]
        convs = {(c.conv_type, c.conv_id): c for c in await self.get_conversations(user_id, hit)}
        return [convs.get(key) for key in keys]

    async def count_conversations(
        self, user_id: str, *, marked: bool = False, custom_data: bool = False
    ) -> int:
        cond = "marks != 0" if marked else "custom_data != ''" if custom_data else "TRUE"

        async def read(conn: Conn) -> int:
            n = await conn.fetchval(
                f"SELECT count(*) FROM conversations WHERE user_id = $1 AND {cond}", user_id
            )
            return int(n)

        return await self._read(read)

    async def recv_opts(self, user_id: str, conv_type: int, conv_ids: list[str]) -> dict[str, int]:
        async def read(conn: Conn) -> dict[str, int]:
            rows = await conn.fetch(
                "SELECT conv_id, recv_opt FROM conversations WHERE user_id = $1 "
                "AND conv_type = $2 AND conv_id = ANY($3::text[])",
                user_id,
                conv_type,
                conv_ids,
            )
            return {r[0]: r[1] for r in rows}

        return await self._read(read) if conv_ids else {}

    # --- conversation groups ----------------------------------------------------------------
    async def conv_groups(self, user_id: str) -> list[str]:
        async def read(conn: Conn) -> list[str]:
            rows = await conn.fetch(
                "SELECT name FROM conv_groups WHERE user_id = $1 ORDER BY created, name", user_id
            )
            return [r[0] for r in rows]

        return await self._read(read)

    @staticmethod
    async def _set_cgroups(
        tx: _Tx, user_id: str, keys: list[Key], edit: Callable[[list[str]], None]
    ) -> None:
        """Edit the list of group names of each of ``keys`` and move its change position (one
        tick each, in the order of ``keys``), in two round trips."""
        if not keys:
            return
        rows = await tx.conn.fetch(
            "SELECT conv_type, conv_id, cgroups FROM conversations WHERE user_id = $1 "
            "AND (conv_type, conv_id) IN (SELECT * FROM unnest($2::int[], $3::text[]))",
            user_id,
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
        names_of = {(r[0], r[1]): strs_decoder.decode(r[2]) for r in rows}
        updates: list[Tuple] = []
        for key in keys:
            names = names_of[key]
            edit(names)
            updates.append((_json.encode(names).decode(), tx.tick(), user_id, *key))
        await tx.conn.executemany(
            "UPDATE conversations SET cgroups = $1, changed = $2 "
            "WHERE user_id = $3 AND conv_type = $4 AND conv_id = $5",
            updates,
        )

    @staticmethod
    async def _group_exists(tx: _Tx, user_id: str, name: str) -> bool:
        found = await tx.conn.fetchval(
            "SELECT 1 FROM conv_groups WHERE user_id = $1 AND name = $2", user_id, name
        )
        return found is not None

    @staticmethod
    async def _group_keys(tx: _Tx, user_id: str, name: str) -> list[Key]:
        rows = await tx.conn.fetch(
            "SELECT conv_type, conv_id FROM conv_group_items WHERE user_id = $1 AND name = $2 "
            "ORDER BY added",
            user_id,
            name,
        )
        return [(r[0], r[1]) for r in rows]

    @staticmethod
    async def _live_keys(tx: _Tx, user_id: str, keys: list[Key]) -> list[Key]:
        """Those of ``keys`` the user has a visible conversation for, in the order given."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return []
        rows = await tx.conn.fetch(
            "SELECT conv_type, conv_id, channel_id, deleted, deleted_up_to FROM conversations "
            "WHERE user_id = $1 AND (conv_type, conv_id) IN "
            "(SELECT * FROM unnest($2::int[], $3::text[]))",
            user_id,
            [k[0] for k in wanted],
            [k[1] for k in wanted],
        )
        await tx.load_heads([r[2] for r in rows])
        live = {
            (r[0], r[1])
            for r in rows
            if not (r[3] and tx.heads[r[2]].max_seq <= r[4])  # not a deleted conversation
        }
        return [key for key in wanted if key in live]

    async def _add_items(
        self, tx: _Tx, user_id: str, name: str, keys: list[Key], max_items: int
    ) -> tuple[list[Key], list[Key]]:
        present = set(await self._group_keys(tx, user_id, name))
        added = [key for key in await self._live_keys(tx, user_id, keys) if key not in present]
        if added:
            await tx.conn.executemany(
                "INSERT INTO conv_group_items (user_id, name, conv_type, conv_id, added) "
                "VALUES ($1, $2, $3, $4, $5)",
                [(user_id, name, *key, tx.tick()) for key in added],
            )
            await self._set_cgroups(tx, user_id, added, lambda names: names.append(name))
        evicted: list[Key] = []
        over = len(present) + len(added) - max_items
        if over > 0:
            evicted = (await self._group_keys(tx, user_id, name))[:over]
            await self._remove_items(tx, user_id, name, evicted)
        return added, evicted

    async def _remove_items(self, tx: _Tx, user_id: str, name: str, keys: list[Key]) -> list[Key]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return []
        rows = await tx.conn.fetch(
            "DELETE FROM conv_group_items WHERE user_id = $1 AND name = $2 "
            "AND (conv_type, conv_id) IN (SELECT * FROM unnest($3::int[], $4::text[])) "
            "RETURNING conv_type, conv_id",
            user_id,
            name,
            [k[0] for k in wanted],
            [k[1] for k in wanted],
        )
        gone = {(r[0], r[1]) for r in rows}
        removed = [key for key in wanted if key in gone]
        await self._set_cgroups(
            tx, user_id, removed, lambda names: names.remove(name) if name in names else None
        )
        return removed

    async def _group_write(
        self, user_id: str, fn: Callable[[_Tx], Awaitable[list[Key] | None]]
    ) -> list[Conversation] | None:
        keys = await self._write(fn)
        return None if keys is None else await self.get_conversations(user_id, keys)

    async def create_conv_group(
        self, user_id: str, name: str, keys: list[Key], now: int
    ) -> list[Conversation]:
        async def write(tx: _Tx) -> list[Key]:
            if await self._group_exists(tx, user_id, name):
                raise DuplicateConvGroupError(name)
            await tx.conn.execute(
                "INSERT INTO conv_groups (user_id, name, created) VALUES ($1, $2, $3)",
                user_id,
                name,
                tx.tick(),
            )
            return (await self._add_items(tx, user_id, name, keys, len(keys)))[0]

        return await self._group_write(user_id, write) or []

    async def delete_conv_group(self, user_id: str, name: str) -> list[Conversation] | None:
        async def write(tx: _Tx) -> list[Key] | None:
            if not await self._group_exists(tx, user_id, name):
                return None
            keys = await self._remove_items(
                tx, user_id, name, await self._group_keys(tx, user_id, name)
            )
            await tx.conn.execute(
                "DELETE FROM conv_groups WHERE user_id = $1 AND name = $2", user_id, name
            )
            return keys

        return await self._group_write(user_id, write)

    async def rename_conv_group(
        self, user_id: str, name: str, new_name: str
    ) -> list[Conversation] | None:
        async def write(tx: _Tx) -> list[Key] | None:
            if not await self._group_exists(tx, user_id, name):
                return None
            if await self._group_exists(tx, user_id, new_name):
                raise DuplicateConvGroupError(new_name)
            keys = await self._group_keys(tx, user_id, name)
            for table in ("conv_groups", "conv_group_items"):
                await tx.conn.execute(
                    f"UPDATE {table} SET name = $1 WHERE user_id = $2 AND name = $3",
                    new_name,
                    user_id,
                    name,
                )

            def rename(names: list[str]) -> None:
                names[names.index(name)] = new_name

            await self._set_cgroups(tx, user_id, keys, rename)
            return keys

        return await self._group_write(user_id, write)

    async def add_to_conv_group(
        self, user_id: str, name: str, keys: list[Key], max_items: int
    ) -> tuple[list[Conversation], list[Conversation]] | None:
        async def write(tx: _Tx) -> tuple[list[Key], list[Key]] | None:
            if not await self._group_exists(tx, user_id, name):
                return None
            return await self._add_items(tx, user_id, name, keys, max_items)

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
        async def write(tx: _Tx) -> list[Key] | None:
            if not await self._group_exists(tx, user_id, name):
                return None
            return await self._remove_items(tx, user_id, name, keys)

        return await self._group_write(user_id, write)

    # --- groups -----------------------------------------------------------------------------
    async def get_group(self, group_id: str) -> GroupRow | None:
        async def read(conn: Conn) -> GroupRow | None:
            row = await conn.fetchrow(
                "SELECT group_id, name, group_type, owner, add_option, face_url, introduction, "
                "notification, create_time FROM groups WHERE group_id = $1 AND dismissed = 0",
                group_id,
            )
            return GroupRow(*row) if row else None

        return await self._read(read)

    async def get_members(self, group_id: str) -> dict[str, int]:
        """Members and roles, as committed now (never cached: other nodes change them)."""

        async def read(conn: Conn) -> dict[str, int]:
            rows = await conn.fetch(
                "SELECT user_id, role FROM members WHERE group_id = $1", group_id
            )
            return {r[0]: r[1] for r in rows}

        return await self._read(read)

    async def member_role(self, group_id: str, user_id: str) -> int | None:
        async def read(conn: Conn) -> int | None:
            role: int | None = await conn.fetchval(
                "SELECT role FROM members WHERE group_id = $1 AND user_id = $2", group_id, user_id
            )
            return role

        return await self._read(read)

    async def _join(self, tx: _Tx, group_id: str, members: dict[str, int], now: int) -> None:
        channel_id = group_channel(group_id)
        head = await tx.head(channel_id)
        clock = tx.tick()
        users = list(members)
        await tx.conn.execute(
            "INSERT INTO members (group_id, user_id, role, join_time) "
            "SELECT $1, u, r, $4 FROM unnest($2::text[], $3::int[]) AS t(u, r)",
            group_id,
            users,
            list(members.values()),
            now,
        )
        await tx.conn.execute(
            "INSERT INTO conversations (user_id, conv_type, conv_id, channel_id, read_seq, "
            "read_count, changed) SELECT u, 2, $1, $2, $3, $4, $5 FROM unnest($6::text[]) AS t(u) "
            "ON CONFLICT (user_id, conv_type, conv_id) DO UPDATE SET end_seq = NULL, "
            "end_count = NULL, end_activity = NULL, read_seq = excluded.read_seq, "
            "read_count = excluded.read_count, changed = excluded.changed, deleted = 0, "
            "deleted_up_to = excluded.read_seq, cleared_up_to = excluded.read_seq",
            group_id,
            channel_id,
            head.max_seq,
            head.count,
            clock,
            users,
        )
        tx.new_convs.update((u, int(ConvType.GROUP), group_id) for u in users)

    async def _end(self, tx: _Tx, group_id: str, user_ids: list[str], tip: Message) -> None:
        clock = tx.tick()
        await tx.conn.execute(
            "DELETE FROM members WHERE group_id = $1 AND user_id = ANY($2::text[])",
            group_id,
            user_ids,
        )
        await tx.conn.execute(
            "UPDATE conversations SET end_seq = $1, end_count = $2, end_activity = $3, "
            "changed = $4 WHERE conv_type = 2 AND conv_id = $5 AND user_id = ANY($6::text[])",
            tip.seq,
            tip.count,
            tip.activity,
            clock,
            group_id,
            user_ids,
        )

    async def create_group(
        self, group: GroupRow, members: dict[str, int], tip: NewMessage, server_time: int
    ) -> Message:
        """Create the group with its members; each gets the conversation, the tip already read."""

        async def write(tx: _Tx) -> Message:
            taken = await tx.conn.fetchval(
                "SELECT 1 FROM groups WHERE group_id = $1", group.group_id
            )
            if taken:
                raise DuplicateGroupError(group.group_id)
            await tx.conn.execute(
                "INSERT INTO groups (group_id, name, group_type, owner, add_option, face_url, "
                "introduction, notification, create_time) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
                group.group_id,
                group.name,
                group.group_type,
                group.owner,
                group.add_option,
                group.face_url,
                group.introduction,
                group.notification,
                group.create_time,
            )
            msg = await self._append_now(tx, tip, server_time)
            await self._join(tx, group.group_id, members, server_time)
            return msg

        return await self._write(write)

    async def add_members(
        self, group_id: str, members: dict[str, int], tip: NewMessage, server_time: int
    ) -> Message:
        async def write(tx: _Tx) -> Message:
            msg = await self._append_now(tx, tip, server_time)
            await self._join(tx, group_id, members, server_time)
            return msg

        return await self._write(write)

    async def remove_members(
        self, group_id: str, user_ids: list[str], tip: NewMessage, server_time: int
    ) -> Message:
        async def write(tx: _Tx) -> Message:
            msg = await self._append_now(tx, tip, server_time)
            await self._end(tx, group_id, user_ids, msg)
            return msg

        return await self._write(write)

    async def dismiss_group(self, group_id: str, tip: NewMessage, server_time: int) -> Message:
        async def write(tx: _Tx) -> Message:
            msg = await self._append_now(tx, tip, server_time)
            rows = await tx.conn.fetch("SELECT user_id FROM members WHERE group_id = $1", group_id)
            await self._end(tx, group_id, [r[0] for r in rows], msg)
            await tx.conn.execute("UPDATE groups SET dismissed = 1 WHERE group_id = $1", group_id)
            return msg

        return await self._write(write)

    async def joined_groups(self, user_id: str) -> list[GroupInfo]:
        async def read(conn: Conn) -> list[GroupInfo]:
            rows = await conn.fetch(
                "SELECT g.group_id, g.name, g.group_type, g.owner, g.add_option, g.face_url, "
                "g.introduction, g.notification, g.create_time, m.role, m.join_time, "
                "h.max_seq, h.count, c.read_seq, c.read_count, "
                "(SELECT count(*) FROM members x WHERE x.group_id = g.group_id) "
                "FROM members m JOIN groups g ON g.group_id = m.group_id "
                "JOIN channels h ON h.channel_id = 'g:' || g.group_id "
                "LEFT JOIN conversations c ON c.user_id = m.user_id AND c.conv_type = 2 "
                "AND c.conv_id = g.group_id "
                "WHERE m.user_id = $1 AND g.dismissed = 0 ORDER BY m.join_time, g.group_id",
                user_id,
            )
            return [joined_group(r) for r in rows]

        return await self._read(read)


async def _noop(tx: _Tx) -> None:
    return None


def _as_store_error(exc: BaseException) -> BaseException:
    """A refused statement inside one write becomes a StoreError; the service's own errors
    (DuplicateGroupError and the like) pass as they are."""
    if isinstance(exc, asyncpg.PostgresError):
        return StoreError(str(exc))
    return exc
