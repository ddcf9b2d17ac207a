"""Groups: create, dismiss, join, quit, invite, kick, list — with the reference's rules.

Rules by type (reference GM notes): Private (Work) groups cannot be joined by application and
cannot be dismissed; any member may invite and anyone may quit. Public and ChatRoom (Meeting)
groups are joined by their add option (Public defaults to approval: the join becomes an
application that the owner or an admin accepts or refuses; ChatRoom defaults to free joining);
the owner cannot quit them; only the owner or an admin invites into a Public group, and an
ordinary member's invitation waits for approval when the group's invitation approval option says
so. Only the owner or an admin removes members, and nobody removes the owner. Who may change a
group's or a member's info is in protocol/rules/groups.py. Every membership or info change writes
a tips message, which never counts as unread; a join application, its acceptance and its refusal
go to the users concerned as group reports.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from opentim.protocol import (
    AddOption,
    ConvType,
    ErrorCode,
    GroupInfo,
    GroupPendency,
    GroupReport,
    GroupType,
    MemberInfo,
    MemberResult,
    MemberRole,
    Message,
    ReportType,
    TipType,
    group_channel,
    push_frame,
)
from opentim.protocol.limits import (
    MAX_APPLY_MSG_BYTES,
    MAX_GROUP_CUSTOM_FIELDS,
    MAX_GROUP_CUSTOM_KEY_BYTES,
    MAX_GROUP_CUSTOM_VALUE_BYTES,
    MAX_GROUP_FACE_URL_BYTES,
    MAX_GROUP_INTRODUCTION_BYTES,
    MAX_GROUP_MEMBERS,
    MAX_GROUP_NAME_BYTES,
    MAX_GROUP_NOTIFICATION_BYTES,
    MAX_INVITE_PER_CALL,
    MAX_NAME_CARD_BYTES,
    MAX_PENDENCIES_PAGE,
    MAX_TIP_USERS,
    valid_group_id,
)
from opentim.protocol.ops import (
    GroupCreateReq,
    GroupInfoResult,
    GroupModifyReq,
    GroupReportPush,
    MemberModifyReq,
    PendencyHandleReq,
)
from opentim.protocol.paging import fitting
from opentim.protocol.ranges import clamp_seq, clamp_time
from opentim.protocol.rules import (
    InfoField,
    JoinOutcome,
    MemberField,
    PendencyType,
    Refusal,
    handle_refusal,
    handled,
    info_refusal,
    invite_outcome,
    join_outcome,
    joiner,
    member_refusal,
    mute_until,
    valid_add_option,
)

from ..bus.base import Envelope
from ..config import Limits
from ..store.base import DuplicateGroupError, GroupRow, NewMessage, Store
from .conversations import ConversationService
from .errors import GroupNotFoundError, NotMemberError, ServiceError
from .messages import MessageService
from .users import UserService

SYSTEM_SENDER = "@TIM#SYSTEM"
SUPPORTED_TYPES = frozenset({GroupType.PUBLIC, GroupType.PRIVATE, GroupType.CHATROOM})
HANDLED_ERR, HANDLED_OK, INCLUDED, INVITED = 0, 1, 2, 3
ALL_ROLES = (int(MemberRole.OWNER), int(MemberRole.ADMIN), int(MemberRole.NORMAL))
ROLE_FLAGS = ((0x1, MemberRole.OWNER), (0x2, MemberRole.ADMIN), (0x4, MemberRole.NORMAL))
"""TIMGroupMemberRoleFlag bits and the roles they select."""

# TIMGroupTipGroupChangeFlag of each changed field, and the tip key its new value goes in.
_CHANGE_FLAGS: dict[str, tuple[int, str]] = {
    "name": (1, "group_tips_group_change_info_value"),
    "introduction": (2, "group_tips_group_change_info_value"),
    "notification": (3, "group_tips_group_change_info_value"),
    "face_url": (4, "group_tips_group_change_info_value"),
    "shutup_all": (8, "group_tips_group_change_info_bool_value"),
    "add_option": (11, "group_tips_group_change_info_int_value"),
    "approve_option": (12, "group_tips_group_change_info_int_value"),
}
_OWNER_FLAG, _CUSTOM_FLAG = 5, 6
_TEXT_FIELDS = (
    (InfoField.NAME, "name", MAX_GROUP_NAME_BYTES, ErrorCode.ERR_SDK_GROUP_INVALID_NAME),
    (
        InfoField.NOTIFICATION,
        "notification",
        MAX_GROUP_NOTIFICATION_BYTES,
        ErrorCode.ERR_SDK_GROUP_INVALID_NOTIFICATION,
    ),
    (
        InfoField.INTRODUCTION,
        "introduction",
        MAX_GROUP_INTRODUCTION_BYTES,
        ErrorCode.ERR_SDK_GROUP_INVALID_INTRODUCTION,
    ),
    (
        InfoField.FACE_URL,
        "face_url",
        MAX_GROUP_FACE_URL_BYTES,
        ErrorCode.ERR_SDK_GROUP_INVALID_FACE_URL,
    ),
)


def _refused(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise ServiceError(refusal.code, refusal.desc)


def _check_custom(custom: dict[str, str], stored: dict[str, str]) -> None:
    """Custom fields: short keys, bounded values, at most ``MAX_GROUP_CUSTOM_FIELDS`` kept."""
    for key, val in custom.items():
        if not 0 < len(key.encode()) <= MAX_GROUP_CUSTOM_KEY_BYTES:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS,
                f"custom keys are 1-{MAX_GROUP_CUSTOM_KEY_BYTES} bytes",
            )
        if len(val.encode()) > MAX_GROUP_CUSTOM_VALUE_BYTES:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS,
                f"custom values are at most {MAX_GROUP_CUSTOM_VALUE_BYTES} bytes",
            )
    kept = {k for k, v in {**stored, **custom}.items() if v}
    if len(kept) > MAX_GROUP_CUSTOM_FIELDS:
        raise ServiceError(
            ErrorCode.ERR_INVALID_PARAMETERS, f"at most {MAX_GROUP_CUSTOM_FIELDS} custom fields"
        )


def _within(value: str, limit: int, what: str) -> None:
    if len(value.encode()) > limit:
        raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, f"{what} over {limit} bytes")


class GroupService:
    """Group rules; membership writes go through the store, tips through the message path."""

    def __init__(
        self,
        store: Store,
        users: UserService,
        messages: MessageService,
        conversations: ConversationService,
        clock: Callable[[], float],
        limits: Limits | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.store = store
        self.users = users
        self.messages = messages
        self.conversations = conversations
        self.clock = clock

    def tip(
        self, group_id: str, tip_type: int, op_user: str, users: list[str], **extra: Any
    ) -> NewMessage:
        elem: dict[str, Any] = {
            "elem_type": 5,
            "group_tips_elem_tip_type": tip_type,
            "group_tips_elem_op_user": op_user,
            "group_tips_elem_group_id": group_id,
            "group_tips_elem_user_array": users[:MAX_TIP_USERS],
            **extra,
        }
        return NewMessage(
            channel_id=group_channel(group_id),
            conv_type=ConvType.GROUP,
            sender=SYSTEM_SENDER,
            receiver=group_id,
            msg_id=f"tip-{secrets.token_hex(12)}",
            elems=[elem],
            client_time=int(self.clock()),
            is_tips=True,
            excluded_from_unread=True,
        )

    async def _group(self, group_id: str) -> GroupRow:
        group = await self.store.groups.get_group(group_id)
        if group is None:
            raise GroupNotFoundError(group_id)
        return group

    async def announce(
        self, tip: Message, users_with_new_state: list[str], removed: list[str] | None = None
    ) -> None:
        """Push the tip to the group (and to removed members), then each user's new conversation."""
        self.messages.publish(tip, extra_users=removed)
        for user_id in users_with_new_state:
            convs = await self.store.convs.get_conversations(
                user_id, [(ConvType.GROUP, tip.receiver)]
            )
            self.conversations.publish(user_id, convs)

    async def create(self, user_id: str, req: GroupCreateReq) -> str:
        self.messages.bus.ensure_up()
        name_bytes = len(req.name.encode())
        if not 0 < name_bytes <= MAX_GROUP_NAME_BYTES:
            raise ServiceError(
                ErrorCode.ERR_SDK_GROUP_INVALID_NAME,
                f"group name must be 1-{MAX_GROUP_NAME_BYTES} bytes",
            )
        for value, limit, code in (
            (req.face_url, MAX_GROUP_FACE_URL_BYTES, ErrorCode.ERR_SDK_GROUP_INVALID_FACE_URL),
            (
                req.introduction,
                MAX_GROUP_INTRODUCTION_BYTES,
                ErrorCode.ERR_SDK_GROUP_INVALID_INTRODUCTION,
            ),
            (
                req.notification,
                MAX_GROUP_NOTIFICATION_BYTES,
                ErrorCode.ERR_SDK_GROUP_INVALID_NOTIFICATION,
            ),
        ):
            if len(value.encode()) > limit:
                raise ServiceError(code, f"over {limit} bytes")
        if req.group_type not in SUPPORTED_TYPES:
            raise ServiceError(
                ErrorCode.ERR_SDK_INTERFACE_NOT_SUPPORT,
                f"group type {req.group_type} is not implemented (Public, Private, ChatRoom are)",
            )
        if req.group_id and not valid_group_id(req.group_id):
            raise ServiceError(ErrorCode.ERR_SDK_GROUP_INVALID_ID, "invalid group id")
        group_id = req.group_id or f"@TGS#{secrets.token_hex(6).upper()}"
        invited = [u for u in dict.fromkeys(req.members) if u != user_id]
        if len(invited) + 1 > MAX_GROUP_MEMBERS:
            raise ServiceError(ErrorCode.ERR_SVR_GROUP_FULL_MEMBER_COUNT, "too many members")
        known = {p.user_id for p in await self.users.profiles(invited)}
        missing = [u for u in invited if u not in known]
        if missing:
            raise ServiceError(ErrorCode.ERR_SVR_GROUP_ACCOUNT_NOT_FOUND, f"no users {missing!r}")
        if req.add_option is None:
            add_option: int = (
                AddOption.ANY if req.group_type == GroupType.CHATROOM else AddOption.AUTH
            )
        else:
            add_option = req.add_option
        if add_option not in (AddOption.FORBID, AddOption.AUTH, AddOption.ANY):
            raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, f"bad add option {add_option}")
        now = int(self.clock())
        row = GroupRow(
            group_id=group_id,
            name=req.name,
            group_type=req.group_type,
            owner=user_id,
            add_option=add_option,
            face_url=req.face_url,
            introduction=req.introduction,
            notification=req.notification,
            create_time=now,
        )
        members = {user_id: int(MemberRole.OWNER), **{u: int(MemberRole.NORMAL) for u in invited}}
        tip = self.tip(
            group_id,
            TipType.INVITE,
            user_id,
            list(members),
            group_tips_elem_join_type=2,
            group_tips_elem_member_num=len(members),
        )
        try:
            msg = await self.store.groups.create_group(row, members, tip, now)
        except DuplicateGroupError as exc:
            raise ServiceError(
                ErrorCode.ERR_SVR_GROUP_GROUPID_IN_USED, f"group id {group_id!r} is taken"
            ) from exc
        await self.announce(msg, list(members))
        return group_id

    async def delete(self, user_id: str, group_id: str) -> None:
        self.messages.bus.ensure_up()
        group = await self._group(group_id)
        if group.group_type == GroupType.PRIVATE:
            raise NotMemberError("a Private (Work) group cannot be dismissed")
        if group.owner != user_id:
            raise NotMemberError("only the owner can dismiss the group")
        members = list(await self.store.groups.get_members(group_id))
        tip = self.tip(group_id, TipType.QUIT, user_id, members, group_tips_elem_member_num=0)
        msg = await self.store.groups.dismiss_group(group_id, tip, int(self.clock()))
        await self.announce(msg, members, removed=members)

    async def join(self, user_id: str, group_id: str, hello: str = "") -> None:
        """Join, or apply to join when the group needs approval (the owner and admins get a
        join request report)."""
        self.messages.bus.ensure_up()
        _within(hello, MAX_APPLY_MSG_BYTES, "the application message")
        group = await self._group(group_id)
        members = await self.store.groups.get_members(group_id)
        if user_id in members:
            raise ServiceError(ErrorCode.ERR_SVR_GROUP_ALLREADY_MEMBER, "already a member")
        outcome = join_outcome(group.group_type, group.add_option)
        if outcome == JoinOutcome.INVITE_ONLY:
            raise ServiceError(
                ErrorCode.ERR_SDK_GROUP_JOIN_PRIVATE_GROUP_DENY,
                "a Private (Work) group is joined by invitation only",
            )
        if outcome == JoinOutcome.FORBIDDEN:
            raise NotMemberError("this group does not accept join requests")
        if len(members) + 1 > MAX_GROUP_MEMBERS:
            raise ServiceError(ErrorCode.ERR_SVR_GROUP_FULL_MEMBER_COUNT, "the group is full")
        now = int(self.clock())
        if outcome == JoinOutcome.APPLY:
            await self.store.groups.put_pendency(
                GroupPendency(
                    group_id=group_id,
                    from_user=user_id,
                    to_user="",
                    pendency_type=PendencyType.JOIN_NEEDS_ADMIN,
                    add_time=now,
                    pos=0,
                    apply_msg=hello,
                )
            )
            managers = [u for u, role in members.items() if role >= MemberRole.ADMIN]
            self.report(managers, ReportType.ADD_REQUEST, group, user_id, hello)
            return
        tip = self.tip(
            group_id,
            TipType.INVITE,
            user_id,
            [user_id],
            group_tips_elem_join_type=1,
            group_tips_elem_member_num=len(members) + 1,
        )
        msg = await self.store.groups.add_members(
            group_id, {user_id: int(MemberRole.NORMAL)}, tip, now
        )
        await self.announce(msg, [user_id])

    def report(
        self, users: list[str], report_type: int, group: GroupRow, op_user: str, msg: str
    ) -> None:
        """Push a group report (GroupReportElem) to ``users`` alone."""
        if not users:
            return
        report = GroupReport(
            report_type=report_type,
            group_id=group.group_id,
            op_user=op_user,
            msg=msg,
            group_name=group.name,
            time=int(self.clock()),
        )
        frame = push_frame("group_report", GroupReportPush(report=report))
        self.messages.bus.publish(Envelope(frame=frame, users=users))

    async def quit(self, user_id: str, group_id: str) -> None:
        self.messages.bus.ensure_up()
        group = await self._group(group_id)
        members = await self.store.groups.get_members(group_id)
        if user_id not in members:
            raise NotMemberError(f"{user_id!r} is not a member of {group_id!r}")
        if group.owner == user_id and group.group_type != GroupType.PRIVATE:
            raise ServiceError(
                ErrorCode.ERR_SVR_GROUP_SUPER_NOT_ALLOW_QUIT, "the owner cannot quit this group"
            )
        tip = self.tip(
            group_id, TipType.QUIT, user_id, [user_id], group_tips_elem_member_num=len(members) - 1
        )
        msg = await self.store.groups.remove_members(group_id, [user_id], tip, int(self.clock()))
        await self.announce(msg, [user_id], removed=[user_id])

    async def invite(self, user_id: str, group_id: str, user_ids: list[str]) -> list[MemberResult]:
        self.messages.bus.ensure_up()
        group = await self._group(group_id)
        members = await self.store.groups.get_members(group_id)
        role = members.get(user_id)
        if role is None:
            raise NotMemberError(f"{user_id!r} is not a member of {group_id!r}")
        outcome = invite_outcome(group.group_type, group.approve_option, role)
        if outcome == JoinOutcome.FORBIDDEN:
            raise NotMemberError("only the owner or an admin can invite into this group")
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            raise ServiceError(ErrorCode.ERR_SDK_GROUP_INVITE_NO_MEMBER, "nobody to invite")
        if len(wanted) > MAX_INVITE_PER_CALL:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS, f"at most {MAX_INVITE_PER_CALL} users per call"
            )
        known = {p.user_id for p in await self.users.profiles(wanted)}
        results: list[MemberResult] = []
        joining: dict[str, int] = {}
        for u in wanted:
            if u in members:
                results.append(MemberResult(user_id=u, result=INCLUDED))
            elif u not in known:
                results.append(MemberResult(user_id=u, result=HANDLED_ERR))
            else:
                results.append(MemberResult(user_id=u, result=HANDLED_OK))
                joining[u] = int(MemberRole.NORMAL)
        if len(members) + len(joining) > MAX_GROUP_MEMBERS:
            raise ServiceError(ErrorCode.ERR_SVR_GROUP_FULL_MEMBER_COUNT, "the group is full")
        if joining and outcome == JoinOutcome.APPLY:
            now = int(self.clock())
            for u in joining:
                await self.store.groups.put_pendency(
                    GroupPendency(
                        group_id=group_id,
                        from_user=user_id,
                        to_user=u,
                        pendency_type=PendencyType.INVITE_NEEDS_ADMIN,
                        add_time=now,
                        pos=0,
                    )
                )
            managers = [u for u, r in members.items() if r >= MemberRole.ADMIN]
            self.report(managers, ReportType.ADD_REQUEST, group, user_id, "")
            return [
                MemberResult(user_id=r.user_id, result=INVITED) if r.result == HANDLED_OK else r
                for r in results
            ]
        if joining:
            tip = self.tip(
                group_id,
                TipType.INVITE,
                user_id,
                list(joining),
                group_tips_elem_join_type=2,
                group_tips_elem_member_num=len(members) + len(joining),
            )
            msg = await self.store.groups.add_members(group_id, joining, tip, int(self.clock()))
            await self.announce(msg, list(joining))
        return results

    async def kick(self, user_id: str, group_id: str, user_ids: list[str]) -> list[MemberResult]:
        self.messages.bus.ensure_up()
        group = await self._group(group_id)
        members = await self.store.groups.get_members(group_id)
        role = members.get(user_id, MemberRole.NONE)
        allowed = role == MemberRole.OWNER or (
            role == MemberRole.ADMIN and group.group_type != GroupType.PRIVATE
        )
        if not allowed:
            raise NotMemberError("only the owner or an admin can remove members")
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, "nobody to remove")
        if len(wanted) > MAX_INVITE_PER_CALL:
            raise ServiceError(
                ErrorCode.ERR_INVALID_PARAMETERS, f"at most {MAX_INVITE_PER_CALL} users per call"
            )
        results: list[MemberResult] = []
        leaving: list[str] = []
        for u in wanted:
            if u in members and u != group.owner and members[u] < role:
                results.append(MemberResult(user_id=u, result=HANDLED_OK))
                leaving.append(u)
            else:
                results.append(MemberResult(user_id=u, result=HANDLED_ERR))
        if leaving:
            tip = self.tip(
                group_id,
                TipType.KICK,
                user_id,
                leaving,
                group_tips_elem_member_num=len(members) - len(leaving),
            )
            msg = await self.store.groups.remove_members(group_id, leaving, tip, int(self.clock()))
            await self.announce(msg, leaving, removed=leaving)
        return results

    async def joined(
        self, user_id: str, after_time: int = 0, after_id: str = ""
    ) -> tuple[list[GroupInfo], bool]:
        """The groups joined after ``(after_time, after_id)``, in the order of joining, as
        many as fit in one answer; and whether more follow."""
        joined = sorted(
            await self.store.groups.joined_groups(user_id),
            key=lambda g: (g.self_join_time, g.group_id),
        )
        groups = [g for g in joined if (g.self_join_time, g.group_id) > (after_time, after_id)]
        n = fitting(groups)
        return groups[:n], n < len(groups)

    # --- group info -----------------------------------------------------------------------
    async def info(self, user_id: str, group_ids: list[str]) -> list[GroupInfoResult]:
        """Each group's info as ``user_id`` sees it: a member sees any group; a non-member
        sees Public and Meeting groups, not Work groups (10007); unknown groups answer 10010."""
        found = {
            g.group_id: g
            for g in await self.store.groups.groups_info(user_id, list(dict.fromkeys(group_ids)))
        }
        results: list[GroupInfoResult] = []
        for group_id in group_ids:
            group = found.get(group_id)
            if group is None:
                results.append(
                    GroupInfoResult(
                        group_id=group_id,
                        code=ErrorCode.ERR_SVR_GROUP_NOT_FOUND,
                        desc=f"no group {group_id!r}",
                    )
                )
            elif not group.self_role and group.group_type == GroupType.PRIVATE:
                results.append(
                    GroupInfoResult(
                        group_id=group_id,
                        code=ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY,
                        desc="a Work group's info is for its members",
                    )
                )
            else:
                results.append(GroupInfoResult(group_id=group_id, info=group))
        return results

    async def modify_info(self, user_id: str, req: GroupModifyReq) -> None:
        """Change a group's info (the fields ``req.flags`` names); every member gets a group
        info change tip."""
        self.messages.bus.ensure_up()
        group = await self._group(req.group_id)
        members = await self.store.groups.get_members(req.group_id)
        role = members.get(user_id, MemberRole.NONE)
        _refused(info_refusal(group.group_type, role, req.flags))
        flags = InfoField(req.flags)
        changes: dict[str, Any] = {}
        for flag, column, limit, code in _TEXT_FIELDS:
            if flags & flag:
                value = getattr(req, column)
                if len(value.encode()) > limit or (column == "name" and not value):
                    raise ServiceError(code, f"{column} must be at most {limit} bytes")
                changes[column] = value
        for flag, column in (
            (InfoField.ADD_OPTION, "add_option"),
            (InfoField.APPROVE_OPTION, "approve_option"),
        ):
            if flags & flag:
                if not valid_add_option(getattr(req, column)):
                    raise ServiceError(
                        ErrorCode.ERR_INVALID_PARAMETERS, f"bad {column} {getattr(req, column)}"
                    )
                changes[column] = getattr(req, column)
        if flags & InfoField.SHUTUP_ALL:
            changes["shutup_all"] = req.shutup_all
        if flags & InfoField.CUSTOM:
            if not req.custom:
                raise ServiceError(ErrorCode.ERR_INVALID_PARAMETERS, "no custom fields given")
            _check_custom(req.custom, group.custom)
            changes["custom"] = req.custom
        new_owner = ""
        if flags & InfoField.OWNER:
            if members.get(req.owner) is None or req.owner == user_id:
                raise ServiceError(
                    ErrorCode.ERR_SVR_GROUP_PERMISSION_DENY,
                    f"{req.owner!r} is not another member of the group",
                )
            new_owner = req.owner
        infos: list[dict[str, Any]] = []
        for column, value in changes.items():
            if column == "custom":
                infos += [
                    {
                        "group_tips_group_change_info_flag": _CUSTOM_FLAG,
                        "group_tips_group_change_info_key": key,
                        "group_tips_group_change_info_value": val,
                    }
                    for key, val in value.items()
                ]
            else:
                change_flag, key = _CHANGE_FLAGS[column]
                infos.append({"group_tips_group_change_info_flag": change_flag, key: value})
        if new_owner:
            infos.append(
                {
                    "group_tips_group_change_info_flag": _OWNER_FLAG,
                    "group_tips_group_change_info_value": new_owner,
                }
            )
        tip = self.tip(
            req.group_id,
            TipType.GROUP_INFO_CHANGE,
            user_id,
            [],
            group_tips_elem_group_change_info_array=infos,
            group_tips_elem_member_num=len(members),
        )
        msg = await self.store.groups.modify_group(
            req.group_id, changes, tip, int(self.clock()), new_owner=new_owner
        )
        # The conversation's name and face come from the group: every member's changes.
        shown = bool({"name", "face_url"} & changes.keys())
        await self.announce(msg, list(members) if shown else [])

    # --- members --------------------------------------------------------------------------
    async def members(
        self, user_id: str, group_id: str, user_ids: list[str], role_flag: int, next_seq: int
    ) -> tuple[list[MemberInfo], int]:
        """Members (with their nick names and faces) named in ``user_ids``, or by role
        (TIMGroupMemberRoleFlag bits, 0 for all) after ``next_seq``; and where the next page
        starts (0: none). Members only."""
        await self._group(group_id)
        if await self.store.groups.member_role(group_id, user_id) is None:
            raise NotMemberError(f"{user_id!r} is not a member of {group_id!r}")
        next_from = 0
        if user_ids:
            found = await self.store.groups.members_info(group_id, list(dict.fromkeys(user_ids)))
        else:
            roles = [int(r) for bit, r in ROLE_FLAGS if role_flag & bit] or list(ALL_ROLES)
            size = self.limits.members_page
            page = await self.store.groups.member_page(
                group_id, roles, clamp_seq(next_seq), size + 1
            )
            found = page[:size]
            if len(page) > size:
                next_from = found[-1].seq
        profiles = {p.user_id: p for p in await self.users.profiles([m.user_id for m in found])}
        for member in found:
            profile = profiles.get(member.user_id)
            if profile is not None:
                member.nick_name, member.face_url = profile.nick, profile.face_url
        n = fitting(found)
        if n < len(found):
            found, next_from = found[:n], found[n - 1].seq
        return found, next_from

    async def modify_member(self, user_id: str, req: MemberModifyReq) -> None:
        """Change a member's role, mute, name card, custom fields or (one's own) receive
        option; a role change or a mute writes a tip."""
        self.messages.bus.ensure_up()
        group = await self._group(req.group_id)
        members = await self.store.groups.get_members(req.group_id)
        actor = members.get(user_id, MemberRole.NONE)
        target = members.get(req.user_id, MemberRole.NONE)
        _refused(
            member_refusal(
                group.group_type,
                actor,
                target,
                req.flags,
                is_self=user_id == req.user_id,
                new_role=req.role,
            )
        )
        flags = MemberField(req.flags)
        now = int(self.clock())
        changes: dict[str, Any] = {}
        tip: NewMessage | None = None
        if flags & MemberField.NAME_CARD:
            if len(req.name_card.encode()) > MAX_NAME_CARD_BYTES:
                raise ServiceError(
                    ErrorCode.ERR_SDK_GROUP_INVALID_NAME_CARD,
                    f"a name card is at most {MAX_NAME_CARD_BYTES} bytes",
                )
            changes["name_card"] = req.name_card
        if flags & MemberField.CUSTOM:
            (stored,) = await self.store.groups.members_info(req.group_id, [req.user_id])
            _check_custom(req.custom, stored.custom)
            changes["custom"] = req.custom
        if flags & MemberField.MSG_FLAG:
            await self.conversations.set_recv_opt(
                user_id, ConvType.GROUP, [req.group_id], req.msg_flag, ""
            )
        if flags & MemberField.ROLE and req.role != target:
            changes["role"] = req.role
            tip_type = TipType.SET_ADMIN if req.role == MemberRole.ADMIN else TipType.CANCEL_ADMIN
            tip = self.tip(
                req.group_id,
                tip_type,
                user_id,
                [req.user_id],
                group_tips_elem_member_num=len(members),
            )
        if flags & MemberField.SHUTUP_TIME:
            changes["mute_until"] = mute_until(now, req.shutup_time)
            mute = {
                "group_tips_member_change_info_identifier": req.user_id,
                "group_tips_member_change_info_shutupTime": req.shutup_time,
            }
            if tip is None:
                tip = self.tip(
                    req.group_id,
                    TipType.MEMBER_INFO_CHANGE,
                    user_id,
                    [req.user_id],
                    group_tips_elem_member_change_info_array=[mute],
                    group_tips_elem_member_num=len(members),
                )
            else:
                tip.elems[0]["group_tips_elem_member_change_info_array"] = [mute]
        if not changes:
            return
        msg = await self.store.groups.modify_member(req.group_id, req.user_id, changes, tip, now)
        if msg is not None:
            await self.announce(msg, [])

    # --- join applications and invitations waiting for approval ----------------------------
    async def pendencies(
        self, user_id: str, start: int, limit: int
    ) -> tuple[list[GroupPendency], int, int, int]:
        """The applications and invitations the user sent or may handle, newest first, older
        than ``start`` (0: from the newest); where the next page starts (0: none), when the user
        last read them, and how many unhandled ones came after that."""
        size = min(limit or MAX_PENDENCIES_PAGE, MAX_PENDENCIES_PAGE)
        page = await self.store.groups.pendencies(user_id, clamp_seq(start), size + 1)
        found = page[:size]
        next_start = found[-1].pos if len(page) > size else 0
        profiles = {p.user_id: p for p in await self.users.profiles([p.from_user for p in found])}
        for p in found:
            profile = profiles.get(p.from_user)
            if profile is not None:
                p.from_nick, p.from_face_url = profile.nick, profile.face_url
        read_time, unread = await self.store.groups.unread_pendencies(user_id)
        return found, next_start, read_time, unread

    async def handle_pendency(self, user_id: str, req: PendencyHandleReq) -> None:
        """Accept or refuse an application or invitation (once: 10024 after anyone handled
        it). Accepting makes the joiner a member; the applicant gets the outcome as a report."""
        self.messages.bus.ensure_up()
        _within(req.msg, MAX_APPLY_MSG_BYTES, "the handling message")
        group = await self._group(req.group_id)
        pendency = await self.store.groups.get_pendency(req.group_id, req.from_user, req.to_user)
        if pendency is None or (req.add_time and req.add_time != pendency.add_time):
            raise ServiceError(ErrorCode.ERR_SVR_GROUP_INVALID_REQ, "no such application")
        members = await self.store.groups.get_members(req.group_id)
        _refused(handle_refusal(pendency, user_id, members.get(user_id, MemberRole.NONE)))
        done = handled(pendency, user_id, req.accept, req.msg)
        new_member = joiner(done)
        tip: NewMessage | None = None
        if req.accept and new_member not in members:
            if len(members) + 1 > MAX_GROUP_MEMBERS:
                raise ServiceError(ErrorCode.ERR_SVR_GROUP_FULL_MEMBER_COUNT, "the group is full")
            tip = self.tip(
                req.group_id,
                TipType.INVITE,
                user_id,
                [new_member],
                group_tips_elem_join_type=1
                if pendency.pendency_type == PendencyType.JOIN_NEEDS_ADMIN
                else 2,
                group_tips_elem_member_num=len(members) + 1,
            )
        applied, msg = await self.store.groups.handle_pendency(done, tip, int(self.clock()))
        if not applied:
            raise ServiceError(
                ErrorCode.ERR_SVR_GROUP_REQ_ALLREADY_BEEN_PROCESSED, "already handled"
            )
        if msg is not None:
            await self.announce(msg, [new_member])
        outcome = ReportType.ADD_ACCEPT if req.accept else ReportType.ADD_REFUSE
        self.report([new_member], outcome, group, user_id, req.msg)

    async def read_pendencies(self, user_id: str, time: int) -> None:
        """Pendencies added up to ``time`` are read (the unread count leaves them out)."""
        await self.store.groups.read_pendencies(user_id, clamp_time(time))
