"""Wire models shared by server and SDK.

A message is stored once per channel; a conversation is one user's view of a channel. Unread
counts are sequence arithmetic (DESIGN §3): every message records ``count``, the channel's
cumulative number of countable messages up to it, and a conversation records ``read_count``, that
number at its read position, so ``unread = count - read_count`` on both sides of the wire.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import msgspec

from .ranges import U32, Pos, check_u64


class ConvType(IntEnum):
    """TIMConvType values."""

    C2C = 1
    GROUP = 2


class GroupType(IntEnum):
    """TIMGroupType values."""

    PUBLIC = 0
    PRIVATE = 1
    CHATROOM = 2
    BCHATROOM = 3
    AVCHATROOM = 4
    COMMUNITY = 5


class AddOption(IntEnum):
    """TIMGroupAddOption values."""

    FORBID = 0
    AUTH = 1
    ANY = 2
    UNKNOWN = 3


class MemberRole(IntEnum):
    """TIMGroupMemberRole values."""

    NONE = 0
    NORMAL = 200
    ADMIN = 300
    OWNER = 400


class TipType(IntEnum):
    """TIMGroupTipType values used by the tips opentim writes."""

    NONE = 0
    INVITE = 1
    QUIT = 2
    KICK = 3
    SET_ADMIN = 4
    CANCEL_ADMIN = 5
    GROUP_INFO_CHANGE = 6
    MEMBER_INFO_CHANGE = 7


class ReportType(IntEnum):
    """TIMGroupReportType values of the reports opentim sends to one user (not to the group)."""

    ADD_REQUEST = 1
    ADD_ACCEPT = 2
    ADD_REFUSE = 3


class RecvOpt(IntEnum):
    """TIMReceiveMessageOpt values."""

    RECEIVE = 0
    NOT_RECEIVE = 1
    NOT_NOTIFY = 2
    NOT_NOTIFY_EXCEPT_AT = 3
    NOT_RECEIVE_EXCEPT_AT = 4


class Mark(IntEnum):
    """TIMConversationMarkType: the built-in conversation marks (bits 0-3)."""

    STAR = 0x1
    UNREAD = 0x2
    FOLD = 0x4
    HIDE = 0x8


class AtType(IntEnum):
    """TIMGroupAtType values."""

    AT_ME = 1
    AT_ALL = 2
    AT_ALL_AT_ME = 3


TEXT_ELEM = 0
"""``elem_type`` of a text element (kTIMElem_Text); its text is in ``text_elem_content``."""


def text_elem(text: str) -> dict[str, Any]:
    """A text element: ``{"elem_type": 0, "text_elem_content": text}``."""
    return {"elem_type": TEXT_ELEM, "text_elem_content": text}


def elems_text(elems: list[Any]) -> str:
    """The text of the text elements of ``elems``, concatenated (other elements add nothing)."""
    return "".join(
        str(e.get("text_elem_content", ""))
        for e in elems
        if isinstance(e, dict) and e.get("elem_type") == TEXT_ELEM
    )


PINNED_BIT = 1 << 62
"""Bit set on a pinned conversation's order key (reference example 4611686018427387909)."""

BUILTIN_MARKS = 0xF
"""The built-in mark bits (Star, Unread, Fold, Hide)."""
APP_MARKS = 0xFFFFFFFF_00000000
"""The bits an app may use for its own marks: ``1 << 32`` … ``1 << 63`` (reference 6.10)."""

AT_ALL = "__kImSDK_MessageAtALL__"
"""The ``message_group_at_user_array`` entry that mentions everyone (``kImSDK_MessageAtALL``)."""

UNCOUNTED_RECV_OPTS = frozenset(
    {RecvOpt.NOT_RECEIVE, RecvOpt.NOT_NOTIFY, RecvOpt.NOT_NOTIFY_EXCEPT_AT}
)
"""Receive options whose conversations the unread totals leave out (reference 6.11/6.12)."""


def valid_marks(mark: int) -> bool:
    """A mark mask is non-zero and uses only built-in bits and bits 32-63."""
    return 0 < mark < 1 << 64 and not mark & ~(BUILTIN_MARKS | APP_MARKS)


