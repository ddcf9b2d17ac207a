"""The pinned-group-message functions of TIMMessageManager.h (``TIMPinGroupMessage``,
``TIMGetPinnedGroupMessageList``) and their callback,
``TIMMsgGroupPinnedMessageChangedCallback``.

Pins are server state: the group's owner and admins pin and unpin (10007 for others), at most
10 per group (10070; 10071: pinned already; 10004: unpinning one that is not pinned); every
member's devices but the one that made the change get the callback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from opentim.protocol.pins import PinnedPush
from opentim.sdk import Client

from .convert import dumps, need_callback, need_object, param_error
from .core import TIMCore, tim_call
from .group import group_id_arg
from .msg import _message_ref
from .runtime import CallKind, TIMCommCallback, deliver

CHANGED_CB: Final = "TIMMsgGroupPinnedMessageChangedCallback"


class PinAPI(TIMCore):
    """Pin, unpin and list a group's pinned messages; their change callback."""

    def TIMSetMsgGroupPinnedMessageChangedCallback(
        self, cb: Callable[..., object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(group_id, json_msg, is_pinned, op_user, user_data)``: a message of a
        group this user is in was pinned or unpinned (the Message as it is). None unregisters."""
        self._register(CHANGED_CB, cb, user_data)

    def _on_pin(self, client: Client, push: PinnedPush) -> None:
        registered = self._listeners.get(CHANGED_CB)
        if registered is not None:
            text = dumps(self._msg_json(client, push.msg))
            deliver(registered[0], push.group_id, text, push.pinned, push.op_user, registered[1])

    @tim_call
    def TIMPinGroupMessage(
        self,
        group_id: str,
        json_msg: str,
        is_pinned: bool,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Pin (``is_pinned``) or unpin a message of the group (the Message as opentim gave
        it). ``""``, or 10007 (not the owner or an admin), 10070 (10 pinned), 10071 (pinned
        already), 10004 (not pinned)."""
        client = self._require()
        gid = group_id_arg(group_id)
        msg = _message_ref(need_object(json_msg, "json_msg"), "json_msg")
        if not isinstance(is_pinned, bool):
            raise param_error("is_pinned must be a bool")
        callback = need_callback(cb)

        async def work() -> str:
            await client.pins.pin(gid, msg, is_pinned)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMGetPinnedGroupMessageList(
        self, group_id: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """The group's pinned messages in the order they were pinned: an array of Message."""
        client = self._require()
        gid = group_id_arg(group_id)
        callback = need_callback(cb)

        async def work() -> str:
            msgs = await client.pins.pinned(gid)
            return dumps([self._msg_json(client, m) for m in msgs])

        return self._submit(client, CallKind.READ, work, callback, user_data)


__all__ = ["PinAPI"]
