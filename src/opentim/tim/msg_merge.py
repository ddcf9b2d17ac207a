"""Merged (forwarded) messages: a merger element carries the messages it forwards. They travel
inside the element, stored on the server with the message (so within its size limit, 8001
beyond), and every device of everyone who can see the merged message downloads them with
``TIMMsgDownloadMergerMessage``; the merged message itself shows its title and abstracts."""

from __future__ import annotations

from typing import Any

from opentim.protocol import ErrorCode
from opentim.sdk import SdkError

from . import keys as k
from .convert import (
    JsonObject,
    dumps,
    elems_in,
    key_matches,
    need_callback,
    need_object,
    opt_str,
    param_error,
)
from .core import TIMCore, tim_call
from .runtime import CallKind, TIMCommCallback

CARRIED_KEYS = (
    k.MESSAGE_CONV_ID,
    k.MESSAGE_CONV_TYPE,
    k.MESSAGE_SENDER,
    k.MESSAGE_PRIORITY,
    k.MESSAGE_CLIENT_TIME,
    k.MESSAGE_SERVER_TIME,
    k.MESSAGE_MSG_ID,
    k.MESSAGE_SEQ,
    k.MESSAGE_RAND,
    k.MESSAGE_CLOUD_CUSTOM_STR,
)
"""What a carried message keeps of the Message the app forwards, besides its elements."""


def merged_in(elems: list[JsonObject], *, carried: bool = False) -> list[JsonObject]:
    """Check the carried messages of each merger element (a non-empty array of Message) and
    keep of them what a receiver needs; other elements pass as they are. A merged message
    forwarded inside another one, as its receiver saw it (without its messages), stays so,
    with ``merge_elem_layer_over_limit`` set: its messages are not carried along."""
    for elem in elems:
        if elem[k.ELEM_TYPE] == k.kTIMElem_Merge:
            inner = elem.get(k.MERGE_ELEM_MESSAGE_ARRAY)
            over = carried and not inner
            if not over:
                elem[k.MERGE_ELEM_MESSAGE_ARRAY] = _carried(inner)
            elem[k.MERGE_ELEM_LAYER_OVER_LIMIT] = over
    return elems


def _carried(value: object) -> list[JsonObject]:
    if not isinstance(value, list) or not value:
        raise param_error(f"{k.MERGE_ELEM_MESSAGE_ARRAY} must be a non-empty array of Message")
    out: list[JsonObject] = []
    for msg in value:
        if not isinstance(msg, dict):
            raise param_error(f"{k.MERGE_ELEM_MESSAGE_ARRAY} must hold Message objects")
        clean: JsonObject = {
            k.MESSAGE_ELEM_ARRAY: merged_in(elems_in(msg.get(k.MESSAGE_ELEM_ARRAY)), carried=True)
        }
        for key in CARRIED_KEYS:
            item = msg.get(key)
            if item is not None:
                if not key_matches(key, item):
                    raise param_error(f"{key} has the wrong type")
                clean[key] = item
        out.append(clean)
    return out


def carried_of(elems: list[dict[str, Any]]) -> list[JsonObject] | None:
    """The messages the first merger element of ``elems`` carries; None without one."""
    for elem in elems:
        if elem.get(k.ELEM_TYPE) == k.kTIMElem_Merge:
            return list(elem.get(k.MERGE_ELEM_MESSAGE_ARRAY) or [])
    return None


class MsgMergeAPI(TIMCore):
    @tim_call
    def TIMMsgDownloadMergerMessage(
        self, json_single_msg: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """The messages a merged message carries (a Message with a merger element, as opentim
        gave it: its ``message_msg_id``), from the server: for whoever can see the merged
        message, on any device. An array of Message; 6017 when this user cannot see it or it
        carries none."""
        client = self._require()
        obj = need_object(json_single_msg, "json_single_msg")
        msg_id = opt_str(obj, k.MESSAGE_MSG_ID)
        if not msg_id:
            raise param_error(f"json_single_msg needs the {k.MESSAGE_MSG_ID} of a message")
        callback = need_callback(cb)

        async def work() -> str:
            found = await client.messages.find([msg_id])
            carried = carried_of(found[0].elems) if found else None
            if carried is None:
                raise SdkError(ErrorCode.ERR_INVALID_PARAMETERS, f"no merged message {msg_id!r}")
            return dumps(carried)

        return self._submit(client, CallKind.READ, work, callback, user_data)
