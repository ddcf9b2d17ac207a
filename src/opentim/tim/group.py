"""The group functions (TIMGroup*): create, dismiss, join, quit, invite, remove, list."""

from __future__ import annotations

from typing import Any

from opentim.protocol import ConvType, TIMResult
from opentim.protocol.limits import MAX_GROUP_NAME_BYTES, valid_group_id

from . import keys as k
from .convert import (
    CallRefusedError,
    JsonObject,
    delete_results,
    dumps,
    group_base_info,
    in_enum,
    invite_results,
    need_callback,
    need_object,
    need_str,
    opt_list,
    opt_str,
    opt_str_list,
    opt_uint,
    param_error,
)
from .core import TIMCore, TIMGroupTipsEventCallback, check_listener, tim_call
from .runtime import CallKind, TIMCommCallback


def group_id_arg(value: object, what: str = "group_id") -> str:
    """A group id argument: TIM_ERR_PARAM when not a non-empty str, TIM_ERR_GROUP when it is
    not a valid group id (printable ASCII, at most 48 bytes)."""
    group_id = need_str(value, what)
    if not valid_group_id(group_id):
        raise CallRefusedError(TIMResult.TIM_ERR_GROUP, f"{group_id!r} is not a valid group id")
    return group_id


def _members(obj: JsonObject) -> list[str]:
    items = opt_list(obj, k.CREATE_GROUP_PARAM_GROUP_MEMBER_ARRAY)
    users: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            raise param_error(f"{k.CREATE_GROUP_PARAM_GROUP_MEMBER_ARRAY} holds objects")
        users.append(need_str(item.get(k.GROUP_MEMBER_INFO_IDENTIFIER), "member identifier"))
    return users


