"""Every request op and push kind, with its body types.

``OPS`` is the one table of what a client may ask: op name → (request body, response body).
``PUSHES`` is the table of push kinds → body type. Login must be the first request of a session;
every other op needs a logged-in session (protocol/session.py enforces it).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from . import extensions, friendship as fs, limits, pins, reactions
from .models import (
    AllRecvOpt,
    Conversation,
    Draft,
    GroupInfo,
    GroupPendency,
    GroupReport,
    MemberInfo,
    MemberResult,
    Message,
    Profile,
    Req,
    Struct,
    UserStatus,
)
from .ranges import U32, U64, Pos


def _at_most(n: int) -> Meta:
    """A list argument's length limit: a longer list is refused with 6017 by the codec."""
    return Meta(max_length=n)


UserIds = Annotated[list[str], _at_most(limits.MAX_USERS_PER_CALL)]


class Empty(Struct):
    """A body with nothing in it."""


# --- auth -----------------------------------------------------------------------------------
class LoginReq(Req):
    user_id: str
    user_sig: str
    sdkappid: U64
    device_id: str = ""
    platform: U32 = 0
    resume: bool = False
    """An automatic re-login after a lost connection (not the user's own login)."""


class LoginRes(Struct):
    user_id: str
    server_time: int
    profile: Profile
    db_id: int = 0
    """The server's database identity: a device whose sync token names another one resyncs
    (protocol/cursors.py). 0 from a server that has none."""


class ProfileSetReq(Struct):
    nick: str | None = None
    face_url: str | None = None
    gender: U32 | None = None
    self_signature: str | None = None
    location: str | None = None
    language: U32 | None = None
    birthday: U32 | None = None
    level: U32 | None = None
    role: U32 | None = None
    add_permission: U32 | None = None
    custom: Annotated[dict[str, str], Meta(max_length=limits.MAX_LIST_ARG)] | None = None
    """Custom fields to set (``Tag_Profile_Custom_*``); an empty value removes one."""


class ProfileGetReq(Struct):
    user_ids: UserIds


class ProfilesRes(Struct):
    profiles: list[Profile]
    left: list[str] = []
    """Ids not looked at, the answer being full (paged by bytes): ask again for them."""


# --- messages -------------------------------------------------------------------------------
class OutMessage(Req):
    """What a client sends; the server adds seq, count, server time and the sender profile."""

    msg_id: str
    elems: Annotated[list[dict[str, Any]], _at_most(limits.MAX_ELEMS_PER_MSG)]
    client_time: U64 = 0
    random: U64 = 0
    priority: U32 = 1
    platform: U32 = 0
    cloud_custom_data: str = ""
    excluded_from_unread: bool = False
    excluded_from_last: bool = False
    at_users: Annotated[list[str], _at_most(limits.MAX_AT_USERS)] = []
    supports_extensions: bool = False
    """``message_support_message_extension``: others may set key-value extensions on it."""


class SendReq(Struct):
    conv_type: U32
    conv_id: str
    msg: OutMessage


class SendRes(Struct):
    """The stored message; the sender's conversation follows from it (seq, count, activity)."""

    msg: Message


class HistoryReq(Req):
    """Messages of one conversation, newest first, strictly before ``before_seq`` (0 = newest)."""

    conv_type: U32
    conv_id: str
    before_seq: U64 = 0
    count: U32 = 20


class HistoryRes(Struct):
    msgs: list[Message]
    more: bool = False
    """More may follow the last message: the page was cut by bytes, or holds all it was asked
    for. A page without it is the end (DESIGN §7)."""


class CatchUpReq(Req):
    """Messages of one conversation after ``after_seq``, oldest first: how a device fills a gap."""

    conv_type: U32
    conv_id: str
    after_seq: U64
    count: U32 = 100


# --- conversations --------------------------------------------------------------------------
class ConvKey(Struct):
    conv_type: U32
    conv_id: str


ConvKeys = Annotated[list[ConvKey], _at_most(limits.MAX_LIST_ARG)]
"""The conversations of a batch call: the configured ``convs_per_call`` applies first, with
its own code (51006); this bounds what any configuration accepts."""


class ConvGetReq(Struct):
    keys: Annotated[list[ConvKey], _at_most(limits.MAX_CONVS_PER_CALL)]


class ConvsRes(Struct):
    convs: list[Conversation]
    left: list[ConvKey] = []
    """``conv_get``: keys not looked at, the answer being full (paged by bytes): ask again."""
    more: bool = False
    """Other calls: changed conversations were left out of a full answer; a sync brings them."""


