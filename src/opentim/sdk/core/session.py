"""ClientSession: the client's whole protocol state, sans I/O — the mirror of the server's
``protocol/session.py``.

It takes what comes in (a frame from the server, a connection event, the answer to a request
the sync asked for) and returns the actions that follow; it never waits, never sends, never
touches a socket, a timer or a file. The asyncio ``Client`` drives it: it sends the frames, holds
the futures of the app's requests (``requests``), runs the timers the connection life asks for
(``link``), asks the sync's requests and reads the local cache for it (``sync``).

Actions are msgspec structs (cheap to make, one or two per frame); those that never hold an
exception are left out of the cyclic garbage collector (``gc=False``: they form no cycle).

Pushes are dispatched by one table (``PUSHES``: body type → handler), as the server dispatches
ops by one table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import msgspec

from opentim.protocol import GroupReport, Message, RemoteProtocolError, Response, decode_push
from opentim.protocol.codec import decode_server_frame
from opentim.protocol.extensions import ExtPush
from opentim.protocol.friendship import FriendEvent, FriendPush
from opentim.protocol.ops import (
    AllRecvOptPush,
    ConvGroupChange,
    ConvGroupPush,
    ConvPush,
    GroupReportPush,
    KickedPush,
    MsgPush,
    MsgUpdatePush,
    ProfilePush,
    ReadPush,
    RevokePush,
    SigExpiredPush,
    StatusPush,
)
from opentim.protocol.pins import PinnedPush
from opentim.protocol.reactions import ReactionPush

from .link import Link, LinkAction, LinkEvent
from .requests import Answer, Requests
from .sync import ConvList, SyncAction, SyncCore

log = logging.getLogger(__name__)


class Revoked(msgspec.Struct, frozen=True, gc=False):
    """A message was revoked: the conversation's last message follows; tell the app."""

    msg: Message
    pos: int


class Updated(msgspec.Struct, frozen=True, gc=False):
    """A message was modified: the conversation's last message follows; tell the app."""

    msg: Message
    pos: int


class ReadReceipt(msgspec.Struct, frozen=True, gc=False):
    """The C2C peer read the conversation: tell the app."""

    push: ReadPush


class GroupReported(msgspec.Struct, frozen=True, gc=False):
    """A group report for this user (a join request, its outcome): tell the app."""

    report: GroupReport


class FriendChanged(msgspec.Struct, frozen=True, gc=False):
    """Friendship changed (friends, applications, blacklist, groups, follows): tell the app."""

    event: FriendEvent


class UsersChanged(msgspec.Struct, frozen=True, gc=False):
    """A status, profile or all-messages-option push (issue 11): tell the user manager."""

    push: StatusPush | ProfilePush | AllRecvOptPush


class GroupChanged(msgspec.Struct, frozen=True, gc=False):
    """A conversation group changed on another device: fold it in and tell the app."""

    change: ConvGroupChange


class ReactionChanged(msgspec.Struct, frozen=True, gc=False):
    """A message's reaction changed (issue 12): tell the app."""

    push: ReactionPush


class PinChanged(msgspec.Struct, frozen=True, gc=False):
    """A group message was pinned or unpinned (issue 12): tell the app."""

    push: PinnedPush


class ExtensionsChanged(msgspec.Struct, frozen=True, gc=False):
    """A message's extensions changed (issue 12): tell the app."""

    push: ExtPush


Action = (
    SyncAction
    | Answer
    | LinkAction
    | Revoked
    | Updated
    | ReadReceipt
    | GroupChanged
    | FriendChanged
    | GroupReported
    | UsersChanged
    | ReactionChanged
    | PinChanged
    | ExtensionsChanged
)
Handler = Callable[["ClientSession", msgspec.Struct], Sequence[Action]]


