"""SyncEngine: keeps one device current, and hands every message to the app exactly once.

Conversations come from the server as snapshots, paged by a sync token (protocol/cursors.py): a
full pass the first time, then only changes. Messages come as pushes while connected; for each
conversation the engine remembers ``delivered``, the seq up to which the app has been given its
messages. A push right after ``delivered`` is delivered at once; a duplicate is dropped; a push
beyond it, or a snapshot whose ``max_seq`` is beyond it (what arrived while offline), opens a gap
that is filled with ``catch_up`` requests, oldest first (DESIGN §4). A conversation first seen in
a full pass starts delivered (history is fetched on demand, not replayed).

The server is the truth, even when its history was replaced under the device's cache (a restored
backup, or a new empty database at the same address). The device notices it three ways: the
login answer names a database other than the one its token came from; the server refuses the
token (``SyncRes.reset``: another database, or a position beyond the server's clock); or one
conversation's ``max_seq`` falls below what was delivered. Then it *resyncs* — the whole list, or
that conversation: the server's snapshots replace the cached ones whatever their positions,
conversations the server does not have are dropped, cached messages of a replaced history are
forgotten, and each conversation is *realigned*: its server history is read newest first down to
the newest message this device already had (by ``msg_id``) or one older than the last message it
had, and every message after that point is delivered, once. The outbox is kept and sent after the
sync, as always.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING

import msgspec

from opentim.protocol import Conversation, ConvType, Message
from opentim.protocol.cursors import FRESH, INCREMENTAL, parse_token
from opentim.protocol.ops import (
    CatchUpReq,
    ConvGetReq,
    ConvKey,
    ConvsRes,
    HistoryReq,
    HistoryRes,
    SyncReq,
    SyncRes,
)

from .events import ConvEvent
from .exceptions import SdkError

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger(__name__)

Key = tuple[int, str]
CATCH_UP_PAGE = 100
REALIGN_PAGES = 10
"""At most this many pages of a replaced history are read back, and replayed, per conversation."""


class RecentIds:
    """The last ``size`` message ids added, for membership tests."""

    def __init__(self, size: int) -> None:
        self._order: deque[str] = deque(maxlen=size)
        self._set: set[str] = set()

    def add(self, msg_id: str) -> None:
        if msg_id in self._set:
            return
        if len(self._order) == self._order.maxlen:
            self._set.discard(self._order[0])
        self._order.append(msg_id)
        self._set.add(msg_id)

    def __contains__(self, msg_id: object) -> bool:
        return msg_id in self._set

    def clear(self) -> None:
        self._order.clear()
        self._set.clear()


class Realign(msgspec.Struct, frozen=True):
    """Where a conversation with a replaced history stood on this device: messages it had
    (``known`` ids; the local cache adds its own) and the server time of its last one."""

    since: int
    known: frozenset[str]


class Check(msgspec.Struct, frozen=True):
    """Ask the server whether a conversation's history was replaced; ``old`` is the snapshot
    this device had."""

    old: Conversation | None


class _Reset:
    """A full resync in progress: the list as it was before it."""

    def __init__(self, before: dict[Key, Conversation]) -> None:
        self.before = before
        self.seen: set[Key] = set()
        """Conversations the server has (its pages so far)."""
        self.realigned: set[Key] = set()
        """Conversations whose new messages are being read back (they see to their cache)."""
        last = [c.last_msg.server_time for c in before.values() if c.last_msg is not None]
        self.since = max(last, default=0)
        """For a conversation new to this device: what is as old as its last known message
        was here before."""


class SyncEngine:
    """Conversation sync, gap filling and exactly-once delivery for one client."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.token = ""
        self.delivered: dict[Key, int] = {}
        self.full_passes = 0
        """How many full passes this device ran (a test checks reconnects stay incremental)."""
        self._targets: dict[Key, int] = {}
        self._fillers: dict[Key, asyncio.Task[None]] = {}
        self._sent = RecentIds(1024)
        """Messages this device sent: delivered, never announced."""
        self._this_connection = RecentIds(10_000)
        """Messages delivered since the connection was made: all from the server's current
        history (a realign never takes them for what the device had before, nor repeats them)."""
        self._reset: _Reset | None = None
        self._first_pass = False
        """A full pass is running: pushes for conversations it has not reached yet wait in
        ``_held`` for its page (which tells what is history), instead of each fetching it."""
        self._held: dict[Key, list[Message]] = {}
        self._history: dict[Key, int] = {}
        """Where a full pass put a conversation's delivered position: messages up to there
        are history, except those pushed to this connection (sent after it logged in)."""
        self.resyncs = 0
        """How many times this device found the server's history replaced (tests read it)."""

    def connection_started(self) -> None:
        """A new connection to the server is being made."""
        self._this_connection.clear()

    def reset(self) -> None:
        self.token = ""
        self.delivered.clear()
        self._held.clear()
        self._history.clear()
        self._targets.clear()
        for task in self._fillers.values():
            task.cancel()
        self._fillers.clear()
        self._reset = None

    # --- conversations ----------------------------------------------------------------------
    async def run(self) -> None:
        """Page through every change since the token; fill the gaps it reveals."""
        client = self._client
        client.events.emit_conversations(ConvEvent.SYNC_STARTED, [])
        token = parse_token(self.token)
        if client.server_db_id and token.phase != FRESH and token.db != client.server_db_id:
            self._begin_resync("the server's database changed")
        self._first_pass = self._reset is None and token.phase != INCREMENTAL
        try:
            await self._pages()
        finally:
            self._first_pass = False
            held, self._held = self._held, {}
            for msgs in held.values():  # never in a page: new to the list since the pass began
                for msg in msgs:
                    self.on_push(msg)
        client.events.emit_conversations(ConvEvent.SYNC_FINISHED, [])

    async def _pages(self) -> None:
        client = self._client
        while True:
            phase = parse_token(self.token).phase
            full = phase != INCREMENTAL
            if phase == FRESH:
                self.full_passes += 1
            page = await client.request("conv_sync", SyncReq(cursor=self.token), SyncRes)
            if page.reset and self._reset is None:
                self._begin_resync("the server refused the sync token")
                full = True
                self.full_passes += 1
            self.apply_snapshots(page.convs, full=full)
            self.token = page.cursor
            # A resync's token is kept only once it is complete: an app stopped halfway starts
            # it again from the old token rather than go on from a half-replaced cache.
            client.save_state(page.convs, None if self._reset is not None else self.token)
            if not page.more:
                client.conversations.set_group_names(page.conv_groups)
                break
        if self._reset is not None:
            self._end_resync()
            client.save_state([], self.token)

    def _begin_resync(self, why: str) -> None:
        """The server's history is not the one this device synced from: start over from it."""
        log.info("%s: resyncing the conversation list from the server", why)
        self.resyncs += 1
        before = self._client.conversations.snapshots()
        self.reset()
        self._reset = _Reset(before)

    def _end_resync(self) -> None:
        """Drop what the server does not have; forget cached messages of replaced histories."""
        resync, self._reset = self._reset, None
        assert resync is not None
        gone = [
            Conversation(conv_type=key[0], conv_id=key[1], deleted=True)
            for key in resync.before
            if key not in resync.seen
        ]
        if gone:
            # Empty tombstones at position 0: whatever the server later says of them wins.
            self._client.conversations.apply(gone, force=True)
        for snap in gone:
            key = (snap.conv_type, snap.conv_id)
            if key in self.delivered or key in self._targets:
                # Something happened to it after the resync's pages were read (a send, a push):
                # learn it from the server now, as any conversation new to this device.
                self._targets[key] = max(self._targets.get(key, 0), self.delivered.get(key, 0))
                self._start_filler(key, learn=True)
        store = self._client.store
        if store is not None:
            stale = [
                k
                for k in resync.before
                if k not in resync.realigned and not self._same_history(resync, k)
            ]
            if stale:
                store.drop_messages(stale)

    def _same_history(self, resync: _Reset, key: Key) -> bool:
        old = resync.before.get(key)
        new = self._client.conversations.cached(*key)
        if old is None or new is None or old.last_msg is None or new.last_msg is None:
            return old is not None and new is not None and old.max_seq == new.max_seq == 0
        return (old.last_msg.msg_id, old.last_msg.seq) == (new.last_msg.msg_id, new.last_msg.seq)

    def apply_snapshots(
        self, convs: list[Conversation], *, full: bool, pushed: bool = False
    ) -> None:
        """Apply snapshots from the server (a sync page, or ``pushed`` by a change) and open a
        gap wherever messages are missing."""
        resync = self._reset
        manager = self._client.conversations
        before = [manager.cached(c.conv_type, c.conv_id) for c in convs]
        if resync is None or pushed:
            manager.apply(convs)
        else:
            # A resync's first word on a conversation replaces the cached one, whose position
            # belongs to the other history; later words are ordered as usual.
            first = [c for c in convs if (c.conv_type, c.conv_id) not in resync.seen]
            manager.apply(first, force=True)
            manager.apply([c for c in convs if (c.conv_type, c.conv_id) in resync.seen])
        for snap, old in zip(convs, before, strict=True):
            key = (snap.conv_type, snap.conv_id)
            done = self.delivered.get(key)
            if resync is not None and key not in resync.seen:
                if pushed:
                    # The resync's own page for it will tell where it stands.
                    self._targets[key] = max(self._targets.get(key, 0), snap.max_seq)
                    continue
                resync.seen.add(key)
                self.delivered[key] = snap.max_seq
                if self._realign_if_new(key, snap, resync.before.get(key), resync.since):
                    resync.realigned.add(key)
                elif self._targets.get(key, 0) > snap.max_seq:
                    self._open_gap(key, self._targets[key])
                continue
            if done is not None and snap.max_seq < done:
                if not pushed:
                    # Its history on the server may not be the one delivered here (or this page
                    # was read just before a message that was pushed since): ask again.
                    filler = self._fillers.pop(key, None)
                    if filler is not None:
                        filler.cancel()
                    self._fillers[key] = asyncio.ensure_future(
                        self._fill(key, False, check=Check(old))
                    )
                continue
            if done is None:
                # The whole first run after a full pass begins, its incremental tail included:
                # what was stored before the login is history, and anything later was pushed.
                if full or self._first_pass:
                    self.delivered[key] = self._history[key] = snap.max_seq
                    for msg in sorted(self._held.pop(key, []), key=lambda m: m.seq):
                        self.on_push(msg)
                    continue
                # New to this device since it last synced: deliver what it may see.
                done = snap.deleted_up_to
                if snap.conv_type == ConvType.GROUP:
                    done = max(done, min(snap.read_seq, snap.max_seq))
                self.delivered[key] = done
            if snap.max_seq > done:
                self._open_gap(key, snap.max_seq)

    async def _replaced(self, key: Key, old: Conversation | None) -> Realign | None:
        """Whether the server's history of ``key`` is not the one delivered here: its current
        ``max_seq`` is below what was delivered (what was delivered was committed, so a server
        with the same history has it). If so, show the server's snapshot and say how to realign."""
        client = self._client
        req = ConvGetReq(keys=[ConvKey(conv_type=key[0], conv_id=key[1])])
        res = await client.request("conv_get", req, ConvsRes)
        done = self.delivered.get(key, 0)
        if not res.convs or res.convs[0].max_seq >= done:
            return None
        snap = res.convs[0]
        log.info("%s: server seq %d below delivered %d: resyncing it", key, snap.max_seq, done)
        self.resyncs += 1
        client.conversations.apply([snap], force=True)
        self.delivered[key] = snap.max_seq
        self._targets[key] = max(self._targets.get(key, 0), snap.max_seq)
        last = None if old is None else old.last_msg
        if last is None:
            return Realign(since=0, known=frozenset())
        return Realign(since=last.server_time, known=frozenset({last.msg_id}))

    def _realign_if_new(
        self,
        key: Key,
        snap: Conversation,
        old: Conversation | None,
        since: int,
    ) -> bool:
        """After a resync: deliver the server's messages this device has not had, if its last
        message may be one (realigning by ``msg_id``). True when it realigns."""
        last = snap.last_msg
        old_last = None if old is None else old.last_msg
        if old_last is not None:
            since = old_last.server_time
        if last is None or snap.max_seq <= snap.deleted_up_to or last.msg_id in self._sent:
            return False
        if old_last is not None and old_last.msg_id == last.msg_id:
            return False
        if last.server_time < since:
            return False
        known = frozenset() if old_last is None else frozenset({old_last.msg_id})
        self._targets[key] = max(self._targets.get(key, 0), snap.max_seq)
        if key not in self._fillers:
            self._fillers[key] = asyncio.ensure_future(
                self._fill(key, False, Realign(since=since, known=known))
            )
        return True

    async def _realign(self, key: Key, realign: Realign) -> int:
        """The seq after which the server's messages of ``key`` are new to this device."""
        client = self._client
        known = set(realign.known)
        cached: dict[str, int] = {}
        store = client.store
        if store is not None:
            cached = {m.msg_id: m.seq for m in await store.recent_messages(key, 0, 1 << 20)}
            known.update(cached)
        # Only what the device had before this connection marks where the histories meet.
        known = {i for i in known if i not in self._this_connection}
        before = 0
        for _ in range(REALIGN_PAGES):
            req = HistoryReq(
                conv_type=key[0], conv_id=key[1], before_seq=before, count=CATCH_UP_PAGE
            )
            res = await client.request("history", req, HistoryRes)
            for msg in res.msgs:
                if msg.msg_id in known or msg.server_time < realign.since:
                    # The cache stays only if it ends where the two histories meet.
                    newest = max(cached.values(), default=0)
                    meets = cached.get(msg.msg_id) == msg.seq == newest
                    if store is not None and not meets:
                        store.drop_messages([key])
                    return msg.seq
            if len(res.msgs) < CATCH_UP_PAGE:
                before = 1  # every message the user may see is new here
                break
            before = res.msgs[-1].seq
        if store is not None:
            store.drop_messages([key])
        return max(0, before - 1)

    # --- messages ---------------------------------------------------------------------------
    def sent_here(self, msg: Message) -> None:
        """A message this device sent was stored: it is delivered, and never announced."""
        self._sent.add(msg.msg_id)
        self._this_connection.add(msg.msg_id)
        key = (msg.conv_type, msg.conv_id_for(self._client.user_id))
        done = self.delivered.get(key)
        if done is None and msg.seq > 1:
            # A conversation new to this device, with messages before this one: the peer's or
            # the user's other devices', whose pushes may still be on their way (the server
            # acknowledges this send and pushes those at about the same time, in no fixed
            # order). Starting at ``seq - 1`` would drop them when they come: learn where the
            # conversation starts instead, as for a push, and fill up to here.
            self._client.conversations.apply_message(msg)
            self._targets[key] = max(self._targets.get(key, 0), msg.seq)
            resync = self._reset
            if resync is None or key in resync.seen:
                self._start_filler(key, learn=True)
            return
        if done is None:
            done = self.delivered[key] = 0  # its first message: nothing can come before it
        if msg.seq <= done:
            return
        if msg.seq == done + 1 and key not in self._fillers:
            self._deliver(key, msg, announce=False)
        else:
            self._client.conversations.apply_message(msg)
            self._open_gap(key, msg.seq)

    def on_push(self, msg: Message) -> None:
        """A message pushed by the server."""
        key = (msg.conv_type, msg.conv_id_for(self._client.user_id))
        done = self.delivered.get(key)
        resync = self._reset
        if done is None and resync is not None and key not in resync.seen:
            # Resyncing: the conversation's page will tell where it stands; fill up to here then.
            self._targets[key] = max(self._targets.get(key, 0), msg.seq)
            return
        if done is None and self._first_pass:
            # The pass's page for it tells what is history; this came after the login.
            self._held.setdefault(key, []).append(msg)
            return
        if done is None:
            # A conversation this device has not seen: learn it first, then fill up to here.
            self._targets[key] = max(self._targets.get(key, 0), msg.seq)
            self._start_filler(key, learn=True)
        elif msg.seq <= done:
            if msg.seq <= self._history.get(key, 0):
                # A full pass counted it as history, but it was pushed: it was sent after this
                # connection logged in, so it is new to the app (announced once).
                self._announce_late(key, msg)
        elif msg.seq == done + 1 and key not in self._fillers:
            self._deliver(key, msg, announce=True)
        else:
            self._open_gap(key, msg.seq)

    def _announce_late(self, key: Key, msg: Message) -> None:
        if msg.msg_id in self._sent or msg.msg_id in self._this_connection:
            return
        self._this_connection.add(msg.msg_id)
        self._client.save_messages(key, [msg])
        self._client.events.emit_new_messages([msg])

    def _deliver(self, key: Key, msg: Message, *, announce: bool) -> None:
        client = self._client
        if not client.conversations.apply_message(msg):
            log.debug("message for a conversation not yet known: %s", key)
        self.delivered[key] = msg.seq
        client.save_messages(key, [msg])
        if announce and msg.msg_id not in self._sent and msg.msg_id not in self._this_connection:
            client.events.emit_new_messages([msg])
        self._this_connection.add(msg.msg_id)

    def _open_gap(self, key: Key, up_to: int) -> None:
        self._targets[key] = max(self._targets.get(key, 0), up_to)
        self._start_filler(key, learn=False)

    def _start_filler(self, key: Key, *, learn: bool) -> None:
        if key not in self._fillers:
            self._fillers[key] = asyncio.ensure_future(self._fill(key, learn))

    async def _fill(
        self, key: Key, learn: bool, realign: Realign | None = None, check: Check | None = None
    ) -> None:
        client = self._client
        try:
            if check is not None:
                realign = await self._replaced(key, check.old)
            if realign is not None:
                self.delivered[key] = min(
                    self.delivered.get(key, 0), await self._realign(key, realign)
                )
            if learn:
                req = ConvGetReq(keys=[ConvKey(conv_type=key[0], conv_id=key[1])])
                client.conversations.apply((await client.request("conv_get", req, ConvsRes)).convs)
                snap = client.conversations.cached(*key)
                start = 0 if snap is None else snap.deleted_up_to
                if snap is not None and snap.conv_type == ConvType.GROUP:
                    start = max(start, min(snap.read_seq, self._targets[key] - 1))
                self.delivered.setdefault(key, start)
            while self.delivered[key] < self._targets.get(key, 0):
                # The target may rise while this request is out; only what it was when asked
                # is known to be covered by a short answer.
                asked_up_to = self._targets[key]
                res = await client.request(
                    "catch_up",
                    CatchUpReq(
                        conv_type=key[0],
                        conv_id=key[1],
                        after_seq=self.delivered[key],
                        count=CATCH_UP_PAGE,
                    ),
                    HistoryRes,
                )
                for msg in res.msgs:
                    if msg.seq > self.delivered[key]:
                        self._deliver(key, msg, announce=True)
                if not res.more or not res.msgs:
                    # Nothing more the user may see (deleted, or left the group) up to there.
                    # A page cut short by bytes says ``more``: it is not the end.
                    self.delivered[key] = max(self.delivered[key], asked_up_to)
        except SdkError as exc:
            log.info("catching up %s stopped: %s (it resumes after the next sync)", key, exc)
        finally:
            # Unregistered in the same step that saw the gap closed: a push arriving next is
            # either delivered directly or opens a new filler; none can fall in between.
            self._fillers.pop(key, None)

    async def settle(self) -> None:
        """Wait until every gap opened so far is filled (tests and benchmarks use it)."""
        while self._fillers:
            await asyncio.gather(*list(self._fillers.values()), return_exceptions=True)
