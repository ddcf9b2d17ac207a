"""The columns the repositories select, and the conversions from rows to wire models (the
conversation snapshot applies the read-side rules of protocol.rules: tombstones, the Hide
reset)."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from opentim.protocol import (
    Conversation,
    ConvType,
    Draft,
    GroupInfo,
    GroupPendency,
    MemberInfo,
    Message,
    Profile,
)
from opentim.protocol.rules import is_tombstone, unread, visible_marks

from .base import NewMessage


class Row(Protocol):
    """A result row of either engine (sqlite3 tuples and rows, asyncpg records)."""

    def __getitem__(self, index: int, /) -> Any: ...


FLAG_EXCLUDED_UNREAD = 1
FLAG_EXCLUDED_LAST = 2
FLAG_TIPS = 4
FLAG_EXTENSIONS = 8
"""Sent with ``message_support_message_extension`` (issue 12)."""

_elems_decoder = msgspec.json.Decoder(list[dict[str, Any]])
strs_decoder = msgspec.json.Decoder(list[str])
_profile_decoder = msgspec.json.Decoder(Profile)
_draft_decoder = msgspec.json.Decoder(Draft)
custom_decoder = msgspec.json.Decoder(dict[str, str])

MSG_COLS = (
    "m.seq, m.msg_id, m.conv_type, m.sender, m.receiver, m.count, m.activity, m.server_time, "
    "m.client_time, m.random, m.priority, m.platform, m.flags, m.elems, m.cloud_custom_data, "
    "m.at_users, u.profile, m.revoker, m.revoke_reason, m.version"
)
MSG_FROM = "FROM messages m LEFT JOIN users u ON u.user_id = m.sender"
NOT_DELETED = (
    "NOT EXISTS (SELECT 1 FROM msg_deletions d WHERE d.user_id = ? "
    "AND d.channel_id = m.channel_id AND d.seq = m.seq)"
)
"""The condition that ``m`` is not deleted for the user bound to its ``?``."""
CONV_COLS = f"""
c.conv_type, c.conv_id, c.read_seq, c.read_count, c.pinned, c.draft, c.bump, c.deleted,
       c.deleted_up_to, c.end_seq, c.end_count, c.end_activity, c.recv_opt, c.custom_data,
       h.max_seq, h.count, h.activity,
       g.name, g.face_url, g.group_type, pu.profile,
       {MSG_COLS}, c.changed, h.changed, c.marks, c.hide_seq, c.cgroups, c.cleared_up_to,
       d.seq, c.channel_id, c.draft_time, fr.remark, pr.read_seq"""
REMARK_JOIN = (
    "LEFT JOIN friends fr ON c.conv_type = 1 AND fr.user_id = c.user_id "
    "AND fr.friend_id = c.conv_id"
)
"""The user's friend entry for a C2C peer: its remark is the conversation's show name."""
_TOP = "(CASE WHEN c.end_seq IS NULL OR h.last_seq <= c.end_seq THEN h.last_seq ELSE c.end_seq END)"
CONV_FROM = f"""
FROM conversations c
JOIN channels h ON h.channel_id = c.channel_id
LEFT JOIN messages m ON m.channel_id = c.channel_id
     AND m.seq = {_TOP}
     AND m.seq > c.cleared_up_to
LEFT JOIN users u ON u.user_id = m.sender
LEFT JOIN msg_deletions d ON d.user_id = c.user_id AND d.channel_id = c.channel_id
     AND d.seq = m.seq
LEFT JOIN groups g ON c.conv_type = 2 AND g.group_id = c.conv_id
LEFT JOIN users pu ON c.conv_type = 1 AND pu.user_id = c.conv_id
{REMARK_JOIN}
LEFT JOIN conversations pr ON c.conv_type = 1 AND pr.user_id = c.conv_id
     AND pr.conv_type = 1 AND pr.conv_id = c.user_id
"""
CONV_SELECT = f"SELECT {CONV_COLS} {CONV_FROM}"


def to_db_u64(value: int) -> int:
    """A uint64 (a mark mask, a client time, a random) as both engines' signed 64-bit columns
    hold it: two's complement. Values below 2^63 are stored as themselves, so rows written
    before this conversion existed read back unchanged."""
    return value - (1 << 64) if value >= 1 << 63 else value


def from_db_u64(value: int) -> int:
    """The uint64 a signed 64-bit column holds (the inverse of ``to_db_u64``)."""
    return value + (1 << 64) if value < 0 else value


MENTION_ALL = "*"
"""The ``mentions`` row user of an @all."""
N_MSG_COLS = 20


def message_row(r: Row, o: int = 0) -> Message:
    """A Message from the 20 message columns of ``MSG_COLS`` starting at column ``o``."""
    flags = r[o + 12]
    return Message(
        seq=r[o],
        msg_id=r[o + 1],
        conv_type=r[o + 2],
        sender=r[o + 3],
        receiver=r[o + 4],
        count=r[o + 5],
        activity=r[o + 6],
        server_time=r[o + 7],
        client_time=from_db_u64(r[o + 8]),
        random=from_db_u64(r[o + 9]),
        priority=r[o + 10],
        platform=r[o + 11],
        excluded_from_unread=bool(flags & FLAG_EXCLUDED_UNREAD),
        excluded_from_last=bool(flags & FLAG_EXCLUDED_LAST),
        is_tips=bool(flags & FLAG_TIPS),
        supports_extensions=bool(flags & FLAG_EXTENSIONS),
        elems=_elems_decoder.decode(r[o + 13]),
        cloud_custom_data=r[o + 14],
        at_users=strs_decoder.decode(r[o + 15]),
        sender_profile=_profile_decoder.decode(r[o + 16]).card() if r[o + 16] else None,
        revoker=r[o + 17],
        revoke_reason=r[o + 18],
        version=r[o + 19],
    )


CONV_EXTRA = 21 + N_MSG_COLS
"""Index of the first conversation column after the last message's."""