class Struct(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Base for wire structs: keyword-only, defaults left off the wire."""


class Req(Struct):
    """A request body with uint64 fields, checked once decoded (``ranges.check_u64``)."""

    def __post_init__(self) -> None:
        check_u64(self)


class Profile(Struct):
    """A user's public profile (the reference's UserProfile fields)."""

    user_id: str
    nick: str = ""
    face_url: str = ""
    gender: int = 0
    self_signature: str = ""
    location: str = ""
    language: int = 0
    birthday: int = 0
    level: int = 0
    role: int = 0
    add_permission: int = 0
    custom: dict[str, str] = {}
    """Custom fields, ``Tag_Profile_Custom_*`` key → value (protocol/rules/users.py)."""

    def card(self) -> Profile:
        """The profile without its custom fields: what a message carries as its sender's (up to
        20 × 500 bytes of custom fields would otherwise ride on every message)."""
        return msgspec.structs.replace(self, custom={}) if self.custom else self


class UserStatus(Struct):
    """A user's status (``TIMUserStatusType``), custom status and online devices."""

    user_id: str
    status_type: int = 0
    custom_status: str = ""
    online_devices: list[str] = []


class AllRecvOpt(Struct):
    """The all-messages receive option and its window (protocol/rules/users.RecvWindow)."""

    opt: U32 = 0
    start: U32 = 0
    duration: U32 = 0
    daily: bool = False


class PushSettings(Struct):
    """One device's offline-push token and app state, as stored for app backends."""

    device_id: str
    token: str = ""
    business_id: int = 0
    token_type: int = 0
    background: bool = False
    unread: int = 0
    updated: int = 0


class Message(Struct):
    """A stored message. ``receiver`` is the peer user id (C2C) or the group id."""

    msg_id: str
    conv_type: int
    sender: str
    receiver: str
    elems: list[dict[str, Any]]
    seq: int = 0
    count: int = 0
    activity: int = 0
    server_time: int = 0
    client_time: int = 0
    random: int = 0
    priority: int = 1
    platform: int = 0
    cloud_custom_data: str = ""
    excluded_from_unread: bool = False
    excluded_from_last: bool = False
    is_tips: bool = False
    at_users: list[str] = []
    sender_profile: Profile | None = None
    revoker: str = ""
    """Who revoked it; a revoked message keeps its seq and count, its elements are gone."""
    revoke_reason: str = ""
    version: int = 0
    """How many times it was modified (TIMMsgModifyMessage names the version it changes)."""
    supports_extensions: bool = False
    """Sent with ``message_support_message_extension``: extensions may be set on it."""

    @property
    def revoked(self) -> bool:
        return bool(self.revoker)

    @property
    def text(self) -> str:
        """The message's text: its text elements' content, concatenated ("" when it has none)."""
        return elems_text(self.elems)

    def at_type_for(self, user_id: str) -> int:
        """The TIMGroupAtType this group message has for ``user_id``, 0 when none."""
        if self.conv_type != ConvType.GROUP or not self.at_users or self.sender == user_id:
            return 0
        at_all = AT_ALL in self.at_users
        at_me = user_id in self.at_users
        if at_all and at_me:
            return AtType.AT_ALL_AT_ME
        return AtType.AT_ALL if at_all else (AtType.AT_ME if at_me else 0)

    def conv_id_for(self, user_id: str) -> str:
        """The bare conversation id this message belongs to, as ``user_id`` sees it."""
        if self.conv_type == ConvType.C2C and self.receiver == user_id:
            return self.sender
        return self.receiver


class Draft(Struct):
    """A conversation draft. ``msg`` is the draft message as a TIM Message JSON object, kept as
    the app set it: ``{"message_elem_array": [element, ...]}`` (the TIM layer keeps only that
    key)."""

    msg: dict[str, Any] = {}
    user_define: str = ""
    edit_time: Pos = 0

    @property
    def text(self) -> str:
        """The text of the draft message's text elements, concatenated."""
        elems = self.msg.get("message_elem_array")
        return elems_text(elems) if isinstance(elems, list) else ""


