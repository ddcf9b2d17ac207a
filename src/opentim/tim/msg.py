"""The message functions (TIMMsg*) and the new-message callbacks."""

from __future__ import annotations

from opentim.protocol import ErrorCode, Message
from opentim.sdk import SdkError

from . import keys as k
from .convert import (
    check_buffer,
    conv_key,
    dumps,
    elems_in,
    fill_buffer,
    in_enum,
    need_callback,
    need_object,
    opt_bool,
    opt_obj,
    opt_str,
    opt_str_list,
    opt_uint,
    parse_json,
)
from .core import TIMCore, TIMRecvNewMsgCallback, check_listener, tim_call
from .runtime import CallKind, TIMCommCallback

DEFAULT_MSG_COUNT = 20
"""``msg_getmsglist_param_count`` when it is absent or 0."""
HISTORY_PAGE = 100


class MsgAPI(TIMCore):
    """Send, read marks, history, and new-message callbacks."""

    # --- callbacks --------------------------------------------------------------------------
    def TIMAddRecvNewMsgCallback(
        self, cb: TIMRecvNewMsgCallback | None, user_data: object = None
    ) -> None:
        """Add ``cb(json_msg_array, user_data)``, called with a JSON array of Message for every
        new message: received, or sent by this user from another device. Adding the same ``cb``
        again only replaces its ``user_data``."""
        check_listener(cb)
        if cb is None:
            return
        with self._lock:
            for i, (known, _) in enumerate(self._recv_msg_cbs):
                if known == cb:
                    self._recv_msg_cbs[i] = (cb, user_data)
                    return
            self._recv_msg_cbs.append((cb, user_data))

    def TIMRemoveRecvNewMsgCallback(self, cb: TIMRecvNewMsgCallback | None) -> None:
        """Remove a callback added with ``TIMAddRecvNewMsgCallback`` (the same callable)."""
        with self._lock:
            self._recv_msg_cbs = [(f, u) for f, u in self._recv_msg_cbs if f != cb]

    # --- sending ----------------------------------------------------------------------------
    @tim_call
    def TIMMsgSendMessage(
        self,
        conv_id: str,
        conv_type: int,
        json_msg_param: str,
        message_id_buffer: bytearray | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Send a message (a Message object with a non-empty ``message_elem_array``).

        ``message_id_buffer`` (None or a bytearray) gets the new ``message_msg_id`` before this
        returns. The callback gets the sent Message; or 8001 (elements over 12 KB), 6016 (bad
        element), 6032 (no such receiver), 10010 (no such group), 10007 (not a member).
        """
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        obj = need_object(json_msg_param, "json_msg_param")
        elems = elems_in(obj.get(k.MESSAGE_ELEM_ARRAY))
        priority = in_enum(
            opt_uint(obj, k.MESSAGE_PRIORITY, k.kTIMMsgPriority_Normal),
            k.TIMMsgPriority,
            k.MESSAGE_PRIORITY,
        )
        cloud_custom = opt_str(obj, k.MESSAGE_CLOUD_CUSTOM_STR)
        excluded_unread = opt_bool(obj, k.MESSAGE_IS_EXCLUDED_FROM_UNREAD_COUNT)
        excluded_last = opt_bool(obj, k.MESSAGE_EXCLUDED_FROM_LAST_MESSAGE)
        at_users = opt_str_list(obj, k.MESSAGE_GROUP_AT_USER_ARRAY)
        buffer = check_buffer(message_id_buffer, "message_id_buffer")
        callback = need_callback(cb)
        out = client.messages.new_message(
            elems,
            priority=priority,
            cloud_custom_data=cloud_custom,
            excluded_from_unread=excluded_unread,
            excluded_from_last=excluded_last,
            at_users=at_users,
        )
        fill_buffer(buffer, out.msg_id)

        async def work() -> str:
            msg = await client.messages.send(conv_type_, cid, out)
            return dumps(self._msg_json(client, msg))

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    # --- reading ----------------------------------------------------------------------------
    @tim_call
    def TIMMsgReportReaded(
        self,
        conv_id: str,
        conv_type: int,
        json_msg_param: str | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Mark the conversation read, up to the given Message's ``message_seq``, or entirely
        when ``json_msg_param`` is None or ""; the callback gets ``""`` (6004 for an unknown
        conversation). Deprecated in the reference for
        ``TIMConvCleanConversationUnreadMessageCount``."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        obj = parse_json(json_msg_param, dict, "json_msg_param", optional=True) or {}
        seq = opt_uint(obj, k.MESSAGE_SEQ)
        callback = need_callback(cb)

        async def work() -> str:
            await client.conversations.mark_read(conv_type_, cid, seq)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMMsgGetMsgList(
        self,
        conv_id: str,
        conv_type: int,
        json_get_msg_param: str | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Stored messages of the conversation, newest first, as a JSON array of Message.

        MsgGetMsgListParam: ``msg_getmsglist_param_count`` (default 20);
        ``msg_getmsglist_param_last_msg`` (its ``message_seq`` is the anchor: only older
        messages, the anchor excluded); else ``msg_getmsglist_param_last_msg_seq`` (older
        messages, that seq included). ``msg_getmsglist_param_is_forward`` true (newer than the
        anchor) is answered with 7013 (not supported); the time and type filters are ignored.
        """
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        obj = parse_json(json_get_msg_param, dict, "json_get_msg_param", optional=True) or {}
        count = opt_uint(obj, k.MSG_GETMSGLIST_PARAM_COUNT) or DEFAULT_MSG_COUNT
        anchor = opt_obj(obj, k.MSG_GETMSGLIST_PARAM_LAST_MSG)
        before = opt_uint(anchor, k.MESSAGE_SEQ)
        if not before:
            last_seq = opt_uint(obj, k.MSG_GETMSGLIST_PARAM_LAST_MSG_SEQ)
            before = last_seq + 1 if last_seq else 0
        forward = opt_bool(obj, k.MSG_GETMSGLIST_PARAM_IS_FORWARD)
        callback = need_callback(cb)

        async def work() -> str:
            if forward:
                raise SdkError(
                    ErrorCode.ERR_SDK_INTERFACE_NOT_SUPPORT,
                    f"{k.MSG_GETMSGLIST_PARAM_IS_FORWARD} is not supported",
                )
            await self._ready(client)
            msgs: list[Message] = []
            cursor = before
            while len(msgs) < count:
                want = min(HISTORY_PAGE, count - len(msgs))
                page = await client.messages.history(conv_type_, cid, cursor, want)
                msgs += page
                if len(page) < want or page[-1].seq <= 1:
                    break
                cursor = page[-1].seq
            return dumps([self._msg_json(client, m) for m in msgs])

        return self._submit(client, CallKind.READ, work, callback, user_data)