class GroupAPI(TIMCore):
    """Groups."""

    def TIMSetGroupTipsEventCallback(
        self, cb: TIMGroupTipsEventCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_group_tip, user_data)``: a member joined, quit or was removed
        (a GroupTipsElem object). The tips also arrive as messages of the group conversation,
        where they never count as unread. None unregisters."""
        check_listener(cb)
        with self._lock:
            self._group_tips_cb = None if cb is None else (cb, user_data)

    @tim_call
    def TIMGroupCreate(
        self, json_group_create_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Create a group (a CreateGroupParam object) with the caller as owner; the callback
        gets ``{"create_group_result_groupid": id}``. Every initial member gets the group
        conversation, starting with a tips message that does not count as unread.

        A missing, empty or over-100-byte name, or an invalid group id: TIM_ERR_GROUP. Through
        the callback: 10021 (group id taken), 10019 (a member does not exist), 7013 for group
        types opentim does not offer (BChatRoom, AVChatRoom, Community).
        """
        client = self._require()
        obj = need_object(json_group_create_param, "json_group_create_param")
        name = opt_str(obj, k.CREATE_GROUP_PARAM_GROUP_NAME)
        if not 0 < len(name.encode()) <= MAX_GROUP_NAME_BYTES:
            raise CallRefusedError(
                TIMResult.TIM_ERR_GROUP, f"group name must be 1-{MAX_GROUP_NAME_BYTES} bytes"
            )
        group_id = opt_str(obj, k.CREATE_GROUP_PARAM_GROUP_ID)
        if group_id:
            group_id_arg(group_id)
        group_type = in_enum(
            opt_uint(obj, k.CREATE_GROUP_PARAM_GROUP_TYPE, k.kTIMGroup_Public),
            k.TIMGroupType,
            k.CREATE_GROUP_PARAM_GROUP_TYPE,
        )
        add_option: int | None = None
        if obj.get(k.CREATE_GROUP_PARAM_ADD_OPTION) is not None:
            add_option = in_enum(
                opt_uint(obj, k.CREATE_GROUP_PARAM_ADD_OPTION),
                k.TIMGroupAddOption,
                k.CREATE_GROUP_PARAM_ADD_OPTION,
            )
        members = _members(obj)
        face_url = opt_str(obj, k.CREATE_GROUP_PARAM_FACE_URL)
        introduction = opt_str(obj, k.CREATE_GROUP_PARAM_INTRODUCTION)
        notification = opt_str(obj, k.CREATE_GROUP_PARAM_NOTIFICATION)
        callback = need_callback(cb)

        async def work() -> str:
            created = await client.groups.create(
                name,
                group_type,
                group_id=group_id,
                add_option=add_option,
                members=members,
                face_url=face_url,
                introduction=introduction,
                notification=notification,
            )
            return dumps({k.CREATE_GROUP_RESULT_GROUPID: created})

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMGroupDelete(
        self, group_id: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Dismiss the group (owner only; a Private group cannot be dismissed: 10007); the
        callback gets ``""``."""
        client = self._require()
        gid = group_id_arg(group_id)
        callback = need_callback(cb)

        async def work() -> str:
            await client.groups.delete(gid)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMGroupJoin(
        self,
        group_id: str,
        hello_msg: str | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Join a group that accepts anyone (10013 when already a member, 10007 when the group
        needs approval or forbids joining, 8508 for a Private group); the callback gets ``""``."""
        client = self._require()
        gid = group_id_arg(group_id)
        if hello_msg is not None and not isinstance(hello_msg, str):
            raise param_error("hello_msg must be a str or None")
        hello = hello_msg or ""
        callback = need_callback(cb)

        async def work() -> str:
            await client.groups.join(gid, hello)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMGroupQuit(
        self, group_id: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Leave a group (the owner of a Public or ChatRoom group cannot: 10009); the callback
        gets ``""``."""
        client = self._require()
        gid = group_id_arg(group_id)
        callback = need_callback(cb)

        async def work() -> str:
            await client.groups.quit(gid)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMGroupInviteMember(
        self, json_group_invite_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Invite users (a GroupInviteMemberParam, at most 20); the callback gets an array of
        GroupInviteMemberResult (HandleGroupMemberResult per user)."""
        client = self._require()
        obj = need_object(json_group_invite_param, "json_group_invite_param")
        gid = group_id_arg(obj.get(k.GROUP_INVITE_MEMBER_PARAM_GROUP_ID), "group id")
        users = opt_str_list(obj, k.GROUP_INVITE_MEMBER_PARAM_IDENTIFIER_ARRAY)
        opt_str(obj, k.GROUP_INVITE_MEMBER_PARAM_USER_DATA)
        callback = need_callback(cb)

        async def work() -> str:
            return dumps(invite_results(await client.groups.invite(gid, users)))

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMGroupDeleteMember(
        self, json_group_delete_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Remove members (a GroupDeleteMemberParam; owner or admin only); the callback gets an
        array of GroupDeleteMemberResult."""
        client = self._require()
        obj = need_object(json_group_delete_param, "json_group_delete_param")
        gid = group_id_arg(obj.get(k.GROUP_DELETE_MEMBER_PARAM_GROUP_ID), "group id")
        users = opt_str_list(obj, k.GROUP_DELETE_MEMBER_PARAM_IDENTIFIER_ARRAY)
        opt_str(obj, k.GROUP_DELETE_MEMBER_PARAM_USER_DATA)
        opt_uint(obj, k.GROUP_DELETE_MEMBER_PARAM_DURATION)
        callback = need_callback(cb)

        async def work() -> str:
            return dumps(delete_results(await client.groups.kick(gid, users)))

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMGroupGetJoinedGroupList(
        self, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """The groups the user is in: an array of GroupBaseInfo, each with its
        ``group_base_info_self_info``."""
        client = self._require()
        callback = need_callback(cb)

        async def work() -> str:
            groups = await client.groups.joined()
            infos: list[dict[str, Any]] = []
            for group in groups:
                conv = client.conversations.cached(ConvType.GROUP, group.group_id)
                infos.append(group_base_info(group, conv.recv_opt if conv is not None else 0))
            return dumps(infos)

        return self._submit(client, CallKind.READ, work, callback, user_data)