class ClientSession:
    """One user's session with the server, as state."""

    def __init__(
        self,
        convs: ConvList | None = None,
        backoff: tuple[float, float] = (0.25, 30.0),
        link: Link | None = None,
    ) -> None:
        self.requests = Requests()
        self.link = link or Link(backoff)
        self.sync = SyncCore(convs)
        self.server_db_id = 0
        """The database identity the server gave at the last login (0: it has none)."""

    @property
    def user_id(self) -> str:
        return self.sync.user_id

    @user_id.setter
    def user_id(self, user_id: str) -> None:
        self.sync.user_id = user_id

    # --- frames -----------------------------------------------------------------------------
    def receive(self, data: bytes | str, link: int) -> Sequence[Action]:
        """A frame from the server, on connection ``link``."""
        try:
            frame = decode_server_frame(data)
        except RemoteProtocolError:
            log.warning("undecodable frame from server dropped")
            return []
        if isinstance(frame, Response):
            answer = self.requests.answer(frame, link)
            return () if answer is None else (answer,)
        try:
            body = decode_push(frame)
        except RemoteProtocolError:
            log.warning("unknown push %r dropped", frame.kind)
            return ()
        return PUSHES[type(body)](self, body)

    # --- connection life --------------------------------------------------------------------
    def handle(self, event: LinkEvent) -> list[LinkAction]:
        return self.link.handle(event)

    def connecting(self) -> int:
        """A connection is being made: its number (requests sent on it belong to it)."""
        self.sync.connection_started()
        return self.requests.connected()

    def logged_in(self, server_db_id: int) -> list[LinkAction]:
        self.server_db_id = server_db_id
        return self.link.handle(LinkEvent.LOGGED_IN)

    def start_sync(self) -> list[SyncAction]:
        """The sync behind a login (or re-login)."""
        return self.sync.start(self.server_db_id)


def _msg(s: ClientSession, body: msgspec.Struct) -> Sequence[Action]:
    assert isinstance(body, MsgPush)
    return s.sync.on_push(body.msg)


def _convs(s: ClientSession, body: msgspec.Struct) -> Sequence[Action]:
    assert isinstance(body, ConvPush)
    return s.sync.on_snapshots(body.convs)


def _revoke(s: ClientSession, body: msgspec.Struct) -> list[Action]:
    assert isinstance(body, RevokePush)
    return [Revoked(body.msg, body.pos)]


def _update(s: ClientSession, body: msgspec.Struct) -> list[Action]:
    assert isinstance(body, MsgUpdatePush)
    return [Updated(body.msg, body.pos)]


def _read(s: ClientSession, body: msgspec.Struct) -> list[Action]:
    assert isinstance(body, ReadPush)
    return [ReadReceipt(body)]


def _group(s: ClientSession, body: msgspec.Struct) -> list[Action]:
    assert isinstance(body, ConvGroupPush)
    return [GroupChanged(body.change)]


def _report(s: ClientSession, body: msgspec.Struct) -> list[Action]:
    assert isinstance(body, GroupReportPush)
    return [GroupReported(body.report)]


def _friend(s: ClientSession, body: msgspec.Struct) -> list[Action]:
    assert isinstance(body, FriendPush)
    return [FriendChanged(body.event)]


def _users(s: ClientSession, body: msgspec.Struct) -> list[Action]:
    assert isinstance(body, (StatusPush, ProfilePush, AllRecvOptPush))
    return [UsersChanged(body)]


def _reaction(s: ClientSession, body: msgspec.Struct) -> list[Action]:
    assert isinstance(body, ReactionPush)
    return [ReactionChanged(body)]


def _pinned(s: ClientSession, body: msgspec.Struct) -> list[Action]:
    assert isinstance(body, PinnedPush)
    return [PinChanged(body)]


def _ext(s: ClientSession, body: msgspec.Struct) -> list[Action]:
    assert isinstance(body, ExtPush)
    return [ExtensionsChanged(body)]


def _kicked(s: ClientSession, body: msgspec.Struct) -> list[Action]:
    assert isinstance(body, KickedPush)
    return list(s.link.handle(LinkEvent.KICKED, body.code, body.desc))


def _sig_expired(s: ClientSession, body: msgspec.Struct) -> list[Action]:
    assert isinstance(body, SigExpiredPush)
    return list(s.link.handle(LinkEvent.SIG_EXPIRED, body.code, body.desc))


PUSHES: dict[type[msgspec.Struct], Handler] = {
    MsgPush: _msg,
    ConvPush: _convs,
    RevokePush: _revoke,
    ReadPush: _read,
    ConvGroupPush: _group,
    FriendPush: _friend,
    GroupReportPush: _report,
    StatusPush: _users,
    ProfilePush: _users,
    AllRecvOptPush: _users,
    KickedPush: _kicked,
    SigExpiredPush: _sig_expired,
    MsgUpdatePush: _update,
    ReactionPush: _reaction,
    PinnedPush: _pinned,
    ExtPush: _ext,
}
"""Every push the client knows, by body type (``decode_push`` knows no other)."""
