"""Conversation sync, gap filling and exactly-once delivery, sans I/O.

Conversations come from the server as snapshots, paged by a sync token (protocol/cursors.py): a
full pass the first time, then only changes. Messages come as pushes while connected; for each
conversation the core remembers ``delivered``, the seq up to which the app has been given its
messages. A push right after ``delivered`` is delivered at once; a duplicate is dropped; a push
beyond it, or a snapshot whose ``max_seq`` is beyond it (what arrived while offline), raises the
conversation's *target* and opens a gap, filled by a *filler* with ``catch_up`` requests, oldest
first (DESIGN §4). A conversation first seen in a full pass starts delivered (history is fetched
on demand, not replayed).

The server is the truth, even when its history was replaced under the device's cache (a restored
backup, or a new empty database at the same address). The device notices it three ways: the
login answer names a database other than the one its token came from; the server refuses the
token (``SyncRes.reset``: another database, or a position beyond the server's clock); or one
conversation's ``max_seq`` falls below what was delivered. Then it *resyncs* — the whole list, or
that conversation: the server's snapshots replace the cached ones whatever their positions,
conversations the server does not have are dropped, cached messages of a replaced history are
forgotten, and each conversation is *realigned*: its server history is read newest first down to
the newest message this device already had (by ``msg_id``) or one older than the last message it
had, and every message after that point is delivered, once.

Nothing here waits. Each input (a push, a page, an answer to a request this core asked for)
returns the actions it leads to: ``SyncStarted``; ``Ask`` a request and feed its answer back
with ``answered`` (or ``failed``); ``Deliver`` a message; ``Save`` snapshots and the token;
``ReadCached`` / ``DropCached`` the local cache's messages; ``SyncDone`` when a pass ends. The
conversation list (``ConvList``) is in-memory state the core reads and writes directly.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol, cast

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

from ..exceptions import SdkError

log = logging.getLogger(__name__)

Key = tuple[int, str]
CATCH_UP_PAGE = 100
REALIGN_PAGES = 10
"""At most this many pages of a replaced history are read back, and replayed, per conversation."""


class ConvList(Protocol):
    """What the core uses of the conversation list (sdk/conversations.py)."""

    def cached(self, conv_type: int, conv_id: str) -> Conversation | None: ...
    def snapshots(self) -> dict[Key, Conversation]: ...
    def apply(self, snapshots: list[Conversation], *, force: bool = False) -> None: ...
    def apply_message(self, msg: Message) -> bool: ...
    def set_group_names(self, names: list[str]) -> None: ...


# --- actions ---------------------------------------------------------------------------------
class Ask(msgspec.Struct, frozen=True, gc=False):
    """Send this request; feed its answer back with ``answered(ticket, result)``."""

    ticket: int
    op: str
    body: msgspec.Struct
    result: type[msgspec.Struct]


class Deliver(msgspec.Struct, frozen=True, gc=False):
    """A message is delivered: keep it in the cache; tell the app when ``announce``."""

    key: Key
    msg: Message
    announce: bool


class Save(msgspec.Struct, frozen=True, gc=False):
    """Keep these snapshots (and the token, unless None) in the local cache."""

    convs: list[Conversation]
    token: str | None


class ReadCached(msgspec.Struct, frozen=True, gc=False):
    """Read the cache's messages of ``key``; feed them back with ``answered(ticket, msgs)``."""

    ticket: int
    key: Key


class DropCached(msgspec.Struct, frozen=True, gc=False):
    """Forget the cache's messages of these conversations (their history was replaced)."""

    keys: list[Key]


class SyncStarted(msgspec.Struct, frozen=True, gc=False):
    """A sync pass began."""


class SyncDone(msgspec.Struct, frozen=True):
    """A sync pass ended: complete (``error`` None) or stopped by a failed request."""

    error: SdkError | None


SyncAction = Ask | Deliver | Save | ReadCached | DropCached | SyncStarted | SyncDone


# --- state -----------------------------------------------------------------------------------
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


class Stage(enum.Enum):
    """What a filler's outstanding request is for, in the order a filler goes through them."""

    CHECK = "conv_get: is the server's history the one delivered here?"
    CACHE = "the local cache's messages, where a replaced history may meet the new one"
    REALIGN = "history pages, newest first, down to where the two histories meet"
    LEARN = "conv_get: where a conversation new to this device starts"
    CATCH_UP = "catch_up pages, oldest first, up to the target"


