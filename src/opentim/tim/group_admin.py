"""The group functions of Tencent's sample apps' group screens (TIMGroupManager.h): group info,
its changes, the member list and member changes, and join applications.

Everything is server state: the callbacks carry what the server answered. Changes reach every
member as group tips (``TIMSetGroupTipsEventCallback``, and as messages of the group
conversation that never count as unread). The JSON keys are the header's (tim-c-all.json,
TIMGroupManager.h; tim-keys.json, which keys.py comes from, does not list them).
"""

from __future__ import annotations

from opentim.protocol import GroupInfo, GroupPendency, MemberInfo, TIMResult
from opentim.protocol.limits import (
    MAX_GROUP_CUSTOM_FIELDS,
    MAX_GROUP_MEMBERS,
    MAX_GROUP_NAME_BYTES,
    MAX_GROUPS_PER_INFO_CALL,
    MAX_USERS_PER_CALL,
)
from opentim.protocol.ops import (
    GroupInfoResult,
    GroupModifyReq,
    MemberModifyReq,
    PendencyHandleReq,
    PendencyListRes,
)
from opentim.protocol.rules import Handled, InfoField, handled_for

from . import keys as k
from .convert import (
    CallRefusedError,
    JsonObject,
    dumps,
    need_callback,
    need_object,
    opt_bool,
    opt_list,
    opt_obj,
    opt_str,
    opt_uint,
    param_error,
    parse_json,
    uint_arg,
)
from .core import TIMCore, tim_call
from .group import group_id_arg
from .runtime import CallKind, TIMCommCallback

# --- JSON keys of TIMGroupManager.h that keys.py does not have --------------------------------
GROUP_INFO_CUSTOM_KEY = "group_info_custom_string_info_key"
GROUP_INFO_CUSTOM_VALUE = "group_info_custom_string_info_value"
MEMBER_CUSTOM_KEY = "group_member_info_custom_string_info_key"
MEMBER_CUSTOM_VALUE = "group_member_info_custom_string_info_value"
MODIFY_INFO = "group_modify_info_param_"
MODIFY_MEMBER = "group_modify_member_info_"
MEMBER_LIST = "group_get_members_info_list_param_"
PENDENCY = "group_pendency_"


# --- JSON out ----------------------------------------------------------------------------------
def _custom_json(custom: dict[str, str], key: str, value: str) -> list[JsonObject]:
    return [{key: name, value: val} for name, val in sorted(custom.items())]


def group_detail_json(g: GroupInfo) -> JsonObject:
    """A GroupDetailInfo."""
    return {
        "group_detail_info_group_id": g.group_id,
        "group_detail_info_group_type": g.group_type,
        "group_detail_info_is_support_topic": False,
        "group_detail_info_group_name": g.name,
        "group_detail_info_notification": g.notification,
        "group_detail_info_introduction": g.introduction,
        "group_detail_info_face_url": g.face_url,
        "group_detail_info_create_time": g.create_time,
        "group_detail_info_info_seq": g.info_seq,
        "group_detail_info_last_info_time": g.info_time,
        "group_detail_info_next_msg_seq": g.max_seq + 1,
        "group_detail_info_last_msg_time": g.last_msg_time,
        "group_detail_info_member_num": g.member_count,
        "group_detail_info_max_member_num": MAX_GROUP_MEMBERS,
        "group_detail_info_add_option": g.add_option,
        "group_detail_info_approve_option": g.approve_option,
        "group_detail_info_is_shutup_all": g.shutup_all,
        "group_detail_info_owner_identifier": g.owner,
        "group_detail_info_custom_info": _custom_json(
            g.custom, GROUP_INFO_CUSTOM_KEY, GROUP_INFO_CUSTOM_VALUE
        ),
    }


def group_info_result_json(r: GroupInfoResult) -> JsonObject:
    """A GetGroupInfoResult."""
    out: JsonObject = {
        "get_groups_info_result_code": r.code,
        "get_groups_info_result_desc": r.desc,
    }
    if r.info is not None:
        out["get_groups_info_result_info"] = group_detail_json(r.info)
    return out


