"""SyncDriver: the asyncio half of the sync core (core/sync.py, where the rules and their
reasons are).

It carries out what the core asks: a request (``Ask``), sent through the transport, its answer
fed back; a read of the local cache (``ReadCached``); a delivery (kept in the cache, announced to
the app); snapshots and the token to keep; the start and end of a pass as conversation events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from opentim.protocol import ErrorCode, Message

from .core import Ask, Deliver, DropCached, ReadCached, Save, SyncCore, SyncDone, SyncStarted
from .events import ConvEvent, Events
from .exceptions import SdkError
from .store import Cache
from .transport import Transport

log = logging.getLogger(__name__)

Key = tuple[int, str]
Spawn = Callable[[Coroutine[Any, Any, None]], None]


class SyncDriver:
    """Conversation sync, gap filling and exactly-once delivery for one client."""

    def __init__(
        self,
        transport: Transport,
        cache: Cache,
        events: Events,
        spawn: Spawn,
        on_done: Callable[[SdkError | None], None],
    ) -> None:
        self.core: SyncCore = transport.session.sync
        self._transport = transport
        self._cache = cache
        self._events = events
        self._spawn = spawn
        self._on_done = on_done
        self._idle = asyncio.Event()
        transport.on(Ask, lambda a: spawn(self._ask(a)))
        transport.on(ReadCached, lambda a: spawn(self._read_cached(a)))
        transport.on(Deliver, self._deliver)
        transport.on(Save, lambda a: cache.save_state(a.convs, a.token))
        transport.on(DropCached, lambda a: cache.drop_messages(a.keys))
        transport.on(SyncStarted, lambda a: events.emit_conversations(ConvEvent.SYNC_STARTED, []))
        transport.on(SyncDone, self._done)

    # --- what tests and benchmarks read -----------------------------------------------------
    @property
    def delivered(self) -> dict[Key, int]:
        return self.core.delivered

    @property
    def targets(self) -> dict[Key, int]:
        return self.core.targets

    @property
    def fillers(self) -> dict[Key, object]:
        return dict(self.core.fillers)

    @property
    def full_passes(self) -> int:
        return self.core.full_passes

    @property
    def resyncs(self) -> int:
        return self.core.resyncs

    async def settle(self) -> None:
        """Wait until every gap opened so far is filled (tests and benchmarks use it)."""
        while self.core.fillers:
            self._idle.clear()
            await self._idle.wait()

    # --- inputs -----------------------------------------------------------------------------
    def start(self) -> None:
        """Sync behind a login."""
        self._transport.perform(self._transport.session.start_sync())

    def sync_soon(self) -> None:
        """Sync conversations behind the caller: an answer said it left some changed ones out
        (they come with the sync, as every change moves the change position). After the
        running pass, if one runs; not while there is no connection (the next one syncs)."""
        if self._transport.conn is not None:
            self._transport.perform(self.core.sync_soon())

    def on_push(self, msg: Message) -> None:
        """A message pushed by the server."""
        self._transport.perform(self.core.on_push(msg))

    def sending(self, msg_id: str) -> None:
        self.core.sending(msg_id)

    def sent_here(self, msg: Message) -> None:
        """A message this device sent was stored: it is delivered, and never announced."""
        self._transport.perform(self.core.sent_here(msg))

    # --- actions ----------------------------------------------------------------------------
    async def _ask(self, ask: Ask) -> None:
        try:
            res = await self._transport.request(ask.op, ask.body, ask.result)
        except Exception as exc:
            self._failed(ask.ticket, exc)
        else:
            self._transport.perform(self.core.answered(ask.ticket, res))
        self._idle.set()

    async def _read_cached(self, read: ReadCached) -> None:
        try:
            msgs = await self._cache.recent_messages(read.key)
        except Exception as exc:
            self._failed(read.ticket, exc)
        else:
            self._transport.perform(self.core.answered(read.ticket, msgs))
        self._idle.set()

    def _failed(self, ticket: int, exc: Exception) -> None:
        """Whatever went wrong, the core hears of it: a filler or a pass left waiting for an
        answer would never end (and a filler holds its conversation's deliveries)."""
        if not isinstance(exc, SdkError):
            log.exception("sync request failed unexpectedly", exc_info=exc)
            exc = SdkError(ErrorCode.ERR_SDK_INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
        self._transport.perform(self.core.failed(ticket, exc))

    def _deliver(self, d: Deliver) -> None:
        store = self._cache.store
        if store is not None:
            store.save_messages(d.key, [d.msg])
        if d.announce:
            self._events.emit_new_messages([d.msg])

    def _done(self, done: SyncDone) -> None:
        if done.error is None:
            self._events.emit_conversations(ConvEvent.SYNC_FINISHED, [])
        self._on_done(done.error)
