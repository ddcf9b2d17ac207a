"""The message-extension functions of TIMMessageManager.h (``TIMMsgSetMessageExtensions``,
``TIMMsgGetMessageExtensions``, ``TIMMsgDeleteMessageExtensions``) and their callbacks.

Extensions are server state, set on a message sent with ``message_support_message_extension``
(6017 otherwise), named by the Message JSON opentim gave. Tencent's limits: a key up to 100
bytes, a value up to 1 KB, 1 to 20 per call, 300 per message. When two users set one key at
once the first wins; the other's result for it is 23001 with the key as it is now, and setting
it again works. Deleting a key that is not there is 23004 for that key. Every device of the
conversation's members but the one that made the change gets the changed or deleted callback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from opentim.protocol.extensions import Extension, ExtPush, ExtResult
from opentim.protocol.rules.extensions import MAX_PER_CALL, valid_key, valid_value
from opentim.sdk import Client

from .convert import dumps, need_callback, need_object, param_error, parse_json
from .core import TIMCore, tim_call
from .reactions import message_target
from .runtime import CallKind, TIMCommCallback, deliver

CHANGED_CB: Final = "TIMMsgExtensionsChangedCallback"
DELETED_CB: Final = "TIMMsgExtensionsDeletedCallback"

KEY: Final = "message_extension_key"
VALUE: Final = "message_extension_value"
RESULT_CODE: Final = "message_extension_result_code"
RESULT_INFO: Final = "message_extension_result_info"
ITEM: Final = "message_extension_item"


def extension_json(e: Extension) -> dict[str, Any]:
    return {KEY: e.key, VALUE: e.value}


def result_json(r: ExtResult) -> dict[str, Any]:
    return {RESULT_CODE: r.code, RESULT_INFO: r.desc, ITEM: extension_json(r.ext)}


def _array(text: object, what: str) -> list[Any]:
    items = parse_json(text, list, what)
    assert items is not None
    if not 0 < len(items) <= MAX_PER_CALL:
        raise param_error(f"{what} must hold 1 to {MAX_PER_CALL} items")
    return items


class MsgExtensionAPI(TIMCore):
    """Set, get and delete message extensions; their callbacks."""

    def TIMSetMsgExtensionsChangedCallback(
        self, cb: Callable[[str, str, Any], object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(message_id, json_extension_array, user_data)``: extensions of a
        message were set (an array of MessageExtension). None unregisters."""
        self._register(CHANGED_CB, cb, user_data)

    def TIMSetMsgExtensionsDeletedCallback(
        self, cb: Callable[[str, str, Any], object] | None, user_data: object = None
    ) -> None:
        """Register ``cb(message_id, json_extension_key_array, user_data)``: extensions of a
        message were deleted. None unregisters."""
        self._register(DELETED_CB, cb, user_data)

    def _on_extensions(self, client: Client, conv_id: str, push: ExtPush) -> None:
        changed, deleted = self._listeners.get(CHANGED_CB), self._listeners.get(DELETED_CB)
        if changed is not None and push.changed:
            text = dumps([extension_json(e) for e in push.changed])
            deliver(changed[0], push.msg_id, text, changed[1])
        if deleted is not None and push.deleted:
            deliver(deleted[0], push.msg_id, dumps(push.deleted), deleted[1])

    @tim_call
    def TIMMsgSetMessageExtensions(
        self,
        json_msg: str,
        json_extension_array: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Set 1 to 20 extensions (MessageExtension: key up to 100 bytes, value up to 1 KB) of
        a message sent with extensions: an array of MessageExtensionResult (per key 0, 23001
        when someone set it meanwhile, or 6017 past 300 per message)."""
        client = self._require()
        conv_type, conv_id, msg = message_target(need_object(json_msg, "json_msg"), "json_msg")
        values: dict[str, str] = {}
        for item in _array(json_extension_array, "json_extension_array"):
            key = item.get(KEY) if isinstance(item, dict) else None
            value = item.get(VALUE, "") if isinstance(item, dict) else None
            if not isinstance(key, str) or not isinstance(value, str):
                raise param_error("each extension needs a string key and value")
            if not valid_key(key) or not valid_value(value) or key in values:
                raise param_error("keys are 1 to 100 bytes, once each; values up to 1 KB")
            values[key] = value
        callback = need_callback(cb)

        async def work() -> str:
            results = await client.extensions.set(conv_type, conv_id, msg, values)
            return dumps([result_json(r) for r in results])

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)

    @tim_call
    def TIMMsgGetMessageExtensions(
        self, json_msg: str, cb: TIMCommCallback | None, user_data: object = None
    ) -> int:
        """The message's extensions: an array of MessageExtension."""
        client = self._require()
        conv_type, conv_id, msg = message_target(need_object(json_msg, "json_msg"), "json_msg")
        callback = need_callback(cb)

        async def work() -> str:
            exts = await client.extensions.get(conv_type, conv_id, msg)
            return dumps([extension_json(e) for e in exts])

        return self._submit(client, CallKind.READ, work, callback, user_data)

    @tim_call
    def TIMMsgDeleteMessageExtensions(
        self,
        json_msg: str,
        json_extension_key_array: str,
        cb: TIMCommCallback | None,
        user_data: object = None,
    ) -> int:
        """Delete extensions by key (an empty array or none: all of them): an array of
        MessageExtensionResult (per key 0, or 23004 when it is not there)."""
        client = self._require()
        conv_type, conv_id, msg = message_target(need_object(json_msg, "json_msg"), "json_msg")
        keys = parse_json(json_extension_key_array, list, "json_extension_key_array", optional=True)
        keys = keys or []
        if len(keys) > MAX_PER_CALL or not all(isinstance(k, str) and valid_key(k) for k in keys):
            raise param_error(f"json_extension_key_array holds up to {MAX_PER_CALL} keys")
        callback = need_callback(cb)

        async def work() -> str:
            results = await client.extensions.delete(conv_type, conv_id, msg, list(keys))
            return dumps([result_json(r) for r in results])

        return self._submit(client, CallKind.CHANGE, work, callback, user_data)
