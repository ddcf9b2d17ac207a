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

Only the mechanics live here: every query and rule is in repos/ and protocol/rules, shared with
SqliteStore, and run through ``sql.run_async``. The migrations are the same numbered list
(schema.py), applied under an advisory lock so nodes starting together migrate once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from opentim.protocol import Message

from . import identity
from .base import Appended, NewMessage, StoreError, StoreUnavailableError
from .engine import GroupCommit, Outcome, Queued
from .repos import Repositories
from .rows import MSG_COLS, MSG_FROM, message_row
from .schema import MIGRATIONS
from .sql import Op, many, rows, run_async, value
from .writes import (
    INSERT_MENTION,
    INSERT_MESSAGE,
    INSERT_OWNER,
    SELECT_HEADS,
    SENDER_READ,
    UPSERT_HEAD,
    ConvKey,
    WriteTx,
    move_head,
    plan_append,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Conn = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
Tuple = tuple[Any, ...]

MIGRATION_LOCK = 0x6F70656E74696D  # "opentim": the advisory lock nodes migrate under


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


class _Tx(WriteTx):
    """A batch's transaction: the locked heads, the resends found, and buffered rows written
    one round trip per kind of statement."""

    def __init__(self, conn: Conn, clock: int, known_convs: set[ConvKey]) -> None:
        super().__init__(clock, known_convs)
        self.conn = conn
        self.seen: dict[tuple[str, str], Message] = {}
        self.checked: set[tuple[str, str]] = set()
        self.buffers: dict[str, list[Tuple]] = {
            INSERT_MESSAGE: [],
            INSERT_OWNER: [],
            SENDER_READ: [],
            INSERT_MENTION: [],
        }

    def load_heads(self, channel_ids: list[str]) -> Op[None]:
        """Read and lock the heads not yet held."""
        missing = [c for c in dict.fromkeys(channel_ids) if c not in self.heads]
        if missing:
            self.loaded_heads((yield rows(SELECT_HEADS, missing)), missing)

    def prepare(self, msgs: list[NewMessage]) -> Op[None]:
        """Lock the heads of ``msgs`` and find those already stored (resends), in two queries."""
        if not msgs:
            return
        yield from self.load_heads([m.channel_id for m in msgs])
        keys = [(m.sender, m.msg_id) for m in msgs if (m.sender, m.msg_id) not in self.checked]
        if not keys:
            return
        self.checked.update(keys)
        found = yield rows(
            f"SELECT {MSG_COLS} {MSG_FROM} WHERE (m.sender, m.msg_id) IN "
            "(SELECT * FROM unnest(?::text[], ?::text[]))",
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
        for r in found:
            self.seen[(r[3], r[1])] = message_row(r)

    def append_row(self, m: NewMessage, server_time: int) -> Appended:
        """Give ``m`` its seq, count and clock and buffer its rows; the head must be loaded."""
        key = (m.sender, m.msg_id)
        stored = self.seen.get(key)
        if stored is not None:
            return Appended(stored, True)
        head = self.heads[m.channel_id]
        planned = plan_append(m, head, self.tick(), server_time, self.new_owners(m))
        self.buffers[INSERT_MESSAGE].append(planned.message)
        self.buffers[INSERT_OWNER].extend(planned.owners)
        self.buffers[SENDER_READ].append(planned.read)
        self.buffers[INSERT_MENTION].extend(planned.mentions)
        move_head(head, planned)
        self.dirty.add(m.channel_id)
        self.seen[key] = planned.msg
        return Appended(planned.msg, False)

    def append(self, m: NewMessage, server_time: int) -> Op[Message]:
        yield from self.prepare([m])
        appended = self.append_row(m, server_time)
        yield from self.flush()
        return appended.msg

    def flush(self) -> Op[None]:
        """Write the buffered rows and changed heads (each kind in one round trip)."""
        for sql, buffered in self.buffers.items():
            if buffered:
                self.buffers[sql] = []
                yield many(sql, buffered)
        if self.dirty:
            yield many(UPSERT_HEAD, self.head_rows())

    def mark(self) -> tuple[Any, ...]:
        return (super().mark(), dict(self.seen), set(self.checked))

    def undo(self, mark: tuple[Any, ...]) -> None:
        base, self.seen, self.checked = mark
        super().undo(base)
        for buffered in self.buffers.values():
            buffered.clear()


class PostgresStore(Repositories):
    """The Store on PostgreSQL (asyncpg pool); any number of nodes may share the database.

    Args:
        url: ``postgresql://user@host:port/database``.
        pool_size: most connections this node opens.
        connect_timeout: seconds to wait for a new connection.
        command_timeout: seconds a statement may take before the request fails.
    """

    member_cache: dict[str, dict[str, int]] | None = None
    """Never cached: other nodes change them."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        connect_timeout: float = 5.0,
        command_timeout: float = 30.0,
    ) -> None:
        super().__init__(self)
        self.url = url
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self._pool: asyncpg.Pool | None = None
        self._commits = GroupCommit(self._run_batch, "opentim-postgres-writer")
        self._known_convs: set[ConvKey] = set()

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
        self._commits.start()

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

        def read() -> Op[int]:
            clock: int = yield from _clock()
            return clock

        return await self.read(read)

    async def close(self) -> None:
        """Finish queued writes, then close the pool."""
        await self._commits.stop()
        if self._pool is not None:
            try:
                async with asyncio.timeout(5):
                    await self._pool.close()
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                self._pool.terminate()
            self._pool = None

    # --- the engine: reads, writes, appends -------------------------------------------------
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

    async def read(self, op: Callable[[], Op[T]], *, snapshot: bool = False) -> T:
        """Run a read on a pooled connection (with ``snapshot``, in one REPEATABLE READ
        snapshot: commits being in clock order, nothing at or below a position read there can
        still appear later); once more on a fresh connection if the first was lost (after a
        database restart every pooled connection is dead, and a read is safe to redo)."""

        async def attempt() -> T:
            async with self._connection() as conn:
                if not snapshot:
                    return await run_async(op(), conn)
                async with conn.transaction(isolation="repeatable_read", readonly=True):
                    return await run_async(op(), conn)

        try:
            return await attempt()
        except StoreUnavailableError:
            return await attempt()

    async def write(self, op: Callable[[WriteTx], Op[T]]) -> T:
        return await self._commits.write(op)

    def append(self, msg: NewMessage, server_time: int) -> Awaitable[Appended]:
        return self._commits.append(msg, server_time)

    async def _run_batch(
        self, batch: list[Queued]
    ) -> tuple[list[Outcome], list[Callable[[], None]]]:
        outcomes: list[Outcome] = []
        try:
            async with self._connection() as conn, conn.transaction():
                clock = await run_async(_clock(lock=True), conn)
                tx = _Tx(conn, clock, self._known_convs)
                await run_async(tx.prepare([it.msg for it in batch if it.msg is not None]), conn)
                for item in batch:
                    if item.msg is not None:
                        outcomes.append((True, tx.append_row(item.msg, item.server_time)))
                        continue
                    assert item.op is not None
                    await run_async(tx.flush(), conn)
                    mark = tx.mark()
                    try:
                        async with conn.transaction():  # a savepoint: a failure undoes only this
                            answer = await run_async(item.op(tx), conn)
                            await run_async(tx.flush(), conn)
                    except Exception as exc:
                        if is_connection_loss(exc):
                            raise
                        tx.undo(mark)
                        outcomes.append((False, _as_store_error(exc)))
                    else:
                        outcomes.append((True, answer))
                await run_async(tx.flush(), conn)
                if tx.clock != clock:
                    await conn.execute("UPDATE meta SET value = $1 WHERE key = 'clock'", tx.clock)
        except Exception as exc:
            if is_connection_loss(exc) or isinstance(exc, StoreUnavailableError):
                failure: StoreError = StoreUnavailableError(f"PostgreSQL is unreachable: {exc}")
            else:
                log.error("write batch failed", exc_info=exc)
                failure = StoreError(f"commit failed: {exc}")
            return [(False, failure)] * len(batch), []
        return outcomes, [*tx.after, tx.remember_convs()]


def _clock(lock: bool = False) -> Op[int]:
    """The clock row (locked first in every writing transaction: commits follow the clock)."""
    clock: int = yield value(
        "SELECT value FROM meta WHERE key = 'clock'" + (" FOR UPDATE" if lock else "")
    )
    return clock


def _as_store_error(exc: BaseException) -> BaseException:
    """A refused statement inside one write becomes a StoreError; the service's own errors
    (DuplicateGroupError and the like) pass as they are."""
    if isinstance(exc, asyncpg.PostgresError):
        return StoreError(str(exc))
    return exc
