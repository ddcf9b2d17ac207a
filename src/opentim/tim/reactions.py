"""The reaction functions of TIMMessageManager.h (``TIMMsgAddMessageReaction`` and friends) and
their callback, ``TIMMsgReactionsChangedCallback``.

Reactions are server state: a change reaches every device of the conversation's members but the
one that made it (which has its callback). A message is named by the Message JSON opentim gave
(its ``message_conv_id``, ``message_conv_type``, ``message_seq`` and ``message_msg_id``).
Tencent's limits and codes: 10 reactions per message (23005), 100 users per reaction (23006),
23007 (the user has it already), 23008 (nobody has it), 23009 (the user has not).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from opentim.protocol import Message
from opentim.protocol.reactions import Reaction, ReactionPush
from opentim.protocol.rules.reactions import (
    MAX_MSGS_PER_READ,
    MAX_PARTIAL_USERS,
    MAX_USER_PAGE,
    valid_reaction_id,
)
from opentim.sdk import Client

from . import keys as k
from .convert import (
    JsonObject,
    conv_key,
    dumps,
    need_callback,
    need_object,
    param_error,
    parse_json,
    uint_arg,
)
from .core import TIMCore, tim_call
from .msg import _message_ref
from .runtime import CallKind, TIMCommCallback, deliver

CHANGED_CB: Final = "TIMMsgReactionsChangedCallback"

# MessageReaction, MessageReactionResult, MessageReactionUserResult, MessageReactionChangeInfo
REACTION_ID: Final = "message_reaction_id"
TOTAL_USER_COUNT: Final = "message_reaction_total_user_count"
PARTIAL_USERS: Final = "message_reaction_partial_user_info_array"
BY_MYSELF: Final = "message_reaction_reacted_by_myself"
RESULT_CODE: Final = "message_reaction_result_code"
RESULT_INFO: Final = "message_reaction_result_info"
RESULT_MSG_ID: Final = "message_reaction_result_msg_id"
RESULT_LIST: Final = "message_reaction_result_reaction_list"
USERS_ARRAY: Final = "message_reaction_user_result_user_info_array"
USERS_NEXT_SEQ: Final = "message_reaction_user_result_next_seq"
USERS_FINISHED: Final = "message_reaction_user_result_is_finished"
CHANGE_MSG_ID: Final = "message_reaction_change_info_msg_id"
CHANGE_LIST: Final = "message_reaction_change_info_reaction_list"
USER_ID: Final = "user_info_userid"


def reaction_json(r: Reaction, me: str) -> dict[str, Any]:
    """A MessageReaction; ``reacted_by_myself`` also when ``me`` is among the users shown."""
    return {
        REACTION_ID: r.reaction_id,
        TOTAL_USER_COUNT: r.total,
        PARTIAL_USERS: [{USER_ID: u} for u in r.users],
        BY_MYSELF: r.by_me or me in r.users,
    }


def message_target(obj: JsonObject, what: str) -> tuple[int, str, Message]:
    """The conversation and message a Message JSON names."""
    conv_type, conv_id = conv_key(obj.get(k.MESSAGE_CONV_ID), obj.get(k.MESSAGE_CONV_TYPE))
    return int(conv_type), conv_id, _message_ref(obj, what)


def _reaction_arg(reaction_id: object) -> str:
    if not isinstance(reaction_id, str) or not valid_reaction_id(reaction_id):
        raise param_error("reaction_id must be a non-empty string of at most 100 bytes")
    return reaction_id


class ReactionAPI(TIMCore):
    """Add, remove and read message reactions; their change callback."""

    def TIMSetMsgReactionsChangedCallback(
        self, cb: Callable[[str, Any], object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(json_reaction_change_info_array, user_data)``: a message's reactions
        changed on another device or by another member (an array of MessageReactionChangeInfo,
        each reaction with its total and first users). None unregisters."""
        self._register(CHANGED_CB, cb, user_data)

    def _on_reaction(self, client: Client, conv_id: str, push: ReactionPush) -> None:
        registered = self._listeners.get(CHANGED_CB)
        if registered is None:
            return
        info = {
            CHANGE_MSG_ID: push.msg_id,
            CHANGE_LIST: [reaction_json(push.reaction, client.user_id)],
        }
        deliver(registered[0], dumps([info]), registered[1])

    def _change(
        self,
        json_msg: str,
        reaction_id: str,
        cb: TIMCommCallback | None,
        user_data: object,
        add: bool,
    ) -> int:
        client = self._require()
        conv_type, conv_id, msg = message_target(need_object(json_msg, "json_msg"), "json_msg")
        rid = _reaction_arg(reaction_id)
        callback = need_callback(cb)
        change = client.reactions.add if add else client.reactions.remove

        async def work() -> str:
            await change(conv_type, conv_id, msg, rid)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMMsgAddMessageReaction(
        self, json_msg: str, reaction_id: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Add this user's ``reaction_id`` to a message. ``""``, or 23005 (10 reactions on the
        message), 23006 (100 users on the reaction), 23007 (this user has it)."""
        return self._change(json_msg, reaction_id, cb, user_data, True)

    @tim_call
    def TIMMsgRemoveMessageReaction(
        self, json_msg: str, reaction_id: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Remove this user's ``reaction_id`` from a message. ``""``, or 23008 (nobody has it),
        23009 (this user has not)."""
        return self._change(json_msg, reaction_id, cb, user_data, False)

    @tim_call
    def TIMMsgGetMessageReactions(
        self,
        json_msg_array: str,
        max_user_count_per_reaction: int,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """The reactions of 1 to 20 messages of one conversation, each reaction with its first
        users (``max_user_count_per_reaction``, 0 to 10): an array of MessageReactionResult."""
        client = self._require()
        items = parse_json(json_msg_array, list, "json_msg_array")
        assert items is not None
        if not 0 < len(items) <= MAX_MSGS_PER_READ or not all(isinstance(i, dict) for i in items):
            raise param_error(f"json_msg_array must hold 1 to {MAX_MSGS_PER_READ} Message objects")
        targets = [message_target(i, "json_msg_array") for i in items]
        if len({(t, c) for t, c, _ in targets}) != 1:
            raise param_error("the messages must be of one conversation")
        max_users = uint_arg(max_user_count_per_reaction, "max_user_count_per_reaction", 32)
        if max_users > MAX_PARTIAL_USERS:
            raise param_error(f"max_user_count_per_reaction is 0 to {MAX_PARTIAL_USERS}")
        conv_type, conv_id, _ = targets[0]
        msgs = [m for _, _, m in targets]
        callback = need_callback(cb)

        async def work() -> str:
            results = await client.reactions.get(conv_type, conv_id, msgs, max_users)
            ids = {m.seq: m.msg_id for m in msgs}
            return dumps(
                [
                    {
                        RESULT_CODE: r.code,
                        RESULT_INFO: r.desc,
                        RESULT_MSG_ID: r.msg_id or ids.get(r.seq, ""),
                        RESULT_LIST: [reaction_json(x, client.user_id) for x in r.reactions],
                    }
                    for r in results
                ]
            )

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMMsgGetAllUserListOfMessageReaction(
        self,
        json_msg: str,
        reaction_id: str,
        next_seq: int,
        count: int,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """A page of the users of ``reaction_id`` on a message, from ``next_seq`` (0 first),
        ``count`` 1 to 100: a MessageReactionUserResult (23008: nobody has it)."""
        client = self._require()
        conv_type, conv_id, msg = message_target(need_object(json_msg, "json_msg"), "json_msg")
        rid = _reaction_arg(reaction_id)
        start = uint_arg(next_seq, "next_seq", 32)
        n = uint_arg(count, "count", 32)
        if not 0 < n <= MAX_USER_PAGE:
            raise param_error(f"count is 1 to {MAX_USER_PAGE}")
        callback = need_callback(cb)

        async def work() -> str:
            users, nxt = await client.reactions.users(conv_type, conv_id, msg, rid, start, n)
            return dumps(
                {
                    USERS_ARRAY: [{USER_ID: u} for u in users],
                    USERS_NEXT_SEQ: nxt,
                    USERS_FINISHED: nxt == 0,
                }
            )

        return self._submit(client, CallKind.READ, work, callback, user_data)
