"""The conversation functions (TIMConv*) and the conversation event callbacks.

The older functions take a bare id plus ``conv_type``;
``TIMConvCleanConversationUnreadMessageCount`` takes a conversation-id string (``c2c_<user>``,
``group_<group>``, ``c2c``, ``group`` or ``""``), as the reference does (DESIGN §6).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from opentim.protocol import ConvType, ErrorCode, TIMResult, parse_conversation_id
from opentim.protocol.limits import MAX_CONVS_PER_CALL, MAX_CUSTOM_DATA_BYTES
from opentim.protocol.ops import ConvResult
from opentim.sdk import Client, SdkError
from opentim.sdk.conversations import ConversationManager

from . import keys as k
from .convert import (
    CallRefusedError,
    ConvIdArg,
    conv_ids_in,
    conv_key,
    draft_in,
    dumps,
    filter_in,
    json_error,
    mark_arg,
    need_bool,
    need_callback,
    need_str,
    op_results,
    param_error,
    parse_json,
    uint_arg,
)
from .core import (
    TIMConvConversationGroupCreatedCallback,
    TIMConvConversationGroupDeletedCallback,
    TIMConvConversationGroupNameChangedCallback,
    TIMConvConversationsAddedToGroupCallback,
    TIMConvConversationsDeletedFromGroupCallback,
    TIMConvEventCallback,
    TIMConvTotalUnreadMessageCountChangedByFilterCallback,
    TIMConvTotalUnreadMessageCountChangedCallback,
    TIMCore,
    check_listener,
    tim_call,
)
from .runtime import CallKind, TIMCommCallback

HISTORY_PAGE = 100


def _uint64(value: object, what: str) -> int:
    return uint_arg(value, what)


def _valid_keys(ids: list[ConvIdArg]) -> list[tuple[int, str]]:
    """The conversation keys among the ids (those in ``c2c_``/``group_`` form), once each."""
    return list(dict.fromkeys(key for _, key in ids if key is not None))


def _check_count(ids: list[ConvIdArg]) -> None:
    if len(ids) > MAX_CONVS_PER_CALL:
        raise SdkError(
            ErrorCode.ERR_SVR_CONV_CONV_MARK_REQ_COUNT_EXCEED_LIMIT,
            f"at most {MAX_CONVS_PER_CALL} conversations per call",
        )


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

    def TIMSetConvUnreadMessageCountChangedByFilterCallback(
        self,
        cb: TIMConvTotalUnreadMessageCountChangedByFilterCallback | None,
        user_data: object = None,
    ) -> None:
        """Register ``cb(filter, total_unread_count, user_data)`` (None unregisters): called for
        each filter subscribed with ``TIMConvSubscribeUnreadMessageCountByFilter`` when its
        total changes, and only then; ``filter`` is the filter's JSON."""
        check_listener(cb)
        with self._lock:
            self._filter_unread_cb = None if cb is None else (cb, user_data)

    def TIMSetConvConversationGroupCreatedCallback(
        self, cb: TIMConvConversationGroupCreatedCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(group_name, conversation_array, user_data)``: a conversation group was
        created (on any device of the user); ``conversation_array`` is a ConvInfo array."""
        check_listener(cb)
        with self._lock:
            self._cgroup_created_cb = None if cb is None else (cb, user_data)

    def TIMSetConvConversationGroupDeletedCallback(
        self, cb: TIMConvConversationGroupDeletedCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(group_name, user_data)``: a conversation group was deleted."""
        check_listener(cb)
        with self._lock:
            self._cgroup_deleted_cb = None if cb is None else (cb, user_data)

    def TIMSetConvConversationGroupNameChangedCallback(
        self, cb: TIMConvConversationGroupNameChangedCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(old_name, new_name, user_data)``: a conversation group was renamed."""
        check_listener(cb)
        with self._lock:
            self._cgroup_renamed_cb = None if cb is None else (cb, user_data)

    def TIMSetConvConversationsAddedToGroupCallback(
        self, cb: TIMConvConversationsAddedToGroupCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(group_name, conversation_array, user_data)``: conversations were
        added to a group (ConvInfo array)."""
        check_listener(cb)
        with self._lock:
            self._cgroup_added_cb = None if cb is None else (cb, user_data)

    def TIMSetConvConversationsDeletedFromGroupCallback(
        self, cb: TIMConvConversationsDeletedFromGroupCallback | None, user_data: object = None
    ) -> None:
        """Register ``cb(group_name, conversation_array, reason, user_data)``: conversations
        left a group; ``reason`` 0 when the app removed them, 1 when the group was full
        (1,000) and its earliest added were evicted."""
        check_listener(cb)
        with self._lock:
            self._cgroup_removed_cb = None if cb is None else (cb, user_data)

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
            total = client.users.total_now(client.conversations.total_unread())
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
        shows as one ``kTIMConvEvent_Update`` on every device of the user.

        ``draft_edit_time`` is stamped by the SDK (UTC seconds, its own clock); the app's value
        is ignored. A conversation the user does not have is created first, as
        ``TIMConvCreate`` would (``kTIMConvEvent_Add`` on every device, carrying the draft).
        """
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        draft = draft_in(json_draft_param)

        async def work() -> str:
            await client.conversations.set_draft(conv_type_, cid, draft)
            return ""

        return self._submit(client, CallKind.CHANGE, work, None, None)

    @tim_call
    def TIMConvCancelDraft(self, conv_id: str, conv_type: int) -> int:
        """Remove the conversation's draft (no callback; one ``kTIMConvEvent_Update`` follows
        on every device). Cancelling on a conversation the user does not have does nothing."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)

        async def work() -> str:
            try:
                await client.conversations.cancel_draft(conv_type_, cid)
            except SdkError as exc:
                if exc.code != ErrorCode.ERR_INVALID_CONVERSATION:
                    raise  # no conversation, so no draft: that is what was asked
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
                everything = client.conversations.list(include_hidden=True)
                unread = [c for c in everything if c.conv_type in scope]
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

    # --- filters, paging, unread by filter --------------------------------------------------
    @tim_call
    def TIMConvGetConversationListByFilter(
        self,
        filter: str,
        next_seq: int,
        count: int,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """A page of the conversations a TIMConversationListFilter selects, in list order:
        ``{"conversation_list_result_conv_list": [ConvInfo…], "…_next_seq": n,
        "…_is_finished": bool}``.

        Start with ``next_seq`` 0 and call again with the returned ``next_seq`` and the same
        filter until ``is_finished``. A pass is stable: the order is the one the list had when
        the pass began, so a conversation that moves meanwhile is returned once, neither
        skipped nor repeated. Hidden conversations (the Hide mark) are left out unless the
        filter's ``mark_type`` asks for Hide. A ``next_seq`` that is not from a live pass of
        this filter: 6017.
        """
        client = self._require()
        conv_filter = filter_in(filter)
        seq = uint_arg(next_seq, "next_seq")
        size = uint_arg(count, "count", 32)
        if size == 0:
            raise param_error("count must be at least 1")
        callback = need_callback(cb)

        async def work() -> str:
            await self._ready(client)
            convs, after, finished = client.conversations.page(conv_filter, seq, size)
            rest = dumps(
                {
                    k.CONVERSATION_LIST_RESULT_NEXT_SEQ: after,
                    k.CONVERSATION_LIST_RESULT_IS_FINISHED: finished,
                }
            )
            # The ConvInfo array comes from the per-snapshot cache; only the rest is encoded.
            head = dumps({k.CONVERSATION_LIST_RESULT_CONV_LIST: None})[:-5]
            return head + self._conv_array(client, convs) + "," + rest[1:]

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMConvGetUnreadMessageCountByFilter(
        self, filter: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Unread over the conversations the filter selects, leaving out those whose receive
        option is Not_Receive, Not_Notify or Not_Notify_Except_At (reference 6.12):
        ``{"conv_get_total_unread_message_count_result_unread_count": n}``."""
        client = self._require()
        conv_filter = filter_in(filter)
        callback = need_callback(cb)

        async def work() -> str:
            await self._ready(client)
            total = client.conversations.unread_total(conv_filter)
            return dumps({k.CONV_GET_TOTAL_UNREAD_MESSAGE_COUNT_RESULT_UNREAD_COUNT: total})

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMConvSubscribeUnreadMessageCountByFilter(self, filter: str) -> int:
        """Subscribe a filter: from now on, each change of its unread total (and only a
        change) calls the callback of ``TIMSetConvUnreadMessageCountChangedByFilterCallback``.
        Several filters may be subscribed at once; subscribing one twice is one subscription."""
        client = self._require()
        conv_filter = filter_in(filter)

        async def work() -> str:
            client.conversations.subscribe_unread(conv_filter)
            return ""

        return self._submit(client, CallKind.CHANGE, work, None, None)

    @tim_call
    def TIMConvUnsubscribeUnreadMessageCountByFilter(self, filter: str) -> int:
        """Stop the callbacks of a subscribed filter (the same filter JSON)."""
        client = self._require()
        conv_filter = filter_in(filter)

        async def work() -> str:
            client.conversations.unsubscribe_unread(conv_filter)
            return ""

        return self._submit(client, CallKind.CHANGE, work, None, None)

    # --- batch changes ----------------------------------------------------------------------
    def _batch(
        self,
        client: Client,
        ids: list[ConvIdArg],
        call: Callable[[list[tuple[int, str]]], Awaitable[list[ConvResult]]],
        cb: TIMCommCallback,
        user_data: object,
    ) -> int:
        """Run a batch call on the valid ids; the callback gets a result per id given."""

        async def work() -> str:
            _check_count(ids)
            keys = _valid_keys(ids)
            results = await call(keys) if keys else []
            return dumps(op_results(ids, results))

        return self._submit(client, CallKind.CHANGE, work, cb, user_data)

    @tim_call
    def TIMConvDeleteConversationList(
        self,
        conversation_id_array: str,
        clear_message: bool,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Delete conversations (a JSON array of ``c2c_<user>`` / ``group_<group>``, at most
        100) on every device of the user; ``clear_message`` true also hides their history
        for the user. An array of TIMConversationOperationResult (6004 for an id that is not
        a conversation of the user); ``kTIMConvEvent_Del`` fires first. Over 100 ids: 6017."""
        client = self._require()
        ids = conv_ids_in(conversation_id_array, "conversation_id_array")
        clear = need_bool(clear_message, "clear_message")
        callback = need_callback(cb)

        async def work() -> str:
            if len(ids) > MAX_CONVS_PER_CALL:
                raise SdkError(
                    ErrorCode.ERR_INVALID_PARAMETERS,
                    f"at most {MAX_CONVS_PER_CALL} conversations per call",
                )
            keys = _valid_keys(ids)
            results = await client.conversations.delete_many(keys, clear) if keys else []
            return dumps(op_results(ids, results))

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMConvSetConversationCustomData(
        self,
        conversation_id_array: str,
        custom_data: str | None,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Set the same custom data (at most 256 bytes; None or "" clears it) on each
        conversation, for this user on every device (``conv_custom_data``). Over 256 bytes:
        TIM_ERR_PARAM; over 100 ids: 51006; over 1,000 conversations with custom data: 51008."""
        client = self._require()
        ids = conv_ids_in(conversation_id_array, "conversation_id_array")
        data = "" if custom_data is None else custom_data
        if not isinstance(data, str):
            raise param_error("custom_data must be a str or None")
        if len(data.encode()) > MAX_CUSTOM_DATA_BYTES:
            raise param_error(f"custom_data over {MAX_CUSTOM_DATA_BYTES} bytes")
        callback = need_callback(cb)
        return self._batch(
            client,
            ids,
            lambda keys: client.conversations.set_custom_data(keys, data),
            callback,
            user_data,
        )

    @tim_call
    def TIMConvMarkConversation(
        self,
        conversation_id_array: str,
        mark_type: int,
        enable_mark: bool,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Set (``enable_mark``) or clear marks: the built-in Star 0x1, Unread 0x2, Fold 0x4,
        Hide 0x8 and app bits ``1 << 32`` … ``1 << 63`` (other bits: TIM_ERR_PARAM). Marks
        are flags (the Unread mark changes no count); a hidden conversation leaves
        ``TIMConvGetConvList`` until a new message arrives. Shown as ``conv_mark_array``.
        Over 100 ids: 51006; over 1,000 marked conversations: 51008."""
        client = self._require()
        ids = conv_ids_in(conversation_id_array, "conversation_id_array")
        mark = mark_arg(mark_type)
        enable = need_bool(enable_mark, "enable_mark")
        callback = need_callback(cb)
        return self._batch(
            client,
            ids,
            lambda keys: client.conversations.mark(keys, mark, enable),
            callback,
            user_data,
        )

    # --- conversation groups ----------------------------------------------------------------
    def _group_items(
        self,
        group_name: str,
        conversation_id_array: str,
        cb: TIMCommCallback | None,
        user_data: object,
        change: Callable[
            [ConversationManager, str, list[tuple[int, str]]], Awaitable[list[ConvResult]]
        ],
    ) -> int:
        """Create a group with, add to it, or remove from it: results per conversation id."""
        client = self._require()
        name = self._group_name(group_name)
        ids = conv_ids_in(conversation_id_array, "conversation_id_array")
        callback = need_callback(cb)

        async def work() -> str:
            _check_count(ids)
            results = await change(client.conversations, name, _valid_keys(ids))
            return dumps(op_results(ids, results))

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @staticmethod
    def _group_name(value: object, what: str = "group_name") -> str:
        """A conversation group name: a non-empty str (over 32 bytes: 51011 from the server)."""
        return need_str(value, what)

    @tim_call
    def TIMConvCreateConversationGroup(
        self,
        group_name: str,
        conversation_id_array: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Create a conversation group (folder) holding the conversations; results per id.
        Over 32 bytes: 51011; a 21st group: 51010; over 100 ids: 51006; a name in use: 6017."""
        return self._group_items(
            group_name, conversation_id_array, cb, user_data, ConversationManager.create_group
        )

    @tim_call
    def TIMConvGetConversationGroupList(
        self, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """The user's conversation groups: a JSON array of names, in creation order."""
        client = self._require()
        callback = need_callback(cb)

        async def work() -> str:
            await self._ready(client)
            return dumps(client.conversations.group_names())

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMConvDeleteConversationGroup(
        self, group_name: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Delete a conversation group (its conversations stay); ``""``, or 51009."""
        client = self._require()
        name = self._group_name(group_name)
        callback = need_callback(cb)

        async def work() -> str:
            await client.conversations.delete_group(name)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMConvRenameConversationGroup(
        self, old_name: str, new_name: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Rename a conversation group; ``""``, or 51009 (no such group), 51011 (new name over
        32 bytes), 6017 (new name in use)."""
        client = self._require()
        old = self._group_name(old_name, "old_name")
        new = self._group_name(new_name, "new_name")
        callback = need_callback(cb)

        async def work() -> str:
            await client.conversations.rename_group(old, new)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMConvAddConversationsToGroup(
        self,
        group_name: str,
        conversation_id_array: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Add conversations to a group; results per id. A group over 1,000 conversations
        evicts its earliest added (the deleted-from-group callback, reason 1)."""
        return self._group_items(
            group_name, conversation_id_array, cb, user_data, ConversationManager.add_to_group
        )

    @tim_call
    def TIMConvDeleteConversationsFromGroup(
        self,
        group_name: str,
        conversation_id_array: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Remove conversations from a group; results per id (6004: not in the group)."""
        return self._group_items(
            group_name, conversation_id_array, cb, user_data, ConversationManager.remove_from_group
        )
