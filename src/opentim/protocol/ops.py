"""Every request op and push kind, with its body types.

``OPS`` is the one table of what a client may ask: op name → (request body, response body).
``PUSHES`` is the table of push kinds → body type. Login must be the first request of a session;
every other op needs a logged-in session (protocol/session.py enforces it).
"""

from __future__ import annotations

from typing import Any

import msgspec

from .models import Conversation, Draft, GroupInfo, MemberResult, Message, Profile, Struct


class Empty(Struct):
    """A body with nothing in it."""


# --- auth -----------------------------------------------------------------------------------
class LoginReq(Struct):
    user_id: str
    user_sig: str
    sdkappid: int
    device_id: str = ""
    platform: int = 0
    resume: bool = False
    """An automatic re-login after a lost connection (not the user's own login)."""


class LoginRes(Struct):
    user_id: str
    server_time: int
    profile: Profile


class ProfileSetReq(Struct):
    nick: str | None = None
    face_url: str | None = None
    gender: int | None = None
    self_signature: str | None = None
    location: str | None = None
    language: int | None = None
    birthday: int | None = None
    level: int | None = None
    role: int | None = None
    add_permission: int | None = None


class ProfileGetReq(Struct):
    user_ids: list[str]


class ProfilesRes(Struct):
    profiles: list[Profile]


# --- messages -------------------------------------------------------------------------------
class OutMessage(Struct):
    """What a client sends; the server adds seq, count, server time and the sender profile."""

    msg_id: str
    elems: list[dict[str, Any]]
    client_time: int = 0
    random: int = 0
    priority: int = 1
    platform: int = 0
    cloud_custom_data: str = ""
    excluded_from_unread: bool = False
    excluded_from_last: bool = False
    at_users: list[str] = []


class SendReq(Struct):
    conv_type: int
    conv_id: str
    msg: OutMessage


class SendRes(Struct):
    """The stored message; the sender's conversation follows from it (seq, count, activity)."""

    msg: Message


class HistoryReq(Struct):
    """Messages of one conversation, newest first, strictly before ``before_seq`` (0 = newest)."""

    conv_type: int
    conv_id: str
    before_seq: int = 0
    count: int = 20


class HistoryRes(Struct):
    msgs: list[Message]


class CatchUpReq(Struct):
    """Messages of one conversation after ``after_seq``, oldest first: how a device fills a gap."""

    conv_type: int
    conv_id: str
    after_seq: int
    count: int = 100


# --- conversations --------------------------------------------------------------------------
class ConvKey(Struct):
    conv_type: int
    conv_id: str


class ConvGetReq(Struct):
    keys: list[ConvKey]


class ConvsRes(Struct):
    convs: list[Conversation]


class ConvRes(Struct):
    conv: Conversation
    created: bool = False


class SyncReq(Struct):
    """Conversations changed since ``cursor`` (a sync token; "" = everything), at most
    ``limit`` of them."""

    cursor: str = ""
    limit: int = 100


class SyncRes(Struct):
    convs: list[Conversation]
    cursor: str
    more: bool = False


class PinReq(Struct):
    conv_type: int
    conv_id: str
    pinned: bool


class DraftReq(Struct):
    """Set the draft, or cancel it (no ``draft``); the later ``edit_time`` wins (0 = now)."""

    conv_type: int
    conv_id: str
    draft: Draft | None = None
    edit_time: int = 0


class ReadReq(Struct):
    """Mark read up to ``seq`` (0 = everything so far)."""

    conv_type: int
    conv_id: str
    seq: int = 0


# --- groups ---------------------------------------------------------------------------------
class GroupCreateReq(Struct):
    name: str
    group_id: str = ""
    group_type: int = 0
    add_option: int | None = None
    members: list[str] = []
    face_url: str = ""
    introduction: str = ""
    notification: str = ""


class GroupIdReq(Struct):
    group_id: str


class GroupIdRes(Struct):
    group_id: str


class GroupJoinReq(Struct):
    group_id: str
    hello: str = ""


class GroupMembersReq(Struct):
    group_id: str
    user_ids: list[str]


class MemberResultsRes(Struct):
    results: list[MemberResult]


class GroupListRes(Struct):
    groups: list[GroupInfo]


# --- pushes ---------------------------------------------------------------------------------
class MsgPush(Struct):
    """A new message in a channel the receiving user is in."""

    msg: Message


class ConvPush(Struct):
    """Conversations of the receiving user that changed (another device, a group event)."""

    convs: list[Conversation]


class KickedPush(Struct):
    """This session was replaced by another login (6208)."""

    code: int
    desc: str


class SigExpiredPush(Struct):
    """The UserSig this session logged in with has expired; the session is closed."""

    code: int
    desc: str


OPS: dict[str, tuple[type[msgspec.Struct], type[msgspec.Struct]]] = {
    "login": (LoginReq, LoginRes),
    "logout": (Empty, Empty),
    "ping": (Empty, Empty),
    "profile_set": (ProfileSetReq, Profile),
    "profile_get": (ProfileGetReq, ProfilesRes),
    "send": (SendReq, SendRes),
    "history": (HistoryReq, HistoryRes),
    "catch_up": (CatchUpReq, HistoryRes),
    "conv_sync": (SyncReq, SyncRes),
    "conv_get": (ConvGetReq, ConvsRes),
    "conv_create": (ConvKey, ConvRes),
    "conv_delete": (ConvKey, ConvRes),
    "conv_pin": (PinReq, ConvRes),
    "conv_draft": (DraftReq, ConvRes),
    "conv_read": (ReadReq, ConvRes),
    "group_create": (GroupCreateReq, GroupIdRes),
    "group_delete": (GroupIdReq, Empty),
    "group_join": (GroupJoinReq, Empty),
    "group_quit": (GroupIdReq, Empty),
    "group_invite": (GroupMembersReq, MemberResultsRes),
    "group_kick": (GroupMembersReq, MemberResultsRes),
    "group_joined": (Empty, GroupListRes),
}

PUSHES: dict[str, type[msgspec.Struct]] = {
    "msg": MsgPush,
    "conv": ConvPush,
    "kicked": KickedPush,
    "sig_expired": SigExpiredPush,
}