class ConvRes(Struct):
    conv: Conversation
    created: bool = False


class SyncReq(Struct):
    """Conversations changed since ``cursor`` (a sync token; "" = everything), at most
    ``limit`` of them."""

    cursor: str = ""
    limit: U32 = 100


class SyncRes(Struct):
    convs: list[Conversation]
    cursor: str
    more: bool = False
    conv_groups: list[str] = []
    """The user's conversation groups (folders), in creation order: on the last page."""
    reset: bool = False
    """The token given belongs to another history (another database, or a position beyond the
    server's clock): this page starts a full pass, and the device drops what it had synced."""


class PinReq(Struct):
    conv_type: U32
    conv_id: str
    pinned: bool


class DraftReq(Struct):
    """Set the draft, or cancel it (no ``draft``). ``edit_time`` is the SDK's stamp (UTC
    seconds, 0 = now); the server keeps it as ``drafts.draft_stamp`` makes it, and the later
    stamp wins, a tie going to the later arrival (``drafts.draft_edit_wins``)."""

    conv_type: U32
    conv_id: str
    draft: Draft | None = None
    edit_time: Pos = 0


class ReadReq(Req):
    """Mark read up to ``seq`` (0 = everything so far)."""

    conv_type: U32
    conv_id: str
    seq: U64 = 0


class ConvDeleteReq(Struct):
    """Delete one conversation; ``clear_messages`` also hides its history for the user."""

    conv_type: U32
    conv_id: str
    clear_messages: bool = True


class ConvResult(Struct):
    """The outcome for one conversation of a batch call (TIMConversationOperationResult)."""

    conv_type: int
    conv_id: str
    code: int = 0
    desc: str = ""


class ConvResultsRes(Struct):
    """Per-conversation outcomes, and the snapshots of those that changed."""

    results: list[ConvResult]
    convs: list[Conversation] = []
    evicted: list[Conversation] = []
    """Conversations pushed out of a full conversation group (the reason-1 removals)."""
    more: bool = False
    """Changed conversations were left out of a full answer; a sync brings them."""


class ConvDeleteListReq(Struct):
    keys: ConvKeys
    clear_messages: bool = True


class ConvMarkReq(Req):
    """Set (``enable``) or clear the bits of ``mark`` on each conversation."""

    keys: ConvKeys
    mark: U64
    enable: bool


class ConvCustomReq(Struct):
    keys: ConvKeys
    custom_data: str


class ConvGroupReq(Struct):
    """A conversation-group call: ``name``, and the conversations or the new name it needs."""

    name: str
    keys: ConvKeys = []
    new_name: str = ""


class ConvGroupListRes(Struct):
    names: list[str]


class ConvGroupChange(Struct):
    """A change to the user's conversation groups, as pushed to their other devices.

    ``kind``: ``created``, ``deleted``, ``renamed``, ``added``, ``removed``; ``reason`` (for
    ``removed``) is 0 when the user removed them, 1 when the group was full and evicted them.
    """

    kind: str
    name: str
    new_name: str = ""
    convs: list[Conversation] = []
    reason: int = 0


class RecvOptReq(Struct):
    """Set the receive option of conversations (C2C: per peer user; group: per member)."""

    conv_type: U32
    conv_ids: Annotated[list[str], _at_most(limits.MAX_LIST_ARG)]
    opt: U32


class RecvOptGetReq(Struct):
    user_ids: Annotated[list[str], _at_most(limits.MAX_LIST_ARG)]


class RecvOptItem(Struct):
    conv_id: str
    opt: int


class RecvOptsRes(Struct):
    opts: list[RecvOptItem]
    convs: list[Conversation] = []
    more: bool = False
    """Changed conversations were left out of a full answer; a sync brings them."""


class MsgRef(Req):
    """One message of a conversation, by seq (``msg_id``, when given, must match)."""

    conv_type: U32
    conv_id: str
    seq: U64
    msg_id: str = ""


class RevokeReq(MsgRef):
    reason: str = ""


class RevokeRes(Struct):
    msg: Message
    """The message as it is now: no elements, ``revoker`` set."""
    pos: int = 0
    """The change position of the revoke (as ``RevokePush.pos``)."""


class MsgDeleteReq(Req):
    """Delete messages of one conversation for the calling user only (all their devices)."""

    conv_type: U32
    conv_id: str
    seqs: Annotated[list[U64], _at_most(limits.MAX_HISTORY_PAGE)]


