"""Sending beyond one message to one conversation: one message to many users (each gets their
own copy, with their own result) and withdrawing a send still waiting in the outbox."""

from __future__ import annotations

import asyncio
from typing import Any

from opentim.protocol import ConvType, ErrorCode
from opentim.protocol.limits import MAX_BATCH_SEND_USERS
from opentim.sdk import SdkError

from . import keys as k
from .convert import conv_key, dumps, need_callback, need_object, param_error
from .core import TIMCore, tim_call
from .msg import outgoing
from .runtime import CallKind, TIMCommCallback


def _receivers(value: object) -> list[str]:
    """1 to MAX_BATCH_SEND_USERS user ids, each once, in their order."""
    if not isinstance(value, list) or not value:
        raise param_error(f"{k.MSG_BATCH_SEND_PARAM_IDENTIFIER_ARRAY} must be a non-empty array")
    if not all(isinstance(i, str) and i for i in value):
        raise param_error(f"{k.MSG_BATCH_SEND_PARAM_IDENTIFIER_ARRAY} must hold user ids")
    users = list(dict.fromkeys(value))
    if len(users) > MAX_BATCH_SEND_USERS:
        raise param_error(
            f"{k.MSG_BATCH_SEND_PARAM_IDENTIFIER_ARRAY}: at most {MAX_BATCH_SEND_USERS} users"
        )
    return users


class MsgSendAPI(TIMCore):
    @tim_call
    def TIMMsgBatchSend(
        self, json_batch_send_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Send one message (``msg_batch_send_param_msg``) to each of 1 to 500 users
        (``msg_batch_send_param_identifier_array``) as a C2C message of its own, with its own
        id. The callback gets 0 and an array of MsgBatchSendResult in the users' order: each
        user's code and description (0, or the send's code: 6032 no such user …) and, when
        sent, the Message."""
        client = self._require()
        param = need_object(json_batch_send_param, "json_batch_send_param")
        users = _receivers(param.get(k.MSG_BATCH_SEND_PARAM_IDENTIFIER_ARRAY))
        msg = param.get(k.MSG_BATCH_SEND_PARAM_MSG)
        if not isinstance(msg, dict):
            raise param_error(f"{k.MSG_BATCH_SEND_PARAM_MSG} must be a Message object")
        make = outgoing(client, msg)
        callback = need_callback(cb)

        async def one(user: str) -> dict[str, Any]:
            result: dict[str, Any] = {k.MSG_BATCH_SEND_RESULT_IDENTIFIER: user}
            try:
                sent = await client.messages.send(ConvType.C2C, user, make())
            except SdkError as exc:
                result |= {
                    k.MSG_BATCH_SEND_RESULT_CODE: int(exc.code),
                    k.MSG_BATCH_SEND_RESULT_DESC: exc.desc,
                }
            else:
                result |= {
                    k.MSG_BATCH_SEND_RESULT_CODE: int(ErrorCode.ERR_SUCC),
                    k.MSG_BATCH_SEND_RESULT_DESC: "",
                    k.MSG_BATCH_SEND_RESULT_MSG: self._msg_json(client, sent),
                }
            return result

        async def work() -> str:
            return dumps(list(await asyncio.gather(*(one(u) for u in users))))

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMMsgCancelSend(
        self,
        conv_id: str,
        conv_type: int,
        message_id: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Withdraw a message of this conversation still waiting in this SDK's outbox (sent
        while the connection is down): it never reaches the server, and its send callback
        gets 7009. ``""``, or 6017 when no such send waits (unknown, or already on its way)."""
        client = self._require()
        conv_type_, cid = conv_key(conv_id, conv_type)
        if not isinstance(message_id, str) or not message_id:
            raise param_error("message_id must be a message id")
        callback = need_callback(cb)

        async def work() -> str:
            client.messages.cancel_send(conv_type_, cid, message_id)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)
