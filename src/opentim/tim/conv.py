"""The conversation functions (TIMConv*) and the conversation event callbacks.

The older functions take a bare id plus ``conv_type``;
``TIMConvCleanConversationUnreadMessageCount`` takes a conversation-id string (``c2c_<user>``,
``group_<group>``, ``c2c``, ``group`` or ``""``), as the reference does (DESIGN §6).
"""

from __future__ import annotations

import asyncio

from opentim.protocol import ConvType, ErrorCode, TIMResult, parse_conversation_id
from opentim.sdk import Client, SdkError

from . import keys as k
from .convert import (
    CallRefusedError,
    conv_key,
    draft_in,
    dumps,
    json_error,
    need_bool,
    need_callback,
    need_int,
    param_error,
    parse_json,
)
from .core import (
    TIMConvEventCallback,
    TIMConvTotalUnreadMessageCountChangedCallback,
    TIMCore,
    check_listener,
    tim_call,
)
from .runtime import CallKind, TIMCommCallback

HISTORY_PAGE = 100


def _uint64(value: object, what: str) -> int:
    number = need_int(value, what)
    if not 0 <= number < 2**64:
        raise param_error(f"{what} must be a uint64")
    return number


class ConvAPI(TIMCore):
    """Conversation list, drafts, pins, unread counts."""

    # --- callbacks --------------------------------------------------------------------------
    def TIMSetConvEventCallback(
        self, cb: TIMConvEventCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(conv_event, json_conv_array, user_data)`` (None unregisters).

        ``kTIMConvEvent_Add``/``Del``/``Update`` carry a JSON array of ConvInfo;
        ``kTIMConvEvent_Start``/``Finish`` (the conversation sync after login) carry ``""``.
        """
        check_listener(cb)
        with self._lock:
            self._conv_event_cb = None if cb is None else (cb, user_data)

    def TIMSetConvTotalUnreadMessageCountChangedCallback(
        self, cb: TIMConvTotalUnreadMessageCountChangedCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(total_unread_count, user_data)`` (None unregisters).

        As in the reference, it fires only after the app has called
        ``TIMConvGetTotalUnreadMessageCount`` once.
        """
        check_listener(cb)
        with self._lock:
            self._total_unread_cb = None if cb is None else (cb, user_data)

    # --- reading ----------------------------------------------------------------------------
    @tim_call
    def TIMConvGetConvList(self, cb: TIMCommCallback | None, user_data: object = None) -> int:
        """The conversation list: a JSON array of ConvInfo, largest ``conv_active_time`` first
        (pinned first, then most recently active)."""
        client = self._require()
        callback = need_callback(cb)

        async def work() -> str:
            await self._ready(client)
            return self._conv_array(client, client.conversations.list())

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMConvGetConvInfo(
        self, json_get_conv_list_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """ConvInfo of the listed conversations (an array of GetConversationListParam); ids
        the user has no conversation for are left out."""
        client = self._require()
        items = parse_json(json_get_conv_list_param, list, "json_get_conv_list_param")
        assert items is not None
        wanted: list[tuple[int, str]] = []
        for item in items:
            if not isinstance(item, dict):
                raise json_error("json_get_conv_list_param must be an array of objects")
            wanted.append(
                conv_key(
                    item.get(k.GET_CONVERSATION_LIST_PARAM_CONV_ID),
                    item.get(k.GET_CONVERSATION_LIST_PARAM_CONV_TYPE),
                )
            )
        callback = need_callback(cb)

        async def work() -> str:
            await self._ready(client)
            convs = await client.conversations.get(wanted)
            return self._conv_array(client, convs)

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMConvGetTotalUnreadMessageCount(
        self, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """``{"conv_get_total_unread_message_count_result_unread_count": n}`` over every
        conversation; from now on the total-unread-changed callback fires."""
        client = self._require()
        callback = need_callback(cb)

        async def work() -> str:
            await self._ready(client)
            self._total_unread_armed = True
            total = client.conversations.total_unread()
            return dumps({k.CONV_GET_TOTAL_UNREAD_MESSAGE_COUNT_RESULT_UNREAD_COUNT: total})

        return self._submit(client, CallKind.READ, work, callback, user_data)

    # --- changing ---------------------------------------------------------------------------
    @tim_call
    def TIMConvCreate(
        self, conv_id: str, conv_type: int, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Create the conversation (on the server: every device of the user sees it) or get it
        when it exists; the callback gets one ConvInfo object. Unknown peer: 6032; group not
        found: 10010; not a member: 10007."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        callback = need_callback(cb)

        async def work() -> str:
            conv = await client.conversations.create(conv_type_, cid)
            return self._conv_object(client, conv)

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMConvDelete(
        self, conv_id: str, conv_type: int, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Delete the conversation and its history for this user, on all their devices
        (``kTIMConvEvent_Del`` fires first); the callback gets ``""``, or 6004 when the user
        has no such conversation."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        callback = need_callback(cb)

        async def work() -> str:
            await client.conversations.delete(conv_type_, cid)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMConvSetDraft(self, conv_id: str, conv_type: int, json_draft_param: str) -> int:
        """Set the conversation's draft (a Draft object). There is no callback: the draft is
        checked now (over 12 KB: TIM_ERR_PARAM) and stored on the server right after, which
        shows as ``kTIMConvEvent_Update`` on every device of the user."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        draft = draft_in(json_draft_param)

        async def work() -> str:
            await client.conversations.set_draft(conv_type_, cid, draft)
            return ""

        return self._submit(client, CallKind.CHANGE, work, None, None)

    @tim_call
    def TIMConvCancelDraft(self, conv_id: str, conv_type: int) -> int:
        """Remove the conversation's draft (no callback; ``kTIMConvEvent_Update`` follows)."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)

        async def work() -> str:
            await client.conversations.cancel_draft(conv_type_, cid)
            return ""

        return self._submit(client, CallKind.CHANGE, work, None, None)

    @tim_call
    def TIMConvPinConversation(
        self,
        conv_id: str,
        conv_type: int,
        is_pinned: bool,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Pin or unpin; the callback gets ``""``. A pinned conversation's ``conv_active_time``
        has bit 62 set, so it sorts first."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        pinned = need_bool(is_pinned, "is_pinned")
        callback = need_callback(cb)

        async def work() -> str:
            await client.conversations.pin(conv_type_, cid, pinned)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMConvCleanConversationUnreadMessageCount(
        self,
        conversation_id: str | None,
        clean_timestamp: int,
        clean_sequence: int,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Mark conversations read; the callback gets ``""`` and each changed conversation is
        announced with ``kTIMConvEvent_Update``.

        ``conversation_id``: ``c2c_<user>`` or ``group_<group>`` (one conversation), ``c2c``
        (every C2C one), ``group`` (every group one), ``""`` or None (all). For one C2C
        conversation a non-zero ``clean_timestamp`` reads up to the last message whose server
        time is at or before it; for one group conversation a non-zero ``clean_sequence``
        reads up to that seq; 0 reads everything. The bulk forms read everything.
        """
        client = self._require()
        target = "" if conversation_id is None else conversation_id
        if not isinstance(target, str):
            raise param_error("conversation_id must be a str or None")
        timestamp = _uint64(clean_timestamp, "clean_timestamp")
        sequence = _uint64(clean_sequence, "clean_sequence")
        scope: tuple[ConvType, ...] | None = None
        key = None
        if target == k.clean_unread_all_conversation_id:
            scope = (ConvType.C2C, ConvType.GROUP)
        elif target == k.clean_unread_all_c2c_conversation_id:
            scope = (ConvType.C2C,)
        elif target == k.clean_unread_all_group_conversation_id:
            scope = (ConvType.GROUP,)
        else:
            key = parse_conversation_id(target)
            if key is None:
                if target in (k.conversation_id_prefix_c2c, k.conversation_id_prefix_group):
                    raise param_error("empty id in conversation_id")
                raise CallRefusedError(
                    TIMResult.TIM_ERR_CONV, f"{target!r} is not c2c_<id>, group_<id>, c2c or group"
                )
        callback = need_callback(cb)

        async def work() -> str:
            if scope is not None:
                await self._ready(client)
                unread = [c for c in client.conversations.list() if c.conv_type in scope]
                await asyncio.gather(
                    *(
                        client.conversations.mark_read(c.conv_type, c.conv_id)
                        for c in unread
                        if c.unread
                    )
                )
                return ""
            assert key is not None
            conv_type_, cid = key
            seq = 0
            if conv_type_ == ConvType.GROUP:
                seq = sequence
            elif timestamp:
                found = await self._last_seq_at(client, cid, timestamp)
                if found is None:
                    if not await client.conversations.get([(ConvType.C2C, cid)]):
                        raise SdkError(
                            ErrorCode.ERR_INVALID_CONVERSATION, f"no conversation {target!r}"
                        )
                    return ""
                seq = found
            await client.conversations.mark_read(conv_type_, cid, seq)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @staticmethod
    async def _last_seq_at(client: Client, peer: str, timestamp: int) -> int | None:
        """The seq of the last C2C message with ``peer`` whose server time is at or before
        ``timestamp`` (history is newest first), or None when there is none."""
        before = 0
        while True:
            page = await client.messages.history(ConvType.C2C, peer, before, HISTORY_PAGE)
            for msg in page:
                if msg.server_time <= timestamp:
                    return msg.seq
            if len(page) < HISTORY_PAGE or page[-1].seq <= 1:
                return None
            before = page[-1].seq
