"""What Tencent keeps on the device only: a message's local custom data."""

from __future__ import annotations

from opentim.protocol.limits import MAX_LOCAL_CUSTOM_BYTES

from . import keys as k
from .convert import field, need_callback, need_object, opt_str, param_error
from .core import TIMCore, tim_call
from .runtime import CallKind, TIMCommCallback


class MsgLocalAPI(TIMCore):
    @tim_call
    def TIMMsgSetLocalCustomData(
        self, json_msg_param: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """Attach ``message_custom_str`` and ``message_custom_int`` of a Message (found by its
        ``message_msg_id``) to it on this device only: every Message this SDK gives the app
        with that id carries them from now on, after restarts too (the local cache), and they
        never reach the server or the user's other devices. ``""``."""
        client = self._require()
        obj = need_object(json_msg_param, "json_msg_param")
        msg_id = opt_str(obj, k.MESSAGE_MSG_ID)
        if not msg_id:
            raise param_error(f"json_msg_param needs the {k.MESSAGE_MSG_ID} of a message")
        custom_str = opt_str(obj, k.MESSAGE_CUSTOM_STR)
        if len(custom_str.encode()) > MAX_LOCAL_CUSTOM_BYTES:
            raise param_error(f"{k.MESSAGE_CUSTOM_STR}: at most {MAX_LOCAL_CUSTOM_BYTES} bytes")
        custom_int = field(
            obj, k.MESSAGE_CUSTOM_INT, 0, lambda v: type(v) is int and 0 <= v < 2**32
        )
        callback = need_callback(cb)

        async def work() -> str:
            client.messages.set_local_data(msg_id, custom_str, custom_int)
            return ""

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)