class AtInfo(Struct):
    """A pending @-mention in a group conversation: the message's seq and its TIMGroupAtType."""

    seq: int
    at_type: int


class Conversation(Struct):
    """One user's conversation, as the server knows it.

    ``activity`` is the order key without the pinned bit; ``deleted`` marks a tombstone (deleted,
    and nothing new since). ``ended`` means the user left the group: counts stop at that point.
    """

    conv_type: int
    conv_id: str
    read_seq: int = 0
    read_count: int = 0
    max_seq: int = 0
    count: int = 0
    activity: int = 0
    pinned: bool = False
    draft: Draft | None = None
    deleted: bool = False
    deleted_up_to: int = 0
    ended: bool = False
    recv_opt: int = 0
    show_name: str = ""
    face_url: str = ""
    group_type: int = 0
    custom_data: str = ""
    marks: int = 0
    """The conversation's mark mask (built-in bits 0-3, app bits 32-63)."""
    hide_seq: int = 0
    """The Hide mark holds while ``max_seq <= hide_seq``: a new message shows it again."""
    groups: list[str] = []
    """The conversation groups (folders) it belongs to."""
    at_info: list[AtInfo] = []
    """Pending @-mentions after the read position, oldest first."""
    last_msg: Message | None = None
    pos: int = 0
    """Change position: a snapshot with a smaller ``pos`` than one already applied is stale."""
    peer_read_seq: int = 0
    """C2C: how far the peer has read (``message_is_peer_read`` of one's own messages)."""

    @property
    def unread(self) -> int:
        """Unread countable messages (DESIGN §3)."""
        return 0 if self.deleted else max(0, self.count - self.read_count)

    @property
    def hidden(self) -> bool:
        """Hidden (the Hide mark) and no message since it was set."""
        return bool(self.marks & Mark.HIDE)

    @property
    def counted_unread(self) -> int:
        """What the conversation adds to unread totals: nothing under a do-not-disturb option."""
        return 0 if self.recv_opt in UNCOUNTED_RECV_OPTS else self.unread

    @property
    def order_key(self) -> int:
        """``conv_active_time``: the order key, with bit 62 set when pinned."""
        return self.activity | PINNED_BIT if self.pinned else self.activity


class GroupInfo(Struct):
    """A group and the caller's place in it."""

    group_id: str
    name: str
    group_type: int
    owner: str
    add_option: int = AddOption.ANY
    face_url: str = ""
    introduction: str = ""
    notification: str = ""
    member_count: int = 0
    max_seq: int = 0
    create_time: int = 0
    self_role: int = 0
    self_join_time: int = 0
    self_read_seq: int = 0
    self_unread: int = 0
    approve_option: int = AddOption.ANY
    shutup_all: bool = False
    custom: dict[str, str] = {}
    info_seq: int = 0
    info_time: int = 0
    last_msg_time: int = 0


class MemberInfo(Struct):
    """A member of a group (GroupMemberInfo): ``seq`` orders members by joining (it pages the
    member list); ``mute_until`` is when a mute ends (UTC seconds, 0 when never muted)."""

    user_id: str
    role: int
    join_time: int = 0
    seq: int = 0
    name_card: str = ""
    mute_until: int = 0
    custom: dict[str, str] = {}
    msg_flag: int = 0
    nick_name: str = ""
    face_url: str = ""


class GroupPendency(Struct):
    """A join application or an invitation waiting for approval (GroupPendency); ``handler``
    is empty while unhandled, ``result`` 1 when accepted; ``pos`` orders and pages them."""

    group_id: str
    from_user: str
    to_user: str
    pendency_type: int
    add_time: int
    pos: int
    apply_msg: str = ""
    handler: str = ""
    result: int = 0
    handle_msg: str = ""
    from_nick: str = ""
    from_face_url: str = ""


class GroupReport(Struct):
    """A group event for one user rather than the whole group (GroupReportElem): a join
    request to the owner and admins, its acceptance or refusal to the applicant."""

    report_type: int
    group_id: str
    op_user: str
    msg: str = ""
    group_name: str = ""
    time: int = 0


class MemberResult(Struct):
    """Result of inviting or removing one user (HandleGroupMemberResult)."""

    user_id: str
    result: int