def member_json(m: MemberInfo, group_id: str) -> JsonObject:
    """A GroupMemberInfo."""
    return {
        k.GROUP_MEMBER_INFO_IDENTIFIER: m.user_id,
        k.GROUP_MEMBER_INFO_GROUP_ID: group_id,
        k.GROUP_MEMBER_INFO_JOIN_TIME: m.join_time,
        k.GROUP_MEMBER_INFO_MEMBER_ROLE: m.role,
        k.GROUP_MEMBER_INFO_MSG_FLAG: m.msg_flag,
        k.GROUP_MEMBER_INFO_MSG_SEQ: 0,
        k.GROUP_MEMBER_INFO_SHUTUP_TIME: m.mute_until,
        k.GROUP_MEMBER_INFO_NAME_CARD: m.name_card,
        k.GROUP_MEMBER_INFO_NICK_NAME: m.nick_name,
        k.GROUP_MEMBER_INFO_FRIEND_REMARK: "",
        k.GROUP_MEMBER_INFO_FACE_URL: m.face_url,
        k.GROUP_MEMBER_INFO_CUSTOM_INFO: _custom_json(
            m.custom, MEMBER_CUSTOM_KEY, MEMBER_CUSTOM_VALUE
        ),
    }


def pendency_key(p: GroupPendency) -> str:
    """``group_pendency_key``: names one application (its users, group and position)."""
    return f"{p.group_id}\n{p.from_user}\n{p.to_user}\n{p.pos}"


def pendency_json(p: GroupPendency, me: str) -> JsonObject:
    """A GroupPendency as ``me`` sees it (handled by them, by another, or not yet)."""
    state = handled_for(p.handler, me)
    return {
        PENDENCY + "group_id": p.group_id,
        PENDENCY + "form_identifier": p.from_user,
        PENDENCY + "from_nick_name": p.from_nick,
        PENDENCY + "from_face_url": p.from_face_url,
        PENDENCY + "to_identifier": p.to_user,
        PENDENCY + "add_time": p.add_time,
        PENDENCY + "pendency_type": p.pendency_type,
        PENDENCY + "handled": int(state),
        PENDENCY + "handle_result": p.result if state != Handled.NOT_HANDLED else 0,
        PENDENCY + "apply_invite_msg": p.apply_msg,
        PENDENCY + "form_user_defined_data": "",
        PENDENCY + "approval_msg": p.handle_msg,
        PENDENCY + "to_user_defined_data": "",
        PENDENCY + "key": pendency_key(p),
        PENDENCY + "authentication": "",
        PENDENCY + "self_identifier": me,
    }


def pendency_result_json(res: PendencyListRes, me: str) -> JsonObject:
    """A GroupPendencyResult."""
    return {
        "group_pendency_result_next_start_time": res.next_start,
        "group_pendency_result_read_time_seq": res.read_time,
        "group_pendency_result_unread_num": res.unread,
        "group_pendency_result_pendency_array": [pendency_json(p, me) for p in res.pendencies],
    }


# --- JSON in -----------------------------------------------------------------------------------
def _custom_in(obj: JsonObject, key: str, name_key: str, value_key: str) -> dict[str, str]:
    items = opt_list(obj, key)
    if len(items) > MAX_GROUP_CUSTOM_FIELDS:
        raise param_error(f"{key} holds at most {MAX_GROUP_CUSTOM_FIELDS} fields")
    custom: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict):
            raise param_error(f"{key} holds objects")
        name, value = item.get(name_key), item.get(value_key, "")
        if not isinstance(name, str) or not name or not isinstance(value, str):
            raise param_error(f"{key}: each field needs a {name_key} and a string value")
        custom[name] = value
    return custom


def modify_info_in(obj: JsonObject) -> GroupModifyReq:
    """A GroupModifyInfoParam as a request (TIM_ERR_GROUP for a bad group id or name)."""
    group_id = group_id_arg(obj.get(MODIFY_INFO + "group_id"), "group id")
    flags = opt_uint(obj, MODIFY_INFO + "modify_flag")
    if not flags or flags >= 1 << 32:
        raise param_error(f"{MODIFY_INFO}modify_flag must name what to change")
    name = opt_str(obj, MODIFY_INFO + "group_name")
    if flags & InfoField.NAME and not 0 < len(name.encode()) <= MAX_GROUP_NAME_BYTES:
        raise CallRefusedError(
            TIMResult.TIM_ERR_GROUP, f"group name must be 1-{MAX_GROUP_NAME_BYTES} bytes"
        )
    custom = _custom_in(
        obj, MODIFY_INFO + "custom_info", GROUP_INFO_CUSTOM_KEY, GROUP_INFO_CUSTOM_VALUE
    )
    if flags & InfoField.CUSTOM and not custom:
        raise param_error(f"{MODIFY_INFO}custom_info is empty")
    owner = opt_str(obj, MODIFY_INFO + "owner")
    if flags & InfoField.OWNER and not owner:
        raise param_error(f"{MODIFY_INFO}owner is empty")
    return GroupModifyReq(
        group_id=group_id,
        flags=flags,
        name=name,
        notification=opt_str(obj, MODIFY_INFO + "notification"),
        introduction=opt_str(obj, MODIFY_INFO + "introduction"),
        face_url=opt_str(obj, MODIFY_INFO + "face_url"),
        add_option=uint_arg(opt_uint(obj, MODIFY_INFO + "add_option"), "add option", 32),
        approve_option=uint_arg(
            opt_uint(obj, MODIFY_INFO + "approve_option"), "approve option", 32
        ),
        shutup_all=opt_bool(obj, MODIFY_INFO + "is_shutup_all"),
        custom=custom,
        owner=owner,
    )


