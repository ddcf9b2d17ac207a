"""The user functions of TIMManager.h (profiles, status, subscriptions, search), the offline-push
functions of TIMOfflinePushManager.h, and their callbacks.

Profiles and status are server state: a change made on one device reaches the user's other
devices (``TIMSelfInfoUpdatedCallback``), the users who subscribed to it
(``TIMUserInfoChangedCallback`` / ``TIMUserStatusChangedCallback``) and, for profiles, the
user's friends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentim.protocol.limits import MAX_USERS_PER_CALL, valid_user_id
from opentim.protocol.rules.users import CUSTOM_PREFIX, SearchQuery

from . import keys as k, user_keys as uk
from .convert import (
    JsonObject,
    dumps,
    in_enum,
    need_callback,
    need_object,
    opt_bool,
    opt_list,
    opt_str,
    opt_str_list,
    opt_uint,
    param_error,
    parse_json,
    uint_arg,
)
from .core import TIMCore, tim_call
from .runtime import CallKind, TIMCommCallback
from .user_json import full_profile_json, status_json

SELF_INFO_CB = "TIMSelfInfoUpdatedCallback"
USER_INFO_CB = "TIMUserInfoChangedCallback"
USER_STATUS_CB = "TIMUserStatusChangedCallback"

PROFILE_ITEMS: dict[str, tuple[str, type]] = {
    uk.USER_PROFILE_ITEM_NICK_NAME: ("nick", str),
    uk.USER_PROFILE_ITEM_GENDER: ("gender", int),
    uk.USER_PROFILE_ITEM_FACE_URL: ("face_url", str),
    uk.USER_PROFILE_ITEM_SELF_SIGNATURE: ("self_signature", str),
    uk.USER_PROFILE_ITEM_ADD_PERMISSION: ("add_permission", int),
    uk.USER_PROFILE_ITEM_LOCATION: ("location", str),
    uk.USER_PROFILE_ITEM_LANGUAGE: ("language", int),
    uk.USER_PROFILE_ITEM_BIRTH_DAY: ("birthday", int),
    uk.USER_PROFILE_ITEM_LEVEL: ("level", int),
    uk.USER_PROFILE_ITEM_ROLE: ("role", int),
}
"""UserProfileItem key → (protocol field, JSON type)."""


def user_id_list(text: object, what: str, *, optional: bool = False) -> list[str]:
    """A JSON array of 1 to 100 user ids (with ``optional``, none or an empty array: [])."""
    items = parse_json(text, list, what, optional=optional)
    if items is None or (optional and not items):
        return []
    if not items or not all(isinstance(i, str) and valid_user_id(i) for i in items):
        raise param_error(f"{what} must be a non-empty array of user ids")
    if len(items) > MAX_USERS_PER_CALL:
        raise param_error(f"{what}: at most {MAX_USERS_PER_CALL} users per call")
    return list(dict.fromkeys(items))


def profile_changes(obj: JsonObject) -> dict[str, Any]:
    """A UserProfileItem as ``profile_set`` fields (``custom``: the custom string array)."""
    changes: dict[str, Any] = {}
    for key, (name, kind) in PROFILE_ITEMS.items():
        if obj.get(key) is None:
            continue
        if kind is str:
            changes[name] = opt_str(obj, key)
            continue
        number = opt_uint(obj, key)
        if number >= 1 << 32:
            raise param_error(f"{key} must be a uint32")
        changes[name] = number
    if uk.USER_PROFILE_ITEM_GENDER in obj:
        in_enum(changes["gender"], k.TIMGenderType, uk.USER_PROFILE_ITEM_GENDER)
    if uk.USER_PROFILE_ITEM_ADD_PERMISSION in obj:
        in_enum(
            changes["add_permission"],
            k.TIMProfileAddPermission,
            uk.USER_PROFILE_ITEM_ADD_PERMISSION,
        )
    custom: dict[str, str] = {}
    for item in opt_list(obj, uk.USER_PROFILE_ITEM_CUSTOM_STRING_ARRAY):
        if not isinstance(item, dict):
            raise param_error(f"{uk.USER_PROFILE_ITEM_CUSTOM_STRING_ARRAY} holds objects")
        key = opt_str(item, k.USER_PROFILE_CUSTOM_STRING_INFO_KEY)
        if not key:
            raise param_error(f"{k.USER_PROFILE_CUSTOM_STRING_INFO_KEY} is required")
        # Apps write the bare name ("Hobby") or the full tag; the server keeps the full tag.
        full = key if key.startswith(CUSTOM_PREFIX) else CUSTOM_PREFIX + key
        custom[full] = opt_str(item, k.USER_PROFILE_CUSTOM_STRING_INFO_VALUE)
    if custom:
        changes["custom"] = custom
    if not changes:
        raise param_error("the UserProfileItem changes nothing")
    return changes


def search_query(obj: JsonObject) -> tuple[SearchQuery, int, str]:
    words = opt_str_list(obj, uk.USER_SEARCH_PARAM_KEYWORD_LIST)
    match = in_enum(
        opt_uint(obj, uk.USER_SEARCH_PARAM_KEYWORD_LIST_MATCH_TYPE),
        k.TIMKeywordListMatchType,
        uk.USER_SEARCH_PARAM_KEYWORD_LIST_MATCH_TYPE,
    )
    gender = in_enum(
        opt_uint(obj, uk.USER_SEARCH_PARAM_GENDER), k.TIMGenderType, uk.USER_SEARCH_PARAM_GENDER
    )
    query = SearchQuery(
        keywords=tuple(words),
        match_all=match == k.TIMKeywordListMatchType_And,
        gender=gender,
        min_birthday=opt_uint(obj, uk.USER_SEARCH_PARAM_MIN_BIRTHDAY),
        max_birthday=opt_uint(obj, uk.USER_SEARCH_PARAM_MAX_BIRTHDAY),
    )
    count = opt_uint(obj, uk.USER_SEARCH_PARAM_SEARCH_COUNT)
    return query, min(count, 1 << 32), opt_str(obj, uk.USER_SEARCH_PARAM_SEARCH_CURSOR)


class UsersAPI(TIMCore):
    """Profiles, user status, subscriptions, search, offline-push settings."""

    # --- callbacks --------------------------------------------------------------------------
    def TIMSetSelfInfoUpdatedCallback(
        self, cb: Callable[[str, Any], object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_user_profile, user_data)``: this user's profile changed (on any of
        their devices); the UserProfile as it is now. None unregisters."""
        self._register(SELF_INFO_CB, cb, user_data)

    def TIMSetUserInfoChangedCallback(
        self, cb: Callable[[str, Any], object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_user_info_array, user_data)``: profiles of subscribed users (or
        friends) changed; an array of UserProfile. None unregisters."""
        self._register(USER_INFO_CB, cb, user_data)

    def TIMSetUserStatusChangedCallback(
        self, cb: Callable[[str, Any], object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_user_status_array, user_data)``: the status of subscribed users
        (or this user's own) changed; an array of UserStatus. None unregisters."""
        self._register(USER_STATUS_CB, cb, user_data)

    # --- profiles ---------------------------------------------------------------------------
    @tim_call
    def TIMProfileGetUserProfileList(
        self,
        json_get_user_profile_list_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """The profiles (an array of UserProfile, with custom fields) of the known users among
        ``friendship_getprofilelist_param_identifier_array`` (1 to 100 ids); always from the
        server, so ``…_force_update`` changes nothing."""
        client = self._require()
        obj = need_object(json_get_user_profile_list_param, "json_get_user_profile_list_param")
        ids = opt_str_list(obj, uk.FRIENDSHIP_GET_PROFILE_LIST_PARAM_IDENTIFIER_ARRAY)
        user_id_list(dumps(ids), uk.FRIENDSHIP_GET_PROFILE_LIST_PARAM_IDENTIFIER_ARRAY)
        opt_bool(obj, uk.FRIENDSHIP_GET_PROFILE_LIST_PARAM_FORCE_UPDATE)
        callback = need_callback(cb)

        async def work() -> str:
            profiles = await client.users.get_profiles(list(dict.fromkeys(ids)))
            return dumps([full_profile_json(p) for p in profiles])

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMProfileModifySelfUserProfile(
        self,
        json_modify_self_user_profile_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Change this user's profile (a UserProfileItem; custom fields as
        ``Tag_Profile_Custom_<name>`` or ``<name>``, an empty value removing one). ``""``, or
        40601 (a field over its size), 40009 (an invalid custom key)."""
        client = self._require()
        obj = need_object(
            json_modify_self_user_profile_param, "json_modify_self_user_profile_param"
        )
        changes = profile_changes(obj)
        callback = need_callback(cb)

        async def work() -> str:
            await client.users.set_profile(**changes)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMSubscribeUserInfo(
        self, json_user_id_list: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Hear of these users' profile changes (``TIMUserInfoChangedCallback``); ``""``."""
        client = self._require()
        ids = user_id_list(json_user_id_list, "json_user_id_list")
        callback = need_callback(cb)

        async def work() -> str:
            await client.users.subscribe_info(ids)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMUnsubscribeUserInfo(
        self, json_user_id_list: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Stop hearing of these users' profile changes (none or ``[]``: of everyone's)."""
        client = self._require()
        ids = user_id_list(json_user_id_list, "json_user_id_list", optional=True)
        callback = need_callback(cb)

        async def work() -> str:
            await client.users.unsubscribe_info(ids)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMSearchUsers(
        self, json_user_search_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Search users by keywords in their id or nick name (any or all), gender, birthday;
        a UserSearchResult (pages of ``user_search_param_search_count``, default 20, at most
        100; continue from ``user_search_result_next_cursor``)."""
        client = self._require()
        obj = need_object(json_user_search_param, "json_user_search_param")
        query, count, cursor = search_query(obj)
        callback = need_callback(cb)

        async def work() -> str:
            res = await client.users.search(query, count, cursor)
            return dumps(
                {
                    uk.USER_SEARCH_RESULT_IS_FINISHED: res.finished,
                    uk.USER_SEARCH_RESULT_TOTAL_COUNT: res.total,
                    uk.USER_SEARCH_RESULT_NEXT_CURSOR: res.cursor,
                    uk.USER_SEARCH_RESULT_USER_LIST: [full_profile_json(p) for p in res.profiles],
                }
            )

        return self._submit(client, CallKind.READ, work, callback, user_data)

    # --- status -----------------------------------------------------------------------------
    @tim_call
    def TIMGetUserStatus(
        self, json_identifier_array: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """The status of 1 to 100 users: an array of UserStatus (online, offline: the last
        connection was lost, unlogined: logged out or never logged in)."""
        client = self._require()
        ids = user_id_list(json_identifier_array, "json_identifier_array")
        callback = need_callback(cb)

        async def work() -> str:
            return dumps([status_json(s) for s in await client.users.statuses(ids)])

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMSetSelfStatus(
        self, json_current_user_status: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Set this user's custom status (``user_status_custom_status``, at most 100 bytes;
        6017 beyond); subscribers hear of it. ``""``."""
        client = self._require()
        obj = need_object(json_current_user_status, "json_current_user_status")
        custom = opt_str(obj, k.USER_STATUS_CUSTOM_STATUS)
        callback = need_callback(cb)

        async def work() -> str:
            await client.users.set_custom_status(custom)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMSubscribeUserStatus(
        self, json_identifier_array: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Hear of these users' status changes (at most 200 subscriptions); their status as it
        is now comes at once through ``TIMUserStatusChangedCallback``. ``""``."""
        client = self._require()
        ids = user_id_list(json_identifier_array, "json_identifier_array")
        callback = need_callback(cb)

        async def work() -> str:
            self._on_statuses(await client.users.subscribe_status(ids))
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMUnsubscribeUserStatus(
        self, json_identifier_array: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Stop hearing of these users' status (none or ``[]``: of everyone's). ``""``."""
        client = self._require()
        ids = user_id_list(json_identifier_array, "json_identifier_array", optional=True)
        callback = need_callback(cb)

        async def work() -> str:
            await client.users.unsubscribe_status(ids)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    # --- offline push (TIMOfflinePushManager.h) ---------------------------------------------
    @tim_call
    def TIMMsgSetOfflinePushToken(
        self, json_token: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Keep this device's push token on the server (an OfflinePushToken: token, business
        id, type), for app backends (a later issue hands it to them). ``""``."""
        client = self._require()
        obj = need_object(json_token, "json_token")
        token = opt_str(obj, uk.OFFLINE_PUSH_TOKEN_TOKEN)
        business_id = uint_arg(
            opt_uint(obj, uk.OFFLINE_PUSH_TOKEN_BUSINESS_ID), uk.OFFLINE_PUSH_TOKEN_BUSINESS_ID, 32
        )
        kind = in_enum(
            opt_uint(obj, uk.OFFLINE_PUSH_TOKEN_TYPE),
            uk.TIMOfflinePushTokenType,
            uk.OFFLINE_PUSH_TOKEN_TYPE,
        )
        callback = need_callback(cb)

        async def work() -> str:
            await client.users.set_push_token(token, business_id, kind)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMMsgDoBackground(
        self, unread_count: int, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """The app went to the background, showing ``unread_count`` on its badge: kept for this
        device on the server. ``""``."""
        client = self._require()
        unread = uint_arg(unread_count, "unread_count", 32)
        callback = need_callback(cb)

        async def work() -> str:
            await client.users.set_app_state(True, unread)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMMsgDoForeground(self, cb: TIMCommCallback | None, user_data: object = None) -> int:
        """The app came back to the foreground (kept for this device on the server). ``""``."""
        client = self._require()
        callback = need_callback(cb)

        async def work() -> str:
            await client.users.set_app_state(False, 0)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)