# --- groups ---------------------------------------------------------------------------------
class GroupCreateReq(Struct):
    name: str
    group_id: str = ""
    group_type: U32 = 0
    add_option: U32 | None = None
    members: Annotated[list[str], _at_most(limits.MAX_CREATE_MEMBERS)] = []
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
    user_ids: Annotated[list[str], _at_most(limits.MAX_INVITE_PER_CALL)]


class MemberResultsRes(Struct):
    results: list[MemberResult]


class GroupJoinedReq(Struct):
    """The joined groups after the one joined at ``after_time`` with id ``after_id``, in the
    order of joining (a page: see ``GroupListRes``)."""

    after_time: Pos = 0
    after_id: str = ""


class GroupListRes(Struct):
    groups: list[GroupInfo]
    more: bool = False
    """The page was full (paged by bytes): ask again after its last group."""


# --- group info, members, pendencies --------------------------------------------------------
GroupIds = Annotated[list[str], _at_most(limits.MAX_GROUPS_PER_INFO_CALL)]
CustomFields = Annotated[dict[str, str], _at_most(limits.MAX_GROUP_CUSTOM_FIELDS)]


class GroupInfoReq(Struct):
    group_ids: GroupIds


class GroupInfoResult(Struct):
    """One group of a ``group_info`` answer: its info, or why not (``code``, ``desc``)."""

    group_id: str
    code: int = 0
    desc: str = ""
    info: GroupInfo | None = None


class GroupInfoRes(Struct):
    results: list[GroupInfoResult]


class GroupModifyReq(Struct):
    """Change the fields named by ``flags`` (TIMGroupModifyInfoFlag bits); ``custom`` keys
    with an empty value are removed; ``owner`` hands the group over."""

    group_id: str
    flags: U32
    name: str = ""
    notification: str = ""
    introduction: str = ""
    face_url: str = ""
    add_option: U32 = 0
    approve_option: U32 = 0
    shutup_all: bool = False
    custom: CustomFields = {}
    owner: str = ""


class MemberListReq(Req):
    """Members by role (TIMGroupMemberRoleFlag bits, 0 for all) after ``next_seq``, or the
    members named in ``user_ids``."""

    group_id: str
    user_ids: UserIds = []
    role_flag: U64 = 0
    next_seq: U64 = 0


class MemberListRes(Struct):
    members: list[MemberInfo]
    next_seq: int = 0
    """Ask again from here; 0 when this was the last page."""


class MemberModifyReq(Struct):
    """Change the fields named by ``flags`` (TIMGroupMemberModifyInfoFlag bits) of a member;
    ``shutup_time`` is a mute's length in seconds (0 unmutes)."""

    group_id: str
    user_id: str
    flags: U32
    msg_flag: U32 = 0
    role: U32 = 0
    shutup_time: U32 = 0
    name_card: str = ""
    custom: CustomFields = {}


class PendencyListReq(Req):
    """Pendencies older than ``start`` (a ``next_start`` of an earlier answer; 0: the newest)."""

    start: U64 = 0
    limit: U32 = 0


class PendencyListRes(Struct):
    pendencies: list[GroupPendency]
    next_start: int = 0
    """Ask again from here; 0 when this was the last page."""
    read_time: int = 0
    unread: int = 0


class PendencyHandleReq(Struct):
    group_id: str
    from_user: str
    to_user: str = ""
    accept: bool = False
    msg: str = ""
    add_time: Pos = 0
    """The application's ``add_time`` as listed: 0, or it must still be that application."""


class PendencyReadReq(Req):
    time: U64


# --- pushes ---------------------------------------------------------------------------------
class GroupReportPush(Struct):
    report: GroupReport


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


class RevokePush(Struct):
    """A message of one of the user's channels was revoked; ``pos`` is the change position."""

    msg: Message
    pos: int


class ReadPush(Struct):
    """The C2C peer ``reader`` read the conversation up to ``seq`` at ``time`` (a receipt)."""

    reader: str
    seq: int
    time: int
    msg_id: str = ""