def modify_member_in(obj: JsonObject) -> MemberModifyReq:
    """A GroupModifyMemberInfoParam as a request."""
    group_id = group_id_arg(obj.get(MODIFY_MEMBER + "group_id"), "group id")
    user_id = opt_str(obj, MODIFY_MEMBER + "identifier")
    if not user_id:
        raise param_error(f"{MODIFY_MEMBER}identifier is empty")
    flags = opt_uint(obj, MODIFY_MEMBER + "modify_flag")
    if not flags or flags >= 1 << 32:
        raise param_error(f"{MODIFY_MEMBER}modify_flag must name what to change")
    return MemberModifyReq(
        group_id=group_id,
        user_id=user_id,
        flags=flags,
        msg_flag=uint_arg(opt_uint(obj, MODIFY_MEMBER + "msg_flag"), "msg flag", 32),
        role=uint_arg(opt_uint(obj, MODIFY_MEMBER + "member_role"), "member role", 32),
        shutup_time=uint_arg(opt_uint(obj, MODIFY_MEMBER + "shutup_time"), "shutup time", 32),
        name_card=opt_str(obj, MODIFY_MEMBER + "name_card"),
        custom=_custom_in(
            obj, MODIFY_MEMBER + "custom_info", MEMBER_CUSTOM_KEY, MEMBER_CUSTOM_VALUE
        ),
    )


def pendency_in(obj: JsonObject) -> PendencyHandleReq:
    """A GroupHandlePendencyParam as a request: the pendency as the list gave it."""
    p = opt_obj(obj, "group_handle_pendency_param_pendency")
    if not p:
        raise param_error("group_handle_pendency_param_pendency is required")
    return PendencyHandleReq(
        group_id=group_id_arg(p.get(PENDENCY + "group_id"), "group id"),
        from_user=opt_str(p, PENDENCY + "form_identifier"),
        to_user=opt_str(p, PENDENCY + "to_identifier"),
        accept=opt_bool(obj, "group_handle_pendency_param_is_accept"),
        msg=opt_str(obj, "group_handle_pendency_param_handle_msg"),
        add_time=min(opt_uint(p, PENDENCY + "add_time"), (1 << 63) - 1),
    )


