"""Typed SDK events and the listener registry.

Listeners are plain callables, run on the client's event loop in the order events happen; an
event for a change always fires before the call that caused it returns. A listener may also be an
``async def``: its coroutine is scheduled as a task on that loop (started in the order the events
happened, after the emitting step), and its exception, if any, is logged as a plain listener's is.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Generic, TypeVar

from opentim.protocol import AllRecvOpt, Conversation, GroupReport, Message, Profile, UserStatus
from opentim.protocol.extensions import ExtPush
from opentim.protocol.friendship import FriendEvent
from opentim.protocol.pins import PinnedPush
from opentim.protocol.reactions import ReactionPush

from .core.link import LoginStatus
from .filters import ConvFilter

log = logging.getLogger(__name__)

__all__ = [
    "ConvEvent",
    "ConvGroupEvent",
    "ConvGroupEventKind",
    "Events",
    "Listeners",
    "LoginStatus",
    "NetworkStatus",
    "Receipt",
]

T = TypeVar("T")
Done = Awaitable[object] | None
"""What a listener returns: nothing, or an awaitable (an ``async def`` listener's coroutine)."""


class ConvEvent(IntEnum):
    """What happened to conversations (values as TIMConvEvent)."""

    ADDED = 0
    DELETED = 1
    UPDATED = 2
    SYNC_STARTED = 3
    SYNC_FINISHED = 4


class NetworkStatus(IntEnum):
    """Values as TIMNetworkStatus."""

    CONNECTED = 0
    DISCONNECTED = 1
    CONNECTING = 2
    CONNECT_FAILED = 3


class ConvGroupEventKind(IntEnum):
    """What happened to a conversation group (folder)."""

    CREATED = 0
    DELETED = 1
    RENAMED = 2
    ADDED = 3
    REMOVED = 4


@dataclass
class ConvGroupEvent:
    """A change to the user's conversation groups; ``reason`` for REMOVED: 0 the app removed
    them, 1 the group was full and evicted its earliest added (reference 8.6)."""

    kind: ConvGroupEventKind
    name: str
    new_name: str = ""
    convs: list[Conversation] = field(default_factory=list)
    reason: int = 0


@dataclass
class Receipt:
    """The C2C peer ``reader`` has read the conversation up to ``seq``, at ``time``."""

    reader: str
    seq: int
    time: int
    msg_id: str = ""


class Listeners(Generic[T]):
    """An ordered set of listeners of one event type."""

    def __init__(self) -> None:
        self._items: list[T] = []

    def add(self, listener: T) -> Callable[[], None]:
        """Add ``listener``; return a function that removes it."""
        self._items.append(listener)
        return lambda: self.remove(listener)

    def remove(self, listener: T) -> None:
        if listener in self._items:
            self._items.remove(listener)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items))