class ConvGroupPush(Struct):
    change: ConvGroupChange


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
    "conv_delete": (ConvDeleteReq, ConvRes),
    "conv_delete_list": (ConvDeleteListReq, ConvResultsRes),
    "conv_mark": (ConvMarkReq, ConvResultsRes),
    "conv_custom": (ConvCustomReq, ConvResultsRes),
    "conv_clear_history": (ConvKey, ConvRes),
    "conv_pin": (PinReq, ConvRes),
    "conv_draft": (DraftReq, ConvRes),
    "conv_read": (ReadReq, ConvRes),
    "cgroup_create": (ConvGroupReq, ConvResultsRes),
    "cgroup_delete": (ConvGroupReq, ConvsRes),
    "cgroup_rename": (ConvGroupReq, ConvsRes),
    "cgroup_add": (ConvGroupReq, ConvResultsRes),
    "cgroup_remove": (ConvGroupReq, ConvResultsRes),
    "cgroup_list": (Empty, ConvGroupListRes),
    "recv_opt_set": (RecvOptReq, RecvOptsRes),
    "recv_opt_get": (RecvOptGetReq, RecvOptsRes),
    "msg_revoke": (RevokeReq, RevokeRes),
    "msg_delete": (MsgDeleteReq, ConvRes),
    "group_create": (GroupCreateReq, GroupIdRes),
    "group_delete": (GroupIdReq, Empty),
    "group_join": (GroupJoinReq, Empty),
    "group_quit": (GroupIdReq, Empty),
    "group_invite": (GroupMembersReq, MemberResultsRes),
    "group_kick": (GroupMembersReq, MemberResultsRes),
    "group_joined": (GroupJoinedReq, GroupListRes),
    # friendship (protocol/friendship.py)
    "friend_add": (fs.FriendAddReq, fs.UserResult),
    "friend_delete": (fs.TypedIdsReq, fs.ResultsRes),
    "friend_check": (fs.TypedIdsReq, fs.RelationsRes),
    "friend_list": (Empty, fs.FriendsRes),
    "friend_info": (fs.IdsReq, fs.FriendInfosRes),
    "friend_modify": (fs.FriendModifyReq, Empty),
    "friend_search": (fs.FriendSearchReq, fs.FriendInfosRes),
    "friend_apps": (fs.ApplicationsReq, fs.ApplicationsRes),
    "friend_answer": (fs.AnswerReq, fs.UserResult),
    "friend_apps_read": (fs.ReadReq, Empty),
    "friend_apps_delete": (fs.TypedIdsReq, fs.ResultsRes),
    "black_add": (fs.IdsReq, fs.ResultsRes),
    "black_delete": (fs.IdsReq, fs.ResultsRes),
    "black_list": (Empty, fs.FriendsRes),
    "fgroup_create": (fs.FriendGroupReq, fs.ResultsRes),
    "fgroup_delete": (fs.FriendGroupReq, Empty),
    "fgroup_modify": (fs.FriendGroupReq, fs.ResultsRes),
    "fgroup_list": (fs.FriendGroupReq, fs.FriendGroupsRes),
    "follow": (fs.IdsReq, fs.ResultsRes),
    "unfollow": (fs.IdsReq, fs.ResultsRes),
    "follow_list": (fs.FollowListReq, fs.FollowListRes),
    "follow_counts": (fs.IdsReq, fs.FollowCountsRes),
    "follow_check": (fs.IdsReq, fs.RelationsRes),
    "oa_subscribe": (fs.AccountIdReq, Empty),
    "oa_unsubscribe": (fs.AccountIdReq, Empty),
    "oa_info": (fs.AccountsReq, fs.AccountsRes),
    "group_info": (GroupInfoReq, GroupInfoRes),
    "group_modify": (GroupModifyReq, Empty),
    "group_members": (MemberListReq, MemberListRes),
    "group_member_modify": (MemberModifyReq, Empty),
    "group_pendencies": (PendencyListReq, PendencyListRes),
    "group_pendency_handle": (PendencyHandleReq, Empty),
    "group_pendency_read": (PendencyReadReq, Empty),
}

READ_OPS: frozenset[str] = frozenset(
    {"ping", "profile_get", "history", "catch_up", "conv_sync", "conv_get", "group_joined"}
    | {"friend_list", "friend_info", "friend_check", "friend_search", "friend_apps"}
    | {"black_list", "fgroup_list", "follow_list", "follow_counts", "follow_check", "oa_info"}
    | {"group_info", "group_members", "group_pendencies"}
    | {"user_search", "status_get", "all_recv_opt_get", "msg_find"}
)
"""Ops that change nothing: asking again (after a lost connection) is always safe."""

PUSHES: dict[str, type[msgspec.Struct]] = {
    "msg": MsgPush,
    "conv": ConvPush,
    "kicked": KickedPush,
    "sig_expired": SigExpiredPush,
    "revoke": RevokePush,
    "read": ReadPush,
    "cgroup": ConvGroupPush,
    "friend": fs.FriendPush,
    "group_report": GroupReportPush,
}