def draft_row(text: str | None, draft_time: int) -> Draft | None:
    """The stored draft; its ``edit_time`` is the stamp the draft rule kept (the column), which
    the schema's upgrade turned into seconds for drafts an older release stored."""
    if not text:
        return None
    draft = _draft_decoder.decode(text)
    draft.edit_time = draft_time
    return draft


def conversation_row(r: Row) -> Conversation:
    end_seq = r[9]
    max_seq, count, activity = (r[14], r[15], r[16]) if end_seq is None else (end_seq, r[10], r[11])
    pos = max(r[CONV_EXTRA], r[CONV_EXTRA + 1] if end_seq is None else r[11])
    activity = max(activity, r[6])
    marks = visible_marks(from_db_u64(r[CONV_EXTRA + 2]), r[CONV_EXTRA + 3], max_seq)
    deleted = is_tombstone(bool(r[7]), r[8], max_seq)
    read_seq, read_count = r[2], r[3]
    conv_type = r[0]
    if conv_type == ConvType.GROUP:
        show_name, face_url, group_type = r[17] or r[1], r[18] or "", r[19] or 0
    else:
        peer = _profile_decoder.decode(r[20]) if r[20] else None
        # A friend's remark names the conversation, as in Tencent's apps.
        show_name = r[CONV_EXTRA + 9] or (peer.nick if peer else "") or r[1]
        face_url, group_type = (peer.face_url if peer else ""), 0
    return Conversation(
        conv_type=conv_type,
        conv_id=r[1],
        read_seq=read_seq,
        read_count=read_count,
        max_seq=max_seq,
        count=count,
        activity=activity,
        pinned=bool(r[4]),
        draft=draft_row(r[5], r[CONV_EXTRA + 8]),
        deleted=deleted,
        deleted_up_to=r[8],
        ended=end_seq is not None,
        recv_opt=r[12],
        custom_data=r[13],
        marks=marks,
        hide_seq=r[CONV_EXTRA + 3],
        groups=strs_decoder.decode(r[CONV_EXTRA + 4]),
        show_name=show_name,
        face_url=face_url,
        group_type=group_type,
        last_msg=None if r[21] is None or r[CONV_EXTRA + 6] is not None else message_row(r, 21),
        pos=pos,
        peer_read_seq=r[CONV_EXTRA + 10] or 0,
    )


def joined_group(r: Row) -> GroupInfo:
    """A GroupInfo from a group row read with ``repos.groups.GROUP_COLS`` (the same columns on
    both engines); the caller's columns are NULL when they are not a member."""
    return GroupInfo(
        group_id=r[0],
        name=r[1],
        group_type=r[2],
        owner=r[3],
        add_option=r[4],
        face_url=r[5],
        introduction=r[6],
        notification=r[7],
        create_time=r[8],
        self_role=r[9] or 0,
        self_join_time=r[10] or 0,
        max_seq=r[11],
        self_read_seq=r[13] or 0,
        self_unread=unread(r[12], r[14] or 0) if r[9] else 0,
        member_count=r[15],
        approve_option=r[16],
        shutup_all=bool(r[17]),
        custom=custom_decoder.decode(r[18]),
        info_seq=r[19],
        info_time=r[20],
        last_msg_time=r[21] or 0,
    )


def member_row(r: Row) -> MemberInfo:
    """A MemberInfo from a row read with ``repos.groups.MEMBER_COLS``."""
    return MemberInfo(
        user_id=r[0],
        role=r[1],
        join_time=r[2],
        seq=r[3],
        name_card=r[4],
        mute_until=r[5],
        custom=custom_decoder.decode(r[6]),
        msg_flag=r[7] or 0,
    )


def pendency_row(r: Row) -> GroupPendency:
    """A GroupPendency from a row read with ``repos.groups.PENDENCY_COLS``."""
    return GroupPendency(
        group_id=r[0],
        from_user=r[1],
        to_user=r[2],
        pendency_type=r[3],
        add_time=r[4],
        pos=r[5],
        apply_msg=r[6],
        handler=r[7],
        result=r[8],
        handle_msg=r[9],
    )


def stored_message(m: NewMessage, seq: int, count: int, activity: int, server_time: int) -> Message:
    """The Message a store answers for ``m`` once it holds ``seq``, ``count`` and ``activity``."""
    return Message(
        msg_id=m.msg_id,
        conv_type=m.conv_type,
        sender=m.sender,
        receiver=m.receiver,
        elems=m.elems,
        seq=seq,
        count=count,
        activity=activity,
        server_time=server_time,
        client_time=m.client_time,
        random=m.random,
        priority=m.priority,
        platform=m.platform,
        cloud_custom_data=m.cloud_custom_data,
        excluded_from_unread=m.excluded_from_unread,
        excluded_from_last=m.excluded_from_last,
        is_tips=m.is_tips,
        supports_extensions=m.supports_extensions,
        at_users=m.at_users,
    )