class Events:
    """Every listener registry of one client."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()
        self.conversations: Listeners[Callable[[ConvEvent, list[Conversation]], Done]] = Listeners()
        self.total_unread: Listeners[Callable[[int], Done]] = Listeners()
        self.new_messages: Listeners[Callable[[list[Message]], Done]] = Listeners()
        self.kicked: Listeners[Callable[[int, str], Done]] = Listeners()
        self.sig_expired: Listeners[Callable[[], Done]] = Listeners()
        self.network: Listeners[Callable[[NetworkStatus, int, str], Done]] = Listeners()
        self.filter_unread: Listeners[Callable[[ConvFilter, int], Done]] = Listeners()
        """A subscribed filter's unread total changed (``conversations.subscribe_unread``)."""
        self.conv_groups: Listeners[Callable[[ConvGroupEvent], Done]] = Listeners()
        self.revoked: Listeners[Callable[[list[Message]], Done]] = Listeners()
        """Messages revoked (by their sender, an admin, or this user on another device)."""
        self.updated: Listeners[Callable[[list[Message]], Done]] = Listeners()
        """Messages modified (by a participant, or this user on another device)."""
        self.receipts: Listeners[Callable[[list[Receipt]], Done]] = Listeners()
        self.friendship: Listeners[Callable[[FriendEvent], Done]] = Listeners()
        """A change to this user's friends, applications, blacklist, friend groups, follows or
        official accounts (made on any device, this one included)."""
        self.group_reports: Listeners[Callable[[GroupReport], Done]] = Listeners()
        """A group event for this user alone: a join request to a group they manage, the
        outcome of their own application."""
        self.statuses: Listeners[Callable[[list[UserStatus]], Done]] = Listeners()
        """Users' status changed (subscribed users; this user's custom status)."""
        self.profiles: Listeners[Callable[[Profile, list[str]], Done]] = Listeners()
        """A profile changed (this user's, a subscribed user's, a friend's) and which fields."""
        self.all_recv_opt: Listeners[Callable[[AllRecvOpt], Done]] = Listeners()
        """The all-messages receive option changed (on another device)."""
        self.reactions: Listeners[Callable[[str, ReactionPush], Done]] = Listeners()
        """A message's reaction changed (by anyone, on any device): the message's conversation
        id for this user and the change."""
        self.pins: Listeners[Callable[[PinnedPush], Done]] = Listeners()
        """A group message was pinned or unpinned (by an admin, on another device)."""
        self.extensions: Listeners[Callable[[str, ExtPush], Done]] = Listeners()
        """A message's extensions changed (set or deleted by anyone, on any other device): the
        message's conversation id for this user and the change."""

    def _call(self, fn: Callable[..., Done], *args: object) -> None:
        try:
            result = fn(*args)
        except Exception:
            log.exception("event listener %r failed", fn)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(self._await(fn, result))
            self._tasks.add(task)  # a strong reference until it is done
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _await(fn: Callable[..., Done], result: Awaitable[object]) -> object:
        try:
            return await result
        except Exception:
            log.exception("event listener %r failed", fn)
            return None

    def emit_conversations(self, kind: ConvEvent, convs: list[Conversation]) -> None:
        for fn in self.conversations:
            self._call(fn, kind, convs)

    def emit_total_unread(self, total: int) -> None:
        for fn in self.total_unread:
            self._call(fn, total)

    def emit_new_messages(self, msgs: list[Message]) -> None:
        for fn in self.new_messages:
            self._call(fn, msgs)

    def emit_kicked(self, code: int, desc: str) -> None:
        for fn in self.kicked:
            self._call(fn, code, desc)

    def emit_sig_expired(self) -> None:
        for fn in self.sig_expired:
            self._call(fn)

    def emit_network(self, status: NetworkStatus, code: int, desc: str) -> None:
        for fn in self.network:
            self._call(fn, status, code, desc)

    def emit_filter_unread(self, conv_filter: ConvFilter, total: int) -> None:
        for fn in self.filter_unread:
            self._call(fn, conv_filter, total)

    def emit_conv_group(self, event: ConvGroupEvent) -> None:
        for fn in self.conv_groups:
            self._call(fn, event)

    def emit_revoked(self, msgs: list[Message]) -> None:
        for fn in self.revoked:
            self._call(fn, msgs)

    def emit_updated(self, msgs: list[Message]) -> None:
        for fn in self.updated:
            self._call(fn, msgs)

    def emit_receipts(self, receipts: list[Receipt]) -> None:
        for fn in self.receipts:
            self._call(fn, receipts)

    def emit_friendship(self, event: FriendEvent) -> None:
        for fn in self.friendship:
            self._call(fn, event)

    def emit_group_report(self, report: GroupReport) -> None:
        for fn in self.group_reports:
            self._call(fn, report)

    def emit_reaction(self, conv_id: str, push: ReactionPush) -> None:
        for fn in self.reactions:
            self._call(fn, conv_id, push)

    def emit_extensions(self, conv_id: str, push: ExtPush) -> None:
        for fn in self.extensions:
            self._call(fn, conv_id, push)

    def emit_pin(self, push: PinnedPush) -> None:
        for fn in self.pins:
            self._call(fn, push)

    def emit_statuses(self, statuses: list[UserStatus]) -> None:
        for fn in self.statuses:
            self._call(fn, statuses)

    def emit_profile(self, profile: Profile, changed: list[str]) -> None:
        for fn in self.profiles:
            self._call(fn, profile, changed)

    def emit_all_recv_opt(self, opt: AllRecvOpt) -> None:
        for fn in self.all_recv_opt:
            self._call(fn, opt)
