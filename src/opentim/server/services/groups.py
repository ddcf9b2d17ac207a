"""Groups: create, dismiss, join, quit, invite, kick, list — with the reference's rules.

Rules by type (reference GM notes): Private (Work) groups cannot be joined by application and
cannot be dismissed; any member may invite and anyone may quit. Public and ChatRoom (Meeting)
groups are joined by their add option (Public defaults to approval, which opentim does not offer
yet, so such a join is refused; ChatRoom defaults to free joining); the owner cannot quit them;
only the owner or an admin invites into a Public group. Only the owner or an admin removes
members, and nobody removes the owner. Every membership change writes a tips message, which never
counts as unread.
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
    GroupType,
    MemberResult,
    MemberRole,
    Message,
    TipType,
    group_channel,
)
from opentim.protocol.limits import (
    MAX_GROUP_FACE_URL_BYTES,
    MAX_GROUP_INTRODUCTION_BYTES,
    MAX_GROUP_MEMBERS,
    MAX_GROUP_NAME_BYTES,
    MAX_GROUP_NOTIFICATION_BYTES,
    MAX_INVITE_PER_CALL,
    MAX_TIP_USERS,
    valid_group_id,
)
from opentim.protocol.ops import GroupCreateReq
from opentim.protocol.paging import fitting

from ..store.base import DuplicateGroupError, GroupRow, NewMessage, Store
from .conversations import ConversationService
from .errors import GroupNotFoundError, NotMemberError, ServiceError
from .messages import MessageService
from .users import UserService

SYSTEM_SENDER = "@TIM#SYSTEM"
SUPPORTED_TYPES = frozenset({GroupType.PUBLIC, GroupType.PRIVATE, GroupType.CHATROOM})
HANDLED_ERR, HANDLED_OK, INCLUDED = 0, 1, 2


class GroupService:
    """Group rules; membership writes go through the store, tips through the message path."""

    def __init__(
        self,
        store: Store,
        users: UserService,
        messages: MessageService,
        conversations: ConversationService,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.users = users
        self.messages = messages
        self.conversations = conversations
        self.clock = clock

    def _tip(
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

    async def _announce(
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
        tip = self._tip(
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
        await self._announce(msg, list(members))
        return group_id

    async def delete(self, user_id: str, group_id: str) -> None:
        self.messages.bus.ensure_up()
        group = await self._group(group_id)
        if group.group_type == GroupType.PRIVATE:
            raise NotMemberError("a Private (Work) group cannot be dismissed")
        if group.owner != user_id:
            raise NotMemberError("only the owner can dismiss the group")
        members = list(await self.store.groups.get_members(group_id))
        tip = self._tip(group_id, TipType.QUIT, user_id, members, group_tips_elem_member_num=0)
        msg = await self.store.groups.dismiss_group(group_id, tip, int(self.clock()))
        await self._announce(msg, members, removed=members)

    async def join(self, user_id: str, group_id: str) -> None:
        self.messages.bus.ensure_up()
        group = await self._group(group_id)
        members = await self.store.groups.get_members(group_id)
        if user_id in members:
            raise ServiceError(ErrorCode.ERR_SVR_GROUP_ALLREADY_MEMBER, "already a member")
        if group.group_type == GroupType.PRIVATE:
            raise ServiceError(
                ErrorCode.ERR_SDK_GROUP_JOIN_PRIVATE_GROUP_DENY,
                "a Private (Work) group is joined by invitation only",
            )
        if group.add_option == AddOption.FORBID:
            raise NotMemberError("this group does not accept join requests")
        if group.add_option != AddOption.ANY:
            raise NotMemberError(
                "this group requires approval to join; approvals are not implemented yet"
            )
        if len(members) + 1 > MAX_GROUP_MEMBERS:
            raise ServiceError(ErrorCode.ERR_SVR_GROUP_FULL_MEMBER_COUNT, "the group is full")
        tip = self._tip(
            group_id,
            TipType.INVITE,
            user_id,
            [user_id],
            group_tips_elem_join_type=1,
            group_tips_elem_member_num=len(members) + 1,
        )
        msg = await self.store.groups.add_members(
            group_id, {user_id: int(MemberRole.NORMAL)}, tip, int(self.clock())
        )
        await self._announce(msg, [user_id])

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
        tip = self._tip(
            group_id, TipType.QUIT, user_id, [user_id], group_tips_elem_member_num=len(members) - 1
        )
        msg = await self.store.groups.remove_members(group_id, [user_id], tip, int(self.clock()))
        await self._announce(msg, [user_id], removed=[user_id])

    async def invite(self, user_id: str, group_id: str, user_ids: list[str]) -> list[MemberResult]:
        self.messages.bus.ensure_up()
        group = await self._group(group_id)
        members = await self.store.groups.get_members(group_id)
        role = members.get(user_id)
        if role is None:
            raise NotMemberError(f"{user_id!r} is not a member of {group_id!r}")
        if group.group_type == GroupType.PUBLIC and role < MemberRole.ADMIN:
            raise NotMemberError("only the owner or an admin can invite into a Public group")
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
        if joining:
            tip = self._tip(
                group_id,
                TipType.INVITE,
                user_id,
                list(joining),
                group_tips_elem_join_type=2,
                group_tips_elem_member_num=len(members) + len(joining),
            )
            msg = await self.store.groups.add_members(group_id, joining, tip, int(self.clock()))
            await self._announce(msg, list(joining))
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
            tip = self._tip(
                group_id,
                TipType.KICK,
                user_id,
                leaving,
                group_tips_elem_member_num=len(members) - len(leaving),
            )
            msg = await self.store.groups.remove_members(group_id, leaving, tip, int(self.clock()))
            await self._announce(msg, leaving, removed=leaving)
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
