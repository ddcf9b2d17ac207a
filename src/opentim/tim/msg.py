"""The message functions (TIMMsg*) and the new-message callbacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentim.protocol import ConvType, ErrorCode, Message
from opentim.protocol.limits import MAX_RECV_OPT_USERS
from opentim.protocol.ops import OutMessage
from opentim.sdk import Client

from . import keys as k
from .convert import (
    check_buffer,
    conv_key,
    dumps,
    elems_in,
    fill_buffer,
    in_enum,
    need_callback,
    need_int,
    need_object,
    opt_bool,
    opt_str,
    opt_str_list,
    opt_uint,
    param_error,
    parse_json,
)
from .core import (
    TIMCore,
    TIMMsgReadedReceiptCallback,
    TIMMsgRevokeCallback,
    TIMMsgUpdateCallback,
    TIMRecvNewMsgCallback,
    check_listener,
    tim_call,
)
from .extensions import MESSAGE_VERSION
from .group import group_id_arg
from .msg_list import list_query
from .msg_merge import merged_in
from .runtime import CallKind, TIMCommCallback, deliver


def _recv_opt(value: object) -> int:
    return in_enum(need_int(value, "opt"), k.TIMReceiveMessageOpt, "opt")


def _user_ids(text: object, what: str) -> list[str]:
    """A JSON array of 1 to 30 user ids."""
    items = parse_json(text, list, what)
    assert items is not None
    if not items or not all(isinstance(i, str) and i for i in items):
        raise param_error(f"{what} must be a non-empty array of user ids")
    if len(items) > MAX_RECV_OPT_USERS:
        raise param_error(f"{what}: at most {MAX_RECV_OPT_USERS} users per call")
    return items


def _message_ref(obj: dict[str, object], what: str) -> Message:
    """The message an app hands back (a Message it got from opentim): its seq and id."""
    seq = opt_uint(obj, k.MESSAGE_SEQ)
    if not seq:
        raise param_error(f"{what} needs the {k.MESSAGE_SEQ} of a stored message")
    return Message(
        msg_id=opt_str(obj, k.MESSAGE_MSG_ID),
        conv_type=0,
        sender="",
        receiver="",
        elems=[],
        seq=seq,
    )


def outgoing(client: Client, obj: dict[str, Any]) -> Callable[[], OutMessage]:
    """Check a Message object an app sends; what makes an outgoing message of it, each with a
    fresh id (a batch send makes one per receiver)."""
    elems = merged_in(elems_in(obj.get(k.MESSAGE_ELEM_ARRAY)))
    priority = in_enum(
        opt_uint(obj, k.MESSAGE_PRIORITY, k.kTIMMsgPriority_Normal),
        k.TIMMsgPriority,
        k.MESSAGE_PRIORITY,
    )
    cloud_custom = opt_str(obj, k.MESSAGE_CLOUD_CUSTOM_STR)
    excluded_unread = opt_bool(obj, k.MESSAGE_IS_EXCLUDED_FROM_UNREAD_COUNT)
    excluded_last = opt_bool(obj, k.MESSAGE_EXCLUDED_FROM_LAST_MESSAGE)
    at_users = opt_str_list(obj, k.MESSAGE_GROUP_AT_USER_ARRAY)
    extensions = opt_bool(obj, k.MESSAGE_SUPPORT_MESSAGE_EXTENSION)

    def make() -> OutMessage:
        return client.messages.new_message(
            elems,
            priority=priority,
            cloud_custom_data=cloud_custom,
            excluded_from_unread=excluded_unread,
            excluded_from_last=excluded_last,
            at_users=at_users,
            supports_extensions=extensions,
        )

    return make


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

    def TIMSetMsgReadedReceiptCallback(
        self, cb: TIMMsgReadedReceiptCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_msg_read_receipt_array, user_data)``: a C2C peer read the
        conversation (an array of MessageReceipt: the reader as ``msg_receipt_conv_id``, the
        time as ``msg_receipt_time_stamp``). None unregisters."""
        check_listener(cb)
        with self._lock:
            self._receipt_cb = None if cb is None else (cb, user_data)

    def TIMSetMsgRevokeCallback(
        self, cb: TIMMsgRevokeCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_msg_revoke_info_array, user_data)``: messages were revoked (an
        array of Message with status Revoked, ``message_revoker_user_id`` and
        ``message_revoke_reason``). None unregisters."""
        check_listener(cb)
        with self._lock:
            self._revoke_cb = None if cb is None else (cb, user_data)

    def TIMSetMsgUpdateCallback(
        self, cb: TIMMsgUpdateCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_msg_array, user_data)``: stored messages changed (modified with
        ``TIMMsgModifyMessage`` on any device of any participant, or revoked): each Message as
        it is now. None unregisters."""
        check_listener(cb)
        with self._lock:
            self._update_cb = None if cb is None else (cb, user_data)

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
        return self._send(
            conv_id, conv_type, json_msg_param, message_id_buffer, None, cb, user_data
        )

    @tim_call
    def TIMMsgSendNewMsg(
        self,
        conv_id: str,
        conv_type: int,
        json_msg_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """The older name of ``TIMMsgSendMessage``, without the id buffer (deprecated in the
        reference): the same send, the callback gets the sent Message."""
        return self._send(conv_id, conv_type, json_msg_param, None, None, cb, user_data)

    @tim_call
    def TIMMsgSendNewMsgEx(
        self,
        conv_id: str,
        conv_type: int,
        json_msg_param: str,
        msgid_cb: TIMCommCallback | None,
        res_cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """The older send with two callbacks (deprecated in the reference): ``msgid_cb(0, "",
        message_msg_id, user_data)`` first (it may be None), then ``res_cb`` with the sent
        Message, as ``TIMMsgSendMessage``'s callback; both on the SDK thread."""
        return self._send(conv_id, conv_type, json_msg_param, None, msgid_cb, res_cb, user_data)

    def _send(
        self,
        conv_id: object,
        conv_type: object,
        json_msg_param: object,
        message_id_buffer: object,
        msgid_cb: TIMCommCallback | None,
        cb: TIMCommCallback | None,
        user_data: object,
    ) -> int:
        """The one send behind the three send functions: check, make the message (its id
        exists at once), announce the id, send."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        make = outgoing(client, need_object(json_msg_param, "json_msg_param"))
        buffer = check_buffer(message_id_buffer, "message_id_buffer")
        callback = need_callback(cb)
        if msgid_cb is not None and not callable(msgid_cb):
            raise param_error("msgid_cb must be callable or None")
        out = make()
        fill_buffer(buffer, out.msg_id)

        async def work() -> str:
            if msgid_cb is not None:
                deliver(msgid_cb, int(ErrorCode.ERR_SUCC), "", out.msg_id, user_data)
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
        """Stored messages of the conversation, as a JSON array of Message.

        MsgGetMsgListParam: ``msg_getmsglist_param_count`` (default 20); the anchor
        ``msg_getmsglist_param_last_msg`` (its ``message_seq``, excluded) or else
        ``msg_getmsglist_param_last_msg_seq`` (included);
        ``msg_getmsglist_param_is_forward``: false (default) gives older messages than the
        anchor (none: from the newest), newest first; true gives newer ones (none: from the
        oldest), oldest first. ``msg_getmsglist_param_time_begin`` / ``_time_period`` keep
        messages sent in that window (seconds; a period of 0 reaches to now) and
        ``msg_getmsglist_param_message_type_array`` those with an element of these types;
        ``msg_getmsglist_param_message_seq_array`` (at most 100) asks for those seqs instead,
        in seq order.
        """
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        obj = parse_json(json_get_msg_param, dict, "json_get_msg_param", optional=True) or {}
        query = list_query(obj)
        callback = need_callback(cb)

        async def work() -> str:
            await self._ready(client)
            msgs = await query.run(client, conv_type_, cid)
            return dumps([self._msg_json(client, m) for m in msgs])

        return self._submit(client, CallKind.READ, work, callback, user_data)

    # --- receive options --------------------------------------------------------------------
    @tim_call
    def TIMMsgSetC2CReceiveMessageOpt(
        self,
        json_identifier_array: str,
        opt: int,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Set the receive option (TIMReceiveMessageOpt) for 1 to 30 C2C peers, kept on the
        server for every device (``conv_recv_opt``). Not_Receive, Not_Notify and
        Not_Notify_Except_At leave the conversation out of the unread totals. ``""``, or 6032
        when a user does not exist."""
        client = self._require()
        users = _user_ids(json_identifier_array, "json_identifier_array")
        option = _recv_opt(opt)
        callback = need_callback(cb)

        async def work() -> str:
            await client.messages.set_recv_opt(ConvType.C2C, users, option)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMMsgGetC2CReceiveMessageOpt(
        self, json_identifier_array: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """The receive option for each of 1 to 30 users: an array of GetC2CRecvMsgOptResult
        (Receive for a user with no option set)."""
        client = self._require()
        users = _user_ids(json_identifier_array, "json_identifier_array")
        callback = need_callback(cb)

        async def work() -> str:
            opts = await client.messages.c2c_recv_opts(users)
            return dumps(
                [
                    {
                        k.MSG_RECV_MSG_OPT_RESULT_IDENTIFIER: user,
                        k.MSG_RECV_MSG_OPT_RESULT_OPT: opts.get(user, k.kTIMRecvMsgOpt_Receive),
                    }
                    for user in dict.fromkeys(users)
                ]
            )

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMMsgSetGroupReceiveMessageOpt(
        self, group_id: str, opt: int, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Set this member's receive option for a group (``conv_recv_opt``, every device);
        ``""``, or 10010 (no such group), 10007 (not a member)."""
        client = self._require()
        gid = group_id_arg(group_id)
        option = _recv_opt(opt)
        callback = need_callback(cb)

        async def work() -> str:
            await client.messages.set_recv_opt(ConvType.GROUP, [gid], option)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    # --- revoke, delete, clear --------------------------------------------------------------
    @tim_call
    def TIMMsgRevoke(
        self,
        conv_id: str,
        conv_type: int,
        json_msg_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Revoke a message (the Message as opentim gave it: its ``message_seq`` and
        ``message_msg_id``). The sender may, for 2 minutes; in a group, the owner or an admin
        may at any time. It keeps its place in unread counts; every member's conversation
        shows it revoked and their revoke callback fires. ``""``, or 10030/20003 (no such
        message), 10032/7014 (not allowed), 10031/20016 (too late)."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        msg = _message_ref(need_object(json_msg_param, "json_msg_param"), "json_msg_param")
        callback = need_callback(cb)

        async def work() -> str:
            await client.messages.revoke(conv_type_, cid, msg)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMMsgModifyMessage(
        self, json_msg_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Modify a sent message: the Message as opentim gave it (``message_conv_id``,
        ``message_conv_type``, ``message_seq``, ``message_msg_id``, ``message_version``) with
        the app's new ``message_elem_array`` (text, custom, face, location elements, kind for
        kind) and ``message_cloud_custom_str`` (of any message). Any participant may; every
        participant's update callback gets it. The callback gets the modified Message; or 8006
        (modified meanwhile: get it again), 6016 (elements that may not change), 10030/20003
        (no such message, or revoked), 10007 (not a member)."""
        client = self._require()
        obj = need_object(json_msg_param, "json_msg_param")
        conv_type_, cid = conv_key(
            opt_str(obj, k.MESSAGE_CONV_ID), opt_uint(obj, k.MESSAGE_CONV_TYPE)
        )
        ref = _message_ref(obj, "json_msg_param")
        ref.elems = elems_in(obj.get(k.MESSAGE_ELEM_ARRAY))
        ref.cloud_custom_data = opt_str(obj, k.MESSAGE_CLOUD_CUSTOM_STR)
        ref.version = opt_uint(obj, MESSAGE_VERSION)
        callback = need_callback(cb)

        async def work() -> str:
            msg = await client.messages.modify(conv_type_, cid, ref)
            return dumps(self._msg_json(client, msg))

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMMsgDelete(
        self,
        conv_id: str,
        conv_type: int,
        json_msgdel_param: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Delete a message for this user only (a MsgDeleteParam): with
        ``msg_delete_param_is_ramble`` true on the server, so on every device of the user;
        otherwise on this device only. Others keep it. ``""``, or 6017 (no such message)."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        obj = need_object(json_msgdel_param, "json_msgdel_param")
        target = obj.get(k.MSG_DELETE_PARAM_MSG)
        if not isinstance(target, dict):
            raise param_error(f"{k.MSG_DELETE_PARAM_MSG} must be a Message object")
        msg = _message_ref(target, k.MSG_DELETE_PARAM_MSG)
        cloud = opt_bool(obj, k.MSG_DELETE_PARAM_IS_RAMBLE)
        callback = need_callback(cb)

        async def work() -> str:
            await client.messages.delete(conv_type_, cid, [msg], cloud=cloud)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMMsgClearHistoryMessage(
        self, conv_id: str, conv_type: int, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Clear the conversation's history for this user, on every device; the conversation
        stays in the list, read. ``""``, or 6004."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        callback = need_callback(cb)

        async def work() -> str:
            await client.conversations.clear_history(conv_type_, cid)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)
