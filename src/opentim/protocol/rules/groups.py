"""Group rules as pure functions: who may change a group's info or a member's, how a join or an
invitation goes (at once, as a pending application, or refused), and how a pending application
moves when it is handled.

Roles rank ``NORMAL < ADMIN < OWNER``. From Tencent's description of the group system (the
"Group System" page, roles table):

- a Work (``PRIVATE``) group lets any member change the group's profile (name, notification,
  introduction, face, custom fields); other types let only the owner and admins do it;
- the join option, the invitation approval option and mute-all are the owner's and admins'
  in every type; Work groups cannot be joined by application, so their join option is fixed;
- only the owner appoints or dismisses admins or hands the group over; Work groups have no
  admins;
- a member's name card and custom fields are their own; the owner and admins may change those
  of members ranked below them; muting likewise (an admin mutes ordinary members, the owner
  mutes admins too), and nobody mutes themselves or the owner;
- a join application (join option "need permission") and an invitation that needs approval
  (invitation approval option "need permission", from an ordinary member) wait for the owner or
  an admin; the first to handle it decides, and it is then handled for everyone.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import NamedTuple

import msgspec

from ..codes import ErrorCode
from ..models import AddOption, GroupPendency, GroupType, MemberRole


class InfoField(IntFlag):
    """TIMGroupModifyInfoFlag bits opentim carries out."""

    NAME = 0x1
    NOTIFICATION = 0x2
    INTRODUCTION = 0x4
    FACE_URL = 0x8
    ADD_OPTION = 0x10
    SHUTUP_ALL = 0x100
    CUSTOM = 0x200
    APPROVE_OPTION = 0x1000
    OWNER = 0x80000000


PROFILE_FIELDS = (
    InfoField.NAME
    | InfoField.NOTIFICATION
    | InfoField.INTRODUCTION
    | InfoField.FACE_URL
    | InfoField.CUSTOM
)
"""The group's profile: any member's in a Work group, the owner's and admins' elsewhere."""
MANAGER_FIELDS = InfoField.ADD_OPTION | InfoField.APPROVE_OPTION | InfoField.SHUTUP_ALL
"""Settings only the owner and admins change."""
ALL_INFO_FIELDS = int(PROFILE_FIELDS | MANAGER_FIELDS | InfoField.OWNER)


class MemberField(IntFlag):
    """TIMGroupMemberModifyInfoFlag bits opentim carries out."""

    MSG_FLAG = 0x1
    ROLE = 0x2
    SHUTUP_TIME = 0x4
    NAME_CARD = 0x8
    CUSTOM = 0x10


ALL_MEMBER_FIELDS = int(
    MemberField.MSG_FLAG
    | MemberField.ROLE
    | MemberField.SHUTUP_TIME
    | MemberField.NAME_CARD
    | MemberField.CUSTOM
)


class PendencyType(IntEnum):
    """TIMGroupPendencyType."""

    JOIN_NEEDS_ADMIN = 0
    INVITE_NEEDS_INVITEE = 1
    INVITE_NEEDS_ADMIN = 2


class Handled(IntEnum):
    """TIMGroupPendencyHandle: as seen by the user who reads the list."""

    NOT_HANDLED = 0
    OTHER_HANDLED = 1
    OPERATOR_HANDLED = 2


class Refusal(NamedTuple):
    """Why a change is refused: the TIM code and a sentence."""

    code: ErrorCode
    desc: str


DENIED = ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY


def is_manager(role: int) -> bool:
    """The owner or an admin."""
    return role >= MemberRole.ADMIN


def _flags_refusal(fields: int, known: int) -> Refusal | None:
    """Modify flags naming nothing, or something opentim does not carry out."""
    if fields & ~known:
        return Refusal(
            ErrorCode.ERR_SDK_INTERFACE_NOT_SUPPORT,
            f"modify flags {fields & ~known:#x} are not supported",
        )
    if not fields:
        return Refusal(ErrorCode.ERR_INVALID_PARAMETERS, "nothing to modify")
    return None


def info_refusal(group_type: int, role: int, fields: int) -> Refusal | None:
    """Whether a member with ``role`` may change ``fields`` (InfoField bits) of a group."""
    unknown = _flags_refusal(fields, ALL_INFO_FIELDS)
    if unknown is not None:
        return unknown
    if role < MemberRole.NORMAL:
        return Refusal(DENIED, "only members change a group's info")
    if fields & InfoField.OWNER and role != MemberRole.OWNER:
        return Refusal(DENIED, "only the owner hands the group over")
    if fields & PROFILE_FIELDS and not (group_type == GroupType.PRIVATE or is_manager(role)):
        return Refusal(DENIED, "only the owner or an admin changes this group's profile")
    if fields & MANAGER_FIELDS and not is_manager(role):
        return Refusal(DENIED, "only the owner or an admin changes this setting")
    if fields & InfoField.ADD_OPTION and group_type == GroupType.PRIVATE:
        return Refusal(DENIED, "a Work group is joined by invitation only")
    return None


def valid_add_option(value: int) -> bool:
    """A join or invitation approval option a group can have."""
    return value in (AddOption.FORBID, AddOption.AUTH, AddOption.ANY)


def member_refusal(
    group_type: int,
    actor_role: int,
    target_role: int,
    fields: int,
    *,
    is_self: bool,
    new_role: int = 0,
) -> Refusal | None:
    """Whether ``actor`` may change ``fields`` (MemberField bits) of a member.

    ``new_role`` is the role asked for when ``fields`` holds ``ROLE``.
    """
    unknown = _flags_refusal(fields, ALL_MEMBER_FIELDS)
    if unknown is not None:
        return unknown
    if actor_role < MemberRole.NORMAL:
        return Refusal(DENIED, "only members change member info")
    if target_role < MemberRole.NORMAL:
        return Refusal(DENIED, "not a member of the group")
    outranks = is_manager(actor_role) and actor_role > target_role
    if fields & MemberField.MSG_FLAG and not is_self:
        return Refusal(DENIED, "a member's receive option is their own")
    if fields & (MemberField.NAME_CARD | MemberField.CUSTOM) and not (is_self or outranks):
        return Refusal(DENIED, "only the member, or the owner or an admin above them")
    if fields & MemberField.SHUTUP_TIME and (is_self or not outranks):
        return Refusal(DENIED, "only the owner or an admin mutes, and only those below them")
    if fields & MemberField.ROLE:
        if actor_role != MemberRole.OWNER or is_self or not outranks:
            return Refusal(DENIED, "only the owner appoints or dismisses admins")
        if group_type == GroupType.PRIVATE:
            return Refusal(DENIED, "a Work group has no admins")
        if new_role not in (MemberRole.ADMIN, MemberRole.NORMAL):
            return Refusal(ErrorCode.ERR_INVALID_PARAMETERS, f"bad member role {new_role}")
    return None


class JoinOutcome(IntEnum):
    """What a join request does."""

    JOIN = 0
    APPLY = 1
    INVITE_ONLY = 2
    FORBIDDEN = 3


def join_outcome(group_type: int, add_option: int) -> JoinOutcome:
    """A join request to a group: the user joins, applies, or is refused."""
    if group_type == GroupType.PRIVATE:
        return JoinOutcome.INVITE_ONLY
    if add_option == AddOption.ANY:
        return JoinOutcome.JOIN
    if add_option == AddOption.AUTH:
        return JoinOutcome.APPLY
    return JoinOutcome.FORBIDDEN


def invite_outcome(group_type: int, approve_option: int, inviter_role: int) -> JoinOutcome:
    """An invitation by a member with ``inviter_role``: the invitees join, wait for the owner
    or an admin to approve, or the member may not invite."""
    if group_type == GroupType.PUBLIC and not is_manager(inviter_role):
        return JoinOutcome.FORBIDDEN
    if is_manager(inviter_role) or approve_option == AddOption.ANY:
        return JoinOutcome.JOIN
    if approve_option == AddOption.AUTH:
        return JoinOutcome.APPLY
    return JoinOutcome.FORBIDDEN


def joiner(pendency: GroupPendency) -> str:
    """Who becomes a member when ``pendency`` is accepted: the applicant, or the invitee."""
    if pendency.pendency_type == PendencyType.JOIN_NEEDS_ADMIN:
        return pendency.from_user
    return pendency.to_user


def handle_refusal(pendency: GroupPendency, handler: str, handler_role: int) -> Refusal | None:
    """Whether ``handler`` may accept or refuse ``pendency`` now."""
    if pendency.handler:
        return Refusal(ErrorCode.ERR_SVR_GROUP_REQ_ALLREADY_BEEN_PROCESSED, "already handled")
    if pendency.pendency_type == PendencyType.INVITE_NEEDS_INVITEE:
        if handler != pendency.to_user:
            return Refusal(DENIED, "only the invitee answers this invitation")
        return None
    if not is_manager(handler_role):
        return Refusal(DENIED, "only the owner or an admin handles this")
    return None


def handled(pendency: GroupPendency, handler: str, accept: bool, handle_msg: str) -> GroupPendency:
    """The pendency once ``handler`` accepted (``accept``) or refused it."""
    return msgspec.structs.replace(
        pendency, handler=handler, result=int(accept), handle_msg=handle_msg
    )


def handled_for(handler: str, reader: str) -> Handled:
    """How a pendency handled by ``handler`` (empty: not yet) looks to ``reader``: handled by
    them, by someone else, or not yet."""
    if not handler:
        return Handled.NOT_HANDLED
    return Handled.OPERATOR_HANDLED if handler == reader else Handled.OTHER_HANDLED


def unread_pendencies(pendencies: list[GroupPendency], read_time: int) -> int:
    """Unhandled pendencies added after ``read_time`` (what ``ReportPendencyReaded`` clears)."""
    return sum(1 for p in pendencies if not p.handler and p.add_time > read_time)


def mute_until(now: int, duration: int) -> int:
    """The end of a mute of ``duration`` seconds starting ``now``; 0 unmutes."""
    return now + duration if duration > 0 else 0


def is_muted(until: int, now: int) -> bool:
    """Whether a member muted until ``until`` is still muted at ``now``."""
    return until > now


def may_send(role: int, mute_end: int, shutup_all: bool, now: int) -> Refusal | None:
    """Whether a member may send to the group now: not while muted, and under mute-all only
    the owner and admins."""
    if is_muted(mute_end, now):
        return Refusal(ErrorCode.ERR_SVR_GROUP_SHUTUP_DENY, "you are muted in this group")
    if shutup_all and not is_manager(role):
        return Refusal(ErrorCode.ERR_SVR_GROUP_SHUTUP_DENY, "the group is muted")
    return None
