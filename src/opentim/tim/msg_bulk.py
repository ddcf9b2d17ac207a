"""The message functions issue 11 makes real beside sending: read everything, delete a list, find
messages by id or by locator, and the all-messages receive option with its callback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentim.protocol import AllRecvOpt
from opentim.protocol.limits import MAX_HISTORY_PAGE
from opentim.protocol.rules.users import valid_time_of_day

from . import keys as k
from .convert import (
    conv_key,
    dumps,
    in_enum,
    need_callback,
    need_int,
    opt_uint,
    param_error,
    parse_json,
    uint_arg,
)
from .core import TIMCore, tim_call
from .msg import _message_ref
from .runtime import CallKind, TIMCommCallback
from .user_json import all_recv_opt_json

ALL_RECV_OPT_CB = "TIMMsgAllMessageReceiveOptionCallback"


def _array(text: object, what: str) -> list[Any]:
    items = parse_json(text, list, what)
    assert items is not None
    if not items:
        raise param_error(f"{what} is empty")
    if len(items) > MAX_HISTORY_PAGE:
        raise param_error(f"{what}: at most {MAX_HISTORY_PAGE} per call")
    return items


class MsgBulkAPI(TIMCore):
    # --- read all, delete a list ------------------------------------------------------------
    @tim_call
    def TIMMsgMarkAllMessageAsRead(
        self, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Read every conversation (C2C and group) up to its newest message, on every device;
        the conversation events and unread totals follow. ``""``."""
        client = self._require()
        callback = need_callback(cb)

        async def work() -> str:
            await client.messages.read_all()
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMMsgListDelete(
        self,
        conv_id: str,
        conv_type: int,
        json_msg_array: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Delete messages of one conversation (an array of Message as opentim gave them) for
        this user, on the server, so on every device; others keep them. ``""``, or 6017."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        items = _array(json_msg_array, "json_msg_array")
        if not all(isinstance(i, dict) for i in items):
            raise param_error("json_msg_array must hold Message objects")
        msgs = [_message_ref(i, "json_msg_array") for i in items]
        callback = need_callback(cb)

        async def work() -> str:
            await client.messages.delete(conv_type_, cid, msgs, cloud=True)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    # --- find -------------------------------------------------------------------------------
    @tim_call
    def TIMMsgFindMessages(
        self, json_message_id_array: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """The messages with these ids (``message_msg_id``, at most 100) that this user may
        see, from the server: an array of Message, unknown ids left out."""
        client = self._require()
        items = _array(json_message_id_array, "json_message_id_array")
        if not all(isinstance(i, str) and i for i in items):
            raise param_error("json_message_id_array must hold message ids")
        callback = need_callback(cb)

        async def work() -> str:
            msgs = await client.messages.find(list(dict.fromkeys(items)))
            return dumps([self._msg_json(client, m) for m in msgs])

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMMsgFindByMsgLocatorList(
        self,
        conv_id: str,
        conv_type: int,
        json_msg_Locator_array: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """The messages of one conversation at these locators (MsgLocator: its
        ``message_locator_seq``), in seq order: an array of Message."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        items = _array(json_msg_Locator_array, "json_msg_Locator_array")
        if not all(isinstance(i, dict) for i in items):
            raise param_error("json_msg_Locator_array must hold MsgLocator objects")
        seqs = [opt_uint(i, k.MESSAGE_LOCATOR_SEQ) for i in items]
        if not all(seqs):
            raise param_error(f"every locator needs its {k.MESSAGE_LOCATOR_SEQ}")
        callback = need_callback(cb)

        async def work() -> str:
            msgs = await client.messages.find_at(conv_type_, cid, seqs)
            return dumps([self._msg_json(client, m) for m in msgs])

        return self._submit(client, CallKind.READ, work, callback, user_data)

    # --- the all-messages receive option ----------------------------------------------------
    def TIMSetMsgAllMessageReceiveOptionCallback(
        self, cb: Callable[[str, Any], object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_receive_message_option_info, user_data)``: the all-messages
        receive option changed (here or on another device). None unregisters."""
        self._register(ALL_RECV_OPT_CB, cb, user_data)

    def _set_all_recv_opt(
        self, opt: AllRecvOpt, cb: TIMCommCallback | None, user_data: object
    ) -> int:
        client = self._require()
        callback = need_callback(cb)

        async def work() -> str:
            await client.users.set_all_recv_opt(opt)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMMsgSetAllReceiveMessageOpt(
        self,
        opt: int,
        start_hour: int,
        start_minute: int,
        start_second: int,
        duration: int,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Set the receive option for all messages every day from ``start_hour``:``minute``:
        ``second`` (UTC) for ``duration`` seconds (0: all day); kept on the server for every
        device. A conversation's own option wins over it. ``""``."""
        level = in_enum(need_int(opt, "opt"), k.TIMReceiveMessageOpt, "opt")
        h, m, s = (
            need_int(v, n)
            for v, n in (
                (start_hour, "start_hour"),
                (start_minute, "start_minute"),
                (start_second, "start_second"),
            )
        )
        if not valid_time_of_day(h, m, s):
            raise param_error("start_hour/minute/second is not a time of day")
        seconds = uint_arg(duration, "duration", 32)
        window = AllRecvOpt(opt=level, start=h * 3600 + m * 60 + s, duration=seconds, daily=True)
        return self._set_all_recv_opt(window, cb, user_data)

    @tim_call
    def TIMMsgSetAllReceiveMessageOpt2(
        self,
        opt: int,
        start_time_stamp: int,
        duration: int,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Set the receive option for all messages from ``start_time_stamp`` (UTC seconds) for
        ``duration`` seconds (0: with no end); kept on the server for every device. ``""``."""
        level = in_enum(need_int(opt, "opt"), k.TIMReceiveMessageOpt, "opt")
        start = uint_arg(start_time_stamp, "start_time_stamp", 32)
        seconds = uint_arg(duration, "duration", 32)
        return self._set_all_recv_opt(
            AllRecvOpt(opt=level, start=start, duration=seconds), cb, user_data
        )

    @tim_call
    def TIMMsgGetAllReceiveMessageOpt(
        self, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """The all-messages receive option, from the server: a TIMReceiveMessageOptInfo."""
        client = self._require()
        callback = need_callback(cb)

        async def work() -> str:
            return dumps(all_recv_opt_json(await client.users.get_all_recv_opt()))

        return self._submit(client, CallKind.READ, work, callback, user_data)