@dataclass(eq=False)
class Filler:
    """Fills one conversation's gap, one request at a time."""

    key: Key
    learn: bool
    check: bool = False
    old: Conversation | None = None
    """For a check: the snapshot this device had."""
    realign: Realign | None = None
    known: set[str] = field(default_factory=set)
    cached: dict[str, int] = field(default_factory=dict)
    before: int = 0
    pages: int = 0
    asked_up_to: int = 0
    stage: Stage = Stage.CATCH_UP
    ticket: int = 0


@dataclass(eq=False)
class _Pass:
    ticket: int = 0


class SyncCore:
    """Sync, gap filling and exactly-once delivery for one user's device."""

    def __init__(self, convs: ConvList | None = None, user_id: str = "") -> None:
        self.convs: ConvList = cast(ConvList, convs)
        """The conversation list this core keeps current: given here, or attached once by
        whoever holds it (the list and the sync use each other)."""
        self.user_id = user_id
        self.token = ""
        self.delivered: dict[Key, int] = {}
        self.targets: dict[Key, int] = {}
        self.floors: dict[Key, int] = {}
        """For a conversation not yet known here: the lowest seq pushed or sent for it (a group
        learned later never starts above it, whatever another device read meanwhile)."""
        self.fillers: dict[Key, Filler] = {}
        self.full_passes = 0
        """How many full passes this device ran (a test checks reconnects stay incremental)."""
        self.resyncs = 0
        """How many times this device found the server's history replaced (tests read it)."""
        self._sent = RecentIds(1024)
        """Messages this device sent: delivered, never announced."""
        self._this_connection = RecentIds(10_000)
        """Messages delivered since the connection was made: all from the server's current
        history (a realign never takes them for what the device had before, nor repeats them)."""
        self._reset: _Reset | None = None
        self._pass: _Pass | None = None
        self._again = False
        self._first_pass = False
        """A full pass is running: pushes for conversations it has not reached yet wait in
        ``_held`` for its page (which tells what is history), instead of each fetching it."""
        self._held: dict[Key, list[Message]] = {}
        self._history: dict[Key, int] = {}
        """Where a full pass put a conversation's delivered position: messages up to there
        are history, except those pushed to this connection (sent after it logged in)."""
        self._tickets = 0
        self._asked: dict[int, Filler | _Pass] = {}
        self._out: list[SyncAction] = []

    # --- plumbing ---------------------------------------------------------------------------
    def _take(self) -> list[SyncAction]:
        out, self._out = self._out, []
        return out

    def _ask(
        self, owner: Filler | _Pass, op: str, body: msgspec.Struct, result: type[msgspec.Struct]
    ) -> None:
        self._tickets += 1
        owner.ticket = self._tickets
        self._asked[self._tickets] = owner
        self._out.append(Ask(self._tickets, op, body, result))

    def _read_cached(self, filler: Filler) -> None:
        self._tickets += 1
        filler.ticket = self._tickets
        self._asked[self._tickets] = filler
        self._out.append(ReadCached(self._tickets, filler.key))

    @property
    def running(self) -> bool:
        """A sync pass is running."""
        return self._pass is not None

    @property
    def busy(self) -> bool:
        """A pass or a filler has a request out."""
        return bool(self._asked)

    def connection_started(self) -> None:
        """A new connection to the server is being made."""
        self._this_connection.clear()

    def reset(self) -> None:
        """Forget the user (another one logs in, or a resync starts over)."""
        self.token = ""
        self.delivered.clear()
        self._held.clear()
        self._history.clear()
        self.targets.clear()
        self.floors.clear()
        self._drop_fillers()
        self._reset = None

    def forget(self) -> None:
        """Another user logs in (or none): drop everything, a running pass included (its
        answers would belong to the user before)."""
        if self._pass is not None:
            self._asked.pop(self._pass.ticket, None)
        self._pass = None
        self._again = self._first_pass = False
        self.reset()

    def _drop_fillers(self) -> None:
        for filler in self.fillers.values():
            self._asked.pop(filler.ticket, None)
        self.fillers.clear()

    # --- answers ----------------------------------------------------------------------------
    def answered(self, ticket: int, result: object) -> list[SyncAction]:
        """The answer to ``Ask`` or ``ReadCached`` ``ticket``; an unknown ticket (a replaced
        filler's, an abandoned pass's) is dropped."""
        owner = self._asked.pop(ticket, None)
        if isinstance(owner, _Pass):
            assert isinstance(result, SyncRes)
            self._on_page(owner, result)
        elif owner is not None:
            self._step(owner, result)
        return self._take()

    def failed(self, ticket: int, exc: SdkError) -> list[SyncAction]:
        """The request of ``ticket`` failed: a pass stops (it runs again on reconnect), a
        filler stops (it resumes after the next sync)."""
        owner = self._asked.pop(ticket, None)
        if isinstance(owner, _Pass):
            self._end_pass(exc)
        elif owner is not None:
            log.info("catching up %s stopped: %s (it resumes after the next sync)", owner.key, exc)
            self._finish(owner)
        return self._take()

    # --- the conversation list --------------------------------------------------------------
    def start(self, server_db_id: int = 0) -> list[SyncAction]:
        """Page through every change since the token; fill the gaps it reveals. A pass already
        running is abandoned (a new connection starts over: its answers are dropped).
        ``server_db_id``: the database the login answer named (0: none)."""
        self._start(server_db_id)
        return self._take()

    def _start(self, server_db_id: int = 0) -> None:
        token = parse_token(self.token)
        if server_db_id and token.phase != FRESH and token.db != server_db_id:
            self._begin_resync("the server's database changed")
        if self._pass is not None:
            self._asked.pop(self._pass.ticket, None)
        self._first_pass = self._reset is None and token.phase != INCREMENTAL
        self._out.append(SyncStarted())
        self._pass = _Pass()
        self._next_page(self._pass)

    def sync_soon(self) -> list[SyncAction]:
        """Sync again behind the caller (an answer left changed conversations out): after the
        running pass, or now."""
        if self._pass is not None:
            self._again = True
            return []
        return self.start()

    def _next_page(self, p: _Pass) -> None:
        if parse_token(self.token).phase == FRESH:
            self.full_passes += 1
        self._ask(p, "conv_sync", SyncReq(cursor=self.token), SyncRes)

    def _on_page(self, p: _Pass, page: SyncRes) -> None:
        full = parse_token(self.token).phase != INCREMENTAL
        if page.reset and self._reset is None:
            self._begin_resync("the server refused the sync token")
            full = True
            self.full_passes += 1
        self.apply_snapshots(page.convs, full=full)
        self.token = page.cursor
        # A resync's token is kept only once it is complete: an app stopped halfway starts it
        # again from the old token rather than go on from a half-replaced cache.
        self._out.append(Save(page.convs, None if self._reset is not None else self.token))
        if page.more:
            self._next_page(p)
            return
        self.convs.set_group_names(page.conv_groups)
        if self._reset is not None:
            self._end_resync()
            self._out.append(Save([], self.token))
        self._end_pass(None)

    def _end_pass(self, error: SdkError | None) -> None:
        self._pass = None
        self._first_pass = False
        held, self._held = self._held, {}
        for msgs in held.values():  # never in a page: new to the list since the pass began
            for msg in msgs:
                self._on_push(msg)
        self._out.append(SyncDone(error))
        if self._again:
            self._again = False
            if error is None:
                self._start()

    def _begin_resync(self, why: str) -> None:
        """The server's history is not the one this device synced from: start over from it."""
        log.info("%s: resyncing the conversation list from the server", why)
        self.resyncs += 1
        before = self.convs.snapshots()
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
            self.convs.apply(gone, force=True)
        for key in dict.fromkeys([*resync.before, *self.targets]):
            if key not in resync.seen and (key in self.delivered or key in self.targets):
                # Something happened to it after the resync's pages were read (a send, a push):
                # learn it from the server now, as any conversation new to this device.
                self.targets[key] = max(self.targets.get(key, 0), self.delivered.get(key, 0))
                self._start_filler(key, learn=True)
        stale = [
            k
            for k in resync.before
            if k not in resync.realigned and not self._same_history(resync, k)
        ]
        if stale:
            self._out.append(DropCached(stale))

    def _same_history(self, resync: _Reset, key: Key) -> bool:
        old = resync.before.get(key)
        new = self.convs.cached(*key)
        if old is None or new is None or old.last_msg is None or new.last_msg is None:
            return old is not None and new is not None and old.max_seq == new.max_seq == 0
        return (old.last_msg.msg_id, old.last_msg.seq) == (new.last_msg.msg_id, new.last_msg.seq)

    def on_snapshots(self, convs: list[Conversation]) -> list[SyncAction]:
        """Snapshots pushed by a change."""
        self.apply_snapshots(convs, full=False, pushed=True)
        return self._take()

    def apply_snapshots(
        self, convs: list[Conversation], *, full: bool, pushed: bool = False
    ) -> None:
        """Apply snapshots from the server (a sync page, or ``pushed`` by a change) and open a
        gap wherever messages are missing."""
        resync = self._reset
        lst = self.convs
        before = [lst.cached(c.conv_type, c.conv_id) for c in convs]
        if resync is None or pushed:
            lst.apply(convs)
        else:
            # A resync's first word on a conversation replaces the cached one, whose position
            # belongs to the other history; later words are ordered as usual.
            first = [c for c in convs if (c.conv_type, c.conv_id) not in resync.seen]
            lst.apply(first, force=True)
            lst.apply([c for c in convs if (c.conv_type, c.conv_id) in resync.seen])
        delivered = self.delivered
        first_run = full or self._first_pass
        for snap, old in zip(convs, before, strict=True):
            key = (snap.conv_type, snap.conv_id)
            done = delivered.get(key)
            if resync is not None and key not in resync.seen:
                if pushed:
                    # The resync's own page for it will tell where it stands.
                    self.targets[key] = max(self.targets.get(key, 0), snap.max_seq)
                    continue
                resync.seen.add(key)
                delivered[key] = snap.max_seq
                if self._realign_if_new(key, snap, resync.before.get(key), resync.since):
                    resync.realigned.add(key)
                elif self.targets.get(key, 0) > snap.max_seq:
                    self._open_gap(key, self.targets[key])
                continue
            if done is not None and snap.max_seq < done:
                if not pushed:
                    # Its history on the server may not be the one delivered here (or this page
                    # was read just before a message that was pushed since): ask again,
                    # replacing any filler at work (its answers are dropped from now on).
                    self._replace_filler(Filler(key, learn=False, check=True, old=old))
                continue
            if done is None:
                # The whole first run after a full pass begins, its incremental tail included:
                # what was stored before the login is history, and anything later was pushed.
                if first_run:
                    delivered[key] = self._history[key] = snap.max_seq
                    self.floors.pop(key, None)
                    held = self._held.pop(key, None)
                    for msg in sorted(held or (), key=_seq):
                        self._on_push(msg)
                    continue
                # New to this device since it last synced: deliver what it may see.
                done = delivered[key] = self._start_of(key, snap)
            if snap.max_seq > done:
                self._open_gap(key, snap.max_seq)

    def _start_of(self, key: Key, snap: Conversation) -> int:
        """Where delivering a conversation new to this device starts: after what the user
        deleted; for a group, after what the user had read when first seen here (what came
        before joining), but never above a message pushed or sent here before that."""
        start = snap.deleted_up_to
        if snap.conv_type == ConvType.GROUP:
            read = min(snap.read_seq, snap.max_seq)
            if key in self.targets:
                read = min(read, self.targets[key] - 1)
            if key in self.floors:
                read = min(read, self.floors[key] - 1)
            start = max(start, read)
        self.floors.pop(key, None)
        return start

    # --- checks and realigning --------------------------------------------------------------
    def _replaced(self, filler: Filler, res: ConvsRes) -> Realign | None:
        """Whether the server's history of the filler's conversation is not the one delivered
        here: its current ``max_seq`` is below what was delivered (what was delivered was
        committed, so a server with the same history has it). If so, show the server's snapshot
        and say how to realign."""
        key = filler.key
        done = self.delivered.get(key, 0)
        if not res.convs or res.convs[0].max_seq >= done:
            return None
        snap = res.convs[0]
        log.info("%s: server seq %d below delivered %d: resyncing it", key, snap.max_seq, done)
        self.resyncs += 1
        self.convs.apply([snap], force=True)
        self.delivered[key] = snap.max_seq
        self.targets[key] = max(self.targets.get(key, 0), snap.max_seq)
        last = None if filler.old is None else filler.old.last_msg
        if last is None:
            return Realign(since=0, known=frozenset())
        return Realign(since=last.server_time, known=frozenset({last.msg_id}))

    def _realign_if_new(
        self, key: Key, snap: Conversation, old: Conversation | None, since: int
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
        self.targets[key] = max(self.targets.get(key, 0), snap.max_seq)
        self._replace_filler(Filler(key, learn=False, realign=Realign(since=since, known=known)))
        return True

    def _realign_page(self, filler: Filler, res: HistoryRes) -> int | None:
        """One page of a replaced history read back: the seq after which its messages are new
        to this device, or None to read the next page."""
        assert filler.realign is not None
        for msg in res.msgs:
            if msg.msg_id in filler.known or msg.server_time < filler.realign.since:
                # The cache stays only if it ends where the two histories meet.
                newest = max(filler.cached.values(), default=0)
                if not filler.cached.get(msg.msg_id) == msg.seq == newest:
                    self._out.append(DropCached([filler.key]))
                return msg.seq
        filler.pages += 1
        if len(res.msgs) < CATCH_UP_PAGE:
            filler.before = 1  # every message the user may see is new here
        else:
            filler.before = res.msgs[-1].seq
            if filler.pages < REALIGN_PAGES:
                return None
        self._out.append(DropCached([filler.key]))
        return max(0, filler.before - 1)

    # --- fillers ----------------------------------------------------------------------------
    def _open_gap(self, key: Key, up_to: int) -> None:
        self.targets[key] = max(self.targets.get(key, 0), up_to)
        self._start_filler(key, learn=False)

    def _start_filler(self, key: Key, *, learn: bool) -> None:
        if key not in self.fillers:
            filler = Filler(key, learn=learn)
            self.fillers[key] = filler
            self._run(filler)

    def _replace_filler(self, filler: Filler) -> None:
        old = self.fillers.get(filler.key)
        if old is not None:
            self._asked.pop(old.ticket, None)
        self.fillers[filler.key] = filler
        self._run(filler)

    def _finish(self, filler: Filler) -> None:
        # Unregistered in the same step that saw the gap closed: a push arriving next is either
        # delivered directly or opens a new filler; none can fall in between. A filler that was
        # replaced never gets here (its answers are dropped), so it never unregisters the one
        # that replaced it.
        assert self.fillers.get(filler.key) is filler
        del self.fillers[filler.key]

    def _run(self, filler: Filler) -> None:
        """Ask the filler's first request."""
        key = filler.key
        if filler.check:
            filler.stage = Stage.CHECK
            self._ask(filler, "conv_get", _conv_get(key), ConvsRes)
        elif filler.realign is not None:
            self._begin_realign(filler)
        else:
            self._after_realign(filler)

    def _begin_realign(self, filler: Filler) -> None:
        filler.stage = Stage.CACHE
        self._read_cached(filler)

    def _after_realign(self, filler: Filler) -> None:
        if filler.learn:
            filler.stage = Stage.LEARN
            self._ask(filler, "conv_get", _conv_get(filler.key), ConvsRes)
        else:
            self._catch_up(filler)

    def _catch_up(self, filler: Filler) -> None:
        key = filler.key
        if self.delivered[key] >= self.targets.get(key, 0):
            self._finish(filler)
            return
        # The target may rise while this request is out; only what it was when asked is known
        # to be covered by a short answer.
        filler.stage = Stage.CATCH_UP
        filler.asked_up_to = self.targets[key]
        req = CatchUpReq(
            conv_type=key[0], conv_id=key[1], after_seq=self.delivered[key], count=CATCH_UP_PAGE
        )
        self._ask(filler, "catch_up", req, HistoryRes)

    def _ask_history(self, filler: Filler) -> None:
        key = filler.key
        req = HistoryReq(
            conv_type=key[0], conv_id=key[1], before_seq=filler.before, count=CATCH_UP_PAGE
        )
        self._ask(filler, "history", req, HistoryRes)

    def _step(self, filler: Filler, result: object) -> None:
        """The answer to the filler's request: go on to the next one."""
        key = filler.key
        if filler.stage is Stage.CHECK:
            assert isinstance(result, ConvsRes)
            filler.realign = self._replaced(filler, result)
            if filler.realign is not None:
                self._begin_realign(filler)
            else:
                self._after_realign(filler)
        elif filler.stage is Stage.CACHE:
            assert isinstance(result, list)
            assert filler.realign is not None
            filler.cached = {m.msg_id: m.seq for m in result}
            # Only what the device had before this connection marks where histories meet.
            known = set(filler.realign.known) | set(filler.cached)
            filler.known = {i for i in known if i not in self._this_connection}
            filler.stage = Stage.REALIGN
            self._ask_history(filler)
        elif filler.stage is Stage.REALIGN:
            assert isinstance(result, HistoryRes)
            meet = self._realign_page(filler, result)
            if meet is None:
                self._ask_history(filler)
                return
            self.delivered[key] = min(self.delivered.get(key, 0), meet)
            self._after_realign(filler)
        elif filler.stage is Stage.LEARN:
            assert isinstance(result, ConvsRes)
            self.convs.apply(result.convs)
            snap = self.convs.cached(*key)
            if key not in self.delivered:
                self.delivered[key] = 0 if snap is None else self._start_of(key, snap)
            self._catch_up(filler)
        else:
            assert isinstance(result, HistoryRes)
            for msg in result.msgs:
                if msg.seq > self.delivered[key]:
                    self._deliver(key, msg, announce=True)
            if not result.more or not result.msgs:
                # Nothing more the user may see (deleted, or left the group) up to there. A
                # page cut short by bytes says ``more``: it is not the end.
                self.delivered[key] = max(self.delivered[key], filler.asked_up_to)
            self._catch_up(filler)

    # --- messages ---------------------------------------------------------------------------
    def sending(self, msg_id: str) -> None:
        """This device is about to send ``msg_id``: never announce it, even when a sync or a
        catch-up brings it before the send's answer does (a send queued while offline goes out
        on reconnect, when a resync may read the conversation first)."""
        self._sent.add(msg_id)

    def sent_here(self, msg: Message) -> list[SyncAction]:
        """A message this device sent was stored: it is delivered, and never announced."""
        self._sent.add(msg.msg_id)
        self._this_connection.add(msg.msg_id)
        key = (msg.conv_type, msg.conv_id_for(self.user_id))
        done = self.delivered.get(key)
        if done is None and msg.seq > 1:
            # A conversation new to this device, with messages before this one: the peer's or
            # the user's other devices', whose pushes may still be on their way (the server
            # acknowledges this send and pushes those at about the same time, in no fixed
            # order). Starting at ``seq - 1`` would drop them when they come: learn where the
            # conversation starts instead, as for a push, and fill up to here.
            self.convs.apply_message(msg)
            self._unknown(key, msg.seq)
            resync = self._reset
            if resync is None or key in resync.seen:
                self._start_filler(key, learn=True)
            return self._take()
        if done is None:
            done = self.delivered[key] = 0  # its first message: nothing can come before it
        if msg.seq <= done:
            return []
        if msg.seq == done + 1 and key not in self.fillers:
            self._deliver(key, msg, announce=False)
        else:
            self.convs.apply_message(msg)
            self._open_gap(key, msg.seq)
        return self._take()

    def _unknown(self, key: Key, seq: int) -> None:
        """A message of a conversation not known here yet: fill up to it once it is."""
        self.targets[key] = max(self.targets.get(key, 0), seq)
        self.floors[key] = min(self.floors.get(key, seq), seq)

    def on_push(self, msg: Message) -> list[SyncAction]:
        """A message pushed by the server."""
        self._on_push(msg)
        return self._take()

    def _on_push(self, msg: Message) -> None:
        key = (msg.conv_type, msg.conv_id_for(self.user_id))
        done = self.delivered.get(key)
        resync = self._reset
        if done is None and resync is not None and key not in resync.seen:
            # Resyncing: the conversation's page will tell where it stands; fill up to here then.
            self._unknown(key, msg.seq)
            return
        if done is None and self._first_pass:
            # The pass's page for it tells what is history; this came after the login.
            self._held.setdefault(key, []).append(msg)
            return
        if done is None:
            # A conversation this device has not seen: learn it first, then fill up to here.
            self._unknown(key, msg.seq)
            self._start_filler(key, learn=True)
        elif msg.seq <= done:
            if msg.seq <= self._history.get(key, 0):
                # A full pass counted it as history, but it was pushed: it was sent after this
                # connection logged in, so it is new to the app (announced once).
                self._announce_late(key, msg)
        elif msg.seq == done + 1 and key not in self.fillers:
            self._deliver(key, msg, announce=True)
        else:
            self._open_gap(key, msg.seq)

    def _announce_late(self, key: Key, msg: Message) -> None:
        if msg.msg_id in self._sent or msg.msg_id in self._this_connection:
            return
        self._this_connection.add(msg.msg_id)
        self._out.append(Deliver(key, msg, announce=True))

    def _deliver(self, key: Key, msg: Message, *, announce: bool) -> None:
        if not self.convs.apply_message(msg):
            log.debug("message for a conversation not yet known: %s", key)
        self.delivered[key] = msg.seq
        announce = (
            announce and msg.msg_id not in self._sent and msg.msg_id not in self._this_connection
        )
        self._out.append(Deliver(key, msg, announce))
        self._this_connection.add(msg.msg_id)


def _seq(msg: Message) -> int:
    return msg.seq


def _conv_get(key: Key) -> ConvGetReq:
    return ConvGetReq(keys=[ConvKey(conv_type=key[0], conv_id=key[1])])
