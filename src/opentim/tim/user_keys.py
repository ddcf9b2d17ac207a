"""JSON keys of the user, offline-push and all-messages-receive-option functions that the
generated ``keys.py`` (from tim-keys.json) lacks, as tim-c-all.json spells them
(tests/tim/test_users_api.py checks each against it)."""

from __future__ import annotations

from enum import IntEnum
from typing import Final

# TIMManager.h
FRIENDSHIP_GET_PROFILE_LIST_PARAM_IDENTIFIER_ARRAY: Final = (
    "friendship_getprofilelist_param_identifier_array"
)
"""``kTIMFriendShipGetProfileListParamIdentifierArray``: array string."""
FRIENDSHIP_GET_PROFILE_LIST_PARAM_FORCE_UPDATE: Final = (
    "friendship_getprofilelist_param_force_update"
)
"""``kTIMFriendShipGetProfileListParamForceUpdate``: bool."""
USER_PROFILE_ITEM_NICK_NAME: Final = "user_profile_item_nick_name"
"""``kTIMUserProfileItemNickName``: string."""
USER_PROFILE_ITEM_GENDER: Final = "user_profile_item_gender"
"""``kTIMUserProfileItemGender``: uint @ref TIMGenderType."""
USER_PROFILE_ITEM_FACE_URL: Final = "user_profile_item_face_url"
"""``kTIMUserProfileItemFaceUrl``: string."""
USER_PROFILE_ITEM_SELF_SIGNATURE: Final = "user_profile_item_self_signature"
"""``kTIMUserProfileItemSelfSignature``: string."""
USER_PROFILE_ITEM_ADD_PERMISSION: Final = "user_profile_item_add_permission"
"""``kTIMUserProfileItemAddPermission``: uint @ref TIMProfileAddPermission."""
USER_PROFILE_ITEM_LOCATION: Final = "user_profile_item_location"
"""``kTIMUserProfileItemLocation``: string."""
USER_PROFILE_ITEM_LANGUAGE: Final = "user_profile_item_language"
"""``kTIMUserProfileItemLanguage``: uint."""
USER_PROFILE_ITEM_BIRTH_DAY: Final = "user_profile_item_birthday"
"""``kTIMUserProfileItemBirthDay``: uint."""
USER_PROFILE_ITEM_LEVEL: Final = "user_profile_item_level"
"""``kTIMUserProfileItemLevel``: uint."""
USER_PROFILE_ITEM_ROLE: Final = "user_profile_item_role"
"""``kTIMUserProfileItemRole``: uint."""
USER_PROFILE_ITEM_CUSTOM_STRING_ARRAY: Final = "user_profile_item_custom_string_array"
"""``kTIMUserProfileItemCustomStringArray``: array @ref UserProfileCustomStringInfo."""
USER_SEARCH_PARAM_KEYWORD_LIST: Final = "user_search_param_keyword_list"
"""``kTIMUserSearchParamKeywordList``: array."""
USER_SEARCH_PARAM_KEYWORD_LIST_MATCH_TYPE: Final = "user_search_param_keyword_list_match_type"
"""``kTIMUserSearchParamKeywordListMatchType``: uint @ref TIMKeywordListMatchType."""
USER_SEARCH_PARAM_GENDER: Final = "user_search_param_gender"
"""``kTIMUserSearchParamGender``: uint @ref TIMGenderType."""
USER_SEARCH_PARAM_MIN_BIRTHDAY: Final = "user_search_param_min_birthday"
"""``kTIMUserSearchParamMinBirthday``: uint."""
USER_SEARCH_PARAM_MAX_BIRTHDAY: Final = "user_search_param_max_birthday"
"""``kTIMUserSearchParamMaxBirthday``: uint."""
USER_SEARCH_PARAM_SEARCH_COUNT: Final = "user_search_param_search_count"
"""``kTIMUserSearchParamSearchCount``: uint."""
USER_SEARCH_PARAM_SEARCH_CURSOR: Final = "user_search_param_search_cursor"
"""``kTIMUserSearchParamSearchCursor``: string."""
USER_SEARCH_RESULT_IS_FINISHED: Final = "user_search_result_is_finished"
"""``kTIMUserSearchResultIsFinished``: bool."""
USER_SEARCH_RESULT_TOTAL_COUNT: Final = "user_search_result_total_count"
"""``kTIMUserSearchResultTotalCount``: uint."""
USER_SEARCH_RESULT_NEXT_CURSOR: Final = "user_search_result_next_cursor"
"""``kTIMUserSearchResultNextCursor``: string."""
USER_SEARCH_RESULT_USER_LIST: Final = "user_search_result_user_list"
"""``kTIMUserSearchResultUserList``: array @ref UserProfile."""

# TIMOfflinePushManager.h
OFFLINE_PUSH_TOKEN_TOKEN: Final = "offline_push_token_token"
"""``kTIMOfflinePushTokenToken``: string."""
OFFLINE_PUSH_TOKEN_BUSINESS_ID: Final = "offline_push_token_business_id"
"""``kTIMOfflinePushTokenBusinessID``: uint32."""
OFFLINE_PUSH_TOKEN_TYPE: Final = "offline_push_token_type"
"""``kTIMOfflinePushTokenType``: uint @ref TIMOfflinePushTokenType."""

# TIMMessageManager.h
MSG_ALL_RECV_MSG_OPT_START_HOUR: Final = "msg_all_recv_msg_opt_start_hour"
"""``kTIMMsgAllRecvMsgOptStartHour``: uint."""
MSG_ALL_RECV_MSG_OPT_START_MINUTE: Final = "msg_all_recv_msg_opt_start_minute"
"""``kTIMMsgAllRecvMsgOptStartMinute``: uint."""
MSG_ALL_RECV_MSG_OPT_START_SECOND: Final = "msg_all_recv_msg_opt_start_second"
"""``kTIMMsgAllRecvMsgOptStartSecond``: uint."""
MSG_ALL_RECV_MSG_OPT_START_TIME_STAMP: Final = "msg_all_recv_msg_opt_start_time_stamp"
"""``kTIMMsgAllRecvMsgOptStartTimeStamp``: uint."""
MSG_ALL_RECV_MSG_DURATION: Final = "msg_all_recv_msg_duration"
"""``kTIMMsgAllRecvMsgDuration``: uint."""
MSG_ALL_RECV_MSG_OPT_LEVEL: Final = "msg_all_recv_msg_opt_level"
"""``kTIMMsgAllRecvMsgOptLevel``: uint @ref TIMReceiveMessageOpt."""


class TIMOfflinePushTokenType(IntEnum):
    """``TIMOfflinePushTokenType`` (TIMOfflinePushManager.h)."""

    TIMOfflinePushTokenType_Default = 0
    TIMOfflinePushTokenType_TPNS = 1
    TIMOfflinePushTokenType_VOIP = 2