class GroupAdminAPI(TIMCore):
    """Group info, members and join applications."""

    @tim_call
    def TIMGroupGetGroupInfoList(
        self,
        json_group_getinfo_param: str | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Get the info of groups (a JSON array of group ids, at most 50); the callback gets an
        array of GetGroupInfoResult, one per id: code 0 with its GroupDetailInfo, 10010 for an
        unknown group, 10007 for a Work group the user is not in."""
        client = self._require()
        ids = parse_json(json_group_getinfo_param, list, "json_group_getinfo_param")
        assert ids is not None
        if not ids or len(ids) > MAX_GROUPS_PER_INFO_CALL:
            raise param_error(f"give 1-{MAX_GROUPS_PER_INFO_CALL} group ids")
        group_ids = [group_id_arg(i) for i in ids]
        callback = need_callback(cb)

        async def work() -> str:
            results = await client.groups.info(group_ids)
            return dumps([group_info_result_json(r) for r in results])

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMGroupModifyGroupInfo(
        self,
        json_group_modifyinfo_param: str | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Change a group's name, notification, introduction, face URL, join option, invitation
        approval option, mute-all, custom fields or owner (a GroupModifyInfoParam; the bits of
        ``group_modify_info_param_modify_flag`` say which). Who may: any member for a Work
        group's profile, else the owner or an admin; the options and mute-all the owner or an
        admin; the owner alone hands the group over (10007 otherwise). Every member gets a
        group info change tip. The callback gets ``""``."""
        client = self._require()
        req = modify_info_in(
            need_object(json_group_modifyinfo_param, "json_group_modifyinfo_param")
        )
        callback = need_callback(cb)

        async def work() -> str:
            await client.groups.modify(req)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMGroupGetMemberInfoList(
        self,
        json_group_getmeminfos_param: str | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """List a group's members (a GroupGetMemberInfoListParam): the ones named in
        ``group_get_members_info_list_param_identifier_array``, or a page of those whose role
        the option's ``role_flag`` selects, from ``next_seq``. The callback gets a
        GroupGetMemberInfoListResult; its ``next_seq`` is 0 on the last page. Members only
        (10007)."""
        client = self._require()
        obj = need_object(json_group_getmeminfos_param, "json_group_getmeminfos_param")
        group_id = group_id_arg(obj.get(MEMBER_LIST + "group_id"), "group id")
        user_ids = obj.get(MEMBER_LIST + "identifier_array") or []
        if not isinstance(user_ids, list) or not all(isinstance(u, str) and u for u in user_ids):
            raise param_error(f"{MEMBER_LIST}identifier_array holds user ids")
        if len(user_ids) > MAX_USERS_PER_CALL:
            raise param_error(f"at most {MAX_USERS_PER_CALL} user ids")
        option = opt_obj(obj, MEMBER_LIST + "option")
        role_flag = opt_uint(option, "group_member_get_info_option_role_flag")
        next_seq = opt_uint(obj, MEMBER_LIST + "next_seq")
        callback = need_callback(cb)

        async def work() -> str:
            members, next_from = await client.groups.members(
                group_id, user_ids=user_ids, role_flag=role_flag, next_seq=next_seq
            )
            return dumps(
                {
                    "group_get_member_info_list_result_next_seq": next_from,
                    "group_get_member_info_list_result_info_array": [
                        member_json(m, group_id) for m in members
                    ],
                }
            )

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMGroupModifyMemberInfo(
        self,
        json_group_modifymeminfo_param: str | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Change a member's role, mute (``shutup_time`` seconds; 0 unmutes), name card,
        custom fields or (one's own) receive option (a GroupModifyMemberInfoParam). The owner
        appoints admins (not in Work groups); the owner and admins mute, and change the cards
        of, members ranked below them; one's own card and fields are one's own (10007
        otherwise). A role change or a mute reaches every member as a tip. The callback gets
        ``""``."""
        client = self._require()
        req = modify_member_in(
            need_object(json_group_modifymeminfo_param, "json_group_modifymeminfo_param")
        )
        callback = need_callback(cb)

        async def work() -> str:
            await client.groups.modify_member(req)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMGroupGetPendencyList(
        self,
        json_group_getpendency_list_param: str | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Join applications and invitations waiting for approval (a GroupPendencyOption):
        those the user sent and those of the groups they own or administer, newest first, from
        ``start_time`` (0: the newest; then the previous answer's ``next_start_time``), at most
        ``max_limited`` (100 when 0 or more). The callback gets a GroupPendencyResult."""
        client = self._require()
        obj = need_object(json_group_getpendency_list_param, "json_group_getpendency_list_param")
        start = opt_uint(obj, "group_pendency_option_start_time")
        limit = min(opt_uint(obj, "group_pendency_option_max_limited"), (1 << 32) - 1)
        callback = need_callback(cb)

        async def work() -> str:
            res = await client.groups.pendencies(start, limit)
            return dumps(pendency_result_json(res, client.user_id or ""))

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMGroupHandlePendency(
        self,
        json_group_handle_pendency_param: str | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Accept or refuse an application or invitation (a GroupHandlePendencyParam holding the
        GroupPendency as listed): the owner or an admin, once (10024 when it was handled
        already). Accepting makes the applicant (or invitee) a member; they get a group report.
        The callback gets ``""``."""
        client = self._require()
        req = pendency_in(
            need_object(json_group_handle_pendency_param, "json_group_handle_pendency_param")
        )
        if not req.from_user:
            raise param_error(f"{PENDENCY}form_identifier is empty")
        callback = need_callback(cb)

        async def work() -> str:
            await client.groups.handle_pendency(req)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMGroupReportPendencyReaded(
        self, time_stamp: int, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Mark the applications added up to ``time_stamp`` read: ``unread_num`` of later lists
        leaves them out. The callback gets ``""``."""
        client = self._require()
        time = min(uint_arg(time_stamp, "time_stamp"), (1 << 63) - 1)
        callback = need_callback(cb)

        async def work() -> str:
            await client.groups.read_pendencies(time)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)
