"""TIMFriendshipManager.h: friends, applications, the blacklist, friend groups, follows and
official accounts, with the header's 20 callbacks.

Everything is server state (the SDK's ``FriendshipManager`` asks the server); the server's
``friend`` pushes reach every device of the users concerned and become the callbacks here, on
the SDK thread. JSON keys are the reference's (tim-c-all.json, TIMFriendshipManager.h).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentim.protocol import Profile, friendship as fs
from opentim.protocol.limits import MAX_FRIENDS_PER_CALL
from opentim.protocol.rules.friends import (
    FriendType,
    PendencyType,
    ResponseAction,
)
from opentim.sdk import Client

from .convert import (
    JsonObject,
    dumps,
    in_enum,
    need_callback,
    need_object,
    need_str,
    opt_list,
    opt_str,
    opt_str_list,
    opt_uint,
    param_error,
    parse_json,
    profile_json,
    uint_arg,
)
from .core import TIMCore, tim_call
from .runtime import CallKind, TIMCommCallback, deliver

Listener = Callable[..., object]


# --- JSON out ----------------------------------------------------------------------------------
def custom_json(fields: list[fs.CustomField]) -> list[JsonObject]:
    return [
        {
            "friend_profile_custom_string_info_key": f.key,
            "friend_profile_custom_string_info_value": f.value,
        }
        for f in fields
    ]


def friend_profile_json(f: fs.Friend) -> JsonObject:
    """A FriendProfile."""
    return {
        "friend_profile_identifier": f.user_id,
        "friend_profile_group_name_array": f.groups,
        "friend_profile_remark": f.remark,
        "friend_profile_add_wording": f.add_wording,
        "friend_profile_add_source": f.add_source,
        "friend_profile_add_time": f.add_time,
        "friend_profile_user_profile": profile_json(f.profile, f.user_id),
        "friend_profile_custom_string_array": custom_json(f.custom),
    }


def friend_result_json(r: fs.UserResult) -> JsonObject:
    return {
        "friend_result_identifier": r.user_id,
        "friend_result_code": r.code,
        "friend_result_desc": r.desc,
    }


def friend_info_json(r: fs.FriendInfo) -> JsonObject:
    """A FriendInfoGetResult; its friend info is one FriendProfile object, as Tencent's SDK
    emits it (the header's type line says array)."""
    return {
        "friendship_friend_info_get_result_identifier": r.user_id,
        "friendship_friend_info_get_result_relation_type": r.relation,
        "friendship_friend_info_get_result_error_code": r.code,
        "friendship_friend_info_get_result_error_message": r.desc,
        "friendship_friend_info_get_result_field_info": friend_profile_json(r.friend),
    }


def pendency_json(a: fs.Application) -> JsonObject:
    """A FriendAddPendencyInfo (the pendency list's entries)."""
    return {
        "friend_add_pendency_info_type": a.type,
        "friend_add_pendency_info_identifier": a.user_id,
        "friend_add_pendency_info_nick_name": a.nick,
        "friend_add_pendency_info_face_url": a.face_url,
        "friend_add_pendency_info_add_time": a.add_time,
        "friend_add_pendency_info_add_source": a.add_source,
        "friend_add_pendency_info_add_wording": a.add_wording,
    }


def add_request_json(a: fs.Application) -> JsonObject:
    """A FriendAddPendency (what TIMFriendAddRequestCallback carries)."""
    return {
        "friend_add_pendency_type": a.type,
        "friend_add_pendency_identifier": a.user_id,
        "friend_add_pendency_nick_name": a.nick,
        "friend_add_pendency_face_url": a.face_url,
        "friend_add_pendency_add_time": a.add_time,
        "friend_add_pendency_add_source": a.add_source,
        "friend_add_pendency_add_wording": a.add_wording,
    }


def profile_update_json(f: fs.Friend) -> JsonObject:
    """A FriendProfileUpdate: the friend's id and my entry for them now."""
    return {
        "friend_profile_update_identifier": f.user_id,
        "friend_profile_update_item": {
            "friend_profile_item_remark": f.remark,
            "friend_profile_item_group_name_array": f.groups,
            "friend_profile_item_custom_string_array": custom_json(f.custom),
        },
    }


def account_json(a: fs.OfficialAccount) -> JsonObject:
    return {
        "official_account_id": a.account_id,
        "official_account_name": a.name,
        "official_account_face_url": a.face_url,
        "official_account_owner_user_id": a.owner,
        "official_account_introduction": a.introduction,
        "official_account_organization": a.organization,
        "official_account_create_time": a.create_time,
        "official_account_subscriber_count": a.subscriber_count,
        "official_account_subscribe_time": a.subscribe_time,
        "official_account_custom_data": a.custom_data,
    }


def follow_list_json(users: list[Profile], cursor: str) -> JsonObject:
    return {
        "follow_list_result_next_cursor": cursor,
        "follow_list_result_user_info_list": [profile_json(p, p.user_id) for p in users],
    }


def profiles_json(users: list[Profile]) -> str:
    return dumps([profile_json(p, p.user_id) for p in users])


# --- JSON in -----------------------------------------------------------------------------------
def id_array(text: object, what: str) -> list[str]:
    """A JSON array of user ids (1 to ``MAX_FRIENDS_PER_CALL`` non-empty strings)."""
    ids = parse_json(text, list, what)
    assert ids is not None
    if not ids or len(ids) > MAX_FRIENDS_PER_CALL:
        raise param_error(f"{what} holds 1 to {MAX_FRIENDS_PER_CALL} ids")
    return [need_str(i, f"an id of {what}") for i in ids]


def opt_id_array(text: object, what: str) -> list[str]:
    """An optional JSON array of ids (NULL, "" or null: none)."""
    ids = parse_json(text, list, what, optional=True)
    return [need_str(i, f"an id of {what}") for i in ids or []]


def ids_in(obj: JsonObject, key: str) -> list[str]:
    ids = opt_str_list(obj, key)
    if len(ids) > MAX_FRIENDS_PER_CALL:
        raise param_error(f"{key} holds at most {MAX_FRIENDS_PER_CALL} ids")
    return ids


def custom_in(obj: JsonObject, key: str) -> list[fs.CustomField] | None:
    if obj.get(key) is None:
        return None
    out = []
    for item in opt_list(obj, key):
        if not isinstance(item, dict):
            raise param_error(f"{key} holds objects")
        out.append(
            fs.CustomField(
                key=need_str(item.get("friend_profile_custom_string_info_key"), "custom key"),
                value=opt_str(item, "friend_profile_custom_string_info_value"),
            )
        )
    return out


def cursor_arg(value: object) -> str:
    if value is not None and not isinstance(value, str):
        raise param_error("next_cursor must be a str or None")
    return value or ""


# --- the callbacks of the header -----------------------------------------------------------------
def event_args(e: fs.FriendEvent) -> tuple[str, tuple[object, ...]] | None:
    """The callback typedef a friendship event fires, and its arguments before ``user_data``."""
    ids = dumps(e.user_ids)
    friends = dumps([friend_profile_json(f) for f in e.friends])
    account = dumps(account_json(e.account)) if e.account is not None else "{}"
    table: dict[str, tuple[str, tuple[object, ...]]] = {
        "friend_added": ("TIMOnAddFriendCallback", (ids,)),
        "friend_deleted": ("TIMOnDeleteFriendCallback", (ids,)),
        "friend_updated": (
            "TIMUpdateFriendProfileCallback",
            (dumps([profile_update_json(f) for f in e.friends]),),
        ),
        "app_added": (
            "TIMFriendAddRequestCallback",
            (dumps([add_request_json(a) for a in e.applications]),),
        ),
        "app_deleted": ("TIMFriendApplicationListDeletedCallback", (ids,)),
        "app_read": ("TIMFriendApplicationListReadCallback", ()),
        "black_added": ("TIMFriendBlackListAddedCallback", (friends,)),
        "black_deleted": ("TIMFriendBlackListDeletedCallback", (ids,)),
        "group_created": ("TIMFriendGroupCreatedCallback", (e.name, friends)),
        "group_deleted": ("TIMFriendGroupDeletedCallback", (ids,)),
        "group_renamed": ("TIMFriendGroupNameChangedCallback", (e.name, e.new_name)),
        "group_added": ("TIMFriendsAddedToGroupCallback", (e.name, friends)),
        "group_removed": ("TIMFriendsDeletedFromGroupCallback", (e.name, ids)),
        "oa_subscribed": ("TIMOfficialAccountSubscribedCallback", (account,)),
        "oa_unsubscribed": ("TIMOfficialAccountUnsubscribedCallback", (e.name,)),
        "oa_deleted": ("TIMOfficialAccountDeletedCallback", (e.name,)),
        "oa_changed": ("TIMOfficialAccountInfoChangedCallback", (account,)),
        "following": ("TIMMyFollowingListChangedCallback", (profiles_json(e.profiles), e.is_add)),
        "followers": ("TIMMyFollowersListChangedCallback", (profiles_json(e.profiles), e.is_add)),
        "mutual": (
            "TIMMutualFollowersListChangedCallback",
            (profiles_json(e.profiles), e.is_add),
        ),
    }
    return table.get(e.kind)


class FriendshipAPI(TIMCore):
    """TIMFriendshipManager.h."""

    def TIMSetOnAddFriendCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_identifier_array, user_data)``.

        The TIMOnAddFriendCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMOnAddFriendCallback", cb, user_data)

    def TIMSetOnDeleteFriendCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_identifier_array, user_data)``.

        The TIMOnDeleteFriendCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMOnDeleteFriendCallback", cb, user_data)

    def TIMSetUpdateFriendProfileCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_friend_profile_update_array, user_data)``.

        The TIMUpdateFriendProfileCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMUpdateFriendProfileCallback", cb, user_data)

    def TIMSetFriendAddRequestCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_friend_add_request_pendency_array, user_data)``.

        The TIMFriendAddRequestCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMFriendAddRequestCallback", cb, user_data)

    def TIMSetFriendApplicationListDeletedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_identifier_array, user_data)``.

        The TIMFriendApplicationListDeletedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMFriendApplicationListDeletedCallback", cb, user_data)

    def TIMSetFriendApplicationListReadCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(user_data)``.

        The TIMFriendApplicationListReadCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMFriendApplicationListReadCallback", cb, user_data)

    def TIMSetFriendBlackListAddedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_friend_black_added_array, user_data)``.

        The TIMFriendBlackListAddedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMFriendBlackListAddedCallback", cb, user_data)

    def TIMSetFriendBlackListDeletedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_identifier_array, user_data)``.

        The TIMFriendBlackListDeletedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMFriendBlackListDeletedCallback", cb, user_data)

    def TIMSetFriendGroupCreatedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(group_name, json_friend_info_array, user_data)``.

        The TIMFriendGroupCreatedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMFriendGroupCreatedCallback", cb, user_data)

    def TIMSetFriendGroupDeletedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_group_name_array, user_data)``.

        The TIMFriendGroupDeletedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMFriendGroupDeletedCallback", cb, user_data)

    def TIMSetFriendGroupNameChangedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(old_group_name, new_group_name, user_data)``.

        The TIMFriendGroupNameChangedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMFriendGroupNameChangedCallback", cb, user_data)

    def TIMSetFriendsAddedToGroupCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(group_name, json_friend_info_array, user_data)``.

        The TIMFriendsAddedToGroupCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMFriendsAddedToGroupCallback", cb, user_data)

    def TIMSetFriendsDeletedFromGroupCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(group_name, json_friend_id_array, user_data)``.

        The TIMFriendsDeletedFromGroupCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMFriendsDeletedFromGroupCallback", cb, user_data)

    def TIMSetOfficialAccountSubscribedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_official_account_info, user_data)``.

        The TIMOfficialAccountSubscribedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMOfficialAccountSubscribedCallback", cb, user_data)

    def TIMSetOfficialAccountUnsubscribedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(official_account_id, user_data)``.

        The TIMOfficialAccountUnsubscribedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMOfficialAccountUnsubscribedCallback", cb, user_data)

    def TIMSetOfficialAccountDeletedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(official_account_id, user_data)``.

        The TIMOfficialAccountDeletedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMOfficialAccountDeletedCallback", cb, user_data)

    def TIMSetOfficialAccountInfoChangedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_official_account_info, user_data)``.

        The TIMOfficialAccountInfoChangedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMOfficialAccountInfoChangedCallback", cb, user_data)

    def TIMSetMyFollowingListChangedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_user_info_list, is_add, user_data)``.

        The TIMMyFollowingListChangedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMMyFollowingListChangedCallback", cb, user_data)

    def TIMSetMyFollowersListChangedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_user_info_list, is_add, user_data)``.

        The TIMMyFollowersListChangedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMMyFollowersListChangedCallback", cb, user_data)

    def TIMSetMutualFollowersListChangedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_user_info_list, is_add, user_data)``.

        The TIMMutualFollowersListChangedCallback: it fires on every device of the user,
        the calling one included. None unregisters.
        """
        self._register("TIMMutualFollowersListChangedCallback", cb, user_data)

    def _on_friendship(self, event: fs.FriendEvent) -> None:
        fired = event_args(event)
        if fired is None:
            return
        typedef, args = fired
        registered = self._listeners.get(typedef)
        if registered is not None:
            deliver(registered[0], *args, registered[1])

    def _friend_call(
        self,
        kind: CallKind,
        work: Callable[[Client], Any],
        cb: TIMCommCallback | None,
        user_data: object,
    ) -> int:
        """Check the callback, then run ``work(client)`` (an awaitable of the JSON answer)."""
        client = self._require()
        callback = need_callback(cb)

        async def run() -> str:
            return str(await work(client))

        return self._submit(client, kind, run, callback, user_data)

    # --- friends ------------------------------------------------------------------------------
    @tim_call
    def TIMFriendshipGetFriendProfileList(
        self, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """My friend list: a FriendProfile array."""

        async def work(c: Client) -> str:
            return dumps([friend_profile_json(f) for f in await c.friendship.friends()])

        return self._friend_call(CallKind.READ, work, cb, user_data)

    @tim_call
    def TIMFriendshipGetFriendsInfo(
        self, friend_id_list: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Relation and friend entry of each user of ``friend_id_list`` (a JSON array of ids):
        a FriendInfoGetResult array."""
        ids = id_array(friend_id_list, "friend_id_list")

        async def work(c: Client) -> str:
            return dumps([friend_info_json(r) for r in await c.friendship.info(ids)])

        return self._friend_call(CallKind.READ, work, cb, user_data)

    @tim_call
    def TIMFriendshipModifyFriendProfile(
        self,
        json_modify_friend_info_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Change my remark, friend groups or custom fields for one friend (every device gets
        TIMUpdateFriendProfileCallback; a new remark names the C2C conversation)."""
        obj = need_object(json_modify_friend_info_param, "json_modify_friend_info_param")
        user_id = need_str(
            obj.get("friendship_modify_friend_profile_param_identifier"), "identifier"
        )
        item = obj.get("friendship_modify_friend_profile_param_item")
        if not isinstance(item, dict):
            raise param_error("friendship_modify_friend_profile_param_item is required")
        remark = item.get("friend_profile_item_remark")
        if remark is not None and not isinstance(remark, str):
            raise param_error("friend_profile_item_remark must be a string")
        groups = (
            opt_str_list(item, "friend_profile_item_group_name_array")
            if item.get("friend_profile_item_group_name_array") is not None
            else None
        )
        custom = custom_in(item, "friend_profile_item_custom_string_array")

        async def work(c: Client) -> str:
            await c.friendship.modify(user_id, remark=remark, groups=groups, custom=custom)
            return ""

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    @tim_call
    def TIMFriendshipSearchFriends(
        self, json_search_friends_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Friends whose id, nick or remark (the fields chosen) holds a keyword."""
        obj = need_object(json_search_friends_param, "json_search_friends_param")
        keywords = opt_str_list(obj, "friendship_search_param_keyword_list")
        if not keywords:
            raise param_error("friendship_search_param_keyword_list is empty")
        fields = 0
        for bit in opt_list(obj, "friendship_search_param_search_field_list"):
            fields |= uint_arg(bit, "search field", 32)

        async def work(c: Client) -> str:
            return dumps([friend_info_json(r) for r in await c.friendship.search(keywords, fields)])

        return self._friend_call(CallKind.READ, work, cb, user_data)

    @tim_call
    def TIMFriendshipAddFriend(
        self, json_add_friend_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Add a friend as the target's add permission allows: a FriendResult (code 0 added,
        30539 an application waits for their answer, 30516 they accept nobody, 30525 they
        blocked you, 30515 you blocked them, 30015 already a friend)."""
        obj = need_object(json_add_friend_param, "json_add_friend_param")
        target = need_str(obj.get("friendship_add_friend_param_identifier"), "identifier")
        add_type = in_enum(
            opt_uint(obj, "friendship_add_friend_param_friend_type", FriendType.BOTH),
            FriendType,
            "friendship_add_friend_param_friend_type",
        )
        remark = opt_str(obj, "friendship_add_friend_param_remark")
        group = opt_str(obj, "friendship_add_friend_param_group_name")
        source = opt_str(obj, "friendship_add_friend_param_add_source")
        wording = opt_str(obj, "friendship_add_friend_param_add_wording")

        async def work(c: Client) -> str:
            r = await c.friendship.add(
                target,
                add_type,
                remark=remark,
                group_name=group,
                add_source=source,
                add_wording=wording,
            )
            return dumps(friend_result_json(r))

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    @tim_call
    def TIMFriendshipDeleteFriend(
        self, json_delete_friend_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Delete friends one way (only my list) or both ways: a FriendResult array."""
        obj = need_object(json_delete_friend_param, "json_delete_friend_param")
        friend_type = in_enum(
            opt_uint(obj, "friendship_delete_friend_param_friend_type", FriendType.BOTH),
            FriendType,
            "friendship_delete_friend_param_friend_type",
        )
        ids = ids_in(obj, "friendship_delete_friend_param_identifier_array")
        if not ids:
            raise param_error("friendship_delete_friend_param_identifier_array is empty")

        async def work(c: Client) -> str:
            return dumps(
                [friend_result_json(r) for r in await c.friendship.delete(ids, friend_type)]
            )

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    @tim_call
    def TIMFriendshipCheckFriendType(
        self,
        json_check_friend_list_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """The relation with each user (TIMFriendCheckRelation; a one-way check looks at my
        list only)."""
        obj = need_object(json_check_friend_list_param, "json_check_friend_list_param")
        check_type = in_enum(
            opt_uint(obj, "friendship_check_friendtype_param_check_type", FriendType.BOTH),
            FriendType,
            "friendship_check_friendtype_param_check_type",
        )
        ids = ids_in(obj, "friendship_check_friendtype_param_identifier_array")
        if not ids:
            raise param_error("friendship_check_friendtype_param_identifier_array is empty")

        async def work(c: Client) -> str:
            found = await c.friendship.check(ids, check_type)
            return dumps(
                [
                    {
                        "friendship_check_friendtype_result_identifier": r.user_id,
                        "friendship_check_friendtype_result_relation": r.relation,
                        "friendship_check_friendtype_result_code": r.code,
                        "friendship_check_friendtype_result_desc": r.desc,
                    }
                    for r in found
                ]
            )

        return self._friend_call(CallKind.READ, work, cb, user_data)

    # --- applications ---------------------------------------------------------------------------
    @tim_call
    def TIMFriendshipGetPendencyList(
        self,
        json_get_pendency_list_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Applications to me, from me, or both, newest first: a PendencyPage (its unread
        number counts those to me since the last TIMFriendshipReportPendencyReaded)."""
        obj = need_object(json_get_pendency_list_param, "json_get_pendency_list_param")
        kind = in_enum(
            opt_uint(obj, "friendship_get_pendency_list_param_type", PendencyType.BOTH),
            PendencyType,
            "friendship_get_pendency_list_param_type",
        )
        limit = opt_uint(obj, "friendship_get_pendency_list_param_limited_size", 0)

        async def work(c: Client) -> str:
            page = await c.friendship.applications(kind, min(limit, 1 << 31))
            return dumps(
                {
                    "pendency_page_start_time": 0,
                    "pendency_page_unread_num": page.unread,
                    "pendency_page_current_seq": 0,
                    "pendency_page_pendency_info_array": [
                        pendency_json(a) for a in page.applications
                    ],
                }
            )

        return self._friend_call(CallKind.READ, work, cb, user_data)

    @tim_call
    def TIMFriendshipHandleFriendAddRequest(
        self,
        json_handle_friend_add_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Answer an application: agree (they get me), agree and add (both ways), or refuse;
        a FriendResult (30614 when there is no such application)."""
        obj = need_object(json_handle_friend_add_param, "json_handle_friend_add_param")
        applicant = need_str(obj.get("friend_response_identifier"), "friend_response_identifier")
        action = in_enum(
            opt_uint(obj, "friend_response_action", ResponseAction.AGREE),
            ResponseAction,
            "friend_response_action",
        )
        remark = opt_str(obj, "friend_response_remark")
        group = opt_str(obj, "friend_response_group_name")

        async def work(c: Client) -> str:
            r = await c.friendship.answer(applicant, action, remark=remark, group_name=group)
            return dumps(friend_result_json(r))

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    @tim_call
    def TIMFriendshipReportPendencyReaded(
        self, time_stamp: int, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Applications up to ``time_stamp`` (0: now) are read, on every device."""
        stamp = uint_arg(time_stamp, "time_stamp")

        async def work(c: Client) -> str:
            await c.friendship.report_read(stamp)
            return ""

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    @tim_call
    def TIMFriendshipDeletePendency(
        self, json_delete_pendency_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Delete applications to me (type 0) or withdraw mine (type 1): a FriendResult array."""
        obj = need_object(json_delete_pendency_param, "json_delete_pendency_param")
        kind = opt_uint(obj, "friendship_delete_pendency_param_type", PendencyType.COME_IN)
        if kind not in (PendencyType.COME_IN, PendencyType.SEND_OUT):
            raise param_error("friendship_delete_pendency_param_type is 0 or 1")
        ids = ids_in(obj, "friendship_delete_pendency_param_identifier_array")
        if not ids:
            raise param_error("friendship_delete_pendency_param_identifier_array is empty")

        async def work(c: Client) -> str:
            found = await c.friendship.delete_applications(ids, kind)
            return dumps([friend_result_json(r) for r in found])

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    # --- blacklist -------------------------------------------------------------------------------
    @tim_call
    def TIMFriendshipGetBlackList(
        self, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """My blacklist: a FriendProfile array."""

        async def work(c: Client) -> str:
            return dumps([friend_profile_json(f) for f in await c.friendship.blacklist()])

        return self._friend_call(CallKind.READ, work, cb, user_data)

    @tim_call
    def TIMFriendshipAddToBlackList(
        self, json_add_to_blacklist_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Block users (a JSON array of ids): they cannot message me (20007) nor add me; a
        friendship with them ends both ways."""
        ids = id_array(json_add_to_blacklist_param, "json_add_to_blacklist_param")

        async def work(c: Client) -> str:
            return dumps([friend_result_json(r) for r in await c.friendship.block(ids)])

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    @tim_call
    def TIMFriendshipDeleteFromBlackList(
        self,
        json_delete_from_blacklist_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Unblock users (a JSON array of ids): a FriendResult array."""
        ids = id_array(json_delete_from_blacklist_param, "json_delete_from_blacklist_param")

        async def work(c: Client) -> str:
            return dumps([friend_result_json(r) for r in await c.friendship.unblock(ids)])

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    # --- friend groups ---------------------------------------------------------------------------
    @tim_call
    def TIMFriendshipCreateFriendGroup(
        self,
        json_create_friend_group_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Create friend groups holding the friends named: a FriendResult array (31704 for an
        id that is not a friend)."""
        obj = need_object(json_create_friend_group_param, "json_create_friend_group_param")
        names = opt_str_list(obj, "friendship_create_friend_group_param_name_array")
        if not names:
            raise param_error("friendship_create_friend_group_param_name_array is empty")
        ids = ids_in(obj, "friendship_create_friend_group_param_identifier_array")

        async def work(c: Client) -> str:
            found = await c.friendship.create_groups(names, ids)
            return dumps([friend_result_json(r) for r in found])

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    @tim_call
    def TIMFriendshipGetFriendGroupList(
        self,
        json_get_friend_group_list_param: str | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """The friend groups named (a JSON array; none: all): a FriendGroupInfo array."""
        names = opt_id_array(json_get_friend_group_list_param, "json_get_friend_group_list_param")

        async def work(c: Client) -> str:
            groups = await c.friendship.groups(names)
            return dumps(
                [
                    {
                        "friend_group_info_name": g.name,
                        "friend_group_info_count": len(g.user_ids),
                        "friend_group_info_identifier_array": g.user_ids,
                    }
                    for g in groups
                ]
            )

        return self._friend_call(CallKind.READ, work, cb, user_data)

    @tim_call
    def TIMFriendshipDeleteFriendGroup(
        self,
        json_delete_friend_group_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Delete friend groups (a JSON array of names); the friends stay."""
        names = id_array(json_delete_friend_group_param, "json_delete_friend_group_param")

        async def work(c: Client) -> str:
            await c.friendship.delete_groups(names)
            return ""

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    @tim_call
    def TIMFriendshipModifyFriendGroup(
        self,
        json_modify_friend_group_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Rename a friend group, add friends to it, remove members: a FriendResult array."""
        obj = need_object(json_modify_friend_group_param, "json_modify_friend_group_param")
        name = need_str(obj.get("friendship_modify_friend_group_param_name"), "group name")
        new_name = opt_str(obj, "friendship_modify_friend_group_param_new_name")
        add = ids_in(obj, "friendship_modify_friend_group_param_add_identifier_array")
        remove = ids_in(obj, "friendship_modify_friend_group_param_delete_identifier_array")

        async def work(c: Client) -> str:
            found = await c.friendship.change_group(name, new_name=new_name, add=add, remove=remove)
            return dumps([friend_result_json(r) for r in found])

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    # --- official accounts ---------------------------------------------------------------------
    @tim_call
    def TIMSubscribeOfficialAccount(
        self, official_account_id: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Subscribe to an official account (30003 when there is none)."""
        account_id = need_str(official_account_id, "official_account_id")

        async def work(c: Client) -> str:
            await c.friendship.subscribe(account_id)
            return ""

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    @tim_call
    def TIMUnsubscribeOfficialAccount(
        self,
        unsubscribe_official_account_id: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Stop subscribing to an official account."""
        account_id = need_str(unsubscribe_official_account_id, "unsubscribe_official_account_id")

        async def work(c: Client) -> str:
            await c.friendship.unsubscribe(account_id)
            return ""

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    @tim_call
    def TIMGetOfficialAccountsInfo(
        self,
        json_official_account_id_list: str | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """The accounts named (a JSON array; none: those I subscribe to)."""
        ids = opt_id_array(json_official_account_id_list, "json_official_account_id_list")

        async def work(c: Client) -> str:
            found = await c.friendship.accounts(ids)
            return dumps(
                [
                    {
                        "get_official_accounts_info_result_code": r.code,
                        "get_official_accounts_info_result_desc": r.desc,
                        "get_official_accounts_info": account_json(
                            r.account or fs.OfficialAccount(account_id=r.account_id, name="")
                        ),
                    }
                    for r in found
                ]
            )

        return self._friend_call(CallKind.READ, work, cb, user_data)

    # --- follows -------------------------------------------------------------------------------
    def _follow(self, on: bool, text: object, cb: TIMCommCallback | None, user_data: object) -> int:
        ids = id_array(text, "json_user_id_list")

        async def work(c: Client) -> str:
            found = await (c.friendship.follow(ids) if on else c.friendship.unfollow(ids))
            return dumps(
                [
                    {
                        "follow_operation_result_user_id": r.user_id,
                        "follow_operation_result_code": r.code,
                        "follow_operation_result_Info": r.desc,
                    }
                    for r in found
                ]
            )

        return self._friend_call(CallKind.CHANGE, work, cb, user_data)

    @tim_call
    def TIMFollowUser(
        self, json_user_id_list: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Follow users (a JSON array of ids): a FollowOperationResult array; each device of
        mine gets TIMMyFollowingListChangedCallback, theirs TIMMyFollowersListChangedCallback."""
        return self._follow(True, json_user_id_list, cb, user_data)

    @tim_call
    def TIMUnfollowUser(
        self, json_user_id_list: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Stop following users (a JSON array of ids): a FollowOperationResult array."""
        return self._follow(False, json_user_id_list, cb, user_data)

    def _follow_list(
        self, kind: int, next_cursor: object, cb: TIMCommCallback | None, user_data: object
    ) -> int:
        cursor = cursor_arg(next_cursor)

        async def work(c: Client) -> str:
            users, after = await c.friendship.follow_list(kind, cursor)
            return dumps(follow_list_json(users, after))

        return self._friend_call(CallKind.READ, work, cb, user_data)

    @tim_call
    def TIMGetMyFollowingList(
        self, next_cursor: str | None, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """A page of the users I follow; pass the answer's next cursor for the next ("" at
        the end)."""
        return self._follow_list(0, next_cursor, cb, user_data)

    @tim_call
    def TIMGetMyFollowersList(
        self, next_cursor: str | None, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """A page of the users who follow me (see TIMGetMyFollowingList)."""
        return self._follow_list(1, next_cursor, cb, user_data)

    @tim_call
    def TIMGetMutualFollowersList(
        self, next_cursor: str | None, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """A page of the users I follow who follow me too."""
        return self._follow_list(2, next_cursor, cb, user_data)

    @tim_call
    def TIMGetUserFollowInfo(
        self, json_user_id_list: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Following, followers and mutual counts of each user."""
        ids = id_array(json_user_id_list, "json_user_id_list")

        async def work(c: Client) -> str:
            found = await c.friendship.follow_counts(ids)
            return dumps(
                [
                    {
                        "follow_info_result_code": r.code,
                        "follow_info_result_info": r.desc,
                        "follow_info_user_id": r.user_id,
                        "follow_info_following_count": r.following,
                        "follow_info_followers_count": r.followers,
                        "follow_info_mutual_followers_count": r.mutual,
                    }
                    for r in found
                ]
            )

        return self._friend_call(CallKind.READ, work, cb, user_data)

    @tim_call
    def TIMCheckFollowType(
        self, json_user_id_list: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Whether I follow each user, they follow me, or both (TIMFollowType)."""
        ids = id_array(json_user_id_list, "json_user_id_list")

        async def work(c: Client) -> str:
            found = await c.friendship.follow_check(ids)
            return dumps(
                [
                    {
                        "follow_type_check_result_user_id": r.user_id,
                        "follow_type_check_result_code": r.code,
                        "follow_type_check_result_info": r.desc,
                        "follow_type_check_result_follow_type": r.relation,
                    }
                    for r in found
                ]
            )

        return self._friend_call(CallKind.READ, work, cb, user_data)