# --- issue 11, users: status, subscriptions, search, push settings, all-messages option -----
class UserIdsReq(Struct):
    user_ids: UserIds


class StatusesRes(Struct):
    statuses: list[UserStatus]


class StatusSetReq(Struct):
    custom_status: str


class UserSearchReq(Struct):
    keywords: Annotated[list[str], _at_most(limits.MAX_LIST_ARG)] = []
    match_all: bool = False
    gender: U32 = 0
    min_birthday: U32 = 0
    max_birthday: U32 = 0
    count: U32 = 20
    cursor: str = ""


class UserSearchRes(Struct):
    profiles: list[Profile]
    total: int = 0
    cursor: str = ""
    """Where the next page starts ("" at the end)."""
    finished: bool = True


class PushTokenReq(Struct):
    token: str
    business_id: U32 = 0
    token_type: U32 = 0


class PushStateReq(Struct):
    """The app went to the background (with its badge count) or came back."""

    background: bool
    unread: U32 = 0


class StatusPush(Struct):
    """Users' status changed (a subscribed user, or the receiving user)."""

    statuses: list[UserStatus]


class ProfilePush(Struct):
    """A user's profile changed (the receiving user's own, a subscribed user's, a friend's);
    ``changed`` names the fields that did."""

    profile: Profile
    changed: list[str] = []


class AllRecvOptPush(Struct):
    """The receiving user's all-messages receive option changed on another device."""

    opt: AllRecvOpt


class MsgFindReq(Req):
    """Messages by id (``msg_ids``), or by seq in one conversation (``conv_id``, ``seqs``)."""

    msg_ids: Annotated[list[str], _at_most(limits.MAX_HISTORY_PAGE)] = []
    conv_type: U32 = 0
    conv_id: str = ""
    seqs: Annotated[list[U64], _at_most(limits.MAX_HISTORY_PAGE)] = []


USER_OPS: dict[str, tuple[type[msgspec.Struct], type[msgspec.Struct]]] = {
    "user_search": (UserSearchReq, UserSearchRes),
    "status_get": (UserIdsReq, StatusesRes),
    "status_set": (StatusSetReq, UserStatus),
    "status_subscribe": (UserIdsReq, StatusesRes),
    "status_unsubscribe": (UserIdsReq, Empty),
    "info_subscribe": (UserIdsReq, Empty),
    "info_unsubscribe": (UserIdsReq, Empty),
    "push_token": (PushTokenReq, Empty),
    "push_state": (PushStateReq, Empty),
    "all_recv_opt_set": (AllRecvOpt, AllRecvOpt),
    "all_recv_opt_get": (Empty, AllRecvOpt),
    "msg_find": (MsgFindReq, HistoryRes),
    "conv_read_all": (Empty, ConvsRes),
}
OPS.update(USER_OPS)

PUSHES.update({"status": StatusPush, "profile": ProfilePush, "all_recv_opt": AllRecvOptPush})


# --- issue 12, modify: TIMMsgModifyMessage ----------------------------------------------------
class ModifyReq(MsgRef):
    """Change a message's elements and cloud custom data, starting from ``version`` (the one
    the client has); a message modified meanwhile is refused with 8006."""

    version: U64 = 0
    elems: Annotated[list[dict[str, Any]], _at_most(limits.MAX_ELEMS_PER_MSG)] = []
    cloud_custom_data: str = ""


class ModifyRes(Struct):
    msg: Message
    """The message as it is now."""
    pos: int = 0
    """The change position of the modification (as ``MsgUpdatePush.pos``)."""


class MsgUpdatePush(ModifyRes):
    """A message of one of the user's channels was modified (as the modifier's answer)."""


OPS["msg_modify"] = (ModifyReq, ModifyRes)
PUSHES["msg_update"] = MsgUpdatePush
# --- issue 12, reactions (protocol/reactions.py) ---------------------------------------------
OPS.update(reactions.REACTION_OPS)
READ_OPS = READ_OPS | reactions.REACTION_READ_OPS
PUSHES.update(reactions.REACTION_PUSHES)
# --- issue 12, pinned group messages (protocol/pins.py)
OPS.update(pins.PIN_OPS)
READ_OPS = READ_OPS | pins.PIN_READ_OPS
PUSHES.update(pins.PIN_PUSHES)
# --- issue 12, message extensions (protocol/extensions.py)
OPS.update(extensions.EXT_OPS)
READ_OPS = READ_OPS | extensions.EXT_READ_OPS
PUSHES.update(extensions.EXT_PUSHES)
