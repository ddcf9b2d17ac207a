"""SyncEngine: keeps one device current, and hands every message to the app exactly once.

Conversations come from the server as snapshots, paged by a sync token (protocol/cursors.py): a
full pass the first time, then only changes. Messages come as pushes while connected; for each
conversation the engine remembers ``delivered``, the seq up to which the app has been given its
messages. A push right after ``delivered`` is delivered at once; a duplicate is dropped; a push
beyond it, or a snapshot whose ``max_seq`` is beyond it (what arrived while offline), opens a gap
that is filled with ``catch_up`` requests, oldest first (DESIGN §4). A conversation first seen in
a full pass starts delivered (history is fetched on demand, not replayed).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING

from opentim.protocol import Conversation, ConvType, Message
from opentim.protocol.cursors import FRESH, INCREMENTAL, parse_token
from opentim.protocol.ops import CatchUpReq, HistoryRes, SyncReq, SyncRes

from .events import ConvEvent
from .exceptions import SdkError

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger(__name__)

Key = tuple[int, str]
CATCH_UP_PAGE = 100


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
        self._sent_here: deque[str] = deque(maxlen=1024)
        self._sent_set: set[str] = set()

    def reset(self) -> None:
        self.token = ""
        self.delivered.clear()
        self._targets.clear()
        for task in self._fillers.values():
            task.cancel()
        self._fillers.clear()

    # --- conversations ----------------------------------------------------------------------
    async def run(self) -> None:
        """Page through every change since the token; fill the gaps it reveals."""
        client = self._client
        client.events.emit_conversations(ConvEvent.SYNC_STARTED, [])
        while True:
            phase = parse_token(self.token).phase
            full = phase != INCREMENTAL
            if phase == FRESH:
                self.full_passes += 1
            page = await client.request("conv_sync", SyncReq(cursor=self.token), SyncRes)
            self.apply_snapshots(page.convs, full=full)
            self.token = page.cursor
            client.save_state(page.convs, self.token)
            if not page.more:
                client.conversations.set_group_names(page.conv_groups)
                break
        client.events.emit_conversations(ConvEvent.SYNC_FINISHED, [])

    def apply_snapshots(self, convs: list[Conversation], *, full: bool) -> None:
        """Apply snapshots from the server and open a gap wherever messages are missing."""
        self._client.conversations.apply(convs)
        for snap in convs:
            key = (snap.conv_type, snap.conv_id)
            done = self.delivered.get(key)
            if done is None:
                if full:
                    self.delivered[key] = snap.max_seq
                    continue
                # New to this device since it last synced: deliver what it may see.
                done = snap.deleted_up_to
                if snap.conv_type == ConvType.GROUP:
                    done = max(done, min(snap.read_seq, snap.max_seq))
                self.delivered[key] = done
            if snap.max_seq > done:
                self._open_gap(key, snap.max_seq)

    # --- messages ---------------------------------------------------------------------------
    def sent_here(self, msg: Message) -> None:
        """A message this device sent was stored: it is delivered, and never announced."""
        if msg.msg_id not in self._sent_set:
            if len(self._sent_here) == self._sent_here.maxlen:
                self._sent_set.discard(self._sent_here[0])
            self._sent_here.append(msg.msg_id)
            self._sent_set.add(msg.msg_id)
        key = (msg.conv_type, msg.conv_id_for(self._client.user_id))
        done = self.delivered.setdefault(key, msg.seq - 1)  # a conversation new here
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
        if done is None:
            # A conversation this device has not seen: learn it first, then fill up to here.
            self._targets[key] = max(self._targets.get(key, 0), msg.seq)
            self._start_filler(key, learn=True)
        elif msg.seq <= done:
            return
        elif msg.seq == done + 1 and key not in self._fillers:
            self._deliver(key, msg, announce=True)
        else:
            self._open_gap(key, msg.seq)

    def _deliver(self, key: Key, msg: Message, *, announce: bool) -> None:
        client = self._client
        if not client.conversations.apply_message(msg):
            log.debug("message for a conversation not yet known: %s", key)
        self.delivered[key] = msg.seq
        client.save_messages(key, [msg])
        if announce and msg.msg_id not in self._sent_set:
            client.events.emit_new_messages([msg])

    def _open_gap(self, key: Key, up_to: int) -> None:
        self._targets[key] = max(self._targets.get(key, 0), up_to)
        self._start_filler(key, learn=False)

    def _start_filler(self, key: Key, *, learn: bool) -> None:
        if key not in self._fillers:
            self._fillers[key] = asyncio.ensure_future(self._fill(key, learn))

    async def _fill(self, key: Key, learn: bool) -> None:
        client = self._client
        try:
            if learn:
                await client.conversations.get([key])
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
