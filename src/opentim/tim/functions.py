"""The TIM functions at module level, acting on one default ``TIMSDK`` instance.

Each is documented on the ``TIMSDK`` method of the same name.
"""

from __future__ import annotations

from .core import (
    TIMConvConversationGroupCreatedCallback,
    TIMConvConversationGroupDeletedCallback,
    TIMConvConversationGroupNameChangedCallback,
    TIMConvConversationsAddedToGroupCallback,
    TIMConvConversationsDeletedFromGroupCallback,
    TIMConvEventCallback,
    TIMConvTotalUnreadMessageCountChangedByFilterCallback,
    TIMConvTotalUnreadMessageCountChangedCallback,
    TIMGroupTipsEventCallback,
    TIMKickedOfflineCallback,
    TIMMsgReadedReceiptCallback,
    TIMMsgRevokeCallback,
    TIMMsgUpdateCallback,
    TIMNetworkStatusListenerCallback,
    TIMRecvNewMsgCallback,
    TIMUserSigExpiredCallback,
)
from .runtime import TIMCommCallback
from .sdk import TIMSDK

_default = TIMSDK()
"""The instance the module-level functions act on."""


def TIMInit(sdk_app_id: int, json_sdk_config: str | None) -> int:
    """``TIMSDK.TIMInit`` on the default instance."""
    return _default.TIMInit(sdk_app_id, json_sdk_config)


def TIMUninit() -> int:
    """``TIMSDK.TIMUninit`` on the default instance."""
    return _default.TIMUninit()


def TIMLogin(
    user_id: str, user_sig: str, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMLogin`` on the default instance."""
    return _default.TIMLogin(user_id, user_sig, cb, user_data)


def TIMLogout(cb: TIMCommCallback | None, user_data: object = None) -> int:
    """``TIMSDK.TIMLogout`` on the default instance."""
    return _default.TIMLogout(cb, user_data)


def TIMGetLoginStatus() -> int:
    """``TIMSDK.TIMGetLoginStatus`` on the default instance."""
    return _default.TIMGetLoginStatus()


def TIMGetLoginUserID(user_id_buffer: bytearray | None) -> int:
    """``TIMSDK.TIMGetLoginUserID`` on the default instance."""
    return _default.TIMGetLoginUserID(user_id_buffer)


def TIMSetKickedOfflineCallback(
    cb: TIMKickedOfflineCallback | None, user_data: object = None
) -> None:
    """``TIMSDK.TIMSetKickedOfflineCallback`` on the default instance."""
    return _default.TIMSetKickedOfflineCallback(cb, user_data)


def TIMSetNetworkStatusListenerCallback(
    cb: TIMNetworkStatusListenerCallback | None, user_data: object = None
) -> None:
    """``TIMSDK.TIMSetNetworkStatusListenerCallback`` on the default instance."""
    return _default.TIMSetNetworkStatusListenerCallback(cb, user_data)


def TIMSetConvEventCallback(cb: TIMConvEventCallback | None, user_data: object = None) -> None:
    """``TIMSDK.TIMSetConvEventCallback`` on the default instance."""
    return _default.TIMSetConvEventCallback(cb, user_data)


def TIMSetConvTotalUnreadMessageCountChangedCallback(
    cb: TIMConvTotalUnreadMessageCountChangedCallback | None, user_data: object = None
) -> None:
    """``TIMSDK.TIMSetConvTotalUnreadMessageCountChangedCallback`` on the default instance."""
    return _default.TIMSetConvTotalUnreadMessageCountChangedCallback(cb, user_data)


def TIMConvCreate(
    conv_id: str, conv_type: int, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMConvCreate`` on the default instance."""
    return _default.TIMConvCreate(conv_id, conv_type, cb, user_data)


def TIMConvDelete(
    conv_id: str, conv_type: int, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMConvDelete`` on the default instance."""
    return _default.TIMConvDelete(conv_id, conv_type, cb, user_data)


def TIMConvGetConvList(cb: TIMCommCallback | None, user_data: object = None) -> int:
    """``TIMSDK.TIMConvGetConvList`` on the default instance."""
    return _default.TIMConvGetConvList(cb, user_data)


def TIMConvGetConvInfo(
    json_get_conv_list_param: str, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMConvGetConvInfo`` on the default instance."""
    return _default.TIMConvGetConvInfo(json_get_conv_list_param, cb, user_data)


def TIMConvSetDraft(conv_id: str, conv_type: int, json_draft_param: str) -> int:
    """``TIMSDK.TIMConvSetDraft`` on the default instance."""
    return _default.TIMConvSetDraft(conv_id, conv_type, json_draft_param)


def TIMConvCancelDraft(conv_id: str, conv_type: int) -> int:
    """``TIMSDK.TIMConvCancelDraft`` on the default instance."""
    return _default.TIMConvCancelDraft(conv_id, conv_type)


def TIMConvPinConversation(
    conv_id: str,
    conv_type: int,
    is_pinned: bool,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMConvPinConversation`` on the default instance."""
    return _default.TIMConvPinConversation(conv_id, conv_type, is_pinned, cb, user_data)


def TIMConvGetTotalUnreadMessageCount(cb: TIMCommCallback | None, user_data: object = None) -> int:
    """``TIMSDK.TIMConvGetTotalUnreadMessageCount`` on the default instance."""
    return _default.TIMConvGetTotalUnreadMessageCount(cb, user_data)


def TIMConvCleanConversationUnreadMessageCount(
    conversation_id: str | None,
    clean_timestamp: int,
    clean_sequence: int,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMConvCleanConversationUnreadMessageCount`` on the default instance."""
    return _default.TIMConvCleanConversationUnreadMessageCount(
        conversation_id, clean_timestamp, clean_sequence, cb, user_data
    )


def TIMAddRecvNewMsgCallback(cb: TIMRecvNewMsgCallback | None, user_data: object = None) -> None:
    """``TIMSDK.TIMAddRecvNewMsgCallback`` on the default instance."""
    return _default.TIMAddRecvNewMsgCallback(cb, user_data)


def TIMRemoveRecvNewMsgCallback(cb: TIMRecvNewMsgCallback | None) -> None:
    """``TIMSDK.TIMRemoveRecvNewMsgCallback`` on the default instance."""
    return _default.TIMRemoveRecvNewMsgCallback(cb)


def TIMMsgSendMessage(
    conv_id: str,
    conv_type: int,
    json_msg_param: str,
    message_id_buffer: bytearray | None,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMMsgSendMessage`` on the default instance."""
    return _default.TIMMsgSendMessage(
        conv_id, conv_type, json_msg_param, message_id_buffer, cb, user_data
    )


def TIMMsgReportReaded(
    conv_id: str,
    conv_type: int,
    json_msg_param: str | None,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMMsgReportReaded`` on the default instance."""
    return _default.TIMMsgReportReaded(conv_id, conv_type, json_msg_param, cb, user_data)


def TIMMsgGetMsgList(
    conv_id: str,
    conv_type: int,
    json_get_msg_param: str | None,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMMsgGetMsgList`` on the default instance."""
    return _default.TIMMsgGetMsgList(conv_id, conv_type, json_get_msg_param, cb, user_data)


def TIMGroupCreate(
    json_group_create_param: str, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMGroupCreate`` on the default instance."""
    return _default.TIMGroupCreate(json_group_create_param, cb, user_data)


def TIMGroupDelete(group_id: str, cb: TIMCommCallback | None, user_data: object = None) -> int:
    """``TIMSDK.TIMGroupDelete`` on the default instance."""
    return _default.TIMGroupDelete(group_id, cb, user_data)


def TIMGroupJoin(
    group_id: str,
    hello_msg: str | None,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMGroupJoin`` on the default instance."""
    return _default.TIMGroupJoin(group_id, hello_msg, cb, user_data)


def TIMGroupQuit(group_id: str, cb: TIMCommCallback | None, user_data: object = None) -> int:
    """``TIMSDK.TIMGroupQuit`` on the default instance."""
    return _default.TIMGroupQuit(group_id, cb, user_data)


def TIMGroupInviteMember(
    json_group_invite_param: str, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMGroupInviteMember`` on the default instance."""
    return _default.TIMGroupInviteMember(json_group_invite_param, cb, user_data)


def TIMGroupDeleteMember(
    json_group_delete_param: str, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMGroupDeleteMember`` on the default instance."""
    return _default.TIMGroupDeleteMember(json_group_delete_param, cb, user_data)


def TIMGroupGetJoinedGroupList(cb: TIMCommCallback | None, user_data: object = None) -> int:
    """``TIMSDK.TIMGroupGetJoinedGroupList`` on the default instance."""
    return _default.TIMGroupGetJoinedGroupList(cb, user_data)


def TIMConvAddConversationsToGroup(
    group_name: str,
    conversation_id_array: str,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMConvAddConversationsToGroup`` on the default instance."""
    return _default.TIMConvAddConversationsToGroup(group_name, conversation_id_array, cb, user_data)


def TIMConvCreateConversationGroup(
    group_name: str,
    conversation_id_array: str,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMConvCreateConversationGroup`` on the default instance."""
    return _default.TIMConvCreateConversationGroup(group_name, conversation_id_array, cb, user_data)


def TIMConvDeleteConversationGroup(
    group_name: str, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMConvDeleteConversationGroup`` on the default instance."""
    return _default.TIMConvDeleteConversationGroup(group_name, cb, user_data)


def TIMConvDeleteConversationList(
    conversation_id_array: str,
    clear_message: bool,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMConvDeleteConversationList`` on the default instance."""
    return _default.TIMConvDeleteConversationList(
        conversation_id_array, clear_message, cb, user_data
    )


def TIMConvDeleteConversationsFromGroup(
    group_name: str,
    conversation_id_array: str,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMConvDeleteConversationsFromGroup`` on the default instance."""
    return _default.TIMConvDeleteConversationsFromGroup(
        group_name, conversation_id_array, cb, user_data
    )


def TIMConvGetConversationGroupList(cb: TIMCommCallback | None, user_data: object = None) -> int:
    """``TIMSDK.TIMConvGetConversationGroupList`` on the default instance."""
    return _default.TIMConvGetConversationGroupList(cb, user_data)


def TIMConvGetConversationListByFilter(
    filter: str, next_seq: int, count: int, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMConvGetConversationListByFilter`` on the default instance."""
    return _default.TIMConvGetConversationListByFilter(filter, next_seq, count, cb, user_data)


def TIMConvGetUnreadMessageCountByFilter(
    filter: str, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMConvGetUnreadMessageCountByFilter`` on the default instance."""
    return _default.TIMConvGetUnreadMessageCountByFilter(filter, cb, user_data)


def TIMConvMarkConversation(
    conversation_id_array: str,
    mark_type: int,
    enable_mark: bool,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMConvMarkConversation`` on the default instance."""
    return _default.TIMConvMarkConversation(
        conversation_id_array, mark_type, enable_mark, cb, user_data
    )


def TIMConvRenameConversationGroup(
    old_name: str, new_name: str, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMConvRenameConversationGroup`` on the default instance."""
    return _default.TIMConvRenameConversationGroup(old_name, new_name, cb, user_data)


def TIMConvSetConversationCustomData(
    conversation_id_array: str,
    custom_data: str | None,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMConvSetConversationCustomData`` on the default instance."""
    return _default.TIMConvSetConversationCustomData(
        conversation_id_array, custom_data, cb, user_data
    )


def TIMConvSubscribeUnreadMessageCountByFilter(filter: str) -> int:
    """``TIMSDK.TIMConvSubscribeUnreadMessageCountByFilter`` on the default instance."""
    return _default.TIMConvSubscribeUnreadMessageCountByFilter(filter)


def TIMConvUnsubscribeUnreadMessageCountByFilter(filter: str) -> int:
    """``TIMSDK.TIMConvUnsubscribeUnreadMessageCountByFilter`` on the default instance."""
    return _default.TIMConvUnsubscribeUnreadMessageCountByFilter(filter)


def TIMMsgClearHistoryMessage(
    conv_id: str, conv_type: int, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMMsgClearHistoryMessage`` on the default instance."""
    return _default.TIMMsgClearHistoryMessage(conv_id, conv_type, cb, user_data)


def TIMMsgDelete(
    conv_id: str,
    conv_type: int,
    json_msgdel_param: str,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMMsgDelete`` on the default instance."""
    return _default.TIMMsgDelete(conv_id, conv_type, json_msgdel_param, cb, user_data)


def TIMMsgGetC2CReceiveMessageOpt(
    json_identifier_array: str, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMMsgGetC2CReceiveMessageOpt`` on the default instance."""
    return _default.TIMMsgGetC2CReceiveMessageOpt(json_identifier_array, cb, user_data)


def TIMMsgRevoke(
    conv_id: str,
    conv_type: int,
    json_msg_param: str,
    cb: TIMCommCallback | None,
    user_data: object = None,
) -> int:
    """``TIMSDK.TIMMsgRevoke`` on the default instance."""
    return _default.TIMMsgRevoke(conv_id, conv_type, json_msg_param, cb, user_data)


def TIMMsgSetC2CReceiveMessageOpt(
    json_identifier_array: str, opt: int, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMMsgSetC2CReceiveMessageOpt`` on the default instance."""
    return _default.TIMMsgSetC2CReceiveMessageOpt(json_identifier_array, opt, cb, user_data)


def TIMMsgSetGroupReceiveMessageOpt(
    group_id: str, opt: int, cb: TIMCommCallback | None, user_data: object = None
) -> int:
    """``TIMSDK.TIMMsgSetGroupReceiveMessageOpt`` on the default instance."""
    return _default.TIMMsgSetGroupReceiveMessageOpt(group_id, opt, cb, user_data)


def TIMSetConvConversationGroupCreatedCallback(
    cb: TIMConvConversationGroupCreatedCallback | None, user_data: object = None
) -> None:
    """``TIMSDK.TIMSetConvConversationGroupCreatedCallback`` on the default instance."""
    return _default.TIMSetConvConversationGroupCreatedCallback(cb, user_data)


def TIMSetConvConversationGroupDeletedCallback(
    cb: TIMConvConversationGroupDeletedCallback | None, user_data: object = None
) -> None:
    """``TIMSDK.TIMSetConvConversationGroupDeletedCallback`` on the default instance."""
    return _default.TIMSetConvConversationGroupDeletedCallback(cb, user_data)


def TIMSetConvConversationGroupNameChangedCallback(
    cb: TIMConvConversationGroupNameChangedCallback | None, user_data: object = None
) -> None:
    """``TIMSDK.TIMSetConvConversationGroupNameChangedCallback`` on the default instance."""
    return _default.TIMSetConvConversationGroupNameChangedCallback(cb, user_data)


def TIMSetConvConversationsAddedToGroupCallback(
    cb: TIMConvConversationsAddedToGroupCallback | None, user_data: object = None
) -> None:
    """``TIMSDK.TIMSetConvConversationsAddedToGroupCallback`` on the default instance."""
    return _default.TIMSetConvConversationsAddedToGroupCallback(cb, user_data)


def TIMSetConvConversationsDeletedFromGroupCallback(
    cb: TIMConvConversationsDeletedFromGroupCallback | None, user_data: object = None
) -> None:
    """``TIMSDK.TIMSetConvConversationsDeletedFromGroupCallback`` on the default instance."""
    return _default.TIMSetConvConversationsDeletedFromGroupCallback(cb, user_data)


def TIMSetConvUnreadMessageCountChangedByFilterCallback(
    cb: TIMConvTotalUnreadMessageCountChangedByFilterCallback | None, user_data: object = None
) -> None:
    """``TIMSDK.TIMSetConvUnreadMessageCountChangedByFilterCallback`` on the default instance."""
    return _default.TIMSetConvUnreadMessageCountChangedByFilterCallback(cb, user_data)


def TIMSetGroupTipsEventCallback(
    cb: TIMGroupTipsEventCallback | None, user_data: object = None
) -> None:
    """``TIMSDK.TIMSetGroupTipsEventCallback`` on the default instance."""
    return _default.TIMSetGroupTipsEventCallback(cb, user_data)


def TIMSetMsgReadedReceiptCallback(
    cb: TIMMsgReadedReceiptCallback | None, user_data: object = None
) -> None:
    """``TIMSDK.TIMSetMsgReadedReceiptCallback`` on the default instance."""
    return _default.TIMSetMsgReadedReceiptCallback(cb, user_data)


def TIMSetMsgRevokeCallback(cb: TIMMsgRevokeCallback | None, user_data: object = None) -> None:
    """``TIMSDK.TIMSetMsgRevokeCallback`` on the default instance."""
    return _default.TIMSetMsgRevokeCallback(cb, user_data)


def TIMSetMsgUpdateCallback(cb: TIMMsgUpdateCallback | None, user_data: object = None) -> None:
    """``TIMSDK.TIMSetMsgUpdateCallback`` on the default instance."""
    return _default.TIMSetMsgUpdateCallback(cb, user_data)


def TIMSetUserSigExpiredCallback(
    cb: TIMUserSigExpiredCallback | None, user_data: object = None
) -> None:
    """``TIMSDK.TIMSetUserSigExpiredCallback`` on the default instance."""
    return _default.TIMSetUserSigExpiredCallback(cb, user_data)


__all__ = [
    "TIMAddRecvNewMsgCallback",
    "TIMConvAddConversationsToGroup",
    "TIMConvCancelDraft",
    "TIMConvCleanConversationUnreadMessageCount",
    "TIMConvCreate",
    "TIMConvCreateConversationGroup",
    "TIMConvDelete",
    "TIMConvDeleteConversationGroup",
    "TIMConvDeleteConversationList",
    "TIMConvDeleteConversationsFromGroup",
    "TIMConvGetConvInfo",
    "TIMConvGetConvList",
    "TIMConvGetConversationGroupList",
    "TIMConvGetConversationListByFilter",
    "TIMConvGetTotalUnreadMessageCount",
    "TIMConvGetUnreadMessageCountByFilter",
    "TIMConvMarkConversation",
    "TIMConvPinConversation",
    "TIMConvRenameConversationGroup",
    "TIMConvSetConversationCustomData",
    "TIMConvSetDraft",
    "TIMConvSubscribeUnreadMessageCountByFilter",
    "TIMConvUnsubscribeUnreadMessageCountByFilter",
    "TIMGetLoginStatus",
    "TIMGetLoginUserID",
    "TIMGroupCreate",
    "TIMGroupDelete",
    "TIMGroupDeleteMember",
    "TIMGroupGetJoinedGroupList",
    "TIMGroupInviteMember",
    "TIMGroupJoin",
    "TIMGroupQuit",
    "TIMInit",
    "TIMLogin",
    "TIMLogout",
    "TIMMsgClearHistoryMessage",
    "TIMMsgDelete",
    "TIMMsgGetC2CReceiveMessageOpt",
    "TIMMsgGetMsgList",
    "TIMMsgReportReaded",
    "TIMMsgRevoke",
    "TIMMsgSendMessage",
    "TIMMsgSetC2CReceiveMessageOpt",
    "TIMMsgSetGroupReceiveMessageOpt",
    "TIMRemoveRecvNewMsgCallback",
    "TIMSetConvConversationGroupCreatedCallback",
    "TIMSetConvConversationGroupDeletedCallback",
    "TIMSetConvConversationGroupNameChangedCallback",
    "TIMSetConvConversationsAddedToGroupCallback",
    "TIMSetConvConversationsDeletedFromGroupCallback",
    "TIMSetConvEventCallback",
    "TIMSetConvTotalUnreadMessageCountChangedCallback",
    "TIMSetConvUnreadMessageCountChangedByFilterCallback",
    "TIMSetGroupTipsEventCallback",
    "TIMSetKickedOfflineCallback",
    "TIMSetMsgReadedReceiptCallback",
    "TIMSetMsgRevokeCallback",
    "TIMSetMsgUpdateCallback",
    "TIMSetNetworkStatusListenerCallback",
    "TIMSetUserSigExpiredCallback",
    "TIMUninit",
]
